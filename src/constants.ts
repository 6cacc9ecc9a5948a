/**
 * The constants, one named export each so that `import { AF_INET } from 'select-reactor'` works
 * from ESM as well as CommonJS. Every value is read from the platform headers by the addon;
 * optional ones are `undefined` where the platform lacks them.
 */
import { binding } from './binding';

export const {
  /** No particular address family: `getaddrinfo()` then returns IPv4 and IPv6 addresses. */
  AF_UNSPEC,
  /** The IPv4 address family; addresses are `[host, port]`. */
  AF_INET,
  /** The IPv6 address family; addresses are `[host, port, flowinfo, scope_id]`. */
  AF_INET6,
  /** Unix domain sockets, local to the machine; addresses are paths. */
  AF_UNIX,
  /** A reliable, ordered byte stream: TCP for AF_INET and AF_INET6. */
  SOCK_STREAM,
  /** Datagrams, each sent and received whole: UDP for AF_INET and AF_INET6. */
  SOCK_DGRAM,
  /** Raw IP packets (needs CAP_NET_RAW on Linux). */
  SOCK_RAW,
  /** Ordered, reliable datagrams on a connection (AF_UNIX, SCTP). */
  SOCK_SEQPACKET,
  /** The `level` of the socket-wide options, the `SO_*` ones. */
  SOL_SOCKET,
  /** Lets a listener bind a port that connections in TIME_WAIT still use. */
  SO_REUSEADDR,
  /** Reads and clears the pending error, such as the result of a non-blocking connect. */
  SO_ERROR,
  /** The kernel receive buffer size in bytes (Linux reports double what was set). */
  SO_RCVBUF,
  /** The kernel send buffer size in bytes (Linux reports double what was set). */
  SO_SNDBUF,
  /** Sends TCP keepalive probes on an idle connection. */
  SO_KEEPALIVE,
  /** How close() treats unsent data: `struct linger` as bytes (onoff, seconds). */
  SO_LINGER,
  /** Allows sending datagrams to a broadcast address. */
  SO_BROADCAST,
  /** The socket type (`SOCK_STREAM`, ...), read only. */
  SO_TYPE,
  /** Whether the socket is listening, read only. */
  SO_ACCEPTCONN,
  /** Puts TCP urgent data in the normal stream instead of apart (MSG_OOB). */
  SO_OOBINLINE,
  /** The fewest bytes that make the socket readable. */
  SO_RCVLOWAT,
  /** The fewest bytes of free space that make the socket writable. */
  SO_SNDLOWAT,
  /** A receive timeout as `struct timeval` bytes (prefer `settimeout()`). */
  SO_RCVTIMEO,
  /** A send timeout as `struct timeval` bytes (prefer `settimeout()`). */
  SO_SNDTIMEO,
  /** Sends only to directly connected hosts, bypassing the routing table. */
  SO_DONTROUTE,
  /** The system's default upper bound for a `listen()` backlog. */
  SOMAXCONN,
  /** The `level` of the IPv4 options, the `IP_*` ones; also "the default protocol". */
  IPPROTO_IP,
  /** The `level` of the IPv6 options, the `IPV6_*` ones. */
  IPPROTO_IPV6,
  /** The TCP protocol, and the `level` of the `TCP_*` options. */
  IPPROTO_TCP,
  /** The UDP protocol. */
  IPPROTO_UDP,
  /** The ICMP protocol (for SOCK_RAW, or SOCK_DGRAM ping sockets on Linux). */
  IPPROTO_ICMP,
  /** Turns off Nagle's algorithm: small writes go out at once. */
  TCP_NODELAY,
  /** The time-to-live of outgoing IPv4 packets. */
  IP_TTL,
  /** The type-of-service (DSCP and ECN) byte of outgoing IPv4 packets. */
  IP_TOS,
  /** The time-to-live of outgoing IPv4 multicast packets. */
  IP_MULTICAST_TTL,
  /** Whether IPv4 multicast sent from this host loops back to it. */
  IP_MULTICAST_LOOP,
  /** The local interface address for outgoing IPv4 multicast. */
  IP_MULTICAST_IF,
  /** Joins an IPv4 multicast group (`struct ip_mreq` as bytes). */
  IP_ADD_MEMBERSHIP,
  /** Leaves an IPv4 multicast group (`struct ip_mreq` as bytes). */
  IP_DROP_MEMBERSHIP,
  /** Restricts an AF_INET6 socket to IPv6, without IPv4-mapped addresses. */
  IPV6_V6ONLY,
  /** The hop limit of outgoing IPv6 unicast packets. */
  IPV6_UNICAST_HOPS,
  /** Joins an IPv6 multicast group (`struct ipv6_mreq` as bytes). */
  IPV6_JOIN_GROUP,
  /** Leaves an IPv6 multicast group (`struct ipv6_mreq` as bytes). */
  IPV6_LEAVE_GROUP,
  /** The IPv4 wildcard address 0.0.0.0, as a host-order integer. */
  INADDR_ANY,
  /** The IPv4 broadcast address 255.255.255.255, as a host-order integer. */
  INADDR_BROADCAST,
  /** The IPv4 loopback address 127.0.0.1, as a host-order integer. */
  INADDR_LOOPBACK,
  /** The "no address" value 255.255.255.255 that inet_addr() returns on failure. */
  INADDR_NONE,
  /** `shutdown()`: no more receiving. */
  SHUT_RD,
  /** `shutdown()`: no more sending; the peer reads EOF once the queued data is read. */
  SHUT_WR,
  /** `shutdown()`: neither receiving nor sending. */
  SHUT_RDWR,
  /** `recv()` flag: return the data without taking it from the queue. */
  MSG_PEEK,
  /** Flag: this one call does not block, whatever the socket's mode. */
  MSG_DONTWAIT,
  /** Flag: send or receive TCP urgent (out-of-band) data. */
  MSG_OOB,
  /** `recv()` flag: wait for the full amount, unless a signal, error or EOF comes first. */
  MSG_WAITALL,
  /** `recv()` flag: return the real length of a datagram longer than the buffer. */
  MSG_TRUNC,
  /** Set on return when control data was cut short. */
  MSG_CTRUNC,
  /** `send()` flag: only to directly connected hosts. */
  MSG_DONTROUTE,
  /** Flag: ends a record (SOCK_SEQPACKET). */
  MSG_EOR,
  /** `getaddrinfo()` flag: addresses to bind to (the wildcard when host is null). */
  AI_PASSIVE,
  /** `getaddrinfo()` flag: return the host's canonical name. */
  AI_CANONNAME,
  /** `getaddrinfo()` flag: the host is a numeric address; never query DNS. */
  AI_NUMERICHOST,
  /** `getaddrinfo()` flag: the port is a number, not a service name. */
  AI_NUMERICSERV,
  /** `getaddrinfo()` flag: only families that a local interface has an address for. */
  AI_ADDRCONFIG,
  /** `getaddrinfo()` flag: IPv4-mapped IPv6 addresses when no IPv6 one is found. */
  AI_V4MAPPED,
  /** `getaddrinfo()` flag, with AI_V4MAPPED: both IPv6 and IPv4-mapped addresses. */
  AI_ALL,
  /** The first descriptor that `select()` cannot watch (1024 on Linux). */
  FD_SETSIZE,
  /** poll(): data to read (or a connection to accept). */
  POLLIN,
  /** poll(): urgent data to read (TCP out-of-band). */
  POLLPRI,
  /** poll(): writing will not block. */
  POLLOUT,
  /** poll() result: an error is pending on the descriptor. */
  POLLERR,
  /** poll() result: the peer hung up. */
  POLLHUP,
  /** poll() result: the descriptor is not open. */
  POLLNVAL,
  /** Lets sockets share a port, the kernel spreading connections among them; `undefined` where missing. */
  SO_REUSEPORT,
  /** The address family, read only (Linux); `undefined` elsewhere. */
  SO_DOMAIN,
  /** The protocol, read only (Linux); `undefined` elsewhere. */
  SO_PROTOCOL,
  /** No SIGPIPE on writes to a closed peer (macOS, BSD); `undefined` on Linux. */
  SO_NOSIGPIPE,
  /** Binds the socket to a network interface by name (Linux); `undefined` elsewhere. */
  SO_BINDTODEVICE,
  /** The priority of outgoing packets (Linux); `undefined` elsewhere. */
  SO_PRIORITY,
  /** An AF_UNIX peer's pid, uid and gid as `struct ucred` bytes (Linux); `undefined` elsewhere. */
  SO_PEERCRED,
  /** A type flag: the new socket is non-blocking (Linux); `undefined` elsewhere. */
  SOCK_NONBLOCK,
  /** A type flag: the new descriptor closes on exec (Linux); `undefined` elsewhere. */
  SOCK_CLOEXEC,
  /** `send()` flag: no SIGPIPE for a closed peer (Linux); `undefined` elsewhere. */
  MSG_NOSIGNAL,
  /** `send()` flag: more data follows, hold the packet (Linux); `undefined` elsewhere. */
  MSG_MORE,
  /** `send()` flag: the neighbour is reachable (Linux); `undefined` elsewhere. */
  MSG_CONFIRM,
  /** Idle seconds before the first keepalive probe (Linux); `undefined` elsewhere. */
  TCP_KEEPIDLE,
  /** Seconds between keepalive probes; `undefined` where missing. */
  TCP_KEEPINTVL,
  /** Unanswered keepalive probes before the connection drops; `undefined` where missing. */
  TCP_KEEPCNT,
  /** macOS's name for TCP_KEEPIDLE; `undefined` on Linux. */
  TCP_KEEPALIVE,
  /** The maximum segment size of outgoing TCP packets; `undefined` where missing. */
  TCP_MAXSEG,
  /** Holds partial frames until uncorked (Linux); `undefined` elsewhere. */
  TCP_CORK,
  /** Acknowledges at once instead of delaying (Linux); `undefined` elsewhere. */
  TCP_QUICKACK,
  /** Milliseconds sent data may stay unacknowledged before the connection drops (Linux); else `undefined`. */
  TCP_USER_TIMEOUT,
  /** Enables TCP Fast Open on a listener, the value its queue length; `undefined` where missing. */
  TCP_FASTOPEN,
  /** poll(): the peer shut down its writing side (Linux); `undefined` elsewhere. */
  POLLRDHUP,
} = binding;

/** Names to numbers: `errno.EAGAIN`. */
export const errno: Readonly<Record<string, number>> = Object.freeze({ ...binding.errno });
