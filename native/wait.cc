// Async waits (wait.h): each runs on a thread of the environment's WaitPool and answers through a
// thread-safe function. The list of waits in progress lives in the environment's AddonData and
// is only touched on the main thread; a wait thread touches nothing but the wait it runs, whose
// data the wait copied when it was created.
#include "wait.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>

namespace sr {

// The threads that run the waits of one environment. A thread parks between waits; the pool
// grows to as many threads as waits have been in progress at once, and they all end with the
// environment.
class WaitPool {
 public:
  explicit WaitPool(Napi::Env env) : env_(env) {
    napi_value name;
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_string_utf8(env, "select-reactor:wait", NAPI_AUTO_LENGTH, &name));
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr,
                                                                   this, Deliver, &tsfn_));
    // Only waits in progress keep the process alive, as pending I/O does.
    napi_unref_threadsafe_function(env, tsfn_);
    // Added after the thread-safe function's own hook, so it runs first (hooks run in reverse).
    napi_add_env_cleanup_hook(env, Teardown, this);
  }

  ~WaitPool() {
    if (!threads_.empty()) {
      // Teardown() did not run (it always does before the environment's data is freed); a
      // thread still waiting must not take the process down with std::terminate.
      for (std::thread& t : threads_) t.detach();
    }
  }

  // Main thread: queues `wait` for the next free thread, starting one first when none is free.
  // Returns 0, or -errno when no thread could be started for it; the wait is not queued then, so
  // no thread can ever see it, and the caller may delete it.
  int Run(AsyncWait* wait) {
    bool spawn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      spawn = idle_ <= queue_.size();  // each parked thread already has a queued wait to take
    }
    if (spawn) {
      try {
        threads_.emplace_back(&WaitPool::Loop, this);
      } catch (const std::system_error& e) {
        return -e.code().value();
      } catch (const std::bad_alloc&) {
        return -ENOMEM;
      }
    }
    try {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(wait);
    } catch (const std::bad_alloc&) {
      return -ENOMEM;  // a thread just started stays, parked, for the next wait
    }
    cv_.notify_one();
    if (in_progress_++ == 0) napi_ref_threadsafe_function(env_, tsfn_);
    return 0;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      idle_++;
      cv_.wait(lock, [this] { return quit_ || !queue_.empty(); });
      idle_--;
      if (quit_) return;
      AsyncWait* wait = queue_.front();
      queue_.pop_front();
      lock.unlock();
      wait->Run();
      // napi_closing means the environment is going away; Teardown() finishes the wait then.
      napi_call_threadsafe_function(tsfn_, wait, napi_tsfn_nonblocking);
      lock.lock();
    }
  }

  // Main thread: a wait has returned. An exception must not leave this callback, which N-API
  // calls from C: it would end the process.
  static void Deliver(napi_env env, napi_value, void* context, void* data) {
    if (env == nullptr) return;  // the function is being torn down: Teardown() had these waits
    WaitPool* self = static_cast<WaitPool*>(context);
    std::unique_ptr<AsyncWait> wait(static_cast<AsyncWait*>(data));
    if (--self->in_progress_ == 0) napi_unref_threadsafe_function(env, self->tsfn_);
    try {
      wait->Complete(env);
    } catch (...) {
      // Only what building the answer or the error threw past Settle(): the promise stays
      // pending, which is all that can be done for it here.
    }
  }

  // The environment is ending (process exit, or a worker_thread's end): wake every wait, let
  // the threads finish and join them, then release what the waits held. No JS runs now.
  static void Teardown(void* arg) {
    WaitPool* self = static_cast<WaitPool*>(arg);
    std::vector<AsyncWait*> waits = Data(self->env_)->waits;
    for (AsyncWait* wait : waits) wait->Wake();
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->quit_ = true;
    }
    self->cv_.notify_all();
    for (std::thread& t : self->threads_) t.join();
    self->threads_.clear();
    for (AsyncWait* wait : waits) {
      wait->Complete(nullptr);
      delete wait;
    }
    napi_release_threadsafe_function(self->tsfn_, napi_tsfn_release);
  }

  napi_env env_;
  napi_threadsafe_function tsfn_ = nullptr;
  std::vector<std::thread> threads_;  // main thread only
  size_t in_progress_ = 0;            // main thread only: started and not yet delivered
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<AsyncWait*> queue_;  // under mu_: waits no thread has taken yet
  size_t idle_ = 0;               // under mu_: threads parked, waiting for a wait
  bool quit_ = false;             // under mu_
};

