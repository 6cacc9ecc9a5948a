/**
 * The select module: `select(rlist, wlist, xlist, timeout)`, as Python's. Entries are Sockets,
 * raw descriptors, or objects with `fileno()`; the answer holds the caller's own objects, in the
 * order given. Every descriptor is checked here before the system call, and again natively.
 *
 * `selectAsync()` is the same wait on a worker thread, so that Node's event loop keeps running.
 */
import { performance } from 'node:perf_hooks';

import { binding, NativeHandle } from './binding';
import { BlockingIOError, makeError } from './errors';
import { Socket } from './socket';

/** What select() accepts in its lists. */
export type Selectable =
  | Socket
  | number
  | {
      /** The descriptor to watch. */
      fileno(): number;
    };

const { FD_SETSIZE } = binding;
const listNames = ['rlist', 'wlist', 'xlist'] as const;

// The flattened descriptors and the native answer. select() is synchronous and never re-entered,
// so one pair serves every call; it only grows. selectAsync() never uses them: a wait in progress
// would share them with every call made meanwhile.
let fds = new Int32Array(64);
let ready = new Uint8Array(64);

function where(list: number, index: number): string {
  return `${listNames[list]}[${index}]`;
}

/** The descriptor of one entry, or a TypeError/RangeError/SocketError that names it. */
export function descriptorOf(entry: unknown, where: string, syscall = 'select'): number {
  let fd: unknown;
  if (typeof entry === 'number') {
    fd = entry;
  } else if (entry instanceof Socket) {
    fd = entry.fileno();
    if (fd === -1) throw makeError('EBADF', binding.errno.EBADF, syscall, `${syscall} EBADF: ${where} is a closed socket`);
  } else if (entry !== null && typeof entry === 'object' && typeof (entry as { fileno?: unknown }).fileno === 'function') {
    fd = (entry as { fileno(): unknown }).fileno();
  } else {
    throw new TypeError(`Expected ${where} to be a Socket, a descriptor or an object with fileno()`);
  }
  if (typeof fd !== 'number' || !Number.isInteger(fd)) {
    throw new TypeError(`Expected ${where} to have an integer descriptor, got ${String(fd)}`);
  }
  return fd;
}

/** Seconds as the native layer takes them: -1 blocks. */
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

function asArray<T>(list: Iterable<T>, name: string): readonly T[] {
  if (Array.isArray(list)) return list as readonly T[];
  if (list !== null && typeof list === 'object' && Symbol.iterator in list) return Array.from(list);
  throw new TypeError(`Expected ${name} to be an array`);
}

/**
 * Waits until some of `rlist` are readable, `wlist` writable, or `xlist` have an exceptional
 * condition (TCP urgent data), or until `timeout` seconds pass (null or absent: forever, 0: poll).
 * Returns the three lists of ready entries. Interrupted calls resume with the time left (PEP 475).
 */
export function select<R extends Selectable, W extends Selectable, X extends Selectable>(
  rlist: Iterable<R>,
  wlist: Iterable<W>,
  xlist: Iterable<X>,
  timeout?: number | null,
): [R[], W[], X[]] {
  const lists = [asArray(rlist, 'rlist'), asArray(wlist, 'wlist'), asArray(xlist, 'xlist')] as const;
  const seconds = timeoutSeconds(timeout);
  const total = lists[0].length + lists[1].length + lists[2].length;
  if (total > fds.length) {
    fds = new Int32Array(total * 2);
    ready = new Uint8Array(total * 2);
  }
  let k = 0;
  for (let l = 0; l < 3; l++) {
    const list = lists[l];
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      // Sockets first, and no message built unless one is needed: this runs for every
      // descriptor on every turn of a loop.
      const fd = entry instanceof Socket && entry.fileno() >= 0 ? entry.fileno() : descriptorOf(entry, where(l, i));
      if (fd < 0 || fd >= FD_SETSIZE) {
        throw new RangeError(`Expected ${where(l, i)} to be a descriptor in [0, FD_SETSIZE=${FD_SETSIZE}), got ${fd}`);
      }
      fds[k++] = fd;
    }
  }
  const result: [R[], W[], X[]] = [[], [], []];
  if (binding.select(fds, lists[0].length, lists[1].length, lists[2].length, seconds, ready) > 0) {
    k = 0;
    for (let l = 0; l < 3; l++) {
      const list = lists[l];
      const out = result[l] as unknown[];
      for (let i = 0; i < list.length; i++) if (ready[k++]) out.push(list[i]);
    }
  }
  return result;
}

