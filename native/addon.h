// Declarations shared by the addon's files: the per-environment data, the Handle class (one open
// socket and its outbound queue), the error path and the argument checks.
#pragma once

#include <napi.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sr {

class AsyncWait;
class Handle;
class WaitPool;

// Handles by number, so that the calls a loop makes for every socket on every turn (recv,
// outbox.put, outbox.flush) reach their Handle without napi_unwrap, whose private-property lookup
// costs more than the rest of such a call. An id is a slot and a generation: a slot is reused only
// under a new generation, so an id that outlives its Handle finds nothing, never another Handle.
class HandleTable {
 public:
  static constexpr uint32_t kSlotBits = 20;  // a million sockets per thread
  static constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;

  uint32_t Add(Handle* h);  // the new id; throws std::length_error when every slot is taken
  void Remove(uint32_t id);
  Handle* Find(uint32_t id) const {
    uint32_t slot = id & kSlotMask;
    if (slot >= slots_.size() || slots_[slot].gen != id >> kSlotBits) return nullptr;
    return slots_[slot].handle;
  }

 private:
  struct Slot {
    Handle* handle;
    uint32_t gen;
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
};

// Per-environment state (main thread and each worker_thread get their own), kept with
// Env::SetInstanceData instead of globals so that the addon is context-aware.
struct AddonData {
  Napi::FunctionReference error_factory;  // JS (code, errno, syscall, message) => SocketError
  Napi::FunctionReference handle_ctor;    // the Handle class, to wrap accepted descriptors
  bool interruptible = false;             // main thread: blocking calls end on caught signals
  std::unique_ptr<char[]> scratch;        // recvfrom() reads here before copying out the bytes read
  // Every live Handle of this environment, by id. Shared with each Handle, whose destructor
  // removes itself, so that the table outlives them whatever order teardown takes.
  std::shared_ptr<HandleTable> handles = std::make_shared<HandleTable>();
  std::vector<AsyncWait*> waits;   // async waits in progress (wait.cc), for close() to consult
  std::unique_ptr<WaitPool> pool;  // the threads they run on, made on first use (wait.cc)
  AddonData();
  ~AddonData();  // in wait.cc, where WaitPool is complete
};

AddonData* Data(Napi::Env env);

// ---- errors.cc ----------------------------------------------------------------------------------
// The one error path: (syscall, errno) becomes a SocketError subclass chosen by the JS factory.
// `err` is a positive errno. `detail`, when given, is appended to the message.
[[noreturn]] void ThrowSys(Napi::Env env, const char* syscall, int err, const std::string& detail = "");
// The same error as a value, for a Promise to reject with.
Napi::Value SysError(Napi::Env env, const char* syscall, int err, const std::string& detail = "");
// SysError without exceptions, for a caller that must not throw (a thread-safe function's
// callback): napi_ok, or the status of the N-API call that failed (napi_pending_exception when
// the factory threw).
napi_status SysErrorValue(napi_env env, const char* syscall, int err, const std::string& detail, napi_value* error);
const char* ErrnoName(int err);  // "ECONNRESET", or nullptr when the table does not know it
void ExportErrno(Napi::Env env, Napi::Object exports);

// ---- args.cc ------------------------------------------------------------------------------------
// Argument checks that throw TypeError/RangeError naming the argument and what was expected.
int64_t ArgInt(const Napi::Value& v, const char* name, int64_t min, int64_t max);
int64_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max,
                 int64_t fallback);
std::string ArgString(const Napi::Value& v, const char* name);

// Bytes from JS for the duration of one call: a Uint8Array (or any ArrayBufferView/ArrayBuffer)
// is viewed in place; a string is encoded to UTF-8 into `storage`.
struct Bytes {
  const char* data = nullptr;
  size_t len = 0;
  std::string storage;
};
void ArgBytes(const Napi::Value& v, const char* name, Bytes* out);
// The bytes of a TypedArray or DataView (the view's own, its byte offset applied), in one N-API
// call; false when `v` is neither.
bool ViewBytes(const Napi::Value& v, char** data, size_t* len);

