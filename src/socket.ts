/**
 * The socket module: Python's `socket.socket` as the {@link Socket} class, and the module
 * functions around it. A Socket holds the id of its native state (native/addon.h, HandleTable);
 * each method is a thin call that passes the id to native code, which checks the arguments,
 * makes the system call and raises the SocketError family.
 */
import { constants as osConstants } from 'node:os';
import { inspect } from 'node:util';

import { binding, type Address, type Data } from './binding';
import { makeError, SocketError } from './errors';
import { POOLED_MAX, poolFor, poolOffset, poolTake } from './pool';

export type { Address, Data } from './binding';

const { AF_INET, AF_INET6, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, IPPROTO_IPV6, IPV6_V6ONLY, NO_SOCKET } = binding;

/** The reverse of the constants, for repr: 2 -> 'AF_INET'. */
function constantName(prefix: string, value: number): string {
  for (const [name, v] of Object.entries(binding)) if (name.startsWith(prefix) && v === value) return name;
  return String(value);
}

/** '127.0.0.1:10000', '[::1]:10000', or an AF_UNIX path, as the repr and the programs print them. */
export function formatAddress(address: Address | null): string {
  if (address === null) return '';
  if (typeof address === 'string') return address.startsWith('\0') ? `@${address.slice(1)}` : address;
  const [host, port] = address;
  return address.length > 2 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Python's repr of the socket `id` (whose descriptor is `fd`, -1 once closed). */
function describe(id: number, fd: number, family: number, type: number): string {
  const names = `family=${constantName('AF_', family)}, type=${constantName('SOCK_', type)}`;
  if (fd < 0) return `<socket [closed] fd=-1, ${names}>`;
  let text = `<socket fd=${fd}, ${names}`;
  for (const [label, get] of [['laddr', () => binding.getsockname(id)], ['raddr', () => binding.getpeername(id)]] as const) {
    try {
      const address = formatAddress(get());
      if (address) text += `, ${label}=${address}`;
    } catch {
      // Not bound, or not connected: Python leaves the field out too.
    }
  }
  return `${text}>`;
}

/**
 * Sockets that become garbage while still open are closed, with a ResourceWarning, as CPython
 * does; the registry holds the socket's id, not the Socket, so the Socket can be collected. A
 * closed socket is unregistered: its native state went with close(), and nothing is left to do.
 *
 * A socket joins the registry only once it has lived through a turn of the event loop (the
 * registry's callbacks run only from there anyway). Each registration costs V8 a cell in its old
 * generation, garbage only a full collection frees: a loop that opens and closes sockets by the
 * million without yielding would pile them up by the tens of megabytes. Until its turn comes, a
 * socket waits in Socket's young list, which drops closed sockets whenever it has doubled.
 */
const unclosed = new FinalizationRegistry<number>((id) => {
  const fd = binding.fileno(id);
  if (fd < 0) return;
  process.emitWarning(`unclosed ${describe(id, fd, binding.family(id), binding.type(id))}`, 'ResourceWarning');
  try {
    binding.close(id);
  } catch {
    // Nobody is left to tell.
  }
});

// Socket.close() and detach() free the native queue; this tells the Outbox (set in its static block).
let forget: (outbox: Outbox) => void;

/** The per-socket outbound queue, held natively: `message_queues[s]` of the classic loop. */
export class Outbox {
  #id: number;
  // A copy of the native queue's byte count, kept from what put() and flush() return, so that
  // pending and empty(), asked on every turn of a loop, cost no call into native code.
  #pending = 0;

  static {
    forget = (outbox) => {
      outbox.#id = NO_SOCKET;
      outbox.#pending = 0;
    };
  }

  /** @internal */
  constructor(id: number) {
    this.#id = id;
  }

  /**
   * Appends a copy of `data`: the caller may reuse its buffer at once. On a message socket
   * (SOCK_DGRAM, SOCK_SEQPACKET) each put() is one message, sent alone.
   */
  put(data: Data): void {
    this.#pending = binding.outboxPut(this.#id, data);
  }

  /**
   * Writes as much as the kernel takes now, in one write (send of one buffer, else a gather write,
   * sendmsg; MSG_NOSIGNAL), and keeps the rest in order; a message socket sends its messages one
   * by one. Returns the bytes written; 0 when a non-blocking socket would block. A message the kernel refuses for its size
   * (EMSGSIZE) is dropped, and the error thrown once.
   */
  flush(): number {
    const before = this.#pending;
    try {
      this.#pending = binding.outboxFlush(this.#id);
    } catch (err) {
      // A write failed after others succeeded: ask the queue itself what is left.
      this.#pending = binding.outboxPending(this.#id);
      throw err;
    }
    return before - this.#pending;
  }

  /** Bytes queued and not yet written. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether nothing is queued: `pending === 0`. */
  empty(): boolean {
    return this.#pending === 0;
  }

  /** Drops whatever is queued. */
  clear(): void {
    binding.outboxClear(this.#id);
    this.#pending = 0;
  }

  /** A copy of the first `max` queued bytes (all of them by default), for logs and tests. */
  peek(max?: number): Buffer {
    const want = typeof max === 'number' && max < this.#pending ? max : this.#pending;
    if (want > POOLED_MAX) {
      const out = Buffer.allocUnsafe(want);
      binding.outboxPeek(this.#id, max, out, 0);
      return out;
    }
    // An invalid `max` reaches the native check, which throws before anything is copied.
    return poolTake(binding.outboxPeek(this.#id, max, poolFor(Math.max(want, 0)), poolOffset()));
  }
}

// A socket on its way into a new Socket (accept, socketpair, dup): the constructor takes its id
// instead of opening a socket. Set and cleared around one synchronous `new`.
let adopting = NO_SOCKET;

function wrap(id: number): Socket {
  adopting = id;
  try {
    return new Socket();
  } finally {
    adopting = NO_SOCKET;
  }
}

/**
 * A socket, as Python's `socket.socket`: `new Socket(AF_INET, SOCK_STREAM)`, or
 * `new Socket(-1, -1, -1, fd)` (or `new Socket(undefined, undefined, undefined, fd)`) to adopt a
 * descriptor and read its family and type from the kernel.
 *
 * `family`, `type` and `proto` are read-only, as in Python: they are getters without setters, so
 * assigning one throws a TypeError in strict mode code (ES modules, classes, TypeScript output)
 * and is ignored in sloppy mode code, as for Node's own getters; TypeScript refuses it at compile
 * time.
 */
export class Socket {
  /** The socket's outbound queue: `put`, `flush`, `pending`, `empty`, `clear`. */
  readonly outbox: Outbox;
  // The native state's id (HandleTable); once closed or detached, closedId(family), which no open
  // socket ever has, so that a closed Socket never presents an id a later socket could have.
  #id: number;
  #fd: number;
  readonly #family: number;
  readonly #type: number;
  readonly #proto: number;
  #registered = false; // in `unclosed`

  // Sockets made since the last turn of the event loop, not yet in `unclosed` (see there).
  static #young: Socket[] = [];
  static #youngLimit = 1024;
  static #registering = false;

  /** Keeps `s` for registration on the next turn, and the list no longer than twice the open sockets. */
  static #track(s: Socket): void {
    const young = Socket.#young;
    young.push(s);
    if (young.length >= Socket.#youngLimit) {
      const open = young.filter((t) => t.#fd >= 0);
      young.length = 0;
      young.push(...open);
      Socket.#youngLimit = Math.max(1024, 2 * open.length);
    }
    if (!Socket.#registering) {
      Socket.#registering = true;
      setImmediate(Socket.#registerYoung).unref();
    }
  }

  static #registerYoung(this: void): void {
    Socket.#registering = false;
    for (const s of Socket.#young.splice(0)) {
      if (s.#fd < 0) continue;
      unclosed.register(s, s.#id, s);
      s.#registered = true;
    }
  }

  constructor(family?: number, type?: number, proto?: number, fileno?: number | null) {
    let id: number;
    if (adopting !== NO_SOCKET) {
      id = adopting;
      adopting = NO_SOCKET;
    } else if (fileno !== undefined && fileno !== null) {
      id = binding.open(family ?? -1, type ?? -1, proto ?? -1, fileno);
    } else {
      id = binding.open(family ?? AF_INET, type ?? SOCK_STREAM, proto ?? 0);
    }
    this.#id = id;
    this.#fd = binding.fileno(id);
    this.#family = binding.family(id);
    this.#type = binding.type(id);
    this.#proto = binding.proto(id);
    this.outbox = new Outbox(id);
    Socket.#track(this);
  }

  /** The address family: `AF_INET`, `AF_INET6` or `AF_UNIX`. Read-only. */
  get family(): number {
    return this.#family;
  }

  /** The socket type, `SOCK_STREAM` or `SOCK_DGRAM` and the like, without creation flags. Read-only. */
  get type(): number {
    return this.#type;
  }

  /** The protocol number, 0 for the family's default. Read-only. */
  get proto(): number {
    return this.#proto;
  }

  /** The descriptor, or -1 once closed or detached. */
  fileno(): number {
    return this.#fd;
  }

  /**
   * Closes the socket and frees its native state at once. Idempotent; every later call but
   * fileno() and close() throws EBADF.
   */
  close(): void {
    if (this.#fd < 0) return;
    const id = this.#id;
    this.#fd = -1;
    this.#id = binding.closedId(this.#family);
    if (this.#registered) unclosed.unregister(this);
    forget(this.outbox);
    binding.close(id);
  }

  /** Closes the socket object without closing the descriptor, and returns the descriptor. */
  detach(): number {
    const id = this.#id;
    this.#fd = -1;
    this.#id = binding.closedId(this.#family);
    if (this.#registered) unclosed.unregister(this);
    forget(this.outbox);
    return binding.detach(id);
  }

  /** A new Socket on a duplicate of the descriptor, with the same timeout. */
  dup(): Socket {
    return wrap(binding.dup(this.#id));
  }

  /** `false` is `settimeout(0)`, `true` is `settimeout(null)`. */
  setblocking(flag: boolean): void {
    if (typeof flag !== 'boolean' && typeof flag !== 'number') {
      throw new TypeError(`Expected flag to be a boolean, got ${typeof flag}`);
    }
    binding.settimeout(this.#id, flag ? null : 0);
  }

  /** `false` when the timeout is 0 (non-blocking), `true` otherwise, timed sockets included. */
  getblocking(): boolean {
    return binding.gettimeout(this.#id) !== 0;
  }

  /** null blocks; 0 never waits (BlockingIOError); seconds > 0 wait at most that long (TimeoutError). */
  settimeout(seconds: number | null): void {
    binding.settimeout(this.#id, seconds);
  }

  /** The timeout in seconds: `null` when blocking, 0 when non-blocking. */
  gettimeout(): number | null {
    return binding.gettimeout(this.#id);
  }

  /**
   * Sets an option: `setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)`. An integer or boolean is passed as
   * a C int; bytes are passed as they are, for structures such as `struct linger`.
   */
  setsockopt(level: number, name: number, value: number | boolean | ArrayBufferView): void {
    binding.setsockopt(this.#id, level, name, value);
  }

  /** An integer option, or with `buflen`, a Buffer of the option's raw bytes. */
  getsockopt(level: number, name: number): number;
  getsockopt(level: number, name: number, buflen: number): Buffer;
  getsockopt(level: number, name: number, buflen?: number): number | Buffer {
    return binding.getsockopt(this.#id, level, name, buflen);
  }

  /** Binds to a local address: `['127.0.0.1', 10000]`, port 0 for any free port, or a path. */
  bind(address: Address): void {
    binding.bind(this.#id, address);
  }

  /** Starts accepting connections, queueing at most `backlog` that `accept()` has not taken. */
  listen(backlog = 128): void {
    binding.listen(this.#id, backlog);
  }

  /** Waits for a connection; the new socket is blocking, as in Python. */
  accept(): [Socket, Address] {
    const [id, address] = binding.accept(this.#id);
    return [wrap(id), address];
  }

  /** Connects; a non-blocking socket throws BlockingIOError (EINPROGRESS) and finishes later. */
  connect(address: Address): void {
    binding.connect(this.#id, address);
  }

  /** As connect(), but returns the errno (0 on success) instead of throwing. */
  connect_ex(address: Address): number {
    return binding.connect_ex(this.#id, address);
  }

  /** Sends what the kernel takes now and returns that count, which may be less than given. */
  send(data: Data, flags = 0): number {
    return binding.send(this.#id, data, flags);
  }

  /** Sends everything, waiting as needed, or throws. */
  sendall(data: Data, flags = 0): void {
    // As Python's: nothing to send is still one send(), an empty datagram on a message socket.
    if (typeof data === 'string' ? data.length === 0 : ArrayBuffer.isView(data) && data.byteLength === 0) {
      binding.send(this.#id, data, flags);
      return;
    }
    binding.sendall(this.#id, data, flags);
  }

  /** sendto(data, address) or sendto(data, flags, address). */
  sendto(data: Data, address: Address): number;
  sendto(data: Data, flags: number, address: Address): number;
  sendto(data: Data, flagsOrAddress: number | Address, address?: Address): number {
    return address === undefined
      ? binding.sendto(this.#id, data, flagsOrAddress)
      : binding.sendto(this.#id, data, flagsOrAddress, address);
  }

  /**
   * At most `bufsize` bytes, MSG_TRUNC included; an empty Buffer means the peer has closed its
   * side. The bytes are a view of a pool shared by every socket (src/pool.ts), so a read
   * allocates no memory of its own.
   */
  recv(bufsize: number, flags = 0): Buffer {
    // As Python's recv(0): nothing asked, nothing read; a datagram stays queued, nothing waits.
    if (bufsize === 0 && Number.isInteger(flags) && this.#fd >= 0) return Buffer.alloc(0);
    if (typeof bufsize === 'number' && bufsize > POOLED_MAX) return this.#recvLarge(bufsize, flags);
    // An invalid `bufsize` reaches the native check, which throws before anything is read.
    const pool = poolFor(typeof bufsize === 'number' ? bufsize : 0);
    return poolTake(binding.recv(this.#id, bufsize, flags, pool, poolOffset()));
  }

  /** More than a slab's share: a buffer of its own, copied down when far less arrived. */
  #recvLarge(bufsize: number, flags: number): Buffer {
    if (this.#fd < 0 || !Number.isInteger(bufsize) || bufsize > 0x7fffffff) {
      // Closed, or not a size: the native checks throw what they always have.
      return poolTake(binding.recv(this.#id, bufsize, flags, poolFor(0), poolOffset()));
    }
    let buf: Buffer;
    try {
      buf = Buffer.allocUnsafe(bufsize);
    } catch {
      // The caller chose the size: running out of memory is its error to handle, not a crash.
      throw makeError('ENOMEM', binding.errno.ENOMEM, 'recv', `recv ENOMEM: Cannot allocate memory (${bufsize} bytes)`);
    }
    const n = binding.recv(this.#id, bufsize, flags, buf, 0);
    return n >= buf.length / 2 ? buf.subarray(0, n) : Buffer.from(buf.subarray(0, n));
  }

  /**
   * Reads into `buffer` (at most its first `nbytes`, or all of it) and returns the count. With
   * MSG_TRUNC on a datagram socket the count is the datagram's real length, which may be more
   * than was written, as in Python.
   */
  recv_into(buffer: ArrayBufferView, nbytes = 0, flags = 0): number {
    // Into no room at all, as recv(0): Python returns 0 without a system call.
    if (nbytes === 0 && ArrayBuffer.isView(buffer) && buffer.byteLength === 0 && Number.isInteger(flags) && this.#fd >= 0) return 0;
    return binding.recv_into(this.#id, buffer, nbytes, flags);
  }

  /** A datagram (at most `bufsize` bytes of it) and the address it came from (null where the kernel gives none). */
  recvfrom(bufsize: number, flags = 0): [Buffer, Address | null] {
    return binding.recvfrom(this.#id, bufsize, flags);
  }

  /** Shuts down one or both directions (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`); the descriptor stays open. */
  shutdown(how: number): void {
    binding.shutdown(this.#id, how);
  }

  /** The socket's own address, for instance the port that `bind()` to port 0 chose. */
  getsockname(): Address {
    return binding.getsockname(this.#id);
  }

  /** The address of the peer it is connected to. */
  getpeername(): Address {
    return binding.getpeername(this.#id);
  }

  /** Python's repr: `<socket fd=5, family=AF_INET, type=SOCK_STREAM, laddr=127.0.0.1:10000>`. */
  toString(): string {
    return describe(this.#id, this.#fd, this.#family, this.#type);
  }

  /** What `console.log()` and `util.inspect()` print: the same repr as toString(). */
  [inspect.custom](): string {
    return this.toString();
  }

  /** `using s = socket()` closes it at the end of the block, as Python's `with`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A new socket; blocking, as in Python. */
export function socket(family = AF_INET, type = SOCK_STREAM, proto = 0): Socket {
  return new Socket(family, type, proto);
}

/** A pair of connected sockets. */
export function socketpair(family = binding.AF_UNIX, type = SOCK_STREAM, proto = 0): [Socket, Socket] {
  const [a, b] = binding.socketpair(family, type, proto);
  return [wrap(a), wrap(b)];
}

/** A Socket on a duplicate of `fd`, which stays the caller's to close. */
export function fromfd(fd: number, family: number, type: number, proto = 0): Socket {
  if (typeof fd !== 'number' || !Number.isInteger(fd)) throw new TypeError(`Expected fd to be an integer, got ${String(fd)}`);
  if (fd < 0) throw new RangeError(`Expected fd to be a descriptor (>= 0), got ${fd}`);
  const borrowed = binding.open(family, type, proto, fd);
  try {
    return wrap(binding.dup(borrowed));
  } finally {
    binding.detach(borrowed);
  }
}

/** `[family, type, proto, canonname, address]` for each address `host` and `port` resolve to. */
export function getaddrinfo(
  host: string | null,
  port: number | string | null,
  family = 0,
  type = 0,
  proto = 0,
  flags = 0,
): [number, number, number, string, Address][] {
  return binding.getaddrinfo(host, port, family, type, proto, flags);
}

/**
 * Resolves `[host, port]`, tries each address in turn, and returns the first socket that
 * connects. `timeout` (seconds, or null to block) stays set on the socket, as in Python.
 */
export function create_connection(
  address: [host: string, port: number],
  timeout?: number | null,
  source_address?: Address,
): Socket {
  if (!Array.isArray(address) || address.length !== 2) {
    throw new TypeError('Expected address to be [host, port]');
  }
  const [host, port] = address;
  let last: SocketError | null = null;
  for (const [family, type, proto, , sockaddr] of getaddrinfo(host, port, 0, SOCK_STREAM)) {
    const s = new Socket(family, type, proto);
    try {
      if (timeout !== undefined) s.settimeout(timeout);
      if (source_address !== undefined) s.bind(source_address);
      s.connect(sockaddr);
      return s;
    } catch (err) {
      s.close();
      if (!(err instanceof SocketError) || err.code === 'EINTR') throw err;
      last = err;
    }
  }
  throw last ?? makeError('EAI_NONAME', 0, 'getaddrinfo', `getaddrinfo returned no address for ${host}`);
}

/** The options of {@link create_server}, named as Python's keyword arguments. */
export interface ServerOptions {
  /** AF_INET (default) or AF_INET6. */
  family?: number;
  /** listen() backlog; 128 by default. */
  backlog?: number;
  /** Sets SO_REUSEPORT, so several processes can bind the same port and the kernel balances them. */
  reuse_port?: boolean;
  /** With AF_INET6, accept IPv4 connections too. */
  dualstack_ipv6?: boolean;
}

/** socket + SO_REUSEADDR (+ SO_REUSEPORT) + bind + listen, as Python's socket.create_server(). */
export function create_server(address: Address, opts: ServerOptions = {}): Socket {
  const { family = AF_INET, backlog = 128, reuse_port = false, dualstack_ipv6 = false } = opts;
  if (reuse_port && SO_REUSEPORT === undefined) throw new RangeError('SO_REUSEPORT is not supported on this platform');
  if (dualstack_ipv6 && family !== AF_INET6) throw new RangeError('dualstack_ipv6 requires family AF_INET6');
  const s = new Socket(family, SOCK_STREAM);
  try {
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (reuse_port && SO_REUSEPORT !== undefined) s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    if (family === AF_INET6) s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, dualstack_ipv6 ? 0 : 1);
    s.bind(address);
    s.listen(backlog);
    return s;
  } catch (err) {
    s.close();
    throw err;
  }
}

/** Host to network byte order, 16 bits, as in C; the argument's range is checked. */
export function htons(x: number): number {
  return binding.htons(x);
}

/** Network to host byte order, 16 bits. */
export function ntohs(x: number): number {
  return binding.ntohs(x);
}

/** Host to network byte order, 32 bits. */
export function htonl(x: number): number {
  return binding.htonl(x);
}

/** Network to host byte order, 32 bits. */
export function ntohl(x: number): number {
  return binding.ntohl(x);
}

/**
 * From now on, a blocking call of this package on the main thread (select, accept, recv, send,
 * connect, ...) that is waiting when one of these signals arrives throws InterruptedError with
 * `signal` set, the way Python's SIGINT ends a blocking call with KeyboardInterrupt. Without it a
 * synchronous select() loop never returns to Node's event loop, so no JS signal handler can run.
 * Other EINTRs are retried (PEP 475). Main thread only.
 *
 * It takes the signals over, as Python's `signal.signal()` does, so `process.on()` listeners for
 * them stop hearing them until {@link interrupt_off} hands them back. Called again, it takes them
 * again, even from a handler installed since. Signals that report faults (SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS) are refused with a RangeError: a handler that
 * returns would run the faulting instruction again, forever.
 */
export function interrupt_on(...signals: NodeJS.Signals[]): void {
  binding.interrupt_on(signalNumbers(signals));
}

/**
 * Hands signals taken by {@link interrupt_on} back (all of them when none is named): each gets
 * the handler it had before, so that a `process.on('SIGINT')` listener hears it again, for
 * instance while `await selectAsync()` leaves the event loop free. A signal whose handler has
 * since been replaced by someone else is left to them. Main thread only.
 */
export function interrupt_off(...signals: NodeJS.Signals[]): void {
  binding.interrupt_off(signalNumbers(signals));
}

function signalNumbers(signals: readonly NodeJS.Signals[]): number[] {
  const numbers: Record<string, number | undefined> = osConstants.signals;
  return signals.map((name) => {
    const signo = numbers[name];
    if (signo === undefined) throw new TypeError(`Expected a signal name such as 'SIGINT', got ${String(name)}`);
    return signo;
  });
}
