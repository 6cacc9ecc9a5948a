// The system-call layer (sys.h): each system call the addon makes, once, as a plain function that
// returns a result or -errno. Nothing of N-API is included here, so nothing of it can creep in.
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include <algorithm>
#include <cmath>

namespace sr {

namespace {

#ifdef MSG_NOSIGNAL
constexpr int kNoSignal = MSG_NOSIGNAL;
#else
constexpr int kNoSignal = 0;  // SO_NOSIGPIPE is set on each socket instead (Own())
#endif

// The timeout for poll() and epoll_wait() that ends at `deadline` (monotonic seconds, < 0 for
// none): -1 for none, else the milliseconds left rounded up, so that a wait never ends early and
// never spins on 0 ms.
int WaitMillis(double deadline) {
  if (deadline < 0) return -1;
  double left = deadline - sr_now();
  if (left <= 0) return 0;
  return left > 2e6 ? 2000000000 : static_cast<int>(std::ceil(left * 1000));
}

// select()'s timeval for what is left until `deadline`, or nullptr for none.
timeval* TimeLeft(double deadline, timeval* tv) {
  if (deadline < 0) return nullptr;
  double left = std::max(0.0, deadline - sr_now());
  if (left > 1e8) left = 1e8;  // timeval's range; over three years is "a long time" enough
  tv->tv_sec = static_cast<time_t>(left);
  tv->tv_usec = static_cast<suseconds_t>((left - static_cast<double>(tv->tv_sec)) * 1e6);
  return tv;
}

// A socket this addon has just been given (socket, accept, socketpair), made what every one of
// them must be: close-on-exec where the call could not say so itself, and without SIGPIPE where
// writes cannot say so (no MSG_NOSIGNAL). Returns `fd`, or -errno with `fd` closed.
int Own(int fd) {
#ifndef SOCK_CLOEXEC
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
#endif
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);  // best effort, as CPython's
#endif
  return fd;
}

#ifdef SOCK_CLOEXEC
constexpr int kCloexec = SOCK_CLOEXEC;
#else
constexpr int kCloexec = 0;   // set by Own() after the call
#endif

int Result(int r) {
  return r < 0 ? -errno : r;
}

ssize_t Result(ssize_t r) {
  return r < 0 ? -errno : r;
}

}  // namespace

// ---- time and waiting ---------------------------------------------------------------------------

double sr_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // cannot fail: the clock exists and `ts` is valid
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int sr_poll(pollfd* fds, size_t n, double deadline) {
  return Result(poll(fds, static_cast<nfds_t>(n), WaitMillis(deadline)));
}

int sr_select(int nfds, fd_set* rset, fd_set* wset, fd_set* xset, double deadline) {
  timeval tv;
  return Result(select(nfds, rset, wset, xset, TimeLeft(deadline, &tv)));
}

#ifdef __linux__
int sr_epoll_create() {
  return Result(epoll_create1(EPOLL_CLOEXEC));
}

int sr_epoll_ctl(int epfd, int op, int fd, uint32_t events) {
  epoll_event ev = {};
  ev.events = events;
  ev.data.fd = fd;
  return Result(epoll_ctl(epfd, op, fd, &ev));
}

int sr_epoll_ctl_data(int epfd, int op, int fd, uint32_t events, uint64_t data) {
  epoll_event ev = {};
  ev.events = events;
  ev.data.u64 = data;
  return Result(epoll_ctl(epfd, op, fd, &ev));
}

int sr_epoll_wait(int epfd, epoll_event* events, int max, double deadline) {
  return Result(epoll_wait(epfd, events, max, WaitMillis(deadline)));
}
#endif

// ---- descriptors --------------------------------------------------------------------------------

