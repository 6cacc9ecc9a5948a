// Declarations shared by the addon's N-API files: the per-environment data, the table of open
// sockets and the Handle class (one open socket and its outbound queue), the error path and the
// argument checks. The system calls are below them all, in sys.h, which knows nothing of N-API.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "checks.h"
#include "sys.h"

namespace sr {

class AsyncWait;
class Handle;
class WaitPool;

// Every open socket of an environment, by id: the table owns the native state (a Handle) and JS
// holds only the id, a number. Nothing native is tied to the lifetime of a JS object, so what a
// socket costs natively never waits for the garbage collector:
//   - close() and detach() release the descriptor, free the Handle and its queue, and free the
//     slot, at once. A closed Socket is a JS object holding a number, collected whenever V8 likes.
//     (A Napi::ObjectWrap per socket would free its native half only from a finalizer, which
//     N-API runs from the event loop: a synchronous select() loop never gets there, so every
//     closed connection kept its native half and its slot until the slots ran out.)
//   - Every socket call is a module function that takes the id first and finds the Handle in
//     one array lookup, cheaper than napi_unwrap's private-property lookup on every call.
//   - An id is a slot and a generation; a slot is reused only under a new generation, so an old
//     id finds nothing, never another socket. A closed Socket also forgets its id, so the public
//     API never presents an old id at all: it holds ClosedId(family) instead, of generation 0,
//     which no open socket has.
//   - An id that finds nothing gets a closed Handle, which has no descriptor: each method checks
//     its arguments and throws EBADF naming its call, as after close(), with no state kept per
//     closed socket. A closed id names its family, so that an address is checked as the socket's
//     family reads it, as Python does after close(); any other gets one of no family (AF_UNSPEC).
//   - A Handle closed while one of its calls is still running (an address getter that calls
//     close()) leaves the table at once but is deleted only when its last call returns.
//   - Sockets JS leaks open are closed by a FinalizationRegistry in src/socket.ts (with a
//     ResourceWarning; a socket joins it only if it outlives a turn of the event loop, see
//     there), and whatever is open when the environment ends by a cleanup hook.
// Each environment (the main thread, each worker_thread) has a table of its own.
class HandleTable {
 public:
  static constexpr uint32_t kSlotBits = 20;  // a million sockets open at once per thread
  static constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
  static constexpr uint32_t kNone = 0;  // generations start at 1, so this id is never issued
  // The id a closed socket of `family` holds: generation 0, the family in the slot's bits.
  static uint32_t ClosedId(int family) {
    return family > 0 && static_cast<uint32_t>(family) <= kMaxClosedFamily ? static_cast<uint32_t>(family) : kNone;
  }

  HandleTable();
  ~HandleTable();
  HandleTable(const HandleTable&) = delete;
  HandleTable& operator=(const HandleTable&) = delete;

  // Takes `h` and returns its new id; throws std::length_error when every slot is taken.
  uint32_t Add(std::unique_ptr<Handle> h);
  // The Handle of `id`, or a closed Handle when there is none.
  inline Handle* Find(uint32_t id) const;  // below Handle, whose id it checks
  // Forgets `h` (a Handle of this table): its id finds nothing from now on.
  void Remove(Handle* h);
  size_t Slots() const { return slots_.size(); }  // the most sockets ever open at once
  size_t Open() const { return slots_.size() - free_.size(); }
  // The environment is ending: closes and frees every Handle still open.
  void CloseAll(Napi::Env env);

 private:
  static constexpr uint32_t kMaxClosedFamily = 255;  // AF_MAX is below 64 on every platform
  static constexpr uint32_t kMaxGen = 0xffffffffu >> kSlotBits;

  struct Slot {
    Handle* handle;  // owned; nullptr while the slot is free
    uint32_t gen;
  };
  // A closed Handle of the family a ClosedId() names, or of none; made on first use.
  Handle* Closed(uint32_t id) const;
  // The invariants (SR_ASSERT, checks.h) after `slot` changed, and now and then of every slot.
  void Check(uint32_t slot);
  void CheckAll() const;

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  size_t changes_ = 0;                                   // since CheckAll() last ran
  mutable std::vector<std::unique_ptr<Handle>> closed_;  // by family
};

// Per-environment state (main thread and each worker_thread get their own), kept with
// Env::SetInstanceData instead of globals so that the addon is context-aware.
struct AddonData {
  Napi::FunctionReference error_factory;  // JS (code, errno, syscall, message) => SocketError
  bool interruptible = false;             // main thread: blocking calls end on caught signals
  std::unique_ptr<char[]> scratch;        // recvfrom() reads here before copying out the bytes read
  // Every open socket of this environment, by id.
  HandleTable handles;
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
// The memory of a TypedArray of type `want` and its length in elements, or a TypeError naming it.
void* TypedView(const Napi::Value& v, napi_typedarray_type want, const char* name, size_t* length);

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
// One open socket descriptor, owned, and its outbound queue: the native state behind a JS Socket,
// kept in the environment's HandleTable and reached by id. close() sets fd_ to -1 before the
// Handle is freed, so that a call still running on it (see HandleTable) cannot reach a number
// the kernel has since handed to someone else.
class Handle {
 public:
  // Exports open(), socketpair() and every socket call as module functions that take the id
  // first (socket.cc), and the cleanup hook that closes what is open when the environment ends.
  static void Init(Napi::Env env, Napi::Object exports);
  // Puts a descriptor in the table and returns its id; its blocking mode is read from the
  // descriptor. Throws when it cannot be added, closing `fd` first when it is `owned` (one this
  // addon just obtained: socket, accept, socketpair, dup) rather than the caller's.
  static uint32_t Adopt(Napi::Env env, int fd, int family, int type, int proto, bool owned = true);

