// The system-call layer: every system call the addon makes, each behind a named sr_* function
// (sys.cc). Plain POSIX and nothing of N-API, so that this layer reads, and could be tested, as C:
// a result >= 0, or -errno. Calls that can block return -EINTR too: whether to retry it (PEP 475)
// or to end the call for a caught signal is their caller's to decide (interrupt.h, call.h).
// Descriptors made here are close-on-exec, so that a child process never inherits a socket.
// Library calls that are no system call of their own stay with their callers: getaddrinfo(), the
// resolver, in address.cc (its errors are EAI_* codes, not errnos); pthread_self() in signals.cc.
#pragma once

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include <cstddef>
#include <cstdint>

namespace sr {

// ---- time and waiting ---------------------------------------------------------------------------
double sr_now();  // CLOCK_MONOTONIC, seconds
// One poll() of `fds` until `deadline` (monotonic seconds, < 0 for none, 0 not to wait): the
// number ready, 0 when it timed out, or -errno, EINTR included (WaitLoop, interrupt.h, retries).
int sr_poll(pollfd* fds, size_t n, double deadline);
// One select() until `deadline`, as sr_poll(); the sets are overwritten with the answer.
int sr_select(int nfds, fd_set* rset, fd_set* wset, fd_set* xset, double deadline);
#ifdef __linux__
int sr_epoll_create();                                        // a new epoll descriptor
int sr_epoll_ctl(int epfd, int op, int fd, uint32_t events);  // events.data is `fd`
// The same with events.data `data`, for a registration that must not read as a descriptor.
int sr_epoll_ctl_data(int epfd, int op, int fd, uint32_t events, uint64_t data);
// One epoll_wait() until `deadline`, as sr_poll().
int sr_epoll_wait(int epfd, epoll_event* events, int max, double deadline);
#endif

// ---- descriptors --------------------------------------------------------------------------------
int sr_close(int fd);      // closes once; EINTR is not retried (the descriptor is gone on Linux)
int sr_get_flags(int fd);  // the file status flags (F_GETFL); -EBADF when `fd` is not open
int sr_set_nonblocking(int fd, bool on);
int sr_dup(int fd);  // a duplicate of `fd`
// A pipe whose two ends are non-blocking, for a self-pipe: writing to a full one must not block.
int sr_pipe(int fds[2]);
// One byte to a wake-up socket's write end (wait.h); a full one is already awake.
int sr_wake(int fd);
// write() and read() of a pipe, as they are: a result or -errno. sr_write() is called from a
// signal handler, so it stays async-signal-safe (sys.cc says how).
ssize_t sr_write(int fd, const void* buf, size_t len);
ssize_t sr_read(int fd, void* buf, size_t len);

// ---- sockets ------------------------------------------------------------------------------------
int sr_socket(int family, int type, int proto);
int sr_socketpair(int family, int type, int proto, int fds[2]);
int sr_setsockopt(int fd, int level, int name, const void* value, socklen_t len);
int sr_getsockopt(int fd, int level, int name, void* value, socklen_t* len);
int sr_bind(int fd, const sockaddr* sa, socklen_t len);
int sr_listen(int fd, int backlog);
// connect() once: 0, or -errno, EINTR and EINPROGRESS included (DoConnect, socket.cc, decides).
int sr_connect(int fd, const sockaddr* sa, socklen_t len);
// The socket's own address and its peer's, into `ss`; `*len` is set to the address's length.
int sr_getsockname(int fd, sockaddr_storage* ss, socklen_t* len);
int sr_getpeername(int fd, sockaddr_storage* ss, socklen_t* len);
int sr_shutdown(int fd, int how);
// These return -EINTR when a signal ends a blocking call: Handle::Call (call.h) retries it unless a
// caught signal is pending. Writes carry MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE.
int sr_accept(int fd, sockaddr_storage* ss, socklen_t* len);
ssize_t sr_send(int fd, const void* buf, size_t len, int flags);
ssize_t sr_sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* sa, socklen_t salen);
ssize_t sr_sendmsg(int fd, const iovec* iov, int iovcnt, int flags);
ssize_t sr_recv(int fd, void* buf, size_t len, int flags);
ssize_t sr_recvfrom(int fd, void* buf, size_t len, int flags, sockaddr_storage* ss, socklen_t* sslen);

// ---- process ------------------------------------------------------------------------------------
int sr_getrlimit(int resource, rlimit* rl);
int sr_setrlimit(int resource, const rlimit* rl);
int sr_sigaction(int signo, const struct sigaction* sa, struct sigaction* old);
// The calling thread's kernel id where threads have one (Linux), else 0: what sr_thread_kill()
// needs to reach this thread from a signal handler.
long sr_gettid();
// Sends `signo` to `thread` (whose sr_gettid() was `tid`), from a signal handler.
int sr_thread_kill(pthread_t thread, long tid, int signo);

}  // namespace sr
