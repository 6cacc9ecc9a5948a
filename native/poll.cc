// poll(): the registered descriptors in one array of pollfd, handed whole to the kernel on every
// call. Like select() it costs O(n) per call; unlike select() it has no FD_SETSIZE ceiling. As
// Python's select.poll object, the native side keeps the registry (the array, and each
// descriptor's place in it); PollSelector (src/selectors.ts) keeps the keys.
//
// Shaped as epoll.cc is, and as Redis's ae_*.c backends are: the state, the system call, then
// register/modify/unregister/poll, then the async wait. The loop around the system call, its
// retries and the signal pipe are the one interruptible wait's (interrupt.h).
#include <errno.h>
#include <poll.h>

#include <unordered_map>

#include "interrupt.h"
#include "wait.h"

namespace sr {

namespace {

// ---- the system call: sr_poll(), in sys.cc (epoll.cc waits in it too) ----------------------------

// The ready entries of `fds` as (fd, revents) pairs into `out`, at most `max` of them.
size_t CollectReady(const pollfd* fds, size_t n, int32_t* out, size_t max) {
  size_t count = 0;
  for (size_t i = 0; i < n && count < max; i++) {
    if (fds[i].revents == 0) continue;
    out[2 * count] = fds[i].fd;
    out[2 * count + 1] = fds[i].revents;
    count++;
  }
  return count;
}

// ---- the async wait ---------------------------------------------------------------------------

// A copy of the array, taken on the main thread when the wait starts; registrations made later
// are not seen by this wait (PollSelector wakes it and waits again when they change).
class PollWait : public AsyncWait {
 public:
  PollWait(Napi::Env env, std::vector<pollfd> fds, double timeout, int wake_fd)
      : AsyncWait(env, "poll", wake_fd, timeout), fds_(std::move(fds)) {}

 protected:
  int Wait(double deadline) override {
    int n = WaitLoop(deadline, [&](double until, int, bool*) { return sr_poll(fds_.data(), fds_.size(), until); });
    if (n < 0) return n;
    ready_.resize(2 * static_cast<size_t>(n));
    ready_.resize(2 * CollectReady(fds_.data(), fds_.size(), ready_.data(), static_cast<size_t>(n)));
    return n;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Int32Array pairs = Napi::Int32Array::New(env, ready_.size());
    std::copy(ready_.begin(), ready_.end(), pairs.Data());
    return pairs;
  }

  bool Watches(int fd) const override {
    for (const pollfd& p : fds_)
      if (p.fd == fd) return true;
    return false;
  }

 private:
  std::vector<pollfd> fds_;
  std::vector<int32_t> ready_;
};

// ---- the JS class: Python's select.poll object --------------------------------------------------

class Poll : public Napi::ObjectWrap<Poll> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poll",
                       {
                           InstanceMethod<&Poll::JS_register>("register"),
                           InstanceMethod<&Poll::JS_modify>("modify"),
                           InstanceMethod<&Poll::JS_unregister>("unregister"),
                           InstanceMethod<&Poll::JS_poll>("poll"),
                           InstanceMethod<&Poll::JS_pollAsync>("pollAsync"),
                       });
  }

  explicit Poll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poll>(info) {}

 private:
  // register(fd, events): adds `fd`, or changes its events when it is already there, as Python's.
  Napi::Value JS_register(const Napi::CallbackInfo& info) {
    int fd = static_cast<int>(ArgInt(info[0], "fd", 0, INT32_MAX));
    short events = static_cast<short>(ArgInt(info[1], "events", 0, INT16_MAX));
    auto it = index_.find(fd);
    if (it != index_.end()) {
      fds_[it->second].events = events;
    } else {
      index_.emplace(fd, fds_.size());
      fds_.push_back({fd, events, 0});
    }
    return info.Env().Undefined();
  }

  Napi::Value JS_modify(const Napi::CallbackInfo& info) {
    int fd = static_cast<int>(ArgInt(info[0], "fd", 0, INT32_MAX));
    short events = static_cast<short>(ArgInt(info[1], "events", 0, INT16_MAX));
    auto it = index_.find(fd);
    if (it == index_.end()) ThrowSys(info.Env(), "poll.modify", ENOENT, "fd " + std::to_string(fd));
    fds_[it->second].events = events;
    return info.Env().Undefined();
  }

  // unregister(fd): the last entry takes the removed one's place, so removal is O(1).
  Napi::Value JS_unregister(const Napi::CallbackInfo& info) {
    int fd = static_cast<int>(ArgInt(info[0], "fd", 0, INT32_MAX));
    auto it = index_.find(fd);
    if (it == index_.end()) ThrowSys(info.Env(), "poll.unregister", ENOENT, "fd " + std::to_string(fd));
    size_t at = it->second;
    index_.erase(it);
    if (at != fds_.size() - 1) {
      fds_[at] = fds_.back();
      index_[fds_[at].fd] = at;
    }
    fds_.pop_back();
    return info.Env().Undefined();
  }

  // poll(timeout: seconds, < 0 blocks, out: Int32Array) -> count of (fd, revents) pairs in `out`.
  // On the main thread, a signal named in interrupt_on() ends the wait with InterruptedError.
  Napi::Value JS_poll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    double timeout = ArgTimeout(info[0]);
    Napi::Int32Array out = ArgOut(info[1]);
    int wake = timeout != 0 ? SignalWake(env, "poll") : -1;
    // The signal pipe rides at the end of the array for this call only.
    size_t n = fds_.size();
    if (wake >= 0) fds_.push_back({wake, POLLIN, 0});
    int signo = 0;
    int r = WaitLoop(wake, DeadlineAfter(timeout), &signo, [&](double until, int w, bool* woken) {
      int ready = sr_poll(fds_.data(), fds_.size(), until);
      if (ready > 0 && w >= 0 && fds_[n].revents != 0) {
        *woken = true;
        ready--;
      }
      return ready;
    });
    if (wake >= 0) fds_.pop_back();
    if (signo != 0) ThrowInterrupted(env, "poll", signo);
    if (r < 0) ThrowSys(env, "poll", -r);
    size_t count = r == 0 ? 0 : CollectReady(fds_.data(), n, out.Data(), out.ElementLength() / 2);
    return Napi::Number::New(env, static_cast<double>(count));
  }

  // pollAsync(timeout: seconds, < 0 blocks, wakeFd) -> Promise<[pairs: Int32Array, closed: boolean]>
  Napi::Value JS_pollAsync(const Napi::CallbackInfo& info) {
    double timeout = ArgTimeout(info[0]);
    int wake_fd = static_cast<int>(ArgInt(info[1], "wakeFd", 0, INT32_MAX));
    return (new PollWait(info.Env(), fds_, timeout, wake_fd))->Start();
  }

  static Napi::Int32Array ArgOut(const Napi::Value& v) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw Napi::TypeError::New(v.Env(), "Expected out to be an Int32Array");
    return v.As<Napi::Int32Array>();
  }

  std::vector<pollfd> fds_;
  std::unordered_map<int, size_t> index_;  // fd -> its place in fds_
};

}  // namespace

void InitPoll(Napi::Env env, Napi::Object exports) {
  exports.Set("Poll", Poll::Define(env));
}

}  // namespace sr
