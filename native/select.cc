// select(): the three lists in one call. The TypeScript layer flattens rlist, wlist and xlist into
// one Int32Array and reads the answer from a Uint8Array it keeps, so a call allocates nothing.
#include <errno.h>
#include <fcntl.h>
#include <sys/select.h>

#include <cmath>

#include "addon.h"

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

// select(fds: Int32Array, nr, nw, nx, timeout: seconds, < 0 blocks, ready: Uint8Array) -> count
// ready[i] is set to 1 when fds[i] is ready for what its list asks.
Napi::Value JS_select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "Expected fds to be an Int32Array");
  Napi::Int32Array fds = info[0].As<Napi::Int32Array>();
  size_t counts[3];
  for (int l = 0; l < 3; l++) counts[l] = static_cast<size_t>(ArgInt(info[1 + l], kListNames[l], 0, INT32_MAX));
  size_t total = counts[0] + counts[1] + counts[2];
  if (total > fds.ElementLength()) throw Napi::RangeError::New(env, "Expected fds to hold every list's descriptors");
  if (!info[4].IsNumber()) throw Napi::TypeError::New(env, "Expected timeout to be a number");
  double timeout = info[4].As<Napi::Number>().DoubleValue();
  if (std::isnan(timeout)) throw Napi::TypeError::New(env, "Expected timeout to be a number");
  if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "Expected ready to be a Uint8Array");
  Napi::Uint8Array ready = info[5].As<Napi::Uint8Array>();
  if (ready.ElementLength() < total) throw Napi::RangeError::New(env, "Expected ready to be as long as fds");

  // Every descriptor is checked before any FD_SET: FD_SET past FD_SETSIZE writes out of bounds.
  fd_set sets[3];
  int maxfd = -1;
  for (int l = 0; l < 3; l++) FD_ZERO(&sets[l]);
  for (size_t i = 0, l = 0, in_list = 0; i < total; i++, in_list++) {
    while (in_list >= counts[l]) {
      l++;
      in_list = 0;
    }
    int fd = fds[i];
    if (fd < 0 || fd >= FD_SETSIZE)
      throw Napi::RangeError::New(env, "Expected " + EntryName(i, counts) + " to be a descriptor in [0, " +
                                           std::to_string(FD_SETSIZE) + "), got " + std::to_string(fd));
    FD_SET(fd, &sets[l]);
    if (fd > maxfd) maxfd = fd;
  }

  int wake = Data(env)->interruptible && timeout != 0 ? SignalWakeFd() : -1;
  if (wake >= FD_SETSIZE) wake = -1;
  if (wake >= 0) {
    if (int signo = TakeSignal(false)) ThrowInterrupted(env, "select", signo);
  }
  double deadline = timeout >= 0 ? sr_now() + timeout : -1;
  fd_set out[3];
  for (;;) {
    // select() overwrites its sets with the answer, so each try starts from a copy.
    for (int l = 0; l < 3; l++) out[l] = sets[l];
    if (wake >= 0) FD_SET(wake, &out[0]);
    timeval tv, *tvp = nullptr;
    if (deadline >= 0) {
      double left = std::max(0.0, deadline - sr_now());
      if (left > 1e8) left = 1e8;  // timeval's range; over three years is "a long time" enough
      tv.tv_sec = static_cast<time_t>(left);
      tv.tv_usec = static_cast<suseconds_t>((left - static_cast<double>(tv.tv_sec)) * 1e6);
      tvp = &tv;
    }
    int n = select(std::max(maxfd, wake) + 1, &out[0], &out[1], &out[2], tvp);
    if (n < 0 && errno == EINTR) {
      // PEP 475: retry with what is left of the timeout, unless a caught signal ends the call.
      if (wake >= 0) {
        if (int signo = TakeSignal(false)) ThrowInterrupted(env, "select", signo);
      }
      continue;
    }
    if (n < 0) {
      int err = errno;
      if (err == EBADF) {
        // Say which entry: a raw number that is not (or no longer) an open descriptor.
        for (size_t i = 0; i < total; i++)
          if (fcntl(fds[i], F_GETFD) < 0)
            ThrowSys(env, "select", EBADF, EntryName(i, counts) + " = " + std::to_string(fds[i]) + " is not open");
      }
      ThrowSys(env, "select", err);
    }
    if (wake >= 0 && FD_ISSET(wake, &out[0])) {
      if (int signo = TakeSignal(true)) ThrowInterrupted(env, "select", signo);
      FD_CLR(wake, &out[0]);
      // A stray byte with no signal behind it: unless something else is ready, keep waiting.
      if (n == 1 && (deadline < 0 || sr_now() < deadline)) continue;
    }
    break;
  }
  uint32_t count = 0;
  for (size_t i = 0, l = 0, in_list = 0; i < total; i++, in_list++) {
    while (in_list >= counts[l]) {
      l++;
      in_list = 0;
    }
    ready[i] = FD_ISSET(fds[i], &out[l]) ? 1 : 0;
    count += ready[i];
  }
  return Napi::Number::New(env, count);
}

}  // namespace

void InitSelect(Napi::Env env, Napi::Object exports) {
  exports.Set("select", Napi::Function::New(env, JS_select, "select"));
}

}  // namespace sr
