/**
 * Selectors module: high-level and efficient I/O multiplexing, built upon the select module
 * primitives. Class for class from CPython's Lib/selectors.py: {@link BaseSelector} (the abstract
 * interface), {@link _BaseSelectorImpl} (the bookkeeping: an fd -> key map behind a read-only
 * view), and backends that differ in a few attributes: {@link SelectSelector},
 * {@link PollSelector}, {@link EpollSelector}, and {@link DefaultSelector}, the best one here.
 *
 * Beyond Python: `selectAsync()` (the wait runs on a worker thread), `wakeup()`, and `events()`;
 * how those waits are timed, retried and woken is wait.ts's (SelectorWaits).
 */
import { inspect } from 'node:util';

import { binding, type NativeEpoll, type NativePoll } from './binding';
import { KeyError, makeError, SocketError } from './errors';
import { select, selectOnce } from './select';
import { SelectorWaits } from './wait';
import type { Socket } from './socket';

// Generic events, that must be mapped to implementation-specific ones.
/** Available for read. */
export const EVENT_READ = 1 << 0;
/** Available for write. */
export const EVENT_WRITE = 1 << 1;

/** A file object: a descriptor, or any object with a `fileno()` method, such as a Socket. */
export type FileObj =
  | Socket
  | number
  | {
      /** The descriptor to watch. */
      fileno(): number;
    };

const { FD_SETSIZE } = binding;

function repr(fileobj: unknown): string {
  return typeof fileobj === 'object' && fileobj !== null ? inspect(fileobj, { depth: 0 }) : String(fileobj);
}

/**
 * Return a file descriptor from a file object: a descriptor, or an object with `fileno()`.
 * Throws TypeError for anything else (Python's ValueError: "Invalid file object"), and
 * RangeError for a negative descriptor, such as a closed Socket's -1.
 */
function fileobjToFd(fileobj: unknown): number {
  let fd: unknown;
  if (typeof fileobj === 'number') {
    fd = fileobj;
  } else if (
    fileobj !== null &&
    typeof fileobj === 'object' &&
    typeof (fileobj as { fileno?: unknown }).fileno === 'function'
  ) {
    fd = (fileobj as { fileno(): unknown }).fileno();
  } else {
    throw new TypeError(`Invalid file object: ${repr(fileobj)}: expected a Socket, a descriptor or an object with fileno()`);
  }
  if (typeof fd !== 'number' || !Number.isInteger(fd)) {
    throw new TypeError(`Invalid file object: ${repr(fileobj)}: expected fileno() to return an integer, got ${String(fd)}`);
  }
  if (fd < 0) throw new RangeError(`Invalid file descriptor: ${fd}`);
  return fd;
}

/** Python's check of an events mask: TypeError for a non-integer, RangeError for a bad mask. */
function checkEvents(events: unknown): number {
  if (typeof events !== 'number' || !Number.isInteger(events)) {
    throw new TypeError(`Invalid events: ${repr(events)}: expected EVENT_READ, EVENT_WRITE or EVENT_READ | EVENT_WRITE`);
  }
  // Python's `not events or events & ~(EVENT_READ | EVENT_WRITE)`, without JS's bitwise operators,
  // which would truncate 2 ** 53 to 0 and let it through.
  if (events < 1 || events > (EVENT_READ | EVENT_WRITE)) {
    throw new RangeError(`Invalid events: ${events}: expected EVENT_READ (1), EVENT_WRITE (2) or both (3)`);
  }
  return events;
}

/**
 * Object used to associate a file object to its backing file descriptor, selected event mask,
 * and attached data. Immutable, as Python's namedtuple.
 */
export class SelectorKey<D = unknown> {
  /**
   * @param fileobj File object registered.
   * @param fd Underlying file descriptor.
   * @param events Events that must be waited for on this file object.
   * @param data Optional opaque data associated to this file object: for example, a per-client
   *   session, or the callback to run when it is ready.
   */
  constructor(
    readonly fileobj: FileObj,
    readonly fd: number,
    readonly events: number,
    readonly data: D,
  ) {
    Object.freeze(this);
  }

