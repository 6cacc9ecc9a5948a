// The socket's lifecycle and control: creation and adoption, close/detach, blocking mode and
// timeouts, options, bind/listen/accept/connect, names. Data transfer is in io.cc, the outbound
// queue in outbox.cc.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <stdexcept>

#include "call.h"

namespace sr {

uint32_t HandleTable::Add(Handle* h) {
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    if (slots_.size() > kSlotMask) throw std::length_error("every handle slot is taken");
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back({nullptr, 0});
  }
  slots_[slot].handle = h;
  return slots_[slot].gen << kSlotBits | slot;
}

void HandleTable::Remove(uint32_t id) {
  uint32_t slot = id & kSlotMask;
  if (slot >= slots_.size() || slots_[slot].gen != id >> kSlotBits) return;
  slots_[slot].handle = nullptr;
  slots_[slot].gen = (slots_[slot].gen + 1) & (0xffffffffu >> kSlotBits);  // the old id finds nothing now
  free_.push_back(slot);
}

Napi::Function Handle::Define(Napi::Env env) {
  return DefineClass(env, "Handle",
                     {
                         InstanceMethod<&Handle::JS_fileno>("fileno"),
                         InstanceMethod<&Handle::JS_family>("family"),
                         InstanceMethod<&Handle::JS_type>("type"),
                         InstanceMethod<&Handle::JS_proto>("proto"),
                         InstanceMethod<&Handle::JS_close>("close"),
                         InstanceMethod<&Handle::JS_detach>("detach"),
                         InstanceMethod<&Handle::JS_settimeout>("settimeout"),
                         InstanceMethod<&Handle::JS_gettimeout>("gettimeout"),
                         InstanceMethod<&Handle::JS_setsockopt>("setsockopt"),
                         InstanceMethod<&Handle::JS_getsockopt>("getsockopt"),
                         InstanceMethod<&Handle::JS_bind>("bind"),
                         InstanceMethod<&Handle::JS_listen>("listen"),
                         InstanceMethod<&Handle::JS_accept>("accept"),
                         InstanceMethod<&Handle::JS_connect>("connect"),
                         InstanceMethod<&Handle::JS_connect_ex>("connect_ex"),
                         InstanceMethod<&Handle::JS_getsockname>("getsockname"),
                         InstanceMethod<&Handle::JS_getpeername>("getpeername"),
                         InstanceMethod<&Handle::JS_dup>("dup"),
                         InstanceMethod<&Handle::JS_id>("id"),
                         InstanceMethod<&Handle::JS_send>("send"),
                         InstanceMethod<&Handle::JS_sendall>("sendall"),
                         InstanceMethod<&Handle::JS_sendto>("sendto"),
                         InstanceMethod<&Handle::JS_recv_into>("recv_into"),
                         InstanceMethod<&Handle::JS_recvfrom>("recvfrom"),
                         InstanceMethod<&Handle::JS_shutdown>("shutdown"),
                         InstanceMethod<&Handle::JS_outboxClear>("outboxClear"),
                     });
}

// new Handle(family, type, proto, fileno): a new socket, or (fileno >= 0) an existing descriptor
// adopted as Python's socket(fileno=...) does; family/type/proto of -1 are then read from it.
Handle::Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Handle>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  family_ = static_cast<int>(ArgIntOr(info, 0, "family", -1, INT32_MAX, AF_INET));
  type_ = static_cast<int>(ArgIntOr(info, 1, "type", -1, INT32_MAX, SOCK_STREAM));
  proto_ = static_cast<int>(ArgIntOr(info, 2, "proto", -1, INT32_MAX, 0));
  int fileno = static_cast<int>(ArgIntOr(info, 3, "fileno", -1, INT32_MAX, -1));

  if (fileno >= 0) {
    int fl = fcntl(fileno, F_GETFL);
    if (fl < 0) ThrowSys(env, "socket", errno, "fileno " + std::to_string(fileno));
    if (family_ < 0) {
      sockaddr_storage ss;
      socklen_t len = sizeof ss;
      if (getsockname(fileno, reinterpret_cast<sockaddr*>(&ss), &len) < 0) ThrowSys(env, "getsockname", errno);
      family_ = ss.ss_family;
    }
    if (type_ < 0) {
      socklen_t len = sizeof type_;
      if (getsockopt(fileno, SOL_SOCKET, SO_TYPE, &type_, &len) < 0) ThrowSys(env, "getsockopt", errno);
    }
    if (proto_ < 0) proto_ = 0;
    fd_ = fileno;
    timeout_ = (fl & O_NONBLOCK) ? 0 : -1;
  } else {
    if (family_ < 0 || type_ < 0 || proto_ < 0)
      throw Napi::RangeError::New(env, "family, type and proto of -1 need a fileno to read them from");
    int fd = sr_socket(family_, type_, proto_);
    if (fd < 0) ThrowSys(env, "socket", -fd);
    fd_ = fd;
#ifdef SOCK_NONBLOCK
    if (type_ & SOCK_NONBLOCK) timeout_ = 0;
#endif
  }
#ifdef SOCK_NONBLOCK
  type_ &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);  // Python reports the plain type
