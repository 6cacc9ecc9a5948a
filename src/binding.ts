/**
 * Loads the native addon once, hands it the error factory, and gives it types. Everything else
 * imports the addon from here.
 */
import nodeGypBuild from 'node-gyp-build';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';

import { makeError } from './errors';

/** A wire address: `[host, port]`, `[host, port, flowinfo, scope_id]`, or an AF_UNIX path. */
export type Address = [host: string, port: number] | [host: string, port: number, flowinfo: number, scope_id: number] | string;

/** Bytes to send: a Uint8Array (Buffer included) or any ArrayBufferView, or a string sent as UTF-8. */
export type Data = ArrayBufferView | ArrayBuffer | string;

/**
 * Python's `select.poll` object (native/poll.cc): the registry is an array of pollfd kept natively.
 * Timeouts are in seconds, < 0 to block. `poll()` writes (fd, revents) pairs into `out` and
 * returns their count; `pollAsync()` waits on a worker thread and resolves with the pairs and
 * whether a descriptor it used was closed meanwhile (which ends it early).
 */
export interface NativePoll {
  register(fd: number, events: number): void;
  modify(fd: number, events: number): void;
  unregister(fd: number): void;
  poll(timeout: number, out: Int32Array): number;
  pollAsync(timeout: number, wakeFd: number): Promise<[Int32Array, boolean]>;
}

/** Python's `select.epoll` object (native/epoll.cc, Linux): the kernel keeps the interest list. */
export interface NativeEpoll {
  register(fd: number, events: number): void;
  modify(fd: number, events: number): void;
  unregister(fd: number): void;
  poll(timeout: number, out: Int32Array): number;
  pollAsync(timeout: number, maxevents: number, wakeFd: number): Promise<[Int32Array, boolean]>;
  close(): void;
  fileno(): number;
}

/** Constants every POSIX platform has; read from the headers by native/addon.cc. */
export interface Constants {
  AF_UNSPEC: number; AF_INET: number; AF_INET6: number; AF_UNIX: number;
  SOCK_STREAM: number; SOCK_DGRAM: number; SOCK_RAW: number; SOCK_SEQPACKET: number;
  SOL_SOCKET: number; SO_REUSEADDR: number; SO_ERROR: number; SO_RCVBUF: number; SO_SNDBUF: number;
  SO_KEEPALIVE: number; SO_LINGER: number; SO_BROADCAST: number; SO_TYPE: number; SO_ACCEPTCONN: number;
  SO_OOBINLINE: number; SO_RCVLOWAT: number; SO_SNDLOWAT: number; SO_RCVTIMEO: number; SO_SNDTIMEO: number;
  SO_DONTROUTE: number; SOMAXCONN: number;
  IPPROTO_IP: number; IPPROTO_IPV6: number; IPPROTO_TCP: number; IPPROTO_UDP: number; IPPROTO_ICMP: number;
  TCP_NODELAY: number; IP_TTL: number; IP_TOS: number; IP_MULTICAST_TTL: number; IP_MULTICAST_LOOP: number;
  IP_MULTICAST_IF: number; IP_ADD_MEMBERSHIP: number; IP_DROP_MEMBERSHIP: number; IPV6_V6ONLY: number;
  IPV6_UNICAST_HOPS: number; IPV6_JOIN_GROUP: number; IPV6_LEAVE_GROUP: number;
  INADDR_ANY: number; INADDR_BROADCAST: number; INADDR_LOOPBACK: number; INADDR_NONE: number;
  SHUT_RD: number; SHUT_WR: number; SHUT_RDWR: number;
  MSG_PEEK: number; MSG_DONTWAIT: number; MSG_OOB: number; MSG_WAITALL: number; MSG_TRUNC: number;
  MSG_CTRUNC: number; MSG_DONTROUTE: number; MSG_EOR: number;
  AI_PASSIVE: number; AI_CANONNAME: number; AI_NUMERICHOST: number; AI_NUMERICSERV: number;
  AI_ADDRCONFIG: number; AI_V4MAPPED: number; AI_ALL: number;
  FD_SETSIZE: number;
  POLLIN: number; POLLPRI: number; POLLOUT: number; POLLERR: number; POLLHUP: number; POLLNVAL: number;
}

