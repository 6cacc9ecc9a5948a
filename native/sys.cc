// The system-call layer: thin wrappers that return a result or -errno and know nothing of N-API,
// so they read as plain POSIX code. Calls that can block return EINTR too: whether to retry it
// (PEP 475) or end the call for a caught signal is their caller's to decide (interrupt.h).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cmath>

#include "addon.h"

namespace sr {

#ifdef MSG_NOSIGNAL
const int SR_MSG_NOSIGNAL = MSG_NOSIGNAL;
#else
const int SR_MSG_NOSIGNAL = 0;
#endif

double sr_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int WaitMillis(double deadline) {
  if (deadline < 0) return -1;
  double left = deadline - sr_now();
  if (left <= 0) return 0;
  return left > 2e6 ? 2000000000 : static_cast<int>(std::ceil(left * 1000));
}

int sr_poll(pollfd* fds, size_t n, double deadline) {
  int r = poll(fds, static_cast<nfds_t>(n), WaitMillis(deadline));
  return r < 0 ? -errno : r;
}

int sr_set_nonblocking(int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  int want = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (want != flags && fcntl(fd, F_SETFL, want) < 0) return -errno;
  return 0;
}

int sr_close(int fd) {
  // Linux releases the descriptor even when close() fails with EINTR; retrying could close a
  // descriptor another thread has just been given.
  return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

int sr_wake(int fd) {
  char byte = 0;
  ssize_t r = sr_send(fd, &byte, 1, MSG_DONTWAIT);
  return r < 0 && r != -EAGAIN && r != -EWOULDBLOCK ? static_cast<int>(r) : 0;
}

int sr_socket(int family, int type, int proto) {
#ifdef SOCK_CLOEXEC
  int fd = socket(family, type | SOCK_CLOEXEC, proto);
  if (fd < 0) return -errno;
#else
  int fd = socket(family, type, proto);
  if (fd < 0) return -errno;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
#endif
#ifdef SO_NOSIGPIPE
  // Platforms without MSG_NOSIGNAL turn SIGPIPE off per socket.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return fd;
}

int sr_accept(int fd, sockaddr_storage* ss, socklen_t* len) {
  *len = sizeof *ss;
#ifdef SOCK_CLOEXEC
  int r = accept4(fd, reinterpret_cast<sockaddr*>(ss), len, SOCK_CLOEXEC);
#else
  int r = accept(fd, reinterpret_cast<sockaddr*>(ss), len);
#endif
  if (r < 0) return -errno;
#ifndef SOCK_CLOEXEC
  fcntl(r, F_SETFD, FD_CLOEXEC);
#endif
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(r, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return r;
}

ssize_t sr_send(int fd, const void* buf, size_t len, int flags) {
  ssize_t r = send(fd, buf, len, flags | SR_MSG_NOSIGNAL);
  return r < 0 ? -errno : r;
}

ssize_t sr_recv(int fd, void* buf, size_t len, int flags) {
  ssize_t r = recv(fd, buf, len, flags);
  return r < 0 ? -errno : r;
}

ssize_t sr_sendmsg(int fd, const iovec* iov, int iovcnt, int flags) {
  msghdr msg = {};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = iovcnt;
  ssize_t r = sendmsg(fd, &msg, flags | SR_MSG_NOSIGNAL);
  return r < 0 ? -errno : r;
}

}  // namespace sr
