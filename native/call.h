// Handle::Call, CPython's sock_call_ex: how one socket call waits, shared by socket.cc and io.cc.
#pragma once

#include <errno.h>
#include <poll.h>

#include "addon.h"

namespace sr {

inline bool WouldBlock(ssize_t r) {
  return r == -EAGAIN || r == -EWOULDBLOCK;
}

// `op(dontwait)` makes the system call once and returns a result or -errno; `dontwait` asks it
// to pass MSG_DONTWAIT where the call takes flags. The socket's timeout decides what follows:
//   timeout 0    the call's result as it is (EAGAIN becomes BlockingIOError upstream);
//   timeout > 0  wait for `events` until the deadline, then TimeoutError;
//   blocking     the call blocks in the kernel, unless the main thread catches signals: then
//                it waits in poll() beside the signal pipe first, so that SIGINT can end it.
template <typename Op>
ssize_t Handle::Call(Napi::Env env, const char* syscall, short events, Op op, double deadline) {
  if (timeout_ == 0) return op(false);  // non-blocking: never waits, so never interrupted
  int wake = Interruptible(env) ? SignalWakeFd() : -1;
  if (wake >= 0) {
    if (int signo = TakeSignal(false)) ThrowInterrupted(env, syscall, signo);
  }
  const bool wait_first = timeout_ < 0 && wake >= 0;
  for (;;) {
    if (wait_first) {
      int r = sr_wait(fd_, events, -1, wake);
      if (r == SR_WOKEN) {
        if (int signo = TakeSignal(true)) ThrowInterrupted(env, syscall, signo);
        continue;
      }
      if (r < 0) return r;
    }
    ssize_t n = op(wait_first);
    if (!WouldBlock(n)) return n;
    if (wait_first) continue;    // readiness was spurious (another process took it): wait again
    if (timeout_ < 0) return n;  // a blocking descriptor with SO_RCVTIMEO/SO_SNDTIMEO set
    int r = sr_wait(fd_, events, deadline, wake);
    if (r == 0) ThrowSys(env, syscall, ETIMEDOUT, "timed out");
    if (r == SR_WOKEN) {
      if (int signo = TakeSignal(true)) ThrowInterrupted(env, syscall, signo);
    } else if (r < 0) {
      return r;
    }
  }
}

}  // namespace sr
