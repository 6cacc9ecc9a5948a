// epoll: the kernel keeps the interest list, so registering costs one epoll_ctl() and a wait costs
// O(ready), not O(registered): the backend for thousands of connections, and no FD_SETSIZE. As
// Python's select.epoll object; EpollSelector (src/selectors.ts) keeps the keys. Linux only:
// elsewhere this file exports nothing, and DefaultSelector is PollSelector.
//
// Shaped as poll.cc is, and as Redis's ae_*.c backends are: the state, the system call, then
// register/modify/unregister/poll, then the async wait. The loop around the wait, its retries and
// the signal pipe are the one interruptible wait's (interrupt.h).
#include "interrupt.h"
#include "wait.h"

#ifdef __linux__

#include <errno.h>
#include <sys/epoll.h>

#include <unordered_set>

namespace sr {

namespace {

// ---- the system call ---------------------------------------------------------------------------

// What the signal pipe's registration carries instead of a descriptor: high bits no descriptor's
// data (the low 32 bits, data.fd) ever has, so that no registered descriptor is mistaken for it.
constexpr uint64_t kWakeTag = uint64_t{1} << 32;

// One try: epoll_wait() until `deadline` (monotonic seconds; < 0 for none, 0 not to wait), the
// number of events, or -errno. The signal pipe, when it is in the interest list (see
// Epoll::WatchWake), is taken out of the answer and reported in `woken`; every waiter sees it, so
// a wait that does not watch it (`woken` nullptr: a wait thread) only drops it. 0 may then mean
// that nothing else was ready.
int EpollOnce(int epfd, epoll_event* events, int max, double deadline, bool* woken) {
  int r = sr_epoll_wait(epfd, events, max, deadline);
  if (r < 0) return r;
  int n = 0;
  for (int i = 0; i < r; i++) {
    if (events[i].data.u64 & kWakeTag) {
      if (woken) *woken = true;
      continue;
    }
    events[n++] = events[i];
  }
  return n;
}

// What the waits in progress need to know of the interest list (main thread only): which
// descriptors are in it, and which left it while a wait was in progress (epoll_wait() may have
// collected an event of theirs just before, and its number must not be reused until that wait
// has been answered). Shared, so that it outlives an Epoll collected during a wait.
struct EpollState {
  std::unordered_set<int> fds;
  std::unordered_set<int> retired;
  int waits = 0;
};

// ---- the async wait ---------------------------------------------------------------------------

// The kernel's list is live: registrations made while this waits are seen by this wait.
class EpollWait : public AsyncWait {
 public:
  EpollWait(Napi::Env env, int epfd, std::shared_ptr<EpollState> state, int maxevents, double timeout, int wake_fd)
      : AsyncWait(env, "epoll_wait", wake_fd, timeout), epfd_(epfd), state_(std::move(state)), events_(maxevents) {
    state_->waits++;
  }

  ~EpollWait() override {
    if (--state_->waits == 0) state_->retired.clear();
  }

 protected:
  int Wait(double deadline) override {
    int n = WaitLoop(deadline, [&](double until, int w, bool* woken) {
      (void)w;  // -1 here: a wait thread watches no signal pipe
      (void)woken;
      return EpollOnce(epfd_, events_.data(), static_cast<int>(events_.size()), until, nullptr);
    });
    if (n > 0) events_.resize(static_cast<size_t>(n));
    if (n == 0) events_.clear();
    return n;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Int32Array pairs = Napi::Int32Array::New(env, 2 * events_.size());
    for (size_t i = 0; i < events_.size(); i++) {
      pairs[2 * i] = events_[i].data.fd;
      pairs[2 * i + 1] = static_cast<int32_t>(events_[i].events);
    }
    return pairs;
  }

  bool Watches(int fd) const override {
    return fd == epfd_ || state_->fds.count(fd) > 0 || state_->retired.count(fd) > 0;
  }