#endif
  std::shared_ptr<HandleTable> table = Data(env)->handles;
  try {
    id_ = table->Add(this);
  } catch (const std::length_error&) {
    if (fileno < 0) sr_close(fd_);  // created above; an adopted descriptor stays the caller's
    fd_ = -1;
    throw Napi::RangeError::New(env, "Expected fewer than 2^20 sockets open in one thread");
  }
  table_ = std::move(table);
  // Closes the descriptor if the environment (a worker, or Node itself) ends while it is open.
  napi_add_env_cleanup_hook(env, CleanupHook, this);
  cleanup_hook_ = true;
}

Handle::~Handle() {
  CloseFd();
  if (table_) table_->Remove(id_);
}

template <Napi::Value (Handle::*Method)(const Napi::CallbackInfo&)>
Napi::Value Handle::ById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "Expected a handle id");
  const HandleTable* table = static_cast<const HandleTable*>(info.Data());
  Handle* h = table->Find(info[0].As<Napi::Number>().Uint32Value());
  if (!h) ThrowSys(env, "handle", EBADF, "the socket is gone");
  return (h->*Method)(info);
}

void Handle::InitById(Napi::Env env, Napi::Object exports) {
  void* table = Data(env)->handles.get();  // lives as long as the environment's data
  exports.Set("recv", Napi::Function::New(env, ById<&Handle::JS_recv>, "recv", table));
  exports.Set("outboxPut", Napi::Function::New(env, ById<&Handle::JS_outboxPut>, "outboxPut", table));
  exports.Set("outboxFlush", Napi::Function::New(env, ById<&Handle::JS_outboxFlush>, "outboxFlush", table));
  exports.Set("outboxPending", Napi::Function::New(env, ById<&Handle::JS_outboxPending>, "outboxPending", table));
  exports.Set("outboxPeek", Napi::Function::New(env, ById<&Handle::JS_outboxPeek>, "outboxPeek", table));
}

Napi::Value Handle::JS_id(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), id_);
}

Napi::Object Handle::Wrap(Napi::Env env, int fd, int family, int type, int proto) {
  try {
    return Data(env)->handle_ctor.New({Napi::Number::New(env, family), Napi::Number::New(env, type),
                                       Napi::Number::New(env, proto), Napi::Number::New(env, fd)});
  } catch (...) {
    sr_close(fd);
    throw;
  }
}

void Handle::CleanupHook(void* arg) {
  Handle* self = static_cast<Handle*>(arg);
  self->cleanup_hook_ = false;  // Node drops a hook once it has run
  self->CloseFd();
}

void Handle::Release() {
  fd_ = -1;
  std::vector<Chunk>().swap(queue_);  // frees the memory too; clear() would keep it
  head_ = head_off_ = pending_ = 0;
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(env_, CleanupHook, this);
    cleanup_hook_ = false;
  }
}

void Handle::CloseFd() {
  if (fd_ < 0) return;
  int fd = fd_;
  Release();
  if (!DeferClose(env_, fd)) sr_close(fd);
}

int Handle::Fd(Napi::Env env, const char* syscall) const {
  if (fd_ < 0) ThrowSys(env, syscall, EBADF, "the socket is closed");
  return fd_;
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
// socket is closed for JS at once; when an async wait is using the descriptor, the number itself
// is released once that wait (woken now) has returned.
Napi::Value Handle::JS_close(const Napi::CallbackInfo& info) {
  if (fd_ < 0) return info.Env().Undefined();
  int fd = fd_;
  Release();
  if (DeferClose(info.Env(), fd)) return info.Env().Undefined();
  int r = sr_close(fd);
  if (r < 0 && r != -ECONNRESET) ThrowSys(info.Env(), "close", -r);
  return info.Env().Undefined();
}

// detach(): hand the descriptor to the caller (another thread or process), closed for us.
Napi::Value Handle::JS_detach(const Napi::CallbackInfo& info) {
  int fd = fd_;
  Release();
  return Napi::Number::New(info.Env(), fd);
}

// settimeout(null | seconds): the descriptor is O_NONBLOCK exactly when a timeout is set, as in
// CPython, so timed calls can poll() and never block in the kernel.
Napi::Value Handle::JS_settimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double t = -1;
  if (info.Length() > 0 && !info[0].IsNull() && !info[0].IsUndefined()) {
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "Expected timeout to be a number of seconds or null");
    t = info[0].As<Napi::Number>().DoubleValue();
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
  int level = static_cast<int>(ArgInt(info[0], "level", INT32_MIN, INT32_MAX));
  int name = static_cast<int>(ArgInt(info[1], "name", INT32_MIN, INT32_MAX));
  int fd = Fd(env, "setsockopt");
  int r;
  if (info[2].IsNumber() || info[2].IsBoolean()) {
    int value = info[2].IsBoolean() ? info[2].As<Napi::Boolean>().Value()
                                    : static_cast<int>(ArgInt(info[2], "value", INT32_MIN, INT32_MAX));
    r = setsockopt(fd, level, name, &value, sizeof value);
  } else {
    // Python takes an int or bytes; a string is more likely a mistake than a struct.
    if (info[2].IsString()) throw Napi::TypeError::New(env, "Expected value to be an integer or a Uint8Array");
    Bytes value;
    ArgBytes(info[2], "value", &value);
    r = setsockopt(fd, level, name, value.data, static_cast<socklen_t>(value.len));
  }
  if (r < 0) ThrowSys(env, "setsockopt", errno);
  return env.Undefined();
}

