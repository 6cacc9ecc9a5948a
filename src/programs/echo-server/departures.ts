/**
 * Where both echo loops depart from their Python on purpose, each departure written once: the
 * select() loop (select-loop.ts) and the selectors loop (selectors-loop.ts) call these where the
 * Python has nothing, or something that would not survive real clients. Each helper says why.
 */
import { BlockingIOError, InterruptedError, SocketError, type Address, type Socket } from '../../index';
import type { AcceptGuard, Watch } from '../support/accept-guard';
import { sayer, writeAll, type Say } from '../support/say';

/** What main.ts hands either loop. */
export interface ServeOptions {
  /** --quiet: only what an operator must hear (the listening line, refused connections). */
  quiet: boolean;
  /** --trace: one block per wait, what went in and what came back (trace.ts). */
  trace: boolean;
  /** --max-queue: the high-water mark of a client's outbox, in bytes (see Backpressure). */
  maxQueue: number;
  /** SO_REUSEPORT on the listener: the processes of --workers share one port (workers.ts). */
  reusePort: boolean;
}

/** A client's outbox may hold this much before the server stops reading from it (--max-queue). */
export const DEFAULT_MAX_QUEUE = 1 << 20;

/**
 * Connections accepted per readable listener, at most. One per wait cannot keep up with clients
 * that reconnect all the time (the listen queue overflows and the kernel refuses and resets
 * them), and on poll each wait costs O(registered); a bound keeps the clients already connected
 * served during a burst. Redis's acceptor takes up to 1,000.
 */
export const ACCEPT_BURST = 64;

/**
 * bind(), or one line saying why not: a port in use is an operator's mistake, not a traceback.
 * False when it failed (the line is said); the caller closes what it opened and exits 1.
 */
export function bindOrSay(server: Socket, host: string, port: number): boolean {
  try {
    server.bind([host, port]);
    return true;
  } catch (err) {
    if (!(err instanceof SocketError)) throw err;
    const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message;
    writeAll(2, `echo-server: cannot listen on ${host} port ${port}: ${why}\n`);
    return false;
  }
}

/**
 * Python says "starting up" before it binds; ours says it once listening, so that it means
 * "ready", shows the port the kernel picked for --port 0, and is said even with --quiet: scripts
 * (and the tests) read it to know where to connect.
 */
export function sayListening(host: string, server: Socket): void {
  sayer(2)('starting up on %s port %s', host, server.getsockname()[1]);
}

/**
 * The connections waiting on a readable listener, up to ACCEPT_BURST, not Python's one per wait.
 * Out of descriptors (EMFILE/ENFILE), the guard sheds the waiting connections or pauses the
 * listener (`watch`: how this loop stops watching it) instead of the loop spinning or dying; a
 * client that connected and reset before accept() costs that one connection, never the server.
 */
export function* acceptWaiting(listener: Socket, guard: AcceptGuard, watch: Watch): Generator<[Socket, Address]> {
  for (let n = 0; n < ACCEPT_BURST; n++) {
    let accepted: [Socket, Address];
    try {
      accepted = listener.accept();
    } catch (err) {
      if (err instanceof BlockingIOError) return; // nobody else is waiting
      if (guard.exhausted(err, watch)) return;
      if (err instanceof SocketError) continue;
      throw err;
    }
    guard.accepted();
    yield accepted;
  }
}

/**
 * Closes a connection this loop cannot watch (select() cannot watch a descriptor >= FD_SETSIZE:
 * FD_SET would write past the set), with a line even under --quiet: clients are being refused.
 */
export function refuse(connection: Socket, address: Address, warn: Say): void {
  warn('closing %s: descriptor %s is past FD_SETSIZE', address, connection.fileno());
  connection.close();
}

/**
 * Backpressure. A client that sends and never reads would make its queue, and our memory, grow
 * without bound. So, checked after every put() and every flush():
 *   - above the high-water mark (--max-queue) the loop stops reading from it: its bytes wait in
 *     the kernel's buffers, and its own send() blocks, which is the point;
 *   - once its outbox has drained to the low-water mark (half the high one) it is read again.
 * A client that half-closed is no longer read and never paused, so it is never read again. A
 * paused client always has bytes queued and is read again before its outbox can be empty: the
 * loops' close-once-answered rule never closes a client for being paused.
 */
export class Backpressure {
  readonly #paused = new Set<Socket>();
  readonly #high: number;
  readonly #low: number;
  readonly #say: Say | undefined;
  readonly #peers: ReadonlyMap<Socket, Address>;
  readonly #reading: (s: Socket) => boolean;

  /** `reading(s)`: whether the loop reads from `s` now (asked only past the high-water mark). */
  constructor(maxQueue: number, say: Say | undefined, peers: ReadonlyMap<Socket, Address>, reading: (s: Socket) => boolean) {
    this.#high = maxQueue;
    this.#low = Math.floor(maxQueue / 2);
    this.#say = say;
    this.#peers = peers;
    this.#reading = reading;
  }

  /** 'pause': stop reading from `s`; 'resume': read from it again; null: leave it as it is. */
  check(s: Socket): 'pause' | 'resume' | null {
    const pending = s.outbox.pending;
    // Asked after every put() and flush(): no lookup while nobody is paused, the usual case.
    if (this.#paused.size === 0 || !this.#paused.has(s)) {
      if (pending <= this.#high || !this.#reading(s)) return null;
      this.#paused.add(s);
      this.#say?.('not reading from %s: %s bytes queued', this.#peers.get(s), pending);
      return 'pause';
    }
    if (pending > this.#low) return null;
    this.#paused.delete(s);
    this.#say?.('reading from %s again: %s bytes queued', this.#peers.get(s), pending);
    return 'resume';
  }

  /** A client closed: forgotten. */
  forget(s: Socket): void {
    this.#paused.delete(s);
  }
}

/**
 * Python's loops run until Ctrl-C kills them. Ours take SIGINT and SIGTERM over (interrupt_on,
 * before "starting up" is said: whoever reads that line may signal at once), so that the blocking
 * wait ends with InterruptedError, Python's KeyboardInterrupt; then the loop says so here, closes
 * every socket and exits 0. Any other error is rethrown.
 */
export function endedBySignal(err: unknown, say: Say | undefined, clients: number): void {
  if (!(err instanceof InterruptedError)) throw err;
  say?.('%s: closing the listener and %s clients', err.signal, clients);
}