  /** A copy with some fields replaced, as namedtuple's `_replace`. */
  _replace(fields: { events?: number; data?: D }): SelectorKey<D> {
    return new SelectorKey(this.fileobj, this.fd, fields.events ?? this.events, 'data' in fields ? (fields.data as D) : this.data);
  }
}

/** What select() answers: each ready key, with the events it is ready for. */
export type Ready<D = unknown> = [SelectorKey<D>, number][];

/** get_map()'s answer: a read-only Map from descriptor to key, whose get() and has() also take a file object. */
export interface SelectorMap<D = unknown> extends ReadonlyMap<number, SelectorKey<D>> {
  /** The key registered for a descriptor or file object, or `undefined`. */
  get(fileobj: FileObj): SelectorKey<D> | undefined;
  /** Whether a descriptor or file object is registered. */
  has(fileobj: FileObj): boolean;
}

/**
 * Mapping of file descriptors to selector keys: a read-only view of the selector's own map.
 * `get()` and `has()` also take the file object itself, as Python's mapping does.
 */
export class _SelectorMapping<D = unknown> implements SelectorMap<D> {
  readonly #selector: _BaseSelectorImpl<D>;

  constructor(selector: _BaseSelectorImpl<D>) {
    this.#selector = selector;
  }

  /** The number of registered file objects. */
  get size(): number {
    return this.#selector._fdToKey.size;
  }

  /** The key registered for a descriptor or file object, or `undefined` (never a throw). */
  get(fileobj: FileObj): SelectorKey<D> | undefined {
    try {
      return this.#selector._fdToKey.get(this.#selector._fileobjLookup(fileobj));
    } catch (err) {
      if (err instanceof TypeError || err instanceof RangeError) return undefined;
      throw err;
    }
  }

  /** Whether a descriptor or file object is registered. */
  has(fileobj: FileObj): boolean {
    return this.get(fileobj) !== undefined;
  }

  keys(): MapIterator<number> {
    return this.#selector._fdToKey.keys();
  }

  values(): MapIterator<SelectorKey<D>> {
    return this.#selector._fdToKey.values();
  }

  entries(): MapIterator<[number, SelectorKey<D>]> {
    return this.#selector._fdToKey.entries();
  }

  /** Calls `callback(key, fd, map)` for each registration, as Map's forEach(). */
  forEach(callback: (key: SelectorKey<D>, fd: number, map: ReadonlyMap<number, SelectorKey<D>>) => void, thisArg?: unknown): void {
    for (const [fd, key] of this.#selector._fdToKey) callback.call(thisArg, key, fd, this);
  }

  [Symbol.iterator](): MapIterator<[number, SelectorKey<D>]> {
    return this.entries();
  }
}

/**
 * Selector abstract base class.
 *
 * A selector supports registering file objects to be monitored for specific I/O events.
 *
 * A file object is a file descriptor or any object with a `fileno()` method. An arbitrary object
 * can be attached to the file object, which can be used for example to store context
 * information, a callback, etc.
 *
 * A selector can use various implementations (select(), poll(), epoll()...) depending on the
 * platform. {@link DefaultSelector} uses the most efficient implementation on the current platform.
 */
export abstract class BaseSelector<D = unknown> {
  /**
   * Register a file object.
   *
   * @param fileobj file object or file descriptor
   * @param events events to monitor (bitwise mask of EVENT_READ|EVENT_WRITE)
   * @param data attached data
   * @returns the new SelectorKey
   * @throws RangeError (or TypeError) if events is invalid; KeyError if fileobj is already
   *   registered; SocketError if fileobj is closed or otherwise is unacceptable to the underlying
   *   system call (if a system call is made)
   */
  abstract register(fileobj: FileObj, events: number, data?: D): SelectorKey<D>;

  /**
   * Unregister a file object.
   *
   * @returns the SelectorKey it had
   * @throws KeyError if fileobj is not registered. If fileobj is registered but has since been
   *   closed this does *not* throw (even if the wrapped system call does).
   */
  abstract unregister(fileobj: FileObj): SelectorKey<D>;