AddonData::AddonData() = default;
AddonData::~AddonData() = default;

bool DeferClose(Napi::Env env, int fd) {
  std::vector<AsyncWait*>& waits = Data(env)->waits;
  if (waits.empty()) return false;  // the common case: nothing waits off the main thread
  std::shared_ptr<DeferredClose> closer;
  for (AsyncWait* wait : waits) {
    if (!wait->Uses(fd)) continue;
    if (!closer) closer = std::make_shared<DeferredClose>(fd);
    wait->Defer(closer);
  }
  return closer != nullptr;
}

AsyncWait::AsyncWait(Napi::Env env, const char* syscall, int wake_fd, double timeout)
    : env_(env), syscall_(syscall), wake_fd_(wake_fd), deadline_(timeout >= 0 ? sr_now() + timeout : -1) {
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_promise(env, &deferred_, &promise_));
}

AsyncWait::~AsyncWait() = default;

Napi::Promise AsyncWait::Start() {
  std::unique_ptr<AsyncWait> owned(this);  // until a thread has it
  AddonData* data = Data(env_);
  Napi::Promise promise(env_, promise_);
  if (!data->pool) data->pool = std::make_unique<WaitPool>(env_);
  data->waits.push_back(this);
  listed_ = true;
  int err = data->pool->Run(this);
  if (err < 0) {
    Complete(nullptr);
    ThrowSys(env_, "pthread_create", -err, "no thread for the wait");
  }
  owned.release();
  return promise;
}

void AsyncWait::Defer(std::shared_ptr<DeferredClose> closer) {
  deferred_closes_.push_back(std::move(closer));
  if (!closed_) Wake();
  closed_ = true;
}

void AsyncWait::Complete(napi_env env) {
  if (listed_) {
    std::vector<AsyncWait*>& waits = Data(env_)->waits;
    waits.erase(std::remove(waits.begin(), waits.end(), this), waits.end());
    listed_ = false;
  }
  deferred_closes_.clear();  // the last wait to let go of a descriptor closes it
  if (env == nullptr) return;
  Napi::HandleScope scope(env);
  Settle(env);
}

// Settling runs JS: the error factory, and a `then` getter the answer may inherit. JS can throw,
// or stop a worker's environment (process.exit()), after which every call into JS is refused,
// and node-addon-api answers a refused call by aborting the process. So the calls that run JS are
// plain N-API here: what the factory throws becomes the rejection, and a refusal leaves the
// promise unsettled, since nobody is left to see it.
void AsyncWait::Settle(napi_env env) {
  napi_value value;
  bool resolve = result_ >= 0;
  if (resolve) {
    try {
      value = Answer(env);
    } catch (const Napi::Error& e) {
      resolve = false;  // no memory for the answer, say
      value = e.Value();
    }
  } else if (SysErrorValue(env, syscall_, -result_, Detail(-result_), &value) != napi_ok) {
    if (napi_get_and_clear_last_exception(env, &value) != napi_ok) return;
  }
  if (resolve) {
    napi_resolve_deferred(env, deferred_, value);
  } else {
    napi_reject_deferred(env, deferred_, value);
  }
}

Napi::Value AsyncWait::Answer(Napi::Env env) {
  Napi::Array answer = Napi::Array::New(env, 2);
  answer.Set(0u, Result(env));
  answer.Set(1u, Napi::Boolean::New(env, closed_));
  return answer;
}

}  // namespace sr