/** Constants some platforms lack; `undefined` where the headers do not define them. */
export interface OptionalConstants {
  SO_REUSEPORT?: number; SO_DOMAIN?: number; SO_PROTOCOL?: number; SO_NOSIGPIPE?: number;
  SO_BINDTODEVICE?: number; SO_PRIORITY?: number; SO_PEERCRED?: number;
  SOCK_NONBLOCK?: number; SOCK_CLOEXEC?: number; MSG_NOSIGNAL?: number; MSG_MORE?: number; MSG_CONFIRM?: number;
  TCP_KEEPIDLE?: number; TCP_KEEPINTVL?: number; TCP_KEEPCNT?: number; TCP_KEEPALIVE?: number;
  TCP_MAXSEG?: number; TCP_CORK?: number; TCP_QUICKACK?: number; TCP_USER_TIMEOUT?: number;
  TCP_FASTOPEN?: number; POLLRDHUP?: number;
  EPOLLIN?: number; EPOLLOUT?: number; EPOLLPRI?: number; EPOLLERR?: number; EPOLLHUP?: number;
  EPOLLRDHUP?: number; EPOLLET?: number; EPOLLONESHOT?: number;
}

/**
 * The socket calls of native/socket.cc, io.cc and outbox.cc. A socket is an id, a number: the
 * native state lives in a table of the addon's (native/addon.h, HandleTable), which close() and
 * detach() empty at once, so a closed socket holds nothing native while it waits for the garbage
 * collector. Every call takes the id first; an id that is closed, or {@link Binding.NO_SOCKET},
 * behaves as a closed socket: fileno() is -1, close() does nothing, the rest throw EBADF.
 */
export interface SocketCalls {
  /** A new socket, or with `fileno` an existing descriptor adopted (-1s are read from it). */
  open(family?: number, type?: number, proto?: number, fileno?: number): number;
  socketpair(family?: number, type?: number, proto?: number): [number, number];
  /** [open now, slots]: the table's sockets open, and its size (the most ever open at once). */
  handles(): [open: number, slots: number];
  /**
   * The id a closed socket of `family` holds: never issued, it reaches a closed socket of that
   * family, which checks an address as the family reads it before it throws EBADF, as Python's do.
   */
  closedId(family: number): number;
  fileno(id: number): number;
  family(id: number): number;
  type(id: number): number;
  proto(id: number): number;
  close(id: number): void;
  detach(id: number): number;
  settimeout(id: number, seconds: number | null): void;
  gettimeout(id: number): number | null;
  setsockopt(id: number, level: number, name: number, value: number | boolean | ArrayBufferView): void;
  getsockopt(id: number, level: number, name: number, buflen?: number): number | Buffer;
  bind(id: number, address: Address): void;
  listen(id: number, backlog?: number): void;
  /** The new socket's id and the peer's address. */
  accept(id: number): [number, Address];
  connect(id: number, address: Address): void;
  connect_ex(id: number, address: Address): number;
  getsockname(id: number): Address;
  getpeername(id: number): Address;
  /** The id of a new socket on a duplicate descriptor. */
  dup(id: number): number;
  send(id: number, data: Data, flags?: number): number;
  sendall(id: number, data: Data, flags?: number): void;
  sendto(id: number, data: Data, flagsOrAddress: number | Address, address?: Address): number;
  /** Reads into `into` at `offset` (the pool, src/pool.ts); returns the count, at most `bufsize`. */
  recv(id: number, bufsize: number, flags: number, into: Uint8Array, offset: number): number;
  recv_into(id: number, buffer: ArrayBufferView, nbytes?: number, flags?: number): number;
  recvfrom(id: number, bufsize: number, flags?: number): [Buffer, Address | null];
  shutdown(id: number, how: number): void;
  /** Returns the bytes queued after the put. */
  outboxPut(id: number, data: Data): number;
  /** Returns the bytes still queued after the write. */
  outboxFlush(id: number): number;
  outboxPending(id: number): number;
  outboxClear(id: number): void;
  /** Copies the first min(max, pending) queued bytes into `into` at `offset`; returns the count. */
  outboxPeek(id: number, max: number | undefined, into: Uint8Array, offset: number): number;
}

