// The one interruptible wait (interrupt.h): what its callers share besides the loop itself.
#include "interrupt.h"

#include <poll.h>

#include <cmath>

namespace sr {

int SignalWake(Napi::Env env, const char* syscall) {
  int wake = Data(env)->interruptible ? SignalWakeFd() : -1;
  if (wake >= 0) {
    if (int signo = TakeSignal(false)) ThrowInterrupted(env, syscall, signo);
  }
  return wake;
}

double DeadlineAfter(double timeout) {
  return timeout >= 0 ? sr_now() + timeout : -1;
}

double ArgTimeout(const Napi::Value& v) {
  if (!v.IsNumber() || std::isnan(v.As<Napi::Number>().DoubleValue()))
    throw Napi::TypeError::New(v.Env(), "Expected timeout to be a number");
  return v.As<Napi::Number>().DoubleValue();
}

int WaitFor(Napi::Env env, const char* syscall, int fd, short events, double deadline, int wake) {
  return InterruptibleWait(env, syscall, wake, deadline, [&](double until, int w, bool* woken) {
    pollfd pfd[2] = {{fd, events, 0}, {w, POLLIN, 0}};
    int r = sr_poll(pfd, w >= 0 ? 2 : 1, until);
    if (r <= 0) return r;
    *woken = w >= 0 && pfd[1].revents != 0;
    return pfd[0].revents != 0 ? 1 : 0;
  });
}

void RetryOrInterrupt(Napi::Env env, const char* syscall, int wake) {
  if (wake < 0) return;
  if (int signo = TakeSignal(false)) ThrowInterrupted(env, syscall, signo);
}

}  // namespace sr
