// The socket's lifecycle and control: the table of open sockets (HandleTable, addon.h) and the
// module functions that reach them by id, creation and adoption, close/detach, blocking mode and
// timeouts, options, bind/listen/accept/connect, names. Data transfer is in io.cc, the outbound
// queue in outbox.cc.
#include <errno.h>
#include <fcntl.h>

#include <cmath>
#include <stdexcept>

#include "call.h"

namespace sr {

HandleTable::HandleTable() = default;

HandleTable::~HandleTable() {
  for (Slot& slot : slots_) delete slot.handle;  // CloseAll() has run: these are only the leftovers
}

uint32_t HandleTable::Add(std::unique_ptr<Handle> h) {
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
    SR_ASSERT(slots_[slot].handle == nullptr);
  } else {
    if (slots_.size() > kSlotMask) throw std::length_error("every handle slot is taken");
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back({nullptr, 1});
  }
  h->id_ = slots_[slot].gen << kSlotBits | slot;
  slots_[slot].handle = h.release();
  Check(slot);
  SR_ASSERT(Find(slots_[slot].handle->id_) == slots_[slot].handle);
  return slots_[slot].handle->id_;
}

void HandleTable::Remove(Handle* h) {
  uint32_t at = h->id_ & kSlotMask;
  SR_ASSERT(h->id_ != kNone && at < slots_.size() && slots_[at].handle == h);
  Slot& slot = slots_[at];
  uint32_t old = h->id_;
  slot.handle = nullptr;
  slot.gen = (slot.gen + 1) & kMaxGen;  // the old id finds nothing now
  if (slot.gen == 0) slot.gen = 1;      // and kNone is never issued
  free_.push_back(at);
  h->id_ = kNone;
  h->gone_ = true;
  Check(at);
  SR_ASSERT(slot.gen != old >> kSlotBits);  // so the old id finds nothing
}

// What makes an id safe to hold in JS: a slot holds a Handle exactly when it is not on the free
// list, a Handle's id names its slot under the slot's current generation, and no generation is 0,
// so no issued id is kNone or a ClosedId(). One slot is checked at each change, the whole table
// once per Slots() changes: checking stays O(1) a change however large the table grows.
void HandleTable::Check(uint32_t slot) {
  if (!kChecks) return;
  const Slot& s = slots_[slot];
  SR_ASSERT(s.gen != 0 && s.gen <= kMaxGen);
  SR_ASSERT(s.handle == nullptr || (s.handle->id_ == (s.gen << kSlotBits | slot) && !s.handle->gone_));
  SR_ASSERT(free_.size() <= slots_.size());
  if (++changes_ >= slots_.size()) {
    changes_ = 0;
    CheckAll();
  }
}

void HandleTable::CheckAll() const {
  std::vector<bool> is_free(slots_.size());
  for (uint32_t slot : free_) {
    SR_ASSERT(slot < slots_.size() && !is_free[slot]);  // each free slot listed once
    is_free[slot] = true;
  }
  for (size_t i = 0; i < slots_.size(); i++) {
    const Slot& s = slots_[i];
    SR_ASSERT((s.handle == nullptr) == is_free[i]);
    SR_ASSERT(s.gen != 0 && s.gen <= kMaxGen);
    SR_ASSERT(s.handle == nullptr || s.handle->id_ == (s.gen << kSlotBits | static_cast<uint32_t>(i)));
  }
}

Handle* HandleTable::Closed(uint32_t id) const {
  uint32_t family = ClosedId(static_cast<int>(id)) == id ? id : kNone;
  if (closed_.size() <= family) closed_.resize(family + 1);
  if (!closed_[family]) {
    closed_[family] = std::make_unique<Handle>();
    closed_[family]->family_ = static_cast<int>(family);
  }
  return closed_[family].get();
}

void HandleTable::CloseAll(Napi::Env env) {
  for (Slot& slot : slots_) {
    if (slot.handle) slot.handle->Discard(env);
  }
}