export interface Binding extends Constants, OptionalConstants, SocketCalls {
  /** An id no socket ever has: what a Socket holds once closed. */
  NO_SOCKET: number;
  setup(errorFactory: typeof makeError, isMainThread: boolean): void;
  /** Whether the addon checks its own invariants (SR_ASSERT): debug and sanitizer builds only. */
  checksEnabled: boolean;
  getaddrinfo(
    host: string | null,
    port: number | string | null,
    family?: number,
    type?: number,
    proto?: number,
    flags?: number,
  ): [number, number, number, string, Address][];
  htons(x: number): number;
  ntohs(x: number): number;
  htonl(x: number): number;
  ntohl(x: number): number;
  select(fds: Int32Array, nr: number, nw: number, nx: number, timeout: number, ready: Uint8Array): number;
  selectAsync(fds: Int32Array, nr: number, nw: number, nx: number, timeout: number, wakeFd: number): Promise<[Uint8Array, boolean]>;
  Poll: new () => NativePoll;
  /** Linux only. */
  Epoll?: new () => NativeEpoll;
  getrlimit(resource: number): [soft: number, hard: number];
  setrlimit(resource: number, soft: number, hard: number): void;
  RLIMIT_NOFILE: number;
  interrupt_on(signals: number[]): void;
  interrupt_off(signals: number[]): void;
  errno: Record<string, number>;
}

// node-gyp-build looks in the package root for a local build first, build/Release (a checkout's,
// or the install script's when no prebuild loaded), then for the tarball's prebuild matching this
// platform, architecture and libc, prebuilds/linux-x64/select-reactor.glibc.node and the like.
function load(): Binding {
  try {
    return nodeGypBuild(path.join(__dirname, '..')) as Binding;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new Error(
      `select-reactor: the native addon is missing or broken (${reason}). ` +
        'Rebuild it with `npm rebuild select-reactor` in your project, or `npm run build` in a checkout ' +
        '(it needs python3, make and a C++ compiler).',
      { cause },
    );
  }
}

// A copy: the addon's exports object has some 150 properties, which V8 keeps as a dictionary, so
// that every `binding.recv(...)` was a hash lookup; an object spread from it has fast properties.
export const binding: Binding = { ...load() };
binding.setup(makeError, isMainThread);

const silent = new FinalizationRegistry<number>((id) => {
  try {
    binding.close(id);
  } catch {
    // Nobody is left to tell.
  }
});

/**
 * A socket the package keeps for itself (the selectors' wake-up pipe), not the user's: an id and
 * the few calls it needs. Closed without a ResourceWarning when it is collected open.
 */
export class NativeHandle {
  #id: number;

  /** A connected AF_UNIX stream pair. */
  static pair(): [NativeHandle, NativeHandle] {
    const [a, b] = binding.socketpair();
    return [new NativeHandle(a), new NativeHandle(b)];
  }

  private constructor(id: number) {
    this.#id = id;
    silent.register(this, id, this);
  }

  fileno(): number {
    return binding.fileno(this.#id);
  }

  settimeout(seconds: number | null): void {
    binding.settimeout(this.#id, seconds);
  }

  send(data: Data): number {
    return binding.send(this.#id, data);
  }

  recv_into(buffer: ArrayBufferView): number {
    return binding.recv_into(this.#id, buffer);
  }

  close(): void {
    silent.unregister(this);
    const id = this.#id;
    this.#id = binding.NO_SOCKET;
    binding.close(id);
  }
}