 private:
  int epfd_;  // a copy: the main thread may mark the Epoll closed while this waits
  std::shared_ptr<EpollState> state_;
  std::vector<epoll_event> events_;
};

// ---- the JS class: Python's select.epoll object -------------------------------------------------

class Epoll : public Napi::ObjectWrap<Epoll> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Epoll",
                       {
                           InstanceMethod<&Epoll::JS_register>("register"),
                           InstanceMethod<&Epoll::JS_modify>("modify"),
                           InstanceMethod<&Epoll::JS_unregister>("unregister"),
                           InstanceMethod<&Epoll::JS_poll>("poll"),
                           InstanceMethod<&Epoll::JS_pollAsync>("pollAsync"),
                           InstanceMethod<&Epoll::JS_close>("close"),
                           InstanceMethod<&Epoll::JS_fileno>("fileno"),
                       });
  }

  explicit Epoll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Epoll>(info), env_(info.Env()) {
    int fd = sr_epoll_create();
    if (fd < 0) ThrowSys(info.Env(), "epoll_create1", -fd);
    epfd_ = fd;
    napi_add_env_cleanup_hook(env_, CleanupHook, this);
  }

  ~Epoll() override { CloseFd(); }

 private:
  // register(fd, events)
  Napi::Value JS_register(const Napi::CallbackInfo& info) { return Ctl(info, EPOLL_CTL_ADD, "epoll_ctl"); }
  Napi::Value JS_modify(const Napi::CallbackInfo& info) { return Ctl(info, EPOLL_CTL_MOD, "epoll_ctl"); }

  // unregister(fd): EBADF or ENOENT when `fd` was closed since (the kernel dropped it then).
  Napi::Value JS_unregister(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = static_cast<int>(ArgInt(info[0], "fd", 0, INT32_MAX));
    if (state_->fds.erase(fd) > 0 && state_->waits > 0) state_->retired.insert(fd);
    int r = sr_epoll_ctl(Epfd(env), EPOLL_CTL_DEL, fd, 0);
    if (r < 0) ThrowSys(env, "epoll_ctl", -r, "EPOLL_CTL_DEL fd " + std::to_string(fd));
    return env.Undefined();
  }

  Napi::Value Ctl(const Napi::CallbackInfo& info, int op, const char* syscall) {
    Napi::Env env = info.Env();
    int fd = static_cast<int>(ArgInt(info[0], "fd", 0, INT32_MAX));
    uint32_t events = static_cast<uint32_t>(ArgInt(info[1], "events", 0, UINT32_MAX));
    int r = sr_epoll_ctl(Epfd(env), op, fd, events);
    if (r < 0)
      ThrowSys(env, syscall, -r,
               std::string(op == EPOLL_CTL_ADD ? "EPOLL_CTL_ADD" : "EPOLL_CTL_MOD") + " fd " + std::to_string(fd));
    state_->fds.insert(fd);
    return env.Undefined();
  }

  // poll(timeout: seconds, < 0 blocks, out: Int32Array) -> count of (fd, events) pairs in `out`.
  // On the main thread, a signal named in interrupt_on() ends the wait with InterruptedError.
  Napi::Value JS_poll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    double timeout = ArgTimeout(info[0]);
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw Napi::TypeError::New(env, "Expected out to be an Int32Array");
    Napi::Int32Array out = info[1].As<Napi::Int32Array>();
    int max = static_cast<int>(std::min<size_t>(out.ElementLength() / 2, INT32_MAX));
    if (max < 1) throw Napi::RangeError::New(env, "Expected out to hold at least one (fd, events) pair");
    int epfd = Epfd(env);
    int wake = timeout != 0 ? SignalWake(env, "epoll_wait") : -1;
    if (wake >= 0) WatchWake(env, epfd, wake);
    if (events_.size() < static_cast<size_t>(max)) events_.resize(static_cast<size_t>(max));
    int n = InterruptibleWait(env, "epoll_wait", wake, DeadlineAfter(timeout), [&](double until, int w, bool* woken) {
      (void)w;  // in the interest list (WatchWake), reported through `woken`
      return EpollOnce(epfd, events_.data(), max, until, woken);
    });
    if (n < 0) ThrowSys(env, "epoll_wait", -n);
    for (int i = 0; i < n; i++) {
      out[2 * i] = events_[i].data.fd;
      out[2 * i + 1] = static_cast<int32_t>(events_[i].events);
    }
    return Napi::Number::New(env, n);
  }

  // pollAsync(timeout: seconds, < 0 blocks, maxevents, wakeFd) -> Promise<[pairs: Int32Array, closed]>
  Napi::Value JS_pollAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    double timeout = ArgTimeout(info[0]);
    int maxevents = static_cast<int>(ArgInt(info[1], "maxevents", 1, INT32_MAX / 2));
    int wake_fd = static_cast<int>(ArgInt(info[2], "wakeFd", 0, INT32_MAX));
    return (new EpollWait(env, Epfd(env), state_, maxevents, timeout, wake_fd))->Start();
  }

  // close(): idempotent. During an async wait, the descriptor is released once the wait returns.
  Napi::Value JS_close(const Napi::CallbackInfo& info) {
    CloseFd();
    return info.Env().Undefined();
  }

  Napi::Value JS_fileno(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), epfd_); }

  // The signal pipe joins the interest list once, so that a wait on the main thread is one
  // epoll_wait() rather than a poll() beside the pipe and then epoll_wait(). Edge-triggered: a
  // wait thread on this epoll sees it too and only drops it (EpollOnce), and a level-triggered
  // pipe that nobody drains would wake it over and over. An edge taken by a wait thread is not
  // lost: the caught signal's flag stays set, and SignalWake() ends the next wait before it starts.
  // The pipe lives as long as the process (signals.cc), so its registration never goes stale.
  void WatchWake(Napi::Env env, int epfd, int wake) {
    if (wake_ == wake) return;
    int r = sr_epoll_ctl_data(epfd, EPOLL_CTL_ADD, wake, EPOLLIN | EPOLLET, kWakeTag | static_cast<uint32_t>(wake));
    if (r < 0) ThrowSys(env, "epoll_ctl", -r, "EPOLL_CTL_ADD of the signal pipe");
    wake_ = wake;
  }

  int Epfd(Napi::Env env) const {
    if (epfd_ < 0) ThrowSys(env, "epoll_ctl", EBADF, "the epoll object is closed");
    return epfd_;
  }

  static void CleanupHook(void* arg) {
    Epoll* self = static_cast<Epoll*>(arg);
    self->hook_ = false;  // Node drops a hook once it has run
    self->CloseFd();
  }

  void CloseFd() {
    if (epfd_ < 0) return;
    int fd = epfd_;
    epfd_ = -1;
    if (hook_) {
      napi_remove_env_cleanup_hook(env_, CleanupHook, this);
      hook_ = false;
    }
    if (!DeferClose(env_, fd)) sr_close(fd);
  }

  Napi::Env env_;
  int epfd_ = -1;
  bool hook_ = true;
  int wake_ = -1;  // the signal pipe's read end, once it is in the interest list
  std::shared_ptr<EpollState> state_ = std::make_shared<EpollState>();
  std::vector<epoll_event> events_;  // the synchronous poll()'s answer
};

}  // namespace

void InitEpoll(Napi::Env env, Napi::Object exports) {
  exports.Set("Epoll", Epoll::Define(env));
#define SR_SET(name) exports.Set(#name, Napi::Number::New(env, static_cast<double>(name)))
  SR_SET(EPOLLIN);
  SR_SET(EPOLLOUT);
  SR_SET(EPOLLPRI);
  SR_SET(EPOLLERR);
  SR_SET(EPOLLHUP);
  SR_SET(EPOLLRDHUP);
  SR_SET(EPOLLET);
  SR_SET(EPOLLONESHOT);
#undef SR_SET
}

}  // namespace sr

#else  // !__linux__

namespace sr {

void InitEpoll(Napi::Env, Napi::Object) {}

}  // namespace sr

#endif