template <Napi::Value (Handle::*Method)(const Napi::CallbackInfo&)>
Napi::Value Handle::ById(const Napi::CallbackInfo& info) {
  uint32_t id;
  // One N-API call both checks and reads the id: this runs on every socket call.
  if (napi_get_value_uint32(info.Env(), info[0], &id) != napi_ok)
    throw Napi::TypeError::New(info.Env(), "Expected a socket id");
  Handle* h = static_cast<const HandleTable*>(info.Data())->Find(id);
  // A Handle that close() or detach() takes out of the table while a call on it runs (JS run by
  // an argument's getter) is freed when the last such call returns, not under it.
  h->calls_++;
  struct Done {
    Handle* h;
    ~Done() {
      SR_ASSERT(h->calls_ > 0);
      if (--h->calls_ == 0 && h->gone_) delete h;
    }
  } done{h};
  return (h->*Method)(info);
}

namespace {

void CloseAllHook(void* env) {
  Napi::Env e(static_cast<napi_env>(env));
  Data(e)->handles.CloseAll(e);
}

// A module function whose data is the table: the callback is a template argument, so N-API calls
// it without the indirection a callable object would add.
template <Napi::Function::Callback cb>
void Export(Napi::Env env, Napi::Object exports, const char* name, HandleTable* table) {
  exports.Set(name, Napi::Function::New<cb>(env, name, table));
}

}  // namespace

void Handle::Init(Napi::Env env, Napi::Object exports) {
  HandleTable* table = &Data(env)->handles;  // lives as long as the environment's data
  // Added before any wait pool exists, so it runs after the pool's own hook (hooks run in
  // reverse): every wait has returned by the time the descriptors are closed.
  napi_add_env_cleanup_hook(env, CloseAllHook, env);
  Export<JS_open>(env, exports, "open", table);
  Export<JS_socketpair>(env, exports, "socketpair", table);
  Export<JS_handles>(env, exports, "handles", table);
  Export<ById<&Handle::JS_fileno>>(env, exports, "fileno", table);
  Export<ById<&Handle::JS_family>>(env, exports, "family", table);
  Export<ById<&Handle::JS_type>>(env, exports, "type", table);
  Export<ById<&Handle::JS_proto>>(env, exports, "proto", table);
  Export<ById<&Handle::JS_close>>(env, exports, "close", table);
  Export<ById<&Handle::JS_detach>>(env, exports, "detach", table);
  Export<ById<&Handle::JS_settimeout>>(env, exports, "settimeout", table);
  Export<ById<&Handle::JS_gettimeout>>(env, exports, "gettimeout", table);
  Export<ById<&Handle::JS_setsockopt>>(env, exports, "setsockopt", table);
  Export<ById<&Handle::JS_getsockopt>>(env, exports, "getsockopt", table);
  Export<ById<&Handle::JS_bind>>(env, exports, "bind", table);
  Export<ById<&Handle::JS_listen>>(env, exports, "listen", table);
  Export<ById<&Handle::JS_accept>>(env, exports, "accept", table);
  Export<ById<&Handle::JS_connect>>(env, exports, "connect", table);
  Export<ById<&Handle::JS_connect_ex>>(env, exports, "connect_ex", table);
  Export<ById<&Handle::JS_getsockname>>(env, exports, "getsockname", table);
  Export<ById<&Handle::JS_getpeername>>(env, exports, "getpeername", table);
  Export<ById<&Handle::JS_dup>>(env, exports, "dup", table);
  Export<ById<&Handle::JS_send>>(env, exports, "send", table);
  Export<ById<&Handle::JS_sendall>>(env, exports, "sendall", table);
  Export<ById<&Handle::JS_sendto>>(env, exports, "sendto", table);
  Export<ById<&Handle::JS_recv>>(env, exports, "recv", table);
  Export<ById<&Handle::JS_recv_into>>(env, exports, "recv_into", table);
  Export<ById<&Handle::JS_recvfrom>>(env, exports, "recvfrom", table);
  Export<ById<&Handle::JS_shutdown>>(env, exports, "shutdown", table);
  Export<ById<&Handle::JS_outboxPut>>(env, exports, "outboxPut", table);
  Export<ById<&Handle::JS_outboxFlush>>(env, exports, "outboxFlush", table);
  Export<ById<&Handle::JS_outboxPending>>(env, exports, "outboxPending", table);
  Export<ById<&Handle::JS_outboxClear>>(env, exports, "outboxClear", table);
  Export<ById<&Handle::JS_outboxPeek>>(env, exports, "outboxPeek", table);
  Export<JS_closedId>(env, exports, "closedId", table);
  exports.Set("NO_SOCKET", Napi::Number::New(env, HandleTable::kNone));
}

