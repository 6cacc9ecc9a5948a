// select(): the three lists in one call. The TypeScript layer flattens rlist, wlist and xlist into
// one Int32Array and reads the answer from a Uint8Array it keeps, so a call allocates nothing.
// selectAsync() is the same wait on a worker thread (wait.h); it copies what it is given.
#include <errno.h>
#include <sys/select.h>

#include <algorithm>

#include "interrupt.h"
#include "wait.h"

namespace sr {

namespace {

const char* const kListNames[3] = {"rlist", "wlist", "xlist"};

// Which list and index the i-th flattened descriptor came from, for messages.
std::string EntryName(size_t i, const size_t counts[3]) {
  for (int l = 0; l < 3; l++) {
    if (i < counts[l]) return std::string(kListNames[l]) + "[" + std::to_string(i) + "]";
    i -= counts[l];
  }
  return "?";
}

// What select() and selectAsync() take first: fds (Int32Array), nr, nw, nx, timeout (seconds, < 0
// blocks). All of it is checked, every descriptor against FD_SETSIZE too, before any FD_SET: an
// FD_SET past FD_SETSIZE writes out of bounds.
struct SelectArgs {
  const int32_t* fds;
  size_t counts[3];
  size_t total;
  double timeout;
};

SelectArgs ArgSelect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SelectArgs a;
  size_t length;
  a.fds = static_cast<const int32_t*>(TypedView(info[0], napi_int32_array, "fds", &length));
  for (int l = 0; l < 3; l++) a.counts[l] = static_cast<size_t>(ArgInt(info[1 + l], kListNames[l], 0, INT32_MAX));
  a.total = a.counts[0] + a.counts[1] + a.counts[2];
  if (a.total > length) throw Napi::RangeError::New(env, "Expected fds to hold every list's descriptors");
  a.timeout = ArgTimeout(info[4]);
  for (size_t i = 0; i < a.total; i++) {
    int fd = a.fds[i];
    if (fd < 0 || fd >= FD_SETSIZE)
      throw Napi::RangeError::New(env, "Expected " + EntryName(i, a.counts) + " to be a descriptor in [0, " +
                                           std::to_string(FD_SETSIZE) + "), got " + std::to_string(fd));
  }
  return a;
}

// The three sets for descriptors already checked; returns the highest descriptor, or -1.
int FillSets(const int32_t* fds, const size_t counts[3], fd_set sets[3]) {
  int maxfd = -1;
  for (int l = 0; l < 3; l++) FD_ZERO(&sets[l]);
  for (size_t i = 0, l = 0, in_list = 0; i < counts[0] + counts[1] + counts[2]; i++, in_list++) {
    while (in_list >= counts[l]) {
      l++;
      in_list = 0;
    }
    FD_SET(fds[i], &sets[l]);
    maxfd = std::max(maxfd, static_cast<int>(fds[i]));
  }
  return maxfd;
}

// The system call: one select() over copies of `sets` (it overwrites them with the answer, so
// each try starts from a copy), the answer in `out`. `wake`, when >= 0 and below FD_SETSIZE, is
// watched in the read set too and left out of the answer and the count.
int SelectOnce(const fd_set sets[3], int maxfd, fd_set out[3], double deadline, int wake, bool* woken) {
  for (int l = 0; l < 3; l++) out[l] = sets[l];
  if (wake >= FD_SETSIZE) wake = -1;  // a signal still ends the wait, by EINTR
  if (wake >= 0) FD_SET(wake, &out[0]);
  int n = sr_select(std::max(maxfd, wake) + 1, &out[0], &out[1], &out[2], deadline);
  if (n < 0) {
    for (int l = 0; l < 3; l++) FD_ZERO(&out[l]);  // unspecified after an error: an empty answer
    return n;
  }
  if (wake >= 0 && FD_ISSET(wake, &out[0])) {
    FD_CLR(wake, &out[0]);
    *woken = true;
    n--;
  }
  return n;
}

// ready[i] = 1 where fds[i] is in its list's answer set; returns how many are.
size_t ReadyOf(const int32_t* fds, const size_t counts[3], const fd_set out[3], uint8_t* ready) {
  size_t count = 0;
  for (size_t i = 0, l = 0, in_list = 0; i < counts[0] + counts[1] + counts[2]; i++, in_list++) {
    while (in_list >= counts[l]) {
      l++;
      in_list = 0;
    }
    ready[i] = FD_ISSET(fds[i], &out[l]) ? 1 : 0;
    count += ready[i];
  }
  return count;
}

// The entry of `fds` that is not an open descriptor, after select() failed with EBADF, or -1.
int BadEntry(const int32_t* fds, size_t total) {
  for (size_t i = 0; i < total; i++)
    if (sr_get_flags(fds[i]) < 0) return static_cast<int>(i);
  return -1;
}

// select(fds: Int32Array, nr, nw, nx, timeout: seconds, < 0 blocks, ready: Uint8Array) -> count
// ready[i] is set to 1 when fds[i] is ready for what its list asks.
Napi::Value JS_select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SelectArgs a = ArgSelect(info);
  size_t ready_length;
  uint8_t* ready = static_cast<uint8_t*>(TypedView(info[5], napi_uint8_array, "ready", &ready_length));
  if (ready_length < a.total) throw Napi::RangeError::New(env, "Expected ready to be as long as fds");
  const int32_t* fds = a.fds;
  const size_t* counts = a.counts;
  size_t total = a.total;
  double timeout = a.timeout;
  fd_set sets[3];
  int maxfd = FillSets(fds, counts, sets);