  /**
   * Change a registered file object's monitored events or attached data.
   *
   * @returns the new SelectorKey
   * @throws anything that unregister() or register() throws
   */
  modify(fileobj: FileObj, events: number, data?: D): SelectorKey<D> {
    this.unregister(fileobj);
    return this.register(fileobj, events, data);
  }

  /**
   * Perform the actual selection, until some monitored file objects are ready or a timeout
   * expires.
   *
   * @param timeout if > 0, the maximum wait time, in seconds; if <= 0, the call won't block, and
   *   will report the currently ready file objects; if null or absent, it blocks until a
   *   monitored file object becomes ready (or {@link wakeup} is called)
   * @returns a list of [key, events] for ready file objects, `events` a bitwise mask of
   *   EVENT_READ|EVENT_WRITE
   */
  abstract select(timeout?: number | null): Ready<D>;

  /**
   * select() as a Promise: the wait runs on a worker thread, so Node's event loop keeps running.
   * Closing the selector, or a socket registered with it, ends the wait early, as does
   * {@link wakeup}. One wait at a time per selector.
   */
  abstract selectAsync(timeout?: number | null): Promise<Ready<D>>;

  /**
   * Ends the wait in progress (select() or selectAsync()) early, or the next one when none is in
   * progress; it then returns what is ready, perhaps nothing. Safe to call from any callback.
   */
  abstract wakeup(): void;

  /**
   * Close the selector.
   *
   * This must be called to make sure that any underlying resource is freed.
   */
  close(): void {}

  /**
   * Return the key associated to a registered file object.
   *
   * @throws KeyError if fileobj is not registered; Error if the selector is closed
   */
  get_key(fileobj: FileObj): SelectorKey<D> {
    const mapping = this.get_map();
    if (mapping === null) throw new Error('Selector is closed');
    const key = mapping.get(fileobj);
    if (key === undefined) throw new KeyError(`${repr(fileobj)} is not registered`);
    return key;
  }

  /** Return a read-only mapping of file descriptors to selector keys; null once closed. */
  abstract get_map(): SelectorMap<D> | null;

  /**
   * The ready lists, one selectAsync() after another, for `for await` loops; it ends when the
   * selector is closed (or the loop breaks). A wakeup() yields an empty list.
   */
  async *events(timeout: number | null = null): AsyncGenerator<Ready<D>, void, undefined> {
    while (this.get_map() !== null) {
      const ready = await this.selectAsync(timeout);
      if (this.get_map() === null) return;
      yield ready;
    }
  }

  /** `using sel = new DefaultSelector()` closes it at the end of the block, as Python's `with`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Base selector implementation: the bookkeeping every backend shares. */
export abstract class _BaseSelectorImpl<D = unknown> extends BaseSelector<D> {
  /** This maps file descriptors to keys. @internal */
  readonly _fdToKey = new Map<number, SelectorKey<D>>();
  /** Read-only mapping returned by get_map(). */
  protected _map: _SelectorMapping<D> | null = new _SelectorMapping(this);
  /** Whether a wait in progress sees registrations made meanwhile (the kernel's list does). */
  protected readonly _liveInterest: boolean = false;
  /** The waits: one at a time, each retried for the time left, and the waker that ends them. */
  protected readonly _waits = new SelectorWaits((fd) => this._watchWaker(fd));

  /**
   * Return a file descriptor from a file object.
   *
   * This wraps fileobjToFd() to do an exhaustive search in case the object is invalid but we
   * still have it in our map. This is used by unregister() so we can unregister an object that
   * was previously registered even if it is closed. It is also used by _SelectorMapping.
   * @internal
   */
  _fileobjLookup(fileobj: FileObj): number {
    try {
      return fileobjToFd(fileobj);
    } catch (err) {
      // Do an exhaustive search.
      for (const key of this._fdToKey.values()) if (key.fileobj === fileobj) return key.fd;
      // Throw after all.
      throw err;
    }
  }