uint32_t Handle::Adopt(Napi::Env env, int fd, int family, int type, int proto, bool owned) {
  try {
    int fl = sr_get_flags(fd);
    if (fl < 0) ThrowSys(env, "fcntl", -fl);
    auto h = std::make_unique<Handle>();
    h->fd_ = fd;
    h->family_ = family;
#ifdef SOCK_NONBLOCK
    type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);  // Python reports the plain type
#endif
    h->type_ = type;
    h->proto_ = proto;
    h->timeout_ = (fl & O_NONBLOCK) ? 0 : -1;
    return Data(env)->handles.Add(std::move(h));
  } catch (const std::length_error&) {
    if (owned) sr_close(fd);
    throw Napi::RangeError::New(env, "Expected fewer than 2^20 sockets open in one thread");
  } catch (...) {
    if (owned) sr_close(fd);
    throw;
  }
}

Handle::~Handle() {
  if (fd_ >= 0) sr_close(fd_);
}

// open(family, type, proto, fileno) -> id: a new socket, or (fileno >= 0) an existing descriptor
// adopted as Python's socket(fileno=...) does; family/type/proto of -1 are then read from it.
Napi::Value Handle::JS_open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = static_cast<int>(ArgIntOr(info, 0, "family", -1, INT32_MAX, AF_INET));
  int type = static_cast<int>(ArgIntOr(info, 1, "type", -1, INT32_MAX, SOCK_STREAM));
  int proto = static_cast<int>(ArgIntOr(info, 2, "proto", -1, INT32_MAX, 0));
  int fileno = static_cast<int>(ArgIntOr(info, 3, "fileno", -1, INT32_MAX, -1));
  if (fileno < 0) {
    if (family < 0 || type < 0 || proto < 0)
      throw Napi::RangeError::New(env, "family, type and proto of -1 need a fileno to read them from");
    int fd = sr_socket(family, type, proto);
    if (fd < 0) ThrowSys(env, "socket", -fd);
    return Napi::Number::New(env, Adopt(env, fd, family, type, proto));
  }
  int fl = sr_get_flags(fileno);
  if (fl < 0) ThrowSys(env, "socket", -fl, "fileno " + std::to_string(fileno));
  if (family < 0) {
    sockaddr_storage ss;
    socklen_t len;
    int r = sr_getsockname(fileno, &ss, &len);
    if (r < 0) ThrowSys(env, "getsockname", -r);
    family = ss.ss_family;
  }
  if (type < 0) {
    socklen_t len = sizeof type;
    int r = sr_getsockopt(fileno, SOL_SOCKET, SO_TYPE, &type, &len);
    if (r < 0) ThrowSys(env, "getsockopt", -r);
  }
  if (proto < 0) proto = 0;
  return Napi::Number::New(env, Adopt(env, fileno, family, type, proto, false));
}

// socketpair(family = AF_UNIX, type = SOCK_STREAM, proto = 0) -> [id, id]
Napi::Value Handle::JS_socketpair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = static_cast<int>(ArgIntOr(info, 0, "family", 0, INT32_MAX, AF_UNIX));
  int type = static_cast<int>(ArgIntOr(info, 1, "type", 0, INT32_MAX, SOCK_STREAM));
  int proto = static_cast<int>(ArgIntOr(info, 2, "proto", 0, INT32_MAX, 0));
  int fds[2];
  int r = sr_socketpair(family, type, proto, fds);
  if (r < 0) ThrowSys(env, "socketpair", -r);
  uint32_t first;
  try {
    first = Adopt(env, fds[0], family, type, proto);
  } catch (...) {
    sr_close(fds[1]);
    throw;
  }
  uint32_t second;
  try {
    second = Adopt(env, fds[1], family, type, proto);
  } catch (...) {
    Data(env)->handles.Find(first)->Discard(env);
    throw;
  }
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, Napi::Number::New(env, first));
  pair.Set(1u, Napi::Number::New(env, second));
  return pair;
}