  int wake = timeout != 0 ? SignalWake(env, "select") : -1;
  fd_set out[3];
  int n = InterruptibleWait(env, "select", wake, DeadlineAfter(timeout), [&](double until, int w, bool* woken) {
    return SelectOnce(sets, maxfd, out, until, w, woken);
  });
  if (n < 0) {
    int bad = n == -EBADF ? BadEntry(fds, total) : -1;
    // Say which entry: a raw number that is not (or no longer) an open descriptor.
    if (bad >= 0)
      ThrowSys(env, "select", EBADF, EntryName(bad, counts) + " = " + std::to_string(fds[bad]) + " is not open");
    ThrowSys(env, "select", -n);
  }
  return Napi::Number::New(env, static_cast<double>(ReadyOf(fds, counts, out, ready)));
}

// The wait of selectAsync(), on a worker thread. Its sets are built on the main thread from the
// caller's descriptors, already checked against FD_SETSIZE.
class SelectWait : public AsyncWait {
 public:
  SelectWait(Napi::Env env, std::vector<int32_t> fds, const size_t counts[3], double timeout, int wake_fd)
      : AsyncWait(env, "select", wake_fd, timeout), fds_(std::move(fds)), ready_(fds_.size()) {
    for (int l = 0; l < 3; l++) counts_[l] = counts[l];
    maxfd_ = FillSets(fds_.data(), counts_, sets_);
  }

 protected:
  int Wait(double deadline) override {
    fd_set out[3];
    int n = WaitLoop(deadline,
                     [&](double until, int w, bool* woken) { return SelectOnce(sets_, maxfd_, out, until, w, woken); });
    if (n == -EBADF) bad_ = BadEntry(fds_.data(), fds_.size());
    if (n >= 0) ReadyOf(fds_.data(), counts_, out, ready_.data());
    return n;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Uint8Array ready = Napi::Uint8Array::New(env, ready_.size());
    std::copy(ready_.begin(), ready_.end(), ready.Data());
    return ready;
  }

  bool Watches(int fd) const override { return std::find(fds_.begin(), fds_.end(), fd) != fds_.end(); }

  std::string Detail(int err) override {
    if (err != EBADF || bad_ < 0) return "";
    return EntryName(static_cast<size_t>(bad_), counts_) + " = " + std::to_string(fds_[bad_]) + " is not open";
  }

 private:
  std::vector<int32_t> fds_;
  size_t counts_[3];
  fd_set sets_[3];
  int maxfd_ = -1;
  int bad_ = -1;
  std::vector<uint8_t> ready_;
};

// selectAsync(fds: Int32Array, nr, nw, nx, timeout: seconds, < 0 blocks, wakeFd)
//   -> Promise<[ready: Uint8Array, closed: boolean]>
// `wakeFd` is the write end of a self-pipe whose read end is among the descriptors; closing any of
// them during the wait writes to it, which ends the wait (wait.h).
Napi::Value JS_selectAsync(const Napi::CallbackInfo& info) {
  SelectArgs a = ArgSelect(info);
  int wake_fd = static_cast<int>(ArgInt(info[5], "wakeFd", 0, INT32_MAX));
  std::vector<int32_t> fds(a.fds, a.fds + a.total);  // a copy: the wait outlives this call
  return (new SelectWait(info.Env(), std::move(fds), a.counts, a.timeout, wake_fd))->Start();
}

}  // namespace

void InitSelect(Napi::Env env, Napi::Object exports) {
  exports.Set("select", Napi::Function::New(env, JS_select, "select"));
  exports.Set("selectAsync", Napi::Function::New(env, JS_selectAsync, "selectAsync"));
}

}  // namespace sr