int sr_close(int fd) {
  // Linux releases the descriptor even when close() fails with EINTR; retrying could close a
  // descriptor another thread has just been given.
  return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

int sr_get_flags(int fd) {
  return Result(fcntl(fd, F_GETFL));
}

int sr_set_nonblocking(int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  int want = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (want != flags && fcntl(fd, F_SETFL, want) < 0) return -errno;
  return 0;
}

int sr_dup(int fd) {
  return Result(fcntl(fd, F_DUPFD_CLOEXEC, 0));
}

int sr_pipe(int fds[2]) {
  int p[2];
  if (pipe(p) < 0) return -errno;
  for (int fd : p) {
    int r = fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : sr_set_nonblocking(fd, true);
    if (r < 0) {
      sr_close(p[0]);
      sr_close(p[1]);
      return r;
    }
  }
  fds[0] = p[0];
  fds[1] = p[1];
  return 0;
}

int sr_wake(int fd) {
  char byte = 0;
  ssize_t r = sr_send(fd, &byte, 1, MSG_DONTWAIT);
  return r < 0 && r != -EAGAIN && r != -EWOULDBLOCK ? static_cast<int>(r) : 0;
}

// Async-signal-safe, for OnSignal (signals.cc): write(2) is on POSIX's list of async-signal-safe
// functions, and this adds only a read of errno, which the handler saves and restores around it.
// No allocation, no lock, nothing another thread or the interrupted code could be holding.
ssize_t sr_write(int fd, const void* buf, size_t len) {
  return Result(write(fd, buf, len));
}

ssize_t sr_read(int fd, void* buf, size_t len) {
  return Result(read(fd, buf, len));
}

// ---- sockets ------------------------------------------------------------------------------------

int sr_socket(int family, int type, int proto) {
  int fd = socket(family, type | kCloexec, proto);
  return fd < 0 ? -errno : Own(fd);
}

int sr_socketpair(int family, int type, int proto, int fds[2]) {
  int p[2];
  if (socketpair(family, type | kCloexec, proto, p) < 0) return -errno;
  int first = Own(p[0]);
  int second = Own(p[1]);
  if (first < 0 || second < 0) {
    if (first >= 0) sr_close(first);
    if (second >= 0) sr_close(second);
    return first < 0 ? first : second;
  }
  fds[0] = first;
  fds[1] = second;
  return 0;
}

int sr_setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  return Result(setsockopt(fd, level, name, value, len));
}

int sr_getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  return Result(getsockopt(fd, level, name, value, len));
}

int sr_bind(int fd, const sockaddr* sa, socklen_t len) {
  return Result(bind(fd, sa, len));
}

int sr_listen(int fd, int backlog) {
  return Result(listen(fd, backlog));
}

int sr_connect(int fd, const sockaddr* sa, socklen_t len) {
  return Result(connect(fd, sa, len));
}

int sr_getsockname(int fd, sockaddr_storage* ss, socklen_t* len) {
  *len = sizeof *ss;
  return Result(getsockname(fd, reinterpret_cast<sockaddr*>(ss), len));
}

int sr_getpeername(int fd, sockaddr_storage* ss, socklen_t* len) {
  *len = sizeof *ss;
  return Result(getpeername(fd, reinterpret_cast<sockaddr*>(ss), len));
}

int sr_shutdown(int fd, int how) {
  return Result(shutdown(fd, how));
}

int sr_accept(int fd, sockaddr_storage* ss, socklen_t* len) {
  *len = sizeof *ss;
#ifdef SOCK_CLOEXEC
  int r = accept4(fd, reinterpret_cast<sockaddr*>(ss), len, SOCK_CLOEXEC);
#else
  int r = accept(fd, reinterpret_cast<sockaddr*>(ss), len);
#endif
  return r < 0 ? -errno : Own(r);
}

ssize_t sr_send(int fd, const void* buf, size_t len, int flags) {
  return Result(send(fd, buf, len, flags | kNoSignal));
}

ssize_t sr_sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* sa, socklen_t salen) {
  return Result(sendto(fd, buf, len, flags | kNoSignal, sa, salen));
}

ssize_t sr_sendmsg(int fd, const iovec* iov, int iovcnt, int flags) {
  msghdr msg = {};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = iovcnt;
  return Result(sendmsg(fd, &msg, flags | kNoSignal));
}

ssize_t sr_recv(int fd, void* buf, size_t len, int flags) {
  return Result(recv(fd, buf, len, flags));
}

ssize_t sr_recvfrom(int fd, void* buf, size_t len, int flags, sockaddr_storage* ss, socklen_t* sslen) {
  *sslen = sizeof *ss;
  return Result(recvfrom(fd, buf, len, flags, reinterpret_cast<sockaddr*>(ss), sslen));
}

// ---- process ------------------------------------------------------------------------------------

int sr_getrlimit(int resource, rlimit* rl) {
  return Result(getrlimit(resource, rl));
}

int sr_setrlimit(int resource, const rlimit* rl) {
  return Result(setrlimit(resource, rl));
}

int sr_sigaction(int signo, const struct sigaction* sa, struct sigaction* old) {
  return Result(sigaction(signo, sa, old));
}

long sr_gettid() {
#ifdef __linux__
  return syscall(SYS_gettid);
#else
  return 0;
#endif
}

// Async-signal-safe as sr_write(): tgkill is a plain system call, and getpid() is on POSIX's list.
int sr_thread_kill(pthread_t thread, long tid, int signo) {
#ifdef __linux__
  (void)thread;
  return syscall(SYS_tgkill, getpid(), static_cast<pid_t>(tid), signo) < 0 ? -errno : 0;
#else
  (void)tid;
  return -pthread_kill(thread, signo);
#endif
}

}  // namespace sr