// closedId(family) -> the id a closed Socket of `family` holds (HandleTable::ClosedId).
Napi::Value Handle::JS_closedId(const Napi::CallbackInfo& info) {
  int family = static_cast<int>(ArgInt(info[0], "family", INT32_MIN, INT32_MAX));
  return Napi::Number::New(info.Env(), HandleTable::ClosedId(family));
}

// handles() -> [open, slots]: the sockets open now, and the slots the table has (the most ever
// open at once), for tests that watch what a long loop keeps.
Napi::Value Handle::JS_handles(const Napi::CallbackInfo& info) {
  const HandleTable& table = Data(info.Env())->handles;
  Napi::Array counts = Napi::Array::New(info.Env(), 2);
  counts.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(table.Open())));
  counts.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(table.Slots())));
  return counts;
}

void Handle::Release(Napi::Env env) {
  fd_ = -1;
  OutboxClear();
  if (id_ != HandleTable::kNone) Data(env)->handles.Remove(this);
}

void Handle::Discard(Napi::Env env) {
  SR_ASSERT(calls_ == 0);  // a call still running on it would return into freed memory
  int fd = fd_;
  Release(env);
  if (fd >= 0 && !DeferClose(env, fd)) sr_close(fd);
  delete this;
}

int Handle::Fd(Napi::Env env, const char* syscall) const {
  if (fd_ < 0) ThrowSys(env, syscall, EBADF, "the socket is closed");
  return fd_;
}

int Handle::Family(Napi::Env env, const char* syscall) const {
  if (family_ == AF_UNSPEC) Fd(env, syscall);  // closed, and no family to read an address with
  return family_;
}

double Handle::Deadline() const {
  return timeout_ > 0 ? sr_now() + timeout_ : -1;
}

Napi::Value Handle::JS_fileno(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}
Napi::Value Handle::JS_family(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), family_);
}
Napi::Value Handle::JS_type(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), type_);
}
Napi::Value Handle::JS_proto(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), proto_);
}

// close(): idempotent. As in Python, ECONNRESET from close() is not an error worth raising. The
// socket is closed for JS at once, and its native state and slot are freed (HandleTable); when an
// async wait is using the descriptor, the number itself is released once that wait (woken now)
// has returned.
Napi::Value Handle::JS_close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return env.Undefined();
  int fd = fd_;
  Release(env);
  if (DeferClose(env, fd)) return env.Undefined();
  int r = sr_close(fd);
  if (r < 0 && r != -ECONNRESET) ThrowSys(env, "close", -r);
  return env.Undefined();
}

// detach(): hand the descriptor to the caller (another thread or process), closed for us.
Napi::Value Handle::JS_detach(const Napi::CallbackInfo& info) {
  int fd = fd_;
  if (fd >= 0) Release(info.Env());
  return Napi::Number::New(info.Env(), fd);
}

// settimeout(null | seconds): the descriptor is O_NONBLOCK exactly when a timeout is set, as in
// CPython, so timed calls can poll() and never block in the kernel.
Napi::Value Handle::JS_settimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double t = -1;
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) {
    if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "Expected timeout to be a number of seconds or null");
    t = info[1].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(t) || t < 0)
      throw Napi::RangeError::New(env, "Expected timeout to be a finite number >= 0, or null to block");
  }
  int fd = Fd(env, "settimeout");
  int r = sr_set_nonblocking(fd, t >= 0);
  if (r < 0) ThrowSys(env, "fcntl", -r);
  timeout_ = t;
  return env.Undefined();
}