// ---- address.cc ---------------------------------------------------------------------------------
// Python's address forms: [host, port] (AF_INET), [host, port, flowinfo, scope_id] (AF_INET6),
// a path string (AF_UNIX; a leading "\0" selects Linux's abstract namespace).
void ParseAddress(Napi::Env env, int family, const Napi::Value& v, sockaddr_storage* ss, socklen_t* len);
Napi::Value MakeAddress(Napi::Env env, const sockaddr* sa, socklen_t len);
std::string FormatAddress(const sockaddr* sa, socklen_t len);  // "127.0.0.1:10000", for messages
void InitAddress(Napi::Env env, Napi::Object exports);

// ---- signals.cc ---------------------------------------------------------------------------------
// Blocking calls on the main thread end with InterruptedError when a caught signal arrives, the way
// Python's KeyboardInterrupt ends them; otherwise EINTR is retried (PEP 475).
int SignalWakeFd();          // read end of the self-pipe, or -1 when no signal is caught
int TakeSignal(bool woken);  // the pending caught signal, cleared, or 0; `woken`: the pipe fired
[[noreturn]] void ThrowInterrupted(Napi::Env env, const char* syscall, int signo);
void InitSignals(Napi::Env env, Napi::Object exports);

// ---- wait.cc: async waits off the main thread, and closes that wait for them (wait.h) ------------
// Every close() of a descriptor this addon owns goes through here, on the main thread. When an
// async wait in progress uses `fd`, the wait is woken and `fd` is closed only once it has
// returned, so its number cannot be reused while a worker thread still waits on it. Returns true
// when the close was deferred so; false means the caller closes `fd` now.
bool DeferClose(Napi::Env env, int fd);

// ---- select.cc, poll.cc, epoll.cc: the backends, shaped alike -----------------------------------
void InitSelect(Napi::Env env, Napi::Object exports);
void InitPoll(Napi::Env env, Napi::Object exports);
void InitEpoll(Napi::Env env, Napi::Object exports);  // Linux; elsewhere it exports nothing

// ---- resource.cc: getrlimit/setrlimit, as Python's resource module ------------------------------
void InitResource(Napi::Env env, Napi::Object exports);