  override register(fileobj: FileObj, events: number, data?: D): SelectorKey<D> {
    this._checkOpen('register');
    checkEvents(events);
    const key = new SelectorKey(fileobj, this._fileobjLookup(fileobj), events, data as D);
    if (this._fdToKey.has(key.fd)) throw new KeyError(`${repr(fileobj)} (FD ${key.fd}) is already registered`);
    this._fdToKey.set(key.fd, key);
    this._waits.interestChanged(this._liveInterest);
    return key;
  }

  override unregister(fileobj: FileObj): SelectorKey<D> {
    let fd: number;
    try {
      fd = this._fileobjLookup(fileobj);
    } catch {
      throw new KeyError(`${repr(fileobj)} is not registered`);
    }
    const key = this._fdToKey.get(fd);
    if (key === undefined) throw new KeyError(`${repr(fileobj)} is not registered`);
    this._fdToKey.delete(fd);
    return key;
  }

  override modify(fileobj: FileObj, events: number, data?: D): SelectorKey<D> {
    let key = this._keyOf(fileobj);
    checkEvents(events); // before anything changes
    if (events !== key.events) {
      this.unregister(fileobj);
      key = this.register(fileobj, events, data);
    } else if (data !== key.data) {
      // Use a shortcut to update the data.
      key = key._replace({ data });
      this._fdToKey.set(key.fd, key);
    }
    return key;
  }

  override close(): void {
    this._fdToKey.clear();
    this._map = null;
    this._waits.close();
  }

  override get_map(): _SelectorMapping<D> | null {
    return this._map;
  }

  override select(timeout?: number | null): Ready<D> {
    this._checkOpen('select');
    const deadline = this._waits.deadline(timeout, 'select', repr);
    // A stray wake-up byte (a close during an earlier selectAsync()): waits again for the time left.
    return this._waits.run(deadline, (seconds) => this._select(seconds));
  }

  override async selectAsync(timeout?: number | null): Promise<Ready<D>> {
    this._checkOpen('selectAsync');
    const deadline = this._waits.deadline(timeout, 'selectAsync', repr);
    // Woken because the registrations changed under a wait that could not see it: waits again,
    // with the new ones, for the time left.
    return await this._waits.runAsync(deadline, (seconds) => this._selectAsync(seconds), () => this._map === null);
  }

  override wakeup(): void {
    if (this._map !== null) this._waits.wakeup();
  }

  /**
   * Return the key associated to a given file descriptor, or undefined if not found.
   * @internal
   */
  protected _keyFromFd(fd: number): SelectorKey<D> | undefined {
    return this._fdToKey.get(fd);
  }

  /** The key of a registered file object, or KeyError. */
  protected _keyOf(fileobj: FileObj): SelectorKey<D> {
    let key: SelectorKey<D> | undefined;
    try {
      key = this._fdToKey.get(this._fileobjLookup(fileobj));
    } catch {
      key = undefined;
    }
    if (key === undefined) throw new KeyError(`${repr(fileobj)} is not registered`);
    return key;
  }

  /** The wait itself, once: the backend's select(), with the waker watched and drained. */
  protected abstract _select(seconds: number): Ready<D>;
  /** The same on a worker thread; also says whether a descriptor it used was closed meanwhile. */
  protected abstract _selectAsync(seconds: number): Promise<[Ready<D>, boolean]>;
  /** The backend starts watching the waker's read end (its selectors never report it). */
  protected abstract _watchWaker(fd: number): void;

  protected _checkOpen(syscall: string): void {
    if (this._map === null) {
      throw makeError('EBADF', binding.errno.EBADF, syscall, `${syscall} EBADF: the selector is closed`);
    }
  }
}

/** Select-based selector. */
export class SelectSelector<D = unknown> extends _BaseSelectorImpl<D> {
  readonly #readers = new Set<number>();
  readonly #writers = new Set<number>();