Napi::Value Handle::JS_gettimeout(const Napi::CallbackInfo& info) {
  Fd(info.Env(), "gettimeout");
  return timeout_ < 0 ? info.Env().Null() : Napi::Number::New(info.Env(), timeout_);
}

// setsockopt(level, name, value): an int (or boolean), or bytes for struct-valued options.
Napi::Value Handle::JS_setsockopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int level = static_cast<int>(ArgInt(info[1], "level", INT32_MIN, INT32_MAX));
  int name = static_cast<int>(ArgInt(info[2], "name", INT32_MIN, INT32_MAX));
  int fd = Fd(env, "setsockopt");
  int r;
  if (info[3].IsNumber() || info[3].IsBoolean()) {
    int value = info[3].IsBoolean() ? info[3].As<Napi::Boolean>().Value()
                                    : static_cast<int>(ArgInt(info[3], "value", INT32_MIN, INT32_MAX));
    r = sr_setsockopt(fd, level, name, &value, sizeof value);
  } else {
    // Python takes an int or bytes; a string is more likely a mistake than a struct.
    if (info[3].IsString()) throw Napi::TypeError::New(env, "Expected value to be an integer or a Uint8Array");
    Bytes value;
    ArgBytes(info[3], "value", &value);
    r = sr_setsockopt(fd, level, name, value.data, static_cast<socklen_t>(value.len));
  }
  if (r < 0) ThrowSys(env, "setsockopt", -r);
  return env.Undefined();
}

// getsockopt(level, name, buflen?): an int, or a Buffer of at most buflen bytes when it is given.
Napi::Value Handle::JS_getsockopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int level = static_cast<int>(ArgInt(info[1], "level", INT32_MIN, INT32_MAX));
  int name = static_cast<int>(ArgInt(info[2], "name", INT32_MIN, INT32_MAX));
  int64_t buflen = ArgIntOr(info, 3, "buflen", 1, 1024, 0);
  int fd = Fd(env, "getsockopt");
  if (buflen == 0) {
    int value = 0;
    socklen_t len = sizeof value;
    int r = sr_getsockopt(fd, level, name, &value, &len);
    if (r < 0) ThrowSys(env, "getsockopt", -r);
    return Napi::Number::New(env, value);
  }
  char buf[1024];
  socklen_t len = static_cast<socklen_t>(buflen);
  int r = sr_getsockopt(fd, level, name, buf, &len);
  if (r < 0) ThrowSys(env, "getsockopt", -r);
  return Napi::Buffer<char>::Copy(env, buf, len);
}

Napi::Value Handle::JS_bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage ss;
  socklen_t len;
  // The address first: reading it can run JS (a getter) that closes this socket, and the number
  // may then already belong to another one. The descriptor is read only after the last JS.
  ParseAddress(env, Family(env, "bind"), info[1], &ss, &len);
  int fd = Fd(env, "bind");
  const sockaddr* sa = reinterpret_cast<sockaddr*>(&ss);
  int r = sr_bind(fd, sa, len);
  if (r < 0) ThrowSys(env, "bind", -r, FormatAddress(sa, len));
  return env.Undefined();
}

Napi::Value Handle::JS_listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int backlog = static_cast<int>(ArgIntOr(info, 1, "backlog", 0, INT32_MAX, 128));
  int r = sr_listen(Fd(env, "listen"), backlog);
  if (r < 0) ThrowSys(env, "listen", -r);
  return env.Undefined();
}

// accept() -> [id, address]. The new socket is blocking, as in Python.
Napi::Value Handle::JS_accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "accept");
  sockaddr_storage ss;
  socklen_t len;
  ssize_t r = Call(
      env, "accept", POLLIN, [&](bool) { return sr_accept(fd, &ss, &len); }, Deadline());
  if (r < 0) ThrowSys(env, "accept", static_cast<int>(-r));
  Napi::Array result = Napi::Array::New(env, 2);
  Napi::Value address = MakeAddress(env, reinterpret_cast<sockaddr*>(&ss), len);
  result.Set(0u, Napi::Number::New(env, Adopt(env, static_cast<int>(r), family_, type_, proto_)));
  result.Set(1u, address);
  return result;
}

