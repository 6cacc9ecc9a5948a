/**
 * The select module: `select(rlist, wlist, xlist, timeout)`, as Python's. Entries are Sockets,
 * raw descriptors, or objects with `fileno()`; the answer holds the caller's own objects, in the
 * order given. Every descriptor is checked here before the system call, and again natively.
 *
 * `selectAsync()` is the same wait on a worker thread, so that Node's event loop keeps running;
 * how a wait is timed, retried and woken is wait.ts's.
 */
import { binding } from './binding';
import { makeError } from './errors';
import { Socket } from './socket';
import { deadlineAfter, retryUntilAsync, timeoutSeconds, Waker } from './wait';

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

function asArray<T>(list: Iterable<T>, name: string): readonly T[] {
  if (Array.isArray(list)) return list as readonly T[];
  if (list !== null && typeof list === 'object' && Symbol.iterator in list) return Array.from(list);
  throw new TypeError(`Expected ${name} to be an array`);
}

/** A list as select() reads it: an array, or a Set (in insertion order), which a loop can ask `s in inputs` of cheaply. */
type List = readonly unknown[] | ReadonlySet<unknown>;

/** An array or a Set as it is (select() returns before anyone could change it); another iterable copied. */
function asList<T>(list: Iterable<T>, name: string): List {
  return list instanceof Set ? list : asArray(list, name);
}

function sizeOf(list: List): number {
  return Array.isArray(list) ? list.length : (list as ReadonlySet<unknown>).size;
}

type Lists = readonly [List, List, List];
/** What a wait on a worker thread is given: copies, which nothing can change while it waits. */
type Arrays = readonly [readonly unknown[], readonly unknown[], readonly unknown[]];

/** Writes the descriptors of `lists` into `out`, each checked, and `wakerFd` (if >= 0) after rlist's. */
function flatten(lists: Lists, out: Int32Array, wakerFd = -1): void {
  let k = 0;
  for (let l = 0; l < 3; l++) {
    let i = 0;
    for (const entry of lists[l]) {
      // Sockets first, and no message built unless one is needed: this runs for every
      // descriptor on every turn of a loop.
      let fd = entry instanceof Socket ? entry.fileno() : -1;
      if (fd < 0) fd = descriptorOf(entry, where(l, i)); // not a Socket, or a closed one: it names it
      if (fd < 0 || fd >= FD_SETSIZE) {
        throw new RangeError(`Expected ${where(l, i)} to be a descriptor in [0, FD_SETSIZE=${FD_SETSIZE}), got ${fd}`);
      }
      out[k++] = fd;
      i++;
    }
    if (l === 0 && wakerFd >= 0) out[k++] = wakerFd;
  }
}

/** The entries of `lists` whose flag in `flags` is set, in order (`skip` flags after rlist's: the waker). */
function readyEntries(lists: Lists, flags: Uint8Array, result: [unknown[], unknown[], unknown[]], skip = 0): void {
  let k = 0;
  for (let l = 0; l < 3; l++) {
    const out = result[l];
    for (const entry of lists[l]) if (flags[k++]) out.push(entry);
    if (l === 0) k += skip;
  }
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
  const lists = [asList(rlist, 'rlist'), asList(wlist, 'wlist'), asList(xlist, 'xlist')] as const;
  const seconds = timeoutSeconds(timeout);
  const sizes = [sizeOf(lists[0]), sizeOf(lists[1]), sizeOf(lists[2])] as const;
  const total = sizes[0] + sizes[1] + sizes[2];
  if (total > fds.length) {
    fds = new Int32Array(total * 2);
    ready = new Uint8Array(total * 2);
  }
  flatten(lists, fds);
  const result: [R[], W[], X[]] = [[], [], []];
  if (binding.select(fds, sizes[0], sizes[1], sizes[2], seconds, ready) > 0) {
    readyEntries(lists, ready, result);
  }
  return result;
}

/**
 * One wait on a worker thread: `lists` and `waker`'s read end (watched after rlist). Returns the
 * ready entries of each list, and whether a descriptor in the wait was closed while it waited
 * (which ended it). The waker is drained when it fired.
 */
export async function selectOnce(
  lists: Arrays,
  seconds: number,
  waker: Waker,
): Promise<[unknown[], unknown[], unknown[], boolean]> {
  const [r, w, x] = lists;
  if (waker.fileno() >= FD_SETSIZE) {
    throw new RangeError(`select() needs a descriptor below FD_SETSIZE=${FD_SETSIZE} for its wake-up pipe, got ${waker.fileno()}`);
  }
  // A new array per wait: the native side copies it, but the synchronous select()'s arrays are
  // never lent to a wait that is still in progress when the next call comes.
  const waitFds = new Int32Array(r.length + 1 + w.length + x.length);
  flatten(lists, waitFds, waker.fileno());
  const [flags, closed] = await binding.selectAsync(waitFds, r.length + 1, w.length, x.length, seconds, waker.wakeFd);
  if (flags[r.length]) waker.drain();
  const out: [unknown[], unknown[], unknown[]] = [[], [], []];
  readyEntries(lists, flags, out, 1);
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
  const deadline = deadlineAfter(timeoutSeconds(timeout));
  const waker = new Waker(); // its own: no other call can wake this one by mistake
  try {
    // Woken with nothing ready and time left (nothing else writes to this waker): wait again.
    const [r, w, x, closed] = await retryUntilAsync(
      deadline,
      (seconds) => selectOnce(lists, seconds, waker),
      ([r, w, x, closed]) => closed || r.length + w.length + x.length > 0,
    );
    if (closed) {
      // Name what was closed, as select() does; the next wait would refuse it anyway.
      lists.forEach((list, l) => list.forEach((entry, i) => descriptorOf(entry, where(l, i))));
    }
    return [r as R[], w as W[], x as X[]];
  } finally {
    waker.close();
  }
}