  /** Also rejects a descriptor select() cannot watch, before anything is registered. */
  override register(fileobj: FileObj, events: number, data?: D): SelectorKey<D> {
    const fd = this._fileobjLookup(fileobj);
    if (fd >= FD_SETSIZE) {
      throw new RangeError(
        `SelectSelector cannot watch ${repr(fileobj)}: descriptor ${fd} is not below FD_SETSIZE=${FD_SETSIZE}; ` +
          'use PollSelector or EpollSelector',
      );
    }
    const key = super.register(fileobj, events, data);
    if (events & EVENT_READ) this.#readers.add(key.fd);
    if (events & EVENT_WRITE) this.#writers.add(key.fd);
    return key;
  }

  override unregister(fileobj: FileObj): SelectorKey<D> {
    const key = super.unregister(fileobj);
    this.#readers.delete(key.fd);
    this.#writers.delete(key.fd);
    return key;
  }

  protected override _select(seconds: number): Ready<D> {
    const wakerFd = this._waits.wakerFd;
    const readers = wakerFd >= 0 ? [...this.#readers, wakerFd] : this.#readers;
    // departs from Python: InterruptedError (a signal named in interrupt_on(), our
    // KeyboardInterrupt) is not swallowed here; PEP 475 retries every other EINTR.
    const [r, w] = select(readers, this.#writers, [], seconds < 0 ? null : seconds);
    return this.#ready(r, w);
  }

  protected override async _selectAsync(seconds: number): Promise<[Ready<D>, boolean]> {
    const [r, w, , closed] = await selectOnce([[...this.#readers], [...this.#writers], []], seconds, this._waits.waker());
    return [this.#ready(r as number[], w as number[]), closed];
  }

  protected override _watchWaker(fd: number): void {
    if (fd >= FD_SETSIZE) throw new RangeError(`SelectSelector needs a descriptor below FD_SETSIZE=${FD_SETSIZE} for its wake-up pipe, got ${fd}`);
  }

  #ready(r: number[], w: number[]): Ready<D> {
    const ready: Ready<D> = [];
    const readable = new Set(r);
    const writable = new Set(w);
    for (const fd of new Set([...r, ...w])) {
      if (this._waits.wokeBy(fd)) continue;
      let events = 0;
      if (readable.has(fd)) events |= EVENT_READ;
      if (writable.has(fd)) events |= EVENT_WRITE;
      const key = this._keyFromFd(fd);
      if (key) ready.push([key, events & key.events]);
    }
    return ready;
  }
}

/** What a poll-like backend needs of its native object. */
interface Poller {
  register(fd: number, events: number): void;
  modify(fd: number, events: number): void;
  unregister(fd: number): void;
  poll(timeout: number, out: Int32Array): number;
}

/** Base class shared between poll and epoll selectors. */
export abstract class _PollLikeSelector<D = unknown, P extends Poller = Poller> extends _BaseSelectorImpl<D> {
  protected abstract readonly _EVENT_READ: number;
  protected abstract readonly _EVENT_WRITE: number;
  protected readonly _selector: P;
  /** The synchronous select()'s answer, as (fd, events) pairs; it only grows. */
  #out = new Int32Array(64);

  constructor(selectorCls: new () => P) {
    super();
    this._selector = new selectorCls();
  }

  override register(fileobj: FileObj, events: number, data?: D): SelectorKey<D> {
    const key = super.register(fileobj, events, data);
    try {
      this._selector.register(key.fd, this._pollerEvents(events));
    } catch (err) {
      super.unregister(fileobj);
      throw err;
    }
    return key;
  }

  override unregister(fileobj: FileObj): SelectorKey<D> {
    const key = super.unregister(fileobj);
    try {
      this._selector.unregister(key.fd);
    } catch (err) {
      // This can happen if the FD was closed since it was registered.
      if (!(err instanceof SocketError)) throw err;
    }
    return key;
  }

  override modify(fileobj: FileObj, events: number, data?: D): SelectorKey<D> {
    let key = this._keyOf(fileobj);
    checkEvents(events);
    let changed = false;
    if (events !== key.events) {
      try {
        this._selector.modify(key.fd, this._pollerEvents(events));
      } catch (err) {
        super.unregister(fileobj);
        throw err;
      }
      changed = true;
      this._waits.interestChanged(this._liveInterest);
    }
    if (data !== key.data) changed = true;
    if (changed) {
      key = key._replace({ events, data });
      this._fdToKey.set(key.fd, key);
    }
    return key;
  }

  protected override _select(seconds: number): Ready<D> {
    // Room for every registered descriptor and the waker: epoll_wait()'s `maxevents` is the
    // room in `out`, and must be greater than zero even when nothing is registered.
    const need = 2 * (this._fdToKey.size + 2);
    if (this.#out.length < need) this.#out = new Int32Array(2 * need);
    const n = this._poll(seconds, this.#out);
    return this._ready(this.#out, n);
  }

  protected override _watchWaker(fd: number): void {
    this._selector.register(fd, this._EVENT_READ);
  }

  /** The backend's wait: (fd, events) pairs into `out`, and their count. */
  protected _poll(seconds: number, out: Int32Array): number {
    return this._selector.poll(seconds, out);
  }

  protected _pollerEvents(events: number): number {
    let pollerEvents = 0;
    if (events & EVENT_READ) pollerEvents |= this._EVENT_READ;
    if (events & EVENT_WRITE) pollerEvents |= this._EVENT_WRITE;
    return pollerEvents;
  }

  /** (fd, event) pairs to keys, as Python's _PollLikeSelector.select() does. */
  protected _ready(pairs: Int32Array, n: number): Ready<D> {
    const ready: Ready<D> = [];
    for (let i = 0; i < n; i++) {
      const fd = pairs[2 * i];
      const event = pairs[2 * i + 1];
      if (this._waits.wokeBy(fd)) continue;
      let events = 0;
      if (event & ~this._EVENT_READ) events |= EVENT_WRITE;
      if (event & ~this._EVENT_WRITE) events |= EVENT_READ;
      const key = this._keyFromFd(fd);
      if (key) ready.push([key, events & key.events]);
    }
    return ready;
  }
}

/** Poll-based selector. */
export class PollSelector<D = unknown> extends _PollLikeSelector<D, NativePoll> {
  protected readonly _EVENT_READ = binding.POLLIN;
  protected readonly _EVENT_WRITE = binding.POLLOUT;

  constructor() {
    super(binding.Poll);
  }

  protected override async _selectAsync(seconds: number): Promise<[Ready<D>, boolean]> {
    const [pairs, closed] = await this._selector.pollAsync(seconds, this._waits.waker().wakeFd);
    return [this._ready(pairs, pairs.length / 2), closed];
  }
}

const { Epoll } = binding;

/** Epoll-based selector (Linux). Elsewhere its constructor throws. */
export class EpollSelector<D = unknown> extends _PollLikeSelector<D, NativeEpoll> {
  protected readonly _EVENT_READ = binding.EPOLLIN ?? 0;
  protected readonly _EVENT_WRITE = binding.EPOLLOUT ?? 0;
  protected override readonly _liveInterest = true;

  constructor() {
    if (Epoll === undefined) throw new Error('EpollSelector needs epoll, which only Linux has: use DefaultSelector');
    super(Epoll);
  }

  /** The epoll descriptor. */
  fileno(): number {
    return this._selector.fileno();
  }

  protected override async _selectAsync(seconds: number): Promise<[Ready<D>, boolean]> {
    const maxEvents = Math.max(this._fdToKey.size, 1) + 1;
    const [pairs, closed] = await this._selector.pollAsync(seconds, maxEvents, this._waits.waker().wakeFd);
    return [this._ready(pairs, pairs.length / 2), closed];
  }

  override close(): void {
    this._selector.close();
    super.close();
  }
}

/** The best selector this platform has: epoll where there is epoll, else poll. */
export const DefaultSelector: new <D = unknown>() => _PollLikeSelector<D> = Epoll !== undefined ? EpollSelector : PollSelector;
/** The type of a {@link DefaultSelector}. */
export type DefaultSelector<D = unknown> = _PollLikeSelector<D>;
