// interrupt_on(signals): Python ends a blocking select() or accept() with KeyboardInterrupt; a
// synchronous loop in Node would otherwise never return to the event loop to run a JS signal
// handler. Caught signals write to a self-pipe (Python's set_wakeup_fd); every blocking wait on
// the main thread also watches it (interrupt.h), and ends with InterruptedError naming the signal.
// interrupt_off(signals) hands them back: each gets the disposition interrupt_on() replaced, so
// that a process.on('SIGINT') listener hears them again.
//
// Signal dispositions are process-wide, so this is the addon's one piece of global state.
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include <string>
#include <vector>

#include "addon.h"

namespace sr {

namespace {

int wake_pipe[2] = {-1, -1};
volatile sig_atomic_t pending_signal = 0;
bool caught[NSIG];
struct sigaction replaced[NSIG];  // what interrupt_on() took each caught signal from
pthread_t main_thread;            // the one thread whose blocking calls a caught signal must end
long main_tid;                    // the same thread as the kernel numbers it (sr_thread_kill)

// Takes the signal over, as Python's signal.signal() does, and does not chain to the handler it
// replaces: Node's own SIGINT/SIGTERM handler re-raises the signal to terminate, which would
// arrive straight back here.
//
// The kernel hands a process-directed signal to any thread that does not block it: one of V8's or
// libuv's. Only the main thread's system call returns EINTR, and a call that blocks in the kernel
// (accept() after spurious readiness, a blocking connect()) watches no pipe, so the signal is sent
// on to the main thread, whose own run of this handler does the rest.
void OnSignal(int signo) {
  int saved = errno;
  if (!pthread_equal(pthread_self(), main_thread)) {
    sr_thread_kill(main_thread, main_tid, signo);  // async-signal-safe (sys.cc)
    errno = saved;
    return;
  }
  pending_signal = signo;
  char byte = static_cast<char>(signo);
  // A full pipe already means "woken"; the byte's loss does not matter. sr_write() is write(2)
  // and a read of errno, async-signal-safe (sys.cc), and errno is restored just below.
  sr_write(wake_pipe[1], &byte, 1);
  errno = saved;
}

// Signals that report a fault of the thread they are delivered to. A handler that returns makes
// the faulting instruction run again, and fault again: a hang at 100% CPU instead of a crash.
// SIGABRT ends an abort() that must not return. Node's own handlers (WebAssembly's traps, for
// one) may need them too.
const char* FaultName(int signo) {
  switch (signo) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGABRT:
      return "SIGABRT";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGSYS:
      return "SIGSYS";
#ifdef SIGEMT
    case SIGEMT:
      return "SIGEMT";
#endif
    default:
      return nullptr;
  }
}

bool IsOurs(const struct sigaction& sa) {
  return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == OnSignal;
}

int MakeWakePipe() {
  return wake_pipe[0] >= 0 ? 0 : sr_pipe(wake_pipe);
}

// The signal numbers of info[0], an array, each checked before anything is changed, so that a
// bad list leaves the process as it was. Only the main thread may change process-wide
// dispositions.
std::vector<int> ArgSignals(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  if (!Data(env)->interruptible)
    throw Napi::Error::New(env, std::string(fn) + "() can only be called on the main thread");
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "Expected signals to be an array");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<int> signos;
  for (uint32_t i = 0; i < list.Length(); i++) {
    int signo = static_cast<int>(ArgInt(list.Get(i), "signal", 1, NSIG - 1));
    if (signo == SIGKILL || signo == SIGSTOP) throw Napi::RangeError::New(env, "SIGKILL and SIGSTOP cannot be caught");
    signos.push_back(signo);
  }
  return signos;
}

// interrupt_on(signos: number[]): takes each signal, again if something has replaced this
// addon's handler since (a process.on() listener, for one); remembers what it replaced.
Napi::Value JS_interrupt_on(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int> signos = ArgSignals(info, "interrupt_on");
  for (int signo : signos) {
    if (const char* name = FaultName(signo))
      throw Napi::RangeError::New(env, std::string(name) +
                                           " reports a fault: a handler that returns would run the faulting "
                                           "instruction again, so interrupt_on() does not take it");
  }
  int err = MakeWakePipe();
  if (err < 0) ThrowSys(env, "pipe", -err);
  main_thread = pthread_self();  // Data(env)->interruptible: this is the main thread
  main_tid = sr_gettid();
  for (int signo : signos) {
    struct sigaction sa = {};
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocking call on this thread must see EINTR
    struct sigaction old;
    int r = sr_sigaction(signo, &sa, &old);
    if (r < 0) ThrowSys(env, "sigaction", -r);
    if (!IsOurs(old)) replaced[signo] = old;
    caught[signo] = true;
  }
  return env.Undefined();
}

// interrupt_off(signos: number[]): hands each caught signal (every one, when the list is empty)
// back to the disposition interrupt_on() replaced. A signal whose handler is no longer this
// addon's is left as it is: whoever replaced it owns it now.
Napi::Value JS_interrupt_off(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int> signos = ArgSignals(info, "interrupt_off");
  if (signos.empty()) {
    for (int signo = 1; signo < NSIG; signo++)
      if (caught[signo]) signos.push_back(signo);
  }
  for (int signo : signos) {
    if (!caught[signo]) continue;
    struct sigaction now;
    int r = sr_sigaction(signo, nullptr, &now);
    if (r >= 0 && IsOurs(now)) r = sr_sigaction(signo, &replaced[signo], nullptr);
    if (r < 0) ThrowSys(env, "sigaction", -r);
    caught[signo] = false;
  }
  return env.Undefined();
}

}  // namespace

int SignalWakeFd() {
  return wake_pipe[0];
}

int TakeSignal(bool woken) {
  // The flag alone is checked on every call, the pipe drained only when there is news. Drain
  // first, then read the flag: a signal landing in between keeps its flag for the next call.
  if (!woken && pending_signal == 0) return 0;
  char buf[64];
  while (sr_read(wake_pipe[0], buf, sizeof buf) > 0) {
  }
  int signo = pending_signal;
  pending_signal = 0;
  return signo;
}

void ThrowInterrupted(Napi::Env env, const char* syscall, int signo) {
  // The factory names the signal (os.constants.signals) and writes the message.
  Napi::Value error = Data(env)->error_factory.Call({Napi::String::New(env, "EINTR"), Napi::Number::New(env, EINTR),
                                                     Napi::String::New(env, syscall), Napi::String::New(env, ""),
                                                     Napi::Number::New(env, signo)});
  throw Napi::Error(env, error);
}

void InitSignals(Napi::Env env, Napi::Object exports) {
  exports.Set("interrupt_on", Napi::Function::New(env, JS_interrupt_on, "interrupt_on"));
  exports.Set("interrupt_off", Napi::Function::New(env, JS_interrupt_off, "interrupt_off"));
}

}  // namespace sr