  Handle() = default;  // no descriptor: the table's closed Handle, or one about to adopt one
  ~Handle();           // closes a descriptor still open (only when the table itself goes)
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

 private:
  friend class HandleTable;

  // Module functions that make or adopt sockets (socket.cc): they return ids.
  static Napi::Value JS_open(const Napi::CallbackInfo& info);
  static Napi::Value JS_socketpair(const Napi::CallbackInfo& info);
  static Napi::Value JS_handles(const Napi::CallbackInfo& info);
  static Napi::Value JS_closedId(const Napi::CallbackInfo& info);

  // Called by id (ById): info[0] is the id, and each method's own arguments start at info[1].
  template <Napi::Value (Handle::*Method)(const Napi::CallbackInfo&)>
  static Napi::Value ById(const Napi::CallbackInfo& info);

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

  // Data transfer (io.cc).
  Napi::Value JS_send(const Napi::CallbackInfo& info);
  Napi::Value JS_sendall(const Napi::CallbackInfo& info);
  Napi::Value JS_sendto(const Napi::CallbackInfo& info);
  Napi::Value JS_recv(const Napi::CallbackInfo& info);
  Napi::Value JS_recv_into(const Napi::CallbackInfo& info);
  Napi::Value JS_recvfrom(const Napi::CallbackInfo& info);
  Napi::Value JS_shutdown(const Napi::CallbackInfo& info);

  // The outbound queue (outbox.cc).
  Napi::Value JS_outboxPut(const Napi::CallbackInfo& info);
  Napi::Value JS_outboxFlush(const Napi::CallbackInfo& info);
  Napi::Value JS_outboxPending(const Napi::CallbackInfo& info);
  Napi::Value JS_outboxClear(const Napi::CallbackInfo& info);
  Napi::Value JS_outboxPeek(const Napi::CallbackInfo& info);

  // The fd, or a SocketError(EBADF) naming `syscall` once closed.
  int Fd(Napi::Env env, const char* syscall) const;
  // The family to read an address with; SocketError(EBADF) as Fd() for a closed socket of none.
  int Family(Napi::Env env, const char* syscall) const;
  // CPython's sock_call_ex: run `op` (returning >= 0 or -errno), waiting for `events` with the
  // socket's timeout whenever it would block. Returns the result or -errno; throws TimeoutError
  // and InterruptedError itself.
  template <typename Op>
  ssize_t Call(Napi::Env env, const char* syscall, short events, Op op, double deadline);
  double Deadline() const;  // absolute monotonic seconds for this call, or -1 for none
  // connect() and connect_ex() to the address in info[1]: 0 or an errno (socket.cc).
  int ConnectTo(const Napi::CallbackInfo& info, const char* syscall, sockaddr_storage* ss, socklen_t* len);
  // Leaves the table: the descriptor is forgotten (closed or not by the caller), the queue freed.
  void Release(Napi::Env env);
  // Closes the descriptor, leaves the table and frees this Handle, on which no call is running.
  void Discard(Napi::Env env);
  // SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW: every send is one message, which the outbox keeps whole.
  bool Messages() const { return type_ != SOCK_STREAM; }

  // Outbox: copies of what put() was given, written from queue_[head_] + head_off_ on; pending_
  // counts the bytes not yet written. A vector, not a deque: an empty one allocates nothing, and
  // most connections are idle most of the time. On a message socket each chunk is one message.
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t len = 0;
    size_t cap = 0;
  };
  void OutboxAdvance(size_t n);
  void OutboxClear();
  void OutboxCheck() const;  // the queue's invariants (SR_ASSERT, checks.h)

  uint32_t id_ = HandleTable::kNone;
  int fd_ = -1;
  int family_ = 0;
  int type_ = 0;
  int proto_ = 0;
  double timeout_ = -1;  // seconds; < 0 blocks (None), 0 never waits, > 0 raises TimeoutError
  unsigned calls_ = 0;   // calls running on this Handle (ById), nested when JS runs inside one
  bool gone_ = false;    // closed or detached: deleted when calls_ reaches 0
  std::vector<Chunk> queue_;
  size_t head_ = 0;      // first chunk not fully written
  size_t head_off_ = 0;  // bytes of queue_[head_] already written
  size_t pending_ = 0;
  Chunk spare_;  // the last small chunk written out, for the next put() (len unused)
};

Handle* HandleTable::Find(uint32_t id) const {
  uint32_t slot = id & kSlotMask;
  if (slot < slots_.size() && slots_[slot].gen == id >> kSlotBits && slots_[slot].handle) {
    SR_ASSERT(slots_[slot].handle->id_ == id);
    return slots_[slot].handle;
  }
  return Closed(id);
}

}  // namespace sr
