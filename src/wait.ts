/**
 * How a wait is run, for select.ts and selectors.ts; the system calls themselves are the
 * backends'. A caller's timeout becomes a deadline on the monotonic clock; a wait that ends with
 * nothing to report (a stray wake-up, registrations changed under it) runs again for the time
 * left, as PEP 475 retries EINTR; and a self-pipe (Waker) lets anything end a wait in progress,
 * which is the only way to end one running on a wait thread of the addon's (native/wait.h).
 */
import { performance } from 'node:perf_hooks';

import { binding, NativeHandle } from './binding';
import { BlockingIOError, makeError } from './errors';

/** Monotonic seconds, for deadlines. */
export function monotonic(): number {
  return performance.now() / 1000;
}

/** select()'s timeout as the native layer takes it: seconds, -1 to block. */
export function timeoutSeconds(timeout: number | null | undefined): number {
  if (timeout === undefined || timeout === null) return -1;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
    throw new TypeError(`Expected timeout to be a number of seconds or null, got ${String(timeout)}`);
  }
  if (timeout < 0 || !Number.isFinite(timeout)) {
    throw new RangeError(`Expected timeout to be a finite number >= 0, or null to block, got ${timeout}`);
  }
  return timeout;
}

/** A deadline for `seconds` from now (as timeoutSeconds() gives them): -1, none, for -1. */
export function deadlineAfter(seconds: number): number {
  return seconds < 0 ? -1 : monotonic() + seconds;
}

/** What is left of a deadline (monotonic seconds, < 0 for none) as a native timeout. */
export function secondsLeft(deadline: number): number {
  return deadline < 0 ? -1 : Math.max(0, deadline - monotonic());
}

/**
 * Runs `once` with the time left until `done` accepts what it returned or the deadline has
 * passed, and returns that.
 */
export function retryUntil<T>(deadline: number, once: (seconds: number) => T, done: (result: T) => boolean): T {
  for (;;) {
    const result = once(secondsLeft(deadline));
    if (done(result) || secondsLeft(deadline) === 0) return result;
  }
}

/** retryUntil() for a wait that runs on a worker thread. */
export async function retryUntilAsync<T>(
  deadline: number,
  once: (seconds: number) => Promise<T>,
  done: (result: T) => boolean,
): Promise<T> {
  for (;;) {
    const result = await once(secondsLeft(deadline));
    if (done(result) || secondsLeft(deadline) === 0) return result;
  }
}

const wakeByte = new Uint8Array(1);
const drainBuffer = new Uint8Array(4096); // only ever used synchronously

/**
 * A self-pipe, as asyncio has one: a socketpair whose read end a wait watches beside its own
 * descriptors, so that a byte written to the other end ends the wait at once, from anywhere. A
 * byte written while nothing waits ends the next wait, so no wake-up is ever lost. Native code
 * writes to it too, when a descriptor the wait uses is closed (native/wait.h).
 *
 * Raw native handles, not Sockets: these are not the user's sockets, and a selector collected
 * without close() should not warn about sockets its user never opened.
 */
export class Waker {
  readonly #r: NativeHandle;
  readonly #w: NativeHandle;