// getsockopt(level, name, buflen?): an int, or a Buffer of at most buflen bytes when it is given.
Napi::Value Handle::JS_getsockopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int level = static_cast<int>(ArgInt(info[0], "level", INT32_MIN, INT32_MAX));
  int name = static_cast<int>(ArgInt(info[1], "name", INT32_MIN, INT32_MAX));
  int64_t buflen = ArgIntOr(info, 2, "buflen", 1, 1024, 0);
  int fd = Fd(env, "getsockopt");
  if (buflen == 0) {
    int value = 0;
    socklen_t len = sizeof value;
    if (getsockopt(fd, level, name, &value, &len) < 0) ThrowSys(env, "getsockopt", errno);
    return Napi::Number::New(env, value);
  }
  char buf[1024];
  socklen_t len = static_cast<socklen_t>(buflen);
  if (getsockopt(fd, level, name, buf, &len) < 0) ThrowSys(env, "getsockopt", errno);
  return Napi::Buffer<char>::Copy(env, buf, len);
}

Napi::Value Handle::JS_bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage ss;
  socklen_t len;
  // The address first: reading it can run JS (a getter) that closes this socket, and the number
  // may then already belong to another one. The descriptor is read only after the last JS.
  ParseAddress(env, family_, info[0], &ss, &len);
  int fd = Fd(env, "bind");
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
    ThrowSys(env, "bind", errno, FormatAddress(reinterpret_cast<sockaddr*>(&ss), len));
  return env.Undefined();
}

Napi::Value Handle::JS_listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int backlog = static_cast<int>(ArgIntOr(info, 0, "backlog", 0, INT32_MAX, 128));
  if (listen(Fd(env, "listen"), backlog) < 0) ThrowSys(env, "listen", errno);
  return env.Undefined();
}

// accept() -> [Handle, address]. The new socket is blocking, as in Python.
Napi::Value Handle::JS_accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "accept");
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  ssize_t r = Call(
      env, "accept", POLLIN, [&](bool) { return sr_accept(fd, &ss, &len); }, Deadline());
  if (r < 0) ThrowSys(env, "accept", static_cast<int>(-r));
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Wrap(env, static_cast<int>(r), family_, type_, proto_));
  result.Set(1u, MakeAddress(env, reinterpret_cast<sockaddr*>(&ss), len));
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
  int err = connect(fd, sa, len) < 0 ? errno : 0;
  bool again = false;
  while (err == EINTR) {
    RetryOrInterrupt(env, "connect", wake);
    err = connect(fd, sa, len) < 0 ? errno : 0;
    again = true;
  }
  if (again && err == EISCONN) return 0;  // it completed in between
  if ((err == EINPROGRESS && timeout > 0) || (err == EALREADY && again)) {
    int r = WaitFor(env, "connect", fd, POLLOUT, deadline, wake);
    if (r == 0) return ETIMEDOUT;
    if (r < 0) return -r;
    socklen_t size = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) < 0) return errno;
  }
  return err;
}

}  // namespace

Napi::Value Handle::JS_connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage ss;
  socklen_t len;
  ParseAddress(env, family_, info[0], &ss, &len);  // may run JS: before Fd(), as in bind()
  int fd = Fd(env, "connect");
  const sockaddr* sa = reinterpret_cast<sockaddr*>(&ss);
  int err = DoConnect(env, fd, timeout_, sa, len);
  if (err != 0) ThrowSys(env, "connect", err, FormatAddress(sa, len));
  return env.Undefined();
}

Napi::Value Handle::JS_connect_ex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage ss;
  socklen_t len;
  ParseAddress(env, family_, info[0], &ss, &len);  // may run JS: before Fd(), as in bind()
  int fd = Fd(env, "connect_ex");
  return Napi::Number::New(env, DoConnect(env, fd, timeout_, reinterpret_cast<sockaddr*>(&ss), len));
}

Napi::Value Handle::JS_getsockname(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(Fd(env, "getsockname"), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    ThrowSys(env, "getsockname", errno);
  return MakeAddress(env, reinterpret_cast<sockaddr*>(&ss), len);
}

Napi::Value Handle::JS_getpeername(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getpeername(Fd(env, "getpeername"), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    ThrowSys(env, "getpeername", errno);
  return MakeAddress(env, reinterpret_cast<sockaddr*>(&ss), len);
}

// dup(): a new Handle on a duplicate descriptor (close-on-exec), with the same timeout.
Napi::Value Handle::JS_dup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = fcntl(Fd(env, "dup"), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) ThrowSys(env, "dup", errno);
  Napi::Object copy = Wrap(env, fd, family_, type_, proto_);
  Unwrap(copy)->timeout_ = timeout_;
  return copy;
}

}  // namespace sr
