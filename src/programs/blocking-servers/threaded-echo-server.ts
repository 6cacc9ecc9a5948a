/**
 * The socket HOWTO's "delegate to threads" answer, from docs/python/threaded_echo_server.py: a
 * blocking accept() loop that hands each connection to a worker thread of its own, which serves it
 * with blocking calls, exactly as blocking-echo-server serves its one client.
 *
 *   select-reactor threaded-echo-server [--host localhost] [--port 10000]
 */
import { isMainThread, threadId, Worker, workerData } from 'node:worker_threads';

import {
  AF_INET,
  SHUT_RDWR,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  InterruptedError,
  SocketError,
  fromfd,
  interrupt_on,
  Socket,
  socket,
  type Address,
} from '../../index';
import { parseOptions } from '../support/options';
import { sayer } from '../support/say';
import { acceptForever } from './accept-forever';

/** What crosses to the thread: JS objects cannot, so the descriptor goes as a number. */
interface Handover {
  program: 'threaded-echo-server';
  fd: number;
  addr: Address;
  /** One Int32 shared with the main thread: who may touch the descriptor (below). */
  state: SharedArrayBuffer;
}

// departs from Python: Python's daemon threads die with the process; a worker blocked in recv()
// cannot be stopped (worker.terminate() only stops JavaScript, and Node waits for it). So on
// SIGINT the main thread wakes each one with shutdown(SHUT_RDWR), which ends a recv() blocked in
// another thread. A descriptor closed by its thread may be reused at once by the next accept(), so
// the two agree through one shared word before either shuts it down or closes it.
const OPEN = 0;
const WAKING = 1;
const CLOSED = 2;

// py: def handle(conn, addr):
function handle({ fd, addr, state }: Handover): void {
  const say = sayer(1);
  const word = new Int32Array(state);
  // py: with conn:  -- the socket object is rebuilt around the descriptor the main thread detached
  const conn = new Socket(undefined, undefined, undefined, fd);
  try {
    say('thread %s serving %s', threadId, addr);
    for (;;) {
      const data = conn.recv(1024);
      if (data.length === 0) break; // py: if not data: break  -- the peer closed its side
      conn.sendall(data);
    }
  } catch (err) {
    // A peer that resets, or the main thread shutting us down mid-send: this connection ends.
    if (!(err instanceof SocketError)) throw err;
  } finally {
    while (Atomics.compareExchange(word, 0, OPEN, CLOSED) !== OPEN) Atomics.wait(word, 0, WAKING);
    conn.close();
  }
  say('thread %s done with %s', threadId, addr);
}

/** The connections the main thread has handed out, so that it can wake their threads. */
class Handed {
  #live: { fd: number; word: Int32Array }[] = [];

  add(fd: number, state: SharedArrayBuffer): void {
    this.#live = this.#live.filter((c) => Atomics.load(c.word, 0) !== CLOSED); // forget finished ones
    this.#live.push({ fd, word: new Int32Array(state) });
  }

  /** Shuts every connection still open down, which ends its thread's blocking call. */
  wakeAll(): number {
    let woken = 0;
    for (const { fd, word } of this.#live) {
      if (Atomics.compareExchange(word, 0, OPEN, WAKING) !== OPEN) continue;
      try {
        const s = fromfd(fd, AF_INET, SOCK_STREAM); // a duplicate: shutdown() acts on the connection
        s.shutdown(SHUT_RDWR);
        s.close();
        woken++;
      } catch (err) {
        if (!(err instanceof SocketError)) throw err; // already gone (ENOTCONN): nothing to wake
      } finally {
        Atomics.store(word, 0, OPEN);
        Atomics.notify(word, 0);
      }
    }
    return woken;
  }
}

export async function main(argv: string[]): Promise<number> {
  const { host, port } = parseOptions(argv);
  const say = sayer(1);
  interrupt_on('SIGINT', 'SIGTERM');
  const handed = new Handed();

  // py: with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
  const server = socket(AF_INET, SOCK_STREAM);
  try {
    server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    server.bind([host, port]);
    server.listen(128);
    say('starting up on %s port %s', host, server.getsockname()[1]);
    // py: while True: conn, addr = server.accept()
    // departs from Python: the event loop turns between accepts, to free finished workers
    // (accept-forever.ts).
    for await (const [conn, addr] of acceptForever(server)) {
      const state = new SharedArrayBuffer(4);
      // py: threading.Thread(target=handle, args=(conn, addr)).start()
      let worker: Worker;
      try {
        worker = new Worker(__filename, { workerData: { program: 'threaded-echo-server', fd: conn.fileno(), addr, state } satisfies Handover });
      } catch (err) {
        // No thread to be had (memory, limits): that one connection is closed, the server goes on.
        say('could not start a thread for %s: %s', addr, (err as Error).message);
        conn.close();
        continue;
      }
      handed.add(conn.detach(), state); // the thread owns the descriptor from now on
      // Heard when the loop turns (acceptForever): a bug in a thread ends that thread, not the server.
      worker.on('error', (err) => say('thread for %s failed: %s', addr, err.message));
    }
  } catch (err) {
    // py: except KeyboardInterrupt:
    if (!(err instanceof InterruptedError)) throw err;
    say('%s: closing the listener and waking %s threads', err.signal, handed.wakeAll());
  } finally {
    server.close();
  }
  return 0; // Node exits once the last thread has closed its connection
}

// A worker started by main() loads this file again: it serves the connection it was handed.
if (!isMainThread && (workerData as Partial<Handover> | null)?.program === 'threaded-echo-server') {
  handle(workerData as Handover);
}
