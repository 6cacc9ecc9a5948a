// Handle::Call, CPython's sock_call_ex: how one socket call waits, shared by socket.cc, io.cc and
// outbox.cc. The wait itself is the one interruptible wait (interrupt.h).
#pragma once

#include <errno.h>
#include <poll.h>

#include "interrupt.h"

namespace sr {

inline bool WouldBlock(ssize_t r) {
  return r == -EAGAIN || r == -EWOULDBLOCK;
}

// `op(dontwait)` makes the system call once and returns a result or -errno; `dontwait` asks it
// to pass MSG_DONTWAIT where the call takes flags. The socket's timeout decides what follows:
//   timeout 0    the call's result as it is (EAGAIN becomes BlockingIOError upstream);
//   timeout > 0  wait for `events` until the deadline, then TimeoutError;
//   blocking     the call blocks in the kernel, unless the main thread catches signals: then
//                it waits beside the signal pipe first, so that SIGINT can end it.
// EINTR, from a call that blocked in the kernel all the same (accept() has no MSG_DONTWAIT, and
// readiness can be taken by another process first), is retried unless a caught signal is pending.
template <typename Op>
ssize_t Handle::Call(Napi::Env env, const char* syscall, short events, Op op, double deadline) {
  if (timeout_ == 0) return op(false);  // non-blocking: never waits, so never interrupted
  int wake = SignalWake(env, syscall);
  const bool wait_first = timeout_ < 0 && wake >= 0;
  for (;;) {
    if (wait_first) {
      int r = WaitFor(env, syscall, fd_, events, -1, wake);
      if (r < 0) return r;
    }
    ssize_t n = op(wait_first);
    if (n == -EINTR) {
      RetryOrInterrupt(env, syscall, wake);
      continue;
    }
    if (!WouldBlock(n)) return n;
    if (wait_first) continue;    // readiness was spurious (another process took it): wait again
    if (timeout_ < 0) return n;  // a blocking descriptor with SO_RCVTIMEO/SO_SNDTIMEO set
    int r = WaitFor(env, syscall, fd_, events, deadline, wake);
    if (r == 0) ThrowSys(env, syscall, ETIMEDOUT, "timed out");
    if (r < 0) return r;
  }
}

}  // namespace sr
