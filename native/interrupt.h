// The one interruptible wait. Every wait this addon makes, select(), poll(), epoll's poll(), a
// blocking socket call and connect(), and the async waits on their threads, runs in WaitLoop:
// the backend brings one try of its system call, the loop brings the rest, as Redis's ae.c
// brings the loop to ae_select.c's and ae_epoll.c's aeApiPoll(). On the main thread, once
// interrupt_on() has run, each try also watches the signal pipe (signals.cc).
//
// The rule, PEP 475's: EINTR is retried unless a caught signal is pending, which ends the call
// with InterruptedError. So is a return with nothing ready before the deadline: a stray byte in
// the signal pipe, a timer that fired a little early, events another waiter took first.
#pragma once

#include <errno.h>

#include "addon.h"

namespace sr {

// The read end of the signal pipe when a wait on this thread must end on a caught signal
// (interrupt_on() has run, and this is the main thread), else -1. A caught signal that is
// already pending ends the call here, before it waits: InterruptedError naming `syscall`.
int SignalWake(Napi::Env env, const char* syscall);

// `timeout` (seconds, < 0 for none) as the monotonic deadline of a wait starting now, -1 for none.
double DeadlineAfter(double timeout);

// The timeout argument of a wait: a number of seconds, < 0 to block. NaN is refused.
double ArgTimeout(const Napi::Value& v);

// Runs `try_once(deadline, wake, &woken)` until it reports something or `deadline` passes.
// One try waits, until `deadline` (monotonic seconds, < 0 for none), for the backend's own
// descriptors and for `wake` (>= 0) beside them; it returns how many of its own are ready, or
// -errno (EINTR included: deciding about it is this loop's job), and sets `woken` when `wake`
// was readable. Returns the count (0 once the deadline has passed) or -errno; when a caught
// signal ends the wait, -EINTR with `*signo` set. No N-API: a wait thread runs it too, with
// `wake` -1.
template <typename Try>
int WaitLoop(int wake, double deadline, int* signo, Try try_once) {
  for (;;) {
    bool woken = false;
    int n = try_once(deadline, wake, &woken);
    if (wake >= 0 && (woken || n == -EINTR)) {
      *signo = TakeSignal(woken);
      if (*signo != 0) return -EINTR;
    }
    if (n == -EINTR) n = 0;
    if (n != 0 || (deadline >= 0 && sr_now() >= deadline)) return n;
  }
}

// WaitLoop on a wait thread, where no signal pipe is watched: EINTR and early returns retried.
template <typename Try>
int WaitLoop(double deadline, Try try_once) {
  int signo = 0;
  return WaitLoop(-1, deadline, &signo, try_once);
}

// WaitLoop on the main thread, a caught signal thrown as InterruptedError naming `syscall`.
template <typename Try>
int InterruptibleWait(Napi::Env env, const char* syscall, int wake, double deadline, Try try_once) {
  int signo = 0;
  int n = WaitLoop(wake, deadline, &signo, try_once);
  if (signo != 0) ThrowInterrupted(env, syscall, signo);
  return n;
}

// One descriptor: waits until `fd` is ready for `events` (POLLIN, POLLOUT, POLLPRI), errors and
// hang-ups included (the next call reports them). Returns 1, 0 at the deadline, or -errno;
// throws InterruptedError naming `syscall` for a caught signal (`wake` from SignalWake()).
int WaitFor(Napi::Env env, const char* syscall, int fd, short events, double deadline, int wake);

// EINTR from a call that blocked in the kernel: returns when it is to be retried, throws
// InterruptedError naming `syscall` when a caught signal is pending (`wake` >= 0).
void RetryOrInterrupt(Napi::Env env, const char* syscall, int wake);

}  // namespace sr