  constructor() {
    [this.#r, this.#w] = NativeHandle.pair();
    this.#r.settimeout(0);
    this.#w.settimeout(0);
  }

  /** The read end, to wait on. */
  fileno(): number {
    return this.#r.fileno();
  }

  /** The write end, for native code to wake the wait through. */
  get wakeFd(): number {
    return this.#w.fileno();
  }

  /** Ends the wait in progress, or the next one. */
  wake(): void {
    if (this.#w.fileno() < 0) return; // closed: nothing left to wake
    try {
      this.#w.send(wakeByte);
    } catch (err) {
      if (!(err instanceof BlockingIOError)) throw err; // a full pipe is awake already
    }
  }

  /** Empties the pipe after a wait saw it readable. */
  drain(): void {
    if (this.#r.fileno() < 0) return; // closed while the wait was returning
    try {
      while (this.#r.recv_into(drainBuffer) === drainBuffer.length) {
        // A full read: there may be more.
      }
    } catch (err) {
      if (!(err instanceof BlockingIOError)) throw err;
    }
  }

  close(): void {
    this.#r.close();
    this.#w.close();
  }
}

/**
 * A selector's waits: one at a time, each retried for the time left, and ended early by
 * wakeup(), by a change of registrations the wait cannot see, or by closing. The waker is made
 * on first use, so that a selector that is never woken never pays for one; `watchWaker` makes
 * the backend watch its read end.
 */
export class SelectorWaits {
  readonly #watchWaker: (fd: number) => void;
  #waker: Waker | null = null;
  #wakeupRequested = false;
  #waiting = false;

  constructor(watchWaker: (fd: number) => void) {
    this.#watchWaker = watchWaker;
  }

  /**
   * The deadline of a wait that may start now (monotonic seconds, -1: none). A timeout <= 0
   * polls, as Python's selectors have it; EBUSY while a selectAsync() is still waiting.
   */
  deadline(timeout: number | null | undefined, syscall: string, describe: (value: unknown) => string): number {
    if (this.#waiting) {
      throw makeError('EBUSY', binding.errno.EBUSY, syscall, `${syscall} EBUSY: a selectAsync() on this selector is still waiting`);
    }
    if (timeout === undefined || timeout === null || timeout === Infinity) return -1;
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
      throw new TypeError(`Expected timeout to be a number of seconds or null, got ${describe(timeout)}`);
    }
    return monotonic() + Math.max(timeout, 0);
  }

  /** The wait, for the time left, until something is ready, it is woken, or the time is up. */
  run<R extends unknown[]>(deadline: number, once: (seconds: number) => R): R {
    return retryUntil(deadline, once, (ready) => ready.length > 0 || this.#takeWakeup());
  }

  /**
   * The same on a worker thread, which also ends when a descriptor it used is closed; `closed()`
   * says whether the selector itself was closed meanwhile (then nothing is ready).
   */
  async runAsync<R extends unknown[]>(
    deadline: number,
    once: (seconds: number) => Promise<[R, boolean]>,
    closed: () => boolean,
  ): Promise<R | []> {
    this.waker();
    this.#waiting = true;
    try {
      const [ready] = await retryUntilAsync(
        deadline,
        once,
        ([r, c]) => closed() || r.length > 0 || c || this.#takeWakeup(),
      );
      return closed() ? [] : ready;
    } finally {
      this.#waiting = false;
    }
  }

  /** Ends the wait in progress, or the next one; it then returns what is ready, perhaps nothing. */
  wakeup(): void {
    this.#wakeupRequested = true;
    this.waker().wake();
  }

  /** Registrations changed: a wait in progress that cannot see the change starts again. */
  interestChanged(seenByWait: boolean): void {
    if (this.#waiting && !seenByWait) this.#waker?.wake();
  }

  /** The waker, made (and watched) on first use. */
  waker(): Waker {
    if (this.#waker === null) {
      const waker = new Waker();
      try {
        this.#watchWaker(waker.fileno());
      } catch (err) {
        waker.close();
        throw err;
      }
      this.#waker = waker;
    }
    return this.#waker;
  }

  /** The waker's read end, or -1 while there is none. */
  get wakerFd(): number {
    return this.#waker === null ? -1 : this.#waker.fileno();
  }

  /** Whether `fd` is the waker, which fired: drained, and not to be reported. */
  wokeBy(fd: number): boolean {
    if (this.#waker === null || fd !== this.#waker.fileno()) return false;
    this.#waker.drain();
    return true;
  }

  /** During a selectAsync(), closing the pipe also wakes the wait, which returns at once. */
  close(): void {
    this.#waker?.close();
    this.#waker = null;
  }

  #takeWakeup(): boolean {
    const requested = this.#wakeupRequested;
    this.#wakeupRequested = false;
    return requested;
  }
}
