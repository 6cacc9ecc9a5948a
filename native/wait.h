// An async wait: select(), poll() or epoll_wait() on a thread of its own, so that Node's event
// loop keeps running, and a Promise for its answer. Shared by select.cc, poll.cc and epoll.cc.
//
// Why not libuv's thread pool (node-addon-api's AsyncWorker): a wait may last forever, and that
// pool is not made for it. It has four threads by default, which fs, dns and crypto share;
// process.exit() joins them (uv_library_shutdown), and a worker_thread's teardown waits for its
// pending work before it runs any cleanup hook, so one wait with no timeout hangs both. Here
// each environment has a small pool of its own threads (as many as waits have ever been in
// progress at once), answers come back through a thread-safe function, and a cleanup hook wakes
// every wait and joins the threads when the environment ends.
//
// The other hazard is the descriptor numbers. A thread that waits on fd 7 while the main thread
// closes fd 7 and accepts a new connection, which the kernel numbers 7 again, would wait on (and
// report) the wrong socket. So every wait is listed in the environment's AddonData::waits, and
// every close() of this addon's descriptors asks DeferClose() first: when a wait in progress
// uses the descriptor, the wait is woken through its self-pipe, and the descriptor is closed
// only after the wait has returned, on the main thread. JS sees the socket closed at once; only
// the release of the number waits, and only for as long as the woken wait takes to return.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "addon.h"

namespace sr {

// A descriptor whose close() waits for the async waits that use it: closed when the last of
// them lets go of it.
class DeferredClose {
 public:
  explicit DeferredClose(int fd) : fd_(fd) {}
  ~DeferredClose() { sr_close(fd_); }  // nobody is left to hear of a failure
  DeferredClose(const DeferredClose&) = delete;
  DeferredClose& operator=(const DeferredClose&) = delete;

 private:
  int fd_;
};

class AsyncWait {
 public:
  virtual ~AsyncWait();
  AsyncWait(const AsyncWait&) = delete;
  AsyncWait& operator=(const AsyncWait&) = delete;

  // Main thread: hands the wait to a thread and returns its promise, which resolves with
  // [answer, closed]; `closed` says that a descriptor the wait used was closed while it waited
  // (which ended it). Takes ownership of `this`.
  Napi::Promise Start();

  // Main thread: does this wait use `fd`, by watching it or by being woken through it?
  bool Uses(int fd) const { return fd == wake_fd_ || Watches(fd); }
  // Main thread: `fd` was closed while this wait uses it. Wakes the wait, and keeps `closer` (so
  // the descriptor) until the wait has returned.
  void Defer(std::shared_ptr<DeferredClose> closer);
  // Any thread: ends the wait early.
  void Wake() const { sr_wake(wake_fd_); }

  // A wait thread: the wait itself.
  void Run() { result_ = Wait(deadline_); }
  // Main thread, once Run() has returned: releases what was closed meanwhile, then settles the
  // promise. Without `env` (the environment is going away) only the first.
  void Complete(napi_env env);

 protected:
  // `wake_fd` is the write end of the self-pipe that the wait watches (the caller puts the read
  // end among the descriptors waited on). `timeout` is in seconds, < 0 for none; the deadline
  // starts now, so time spent waiting for a thread counts.
  AsyncWait(Napi::Env env, const char* syscall, int wake_fd, double timeout);

  // A wait thread: the wait, until `deadline` (monotonic seconds, < 0 for none). Returns >= 0, or
  // -errno. No N-API here, and nothing shared with the main thread but what the constructor
  // copied.
  virtual int Wait(double deadline) = 0;
  // Main thread: the answer, once Wait() has returned >= 0.
  virtual Napi::Value Result(Napi::Env env) = 0;
  // Main thread: whether the descriptors waited on include `fd`.
  virtual bool Watches(int fd) const = 0;
  // Main thread: words for the error when Wait() failed with `err`.
  virtual std::string Detail(int /*err*/) { return ""; }

 private:
  void Settle(napi_env env);
  Napi::Value Answer(Napi::Env env);  // [Result(), closed]

  Napi::Env env_;
  const char* syscall_;
  napi_deferred deferred_;  // plain N-API: settling must not throw (Settle())
  napi_value promise_;      // valid until Start() has returned it
  int wake_fd_;
  double deadline_;
  int result_ = 0;
  bool listed_ = false;  // in AddonData::waits
  bool closed_ = false;  // a descriptor it used was closed while it waited
  std::vector<std::shared_ptr<DeferredClose>> deferred_closes_;
};

}  // namespace sr