// ---- Handle: socket.cc (lifecycle, options, connect/accept), io.cc, outbox.cc -------------------
// One socket descriptor, owned. close() sets fd_ to -1 so that no later call can reach a number
// the kernel has since handed to someone else; the destructor and an environment cleanup hook
// close what JS leaked.
class Handle : public Napi::ObjectWrap<Handle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Handle(const Napi::CallbackInfo& info);
  ~Handle() override;

  // Wraps a descriptor this addon just obtained (accept, socketpair); closes it if wrapping fails.
  static Napi::Object Wrap(Napi::Env env, int fd, int family, int type, int proto);
  // The calls made for every socket on every turn of a loop, exported as module functions that
  // take the Handle's id first (HandleTable): recv, outboxPut, outboxFlush, outboxPending, outboxPeek.
  static void InitById(Napi::Env env, Napi::Object exports);

 private:
  // Lifecycle and options (socket.cc).
  Napi::Value JS_fileno(const Napi::CallbackInfo& info);
  Napi::Value JS_family(const Napi::CallbackInfo& info);
  Napi::Value JS_type(const Napi::CallbackInfo& info);
  Napi::Value JS_proto(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);
  Napi::Value JS_detach(const Napi::CallbackInfo& info);
  Napi::Value JS_settimeout(const Napi::CallbackInfo& info);
  Napi::Value JS_gettimeout(const Napi::CallbackInfo& info);
  Napi::Value JS_setsockopt(const Napi::CallbackInfo& info);
  Napi::Value JS_getsockopt(const Napi::CallbackInfo& info);
  Napi::Value JS_bind(const Napi::CallbackInfo& info);
  Napi::Value JS_listen(const Napi::CallbackInfo& info);
  Napi::Value JS_accept(const Napi::CallbackInfo& info);
  Napi::Value JS_connect(const Napi::CallbackInfo& info);
  Napi::Value JS_connect_ex(const Napi::CallbackInfo& info);
  Napi::Value JS_getsockname(const Napi::CallbackInfo& info);
  Napi::Value JS_getpeername(const Napi::CallbackInfo& info);
  Napi::Value JS_dup(const Napi::CallbackInfo& info);
  Napi::Value JS_id(const Napi::CallbackInfo& info);

  // Called by id (InitById): info[0] is the id, and their own arguments start at info[1].
  template <Napi::Value (Handle::*Method)(const Napi::CallbackInfo&)>
  static Napi::Value ById(const Napi::CallbackInfo& info);

  // Data transfer (io.cc). recv is called by id.
  Napi::Value JS_send(const Napi::CallbackInfo& info);
  Napi::Value JS_sendall(const Napi::CallbackInfo& info);
  Napi::Value JS_sendto(const Napi::CallbackInfo& info);
  Napi::Value JS_recv(const Napi::CallbackInfo& info);
  Napi::Value JS_recv_into(const Napi::CallbackInfo& info);
  Napi::Value JS_recvfrom(const Napi::CallbackInfo& info);
  Napi::Value JS_shutdown(const Napi::CallbackInfo& info);

  // The outbound queue (outbox.cc). All but clear are called by id.
  Napi::Value JS_outboxPut(const Napi::CallbackInfo& info);
  Napi::Value JS_outboxFlush(const Napi::CallbackInfo& info);
  Napi::Value JS_outboxPending(const Napi::CallbackInfo& info);
  Napi::Value JS_outboxClear(const Napi::CallbackInfo& info);
  Napi::Value JS_outboxPeek(const Napi::CallbackInfo& info);

  // The fd, or a SocketError(EBADF) naming `syscall` once closed.
  int Fd(Napi::Env env, const char* syscall) const;
  // CPython's sock_call_ex: run `op` (returning >= 0 or -errno), waiting for `events` with the
  // socket's timeout whenever it would block. Returns the result or -errno; throws TimeoutError
  // and InterruptedError itself.
  template <typename Op>
  ssize_t Call(Napi::Env env, const char* syscall, short events, Op op, double deadline);
  double Deadline() const;  // absolute monotonic seconds for this call, or -1 for none
  void Release();           // forget the descriptor without closing it
  void CloseFd();
  static void CleanupHook(void* arg);

  // Outbox: copies of what put() was given, written from queue_[head_] + head_off_ on; pending_
  // counts the bytes not yet written. A vector, not a deque: an empty one allocates nothing, and
  // most connections are idle most of the time.
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t len = 0;
    size_t cap = 0;
  };
  void OutboxAdvance(size_t n);

  Napi::Env env_;
  std::shared_ptr<HandleTable> table_;  // set once the Handle has its id_
  uint32_t id_ = 0;
  int fd_ = -1;
  int family_ = 0;
  int type_ = 0;
  int proto_ = 0;
  double timeout_ = -1;  // seconds; < 0 blocks (None), 0 never waits, > 0 raises TimeoutError
  bool cleanup_hook_ = false;
  std::vector<Chunk> queue_;
  size_t head_ = 0;      // first chunk not fully written
  size_t head_off_ = 0;  // bytes of queue_[head_] already written
  size_t pending_ = 0;
};

// ---- sys.cc: the POSIX layer. Plain functions: results >= 0, or -errno. No N-API here. ---------
double sr_now();  // CLOCK_MONOTONIC, seconds
// The timeout for poll() and epoll_wait() that ends at `deadline` (monotonic seconds, < 0 for
// none): -1 for none, else the milliseconds left rounded up, so that a wait never ends early and
// never spins on 0 ms.
int WaitMillis(double deadline);
// One poll() of `fds` until `deadline` (monotonic seconds, < 0 for none, 0 not to wait): the
// number ready, 0 when it timed out, or -errno, EINTR included (WaitLoop, interrupt.h, retries).
int sr_poll(pollfd* fds, size_t n, double deadline);
int sr_set_nonblocking(int fd, bool on);
int sr_close(int fd);  // closes once; EINTR is not retried (the descriptor is gone on Linux)
int sr_wake(int fd);   // one byte to a self-pipe's write end; a full pipe is already awake
int sr_socket(int family, int type, int proto);
// These four return -EINTR when a signal ends a blocking call: Handle::Call (call.h) retries it
// unless a caught signal is pending.
int sr_accept(int fd, sockaddr_storage* ss, socklen_t* len);
ssize_t sr_send(int fd, const void* buf, size_t len, int flags);
ssize_t sr_recv(int fd, void* buf, size_t len, int flags);
ssize_t sr_sendmsg(int fd, const iovec* iov, int iovcnt, int flags);
extern const int SR_MSG_NOSIGNAL;  // MSG_NOSIGNAL where it exists (Linux), else 0 (SO_NOSIGPIPE is set)

}  // namespace sr
