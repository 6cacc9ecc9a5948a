/**
 * Running out of descriptors on accept(). When accept() fails with EMFILE (this process is at its
 * `ulimit -n`) or ENFILE (the whole system is), the connection stays in the backlog and the
 * listener stays readable, so a loop that only retries spins at 100% CPU, and one that treats the
 * error as fatal dies. The usual cure (libuv's uv__emfile_trick, nginx, libev): keep one spare
 * descriptor open; when accept() fails for want of descriptors, close the spare, accept each
 * waiting connection and close it at once (its client sees the connection closed instead of
 * hanging in the backlog), then take the spare back. If the spare cannot be taken back (ENFILE:
 * another process took the slot), stop watching the listener for a short while instead.
 */
import { closeSync, openSync } from 'node:fs';

import { BlockingIOError, SocketError, type Socket } from '../../index';
import type { Say } from './say';

/** Where the spare descriptor comes from; a parameter so that tests can make it fail. */
export interface SpareSource {
  open(): number;
  close(fd: number): void;
}

const devNull: SpareSource = {
  open: () => openSync('/dev/null', 'r'),
  close: (fd) => closeSync(fd),
};

/**
 * How a loop stops and starts watching the listener during a pause. The select() loop passes its
 * `inputs` list; a selectors loop passes unregister() and register() of the listener.
 */
export type Watch = Set<Socket> | { unwatch(): void; watch(): void };

/** EMFILE or ENFILE: the call failed for want of a descriptor, not because of the connection. */
export function outOfDescriptors(err: unknown): err is SocketError {
  return err instanceof SocketError && (err.code === 'EMFILE' || err.code === 'ENFILE');
}

// Each shed round accepts at most this many: the backlog is 128, and clients keep connecting
// while we shed, so an unbounded loop could starve the clients we do serve.
const maxShedPerRound = 512;

export class AcceptGuard {
  readonly #listener: Socket;
  readonly #warn: Say;
  readonly #source: SpareSource;
  readonly #pauseMs: number;
  readonly #now: () => number;
  #spare = -1;
  #burst: string | null = null; // the errno that started the current burst, or null
  #shed = 0; // connections closed during the current burst
  #pausedUntil = -1; // monotonic ms while the listener is not watched, else -1

  constructor(listener: Socket, warn: Say, source = devNull, pauseMs = 250, now = () => performance.now()) {
    this.#listener = listener;
    this.#warn = warn;
    this.#source = source;
    this.#pauseMs = pauseMs;
    this.#now = now;
    this.#takeSpare();
  }

  /** True while the listener is not watched, for a pause (the loop must go on without it). */
  get paused(): boolean {
    return this.#pausedUntil >= 0;
  }

  /**
   * Handles an accept() error: true if it was EMFILE/ENFILE and has been dealt with (waiting
   * connections shed, or the listener paused and no longer watched), false for any other error.
   */
  exhausted(err: unknown, watch: Watch): boolean {
    if (!outOfDescriptors(err)) return false;
    if (this.#burst === null) {
      // Once per burst: the next line is said when an accept() succeeds again.
      this.#burst = err.code;
      this.#warn('out of descriptors (%s): closing new connections until some are free', err.code);
    }
    if (this.#spare >= 0) {
      this.#source.close(this.#spare);
      this.#spare = -1;
      this.#shedWaiting();
      this.#takeSpare();
    }
    if (this.#spare < 0 && !this.paused) {
      // No spare to shed with: the listener would stay readable and the loop spin, so it is not
      // watched for pauseMs; select() gets a timeout (timeout()) and resume() watches it again.
      if (watch instanceof Set) {
        watch.delete(this.#listener);
      } else {
        watch.unwatch();
      }
      this.#pausedUntil = this.#now() + this.#pauseMs;
      this.#warn('no spare descriptor: not accepting for %s ms', this.#pauseMs);
    }
    return true;
  }

  /** Called after a successful accept(): ends a burst, saying how many connections it cost. */
  accepted(): void {
    if (this.#burst === null) return;
    this.#warn('accepting again: %s connections were closed while out of descriptors (%s)', this.#shed, this.#burst);
    this.#burst = null;
    this.#shed = 0;
  }

  /** What select() may wait, in seconds: null (forever), unless the listener is paused. */
  timeout(): number | null {
    if (!this.paused) return null;
    return Math.max(0, this.#pausedUntil - this.#now()) / 1000;
  }

  /** Watches the listener again once a pause is over (and tries for a spare again). */
  resume(watch: Watch): void {
    if (!this.paused || this.#now() < this.#pausedUntil) return;
    this.#pausedUntil = -1;
    this.#takeSpare();
    if (!(watch instanceof Set)) {
      watch.watch();
    } else if (!watch.has(this.#listener)) {
      // First again, as in the Python loop's `inputs`: a Set adds at the end, so it is rebuilt.
      const rest = [...watch];
      watch.clear();
      watch.add(this.#listener);
      for (const s of rest) watch.add(s);
    }
  }

  close(): void {
    if (this.#spare >= 0) this.#source.close(this.#spare);
    this.#spare = -1;
  }

  // Accepts and closes what waits in the backlog, until it is empty or descriptors run out again.
  #shedWaiting(): void {
    for (let i = 0; i < maxShedPerRound; i++) {
      let connection: Socket;
      try {
        [connection] = this.#listener.accept();
      } catch (err) {
        if (!(err instanceof SocketError)) throw err;
        // EAGAIN: the backlog is empty. EMFILE/ENFILE: even the spare's slot is gone. Anything
        // else (ECONNABORTED) costs only that one connection.
        if (err instanceof BlockingIOError || outOfDescriptors(err)) break;
        continue;
      }
      connection.close();
      this.#shed++;
    }
  }

  #takeSpare(): void {
    if (this.#spare >= 0) return;
    try {
      this.#spare = this.#source.open();
    } catch {
      this.#spare = -1; // out of descriptors here too: the pause is the fallback
    }
  }
}