/** Monotonic seconds, for deadlines. */
export function monotonic(): number {
  return performance.now() / 1000;
}

/** What is left of a deadline (monotonic seconds, < 0 for none) as a native timeout. */
export function secondsLeft(deadline: number): number {
  return deadline < 0 ? -1 : Math.max(0, deadline - monotonic());
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
 * One wait on a worker thread: `lists` and `waker`'s read end (watched after rlist). Returns the
 * ready entries of each list, and whether a descriptor in the wait was closed while it waited
 * (which ended it). The waker is drained when it fired.
 */
export async function selectOnce(
  lists: readonly (readonly unknown[])[],
  seconds: number,
  waker: Waker,
): Promise<[unknown[], unknown[], unknown[], boolean]> {
  const [r, w, x] = lists;
  if (waker.fileno() >= FD_SETSIZE) {
    throw new RangeError(`select() needs a descriptor below FD_SETSIZE=${FD_SETSIZE} for its wake-up pipe, got ${waker.fileno()}`);
  }
  // A new array per wait: the native side copies it, but the synchronous select()'s arrays are
  // never lent to a wait that is still in progress when the next call comes.
  const fds = new Int32Array(r.length + 1 + w.length + x.length);
  let k = 0;
  for (let l = 0; l < 3; l++) {
    const list = lists[l];
    for (let i = 0; i < list.length; i++) {
      const where = `${listNames[l]}[${i}]`;
      const fd = descriptorOf(list[i], where);
      if (fd < 0 || fd >= FD_SETSIZE) {
        throw new RangeError(`Expected ${where} to be a descriptor in [0, FD_SETSIZE=${FD_SETSIZE}), got ${fd}`);
      }
      fds[k++] = fd;
    }
    if (l === 0) fds[k++] = waker.fileno();
  }
  const [ready, closed] = await binding.selectAsync(fds, r.length + 1, w.length, x.length, seconds, waker.wakeFd);
  if (ready[r.length]) waker.drain();
  const out: [unknown[], unknown[], unknown[]] = [[], [], []];
  k = 0;
  for (let l = 0; l < 3; l++) {
    const list = lists[l];
    for (let i = 0; i < list.length; i++) if (ready[k++]) out[l].push(list[i]);
    if (l === 0) k++; // the waker
  }
  return [out[0], out[1], out[2], closed];
}

/**
 * select() as a Promise: the wait runs on a worker thread, so timers and other I/O keep running
 * meanwhile. The Sockets given are kept alive until it settles. Closing one of them during the
 * wait ends it: the promise rejects with SocketError EBADF naming the entry, as select() would
 * for a closed socket, and the descriptor's number is released only once the worker thread has
 * stopped waiting on it. Signals named in interrupt_on() do not end it: the event loop is free
 * to run handlers of its own, which hear those signals once interrupt_off() has handed them back.
 */
export async function selectAsync<R extends Selectable, W extends Selectable, X extends Selectable>(
  rlist: Iterable<R>,
  wlist: Iterable<W>,
  xlist: Iterable<X>,
  timeout?: number | null,
): Promise<[R[], W[], X[]]> {
  const lists = [asArray(rlist, 'rlist'), asArray(wlist, 'wlist'), asArray(xlist, 'xlist')] as const;
  const seconds = timeoutSeconds(timeout);
  const deadline = seconds < 0 ? -1 : monotonic() + seconds;
  const waker = new Waker(); // its own: no other call can wake this one by mistake
  try {
    for (;;) {
      const [r, w, x, closed] = await selectOnce(lists, secondsLeft(deadline), waker);
      if (closed) {
        // Name what was closed, as select() does; the next wait would refuse it anyway.
        lists.forEach((list, l) => list.forEach((entry, i) => descriptorOf(entry, `${listNames[l]}[${i}]`)));
      }
      if (r.length + w.length + x.length > 0 || closed || secondsLeft(deadline) === 0) {
        return [r as R[], w as W[], x as X[]];
      }
      // Woken with nothing ready and time left (nothing else writes to this waker): wait again.
    }
  } finally {
    waker.close();
  }
}