namespace {

// CPython's internal_connect(): returns 0 or an errno; throws InterruptedError for a caught
// signal. A blocking socket connects in the kernel, which an AF_UNIX connect() to a full backlog
// waits in too (a non-blocking one could only fail with EAGAIN). A connect() that a signal
// interrupted is made again (PEP 475): the kernel then waits on for the connection under way.
// One under way on a timed socket (EINPROGRESS), or again after EINTR where the kernel says so
// (EALREADY), is waited for and its outcome read from SO_ERROR.
int DoConnect(Napi::Env env, int fd, double timeout, const sockaddr* sa, socklen_t len) {
  int wake = timeout != 0 ? SignalWake(env, "connect") : -1;
  double deadline = timeout > 0 ? sr_now() + timeout : -1;
  int err = -sr_connect(fd, sa, len);
  bool again = false;
  while (err == EINTR) {
    RetryOrInterrupt(env, "connect", wake);
    err = -sr_connect(fd, sa, len);
    again = true;
  }
  if (again && err == EISCONN) return 0;  // it completed in between
  if ((err == EINPROGRESS && timeout > 0) || (err == EALREADY && again)) {
    int r = WaitFor(env, "connect", fd, POLLOUT, deadline, wake);
    if (r == 0) return ETIMEDOUT;
    if (r < 0) return -r;
    socklen_t size = sizeof err;
    r = sr_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size);
    if (r < 0) return -r;
  }
  return err;
}

}  // namespace

// connect() and connect_ex(): 0 or an errno, the address read into `ss` for the message.
int Handle::ConnectTo(const Napi::CallbackInfo& info, const char* syscall, sockaddr_storage* ss, socklen_t* len) {
  Napi::Env env = info.Env();
  ParseAddress(env, Family(env, syscall), info[1], ss, len);  // may run JS: before Fd(), as in bind()
  int fd = Fd(env, syscall);
  return DoConnect(env, fd, timeout_, reinterpret_cast<sockaddr*>(ss), *len);
}

Napi::Value Handle::JS_connect(const Napi::CallbackInfo& info) {
  sockaddr_storage ss;
  socklen_t len;
  int err = ConnectTo(info, "connect", &ss, &len);
  if (err != 0) ThrowSys(info.Env(), "connect", err, FormatAddress(reinterpret_cast<sockaddr*>(&ss), len));
  return info.Env().Undefined();
}

Napi::Value Handle::JS_connect_ex(const Napi::CallbackInfo& info) {
  sockaddr_storage ss;
  socklen_t len;
  return Napi::Number::New(info.Env(), ConnectTo(info, "connect_ex", &ss, &len));
}

namespace {

// The address getsockname() or getpeername() (`name`) reads from `fd`.
Napi::Value AddressOf(Napi::Env env, const char* syscall, int fd, int (*name)(int, sockaddr_storage*, socklen_t*)) {
  sockaddr_storage ss;
  socklen_t len;
  int r = name(fd, &ss, &len);
  if (r < 0) ThrowSys(env, syscall, -r);
  return MakeAddress(env, reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace

Napi::Value Handle::JS_getsockname(const Napi::CallbackInfo& info) {
  return AddressOf(info.Env(), "getsockname", Fd(info.Env(), "getsockname"), sr_getsockname);
}

Napi::Value Handle::JS_getpeername(const Napi::CallbackInfo& info) {
  return AddressOf(info.Env(), "getpeername", Fd(info.Env(), "getpeername"), sr_getpeername);
}

// dup() -> id: a new socket on a duplicate descriptor (close-on-exec), with the same timeout.
Napi::Value Handle::JS_dup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = sr_dup(Fd(env, "dup"));
  if (fd < 0) ThrowSys(env, "dup", -fd);
  uint32_t copy = Adopt(env, fd, family_, type_, proto_);
  Data(env)->handles.Find(copy)->timeout_ = timeout_;
  return Napi::Number::New(env, copy);
}

}  // namespace sr
