/**
 * The select module: `select(rlist, wlist, xlist, timeout)`, as Python's. Entries are Sockets,
 * raw descriptors, or objects with `fileno()`; the answer holds the caller's own objects, in the
 * order given. Every descriptor is checked here before the system call, and again natively.
 */
import { binding } from './binding';
import { makeError } from './errors';
import { Socket } from './socket';

/** What select() accepts in its lists. */
export type Selectable = Socket | number | { fileno(): number };

const { FD_SETSIZE } = binding;
const listNames = ['rlist', 'wlist', 'xlist'] as const;

// The flattened descriptors and the native answer. select() is synchronous and never re-entered,
// so one pair serves every call; it only grows.
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
