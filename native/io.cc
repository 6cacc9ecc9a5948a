// Data transfer: send/sendall/sendto, recv/recv_into/recvfrom, shutdown. Writes carry
// MSG_NOSIGNAL, so a closed peer is EPIPE (BrokenPipeError), never SIGPIPE. Bytes from JS are
// used only during the call; nothing here keeps a pointer into a JS buffer.
#include <errno.h>
#include <string.h>

#include <algorithm>
#include <new>

#include "call.h"

namespace sr {

namespace {

constexpr size_t kScratchSize = 64 * 1024;
constexpr int64_t kMaxBufsize = INT32_MAX;

int DontWait(bool dontwait) {
  return dontwait ? MSG_DONTWAIT : 0;
}

// recvfrom() reads into this environment's scratch buffer when it is big enough, so the only
// allocation per call is the Buffer of the bytes actually read. (recv() reads into the pool the
// TypeScript layer passes it.)
char* Scratch(Napi::Env env, size_t want, std::unique_ptr<char[]>* big) {
  if (want > kScratchSize) {
    // The caller chose the size: running out of memory is its error to handle, not an abort.
    big->reset(new (std::nothrow) char[want]);
    if (!*big) ThrowSys(env, "recvfrom", ENOMEM, std::to_string(want) + " bytes");
    return big->get();
  }
  AddonData* data = Data(env);
  if (!data->scratch) {
    data->scratch.reset(new char[kScratchSize]);
  }
  return data->scratch.get();
}

// A writable view: recv_into's buffer, recv's pool.
void WritableView(const Napi::Value& v, char** data, size_t* len) {
  if (!ViewBytes(v, data, len))
    throw Napi::TypeError::New(v.Env(), "Expected buffer to be a Uint8Array (or another ArrayBufferView)");
}

int ArgFlags(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<int>(ArgIntOr(info, i, "flags", 0, INT32_MAX, 0));
}

// The bytes a read of at most `bufsize` put in the buffer. Its result can be more: with
// MSG_TRUNC, a datagram socket returns the datagram's real length, however little it wrote.
size_t Written(ssize_t n, size_t bufsize) {
  return std::min(static_cast<size_t>(n), bufsize);
}

// With MSG_TRUNC, TCP discards what it would have read and writes nothing, yet returns the count.
// The buffers recv() and recvfrom() read into are shared with earlier reads: zeroed first, the
// bytes the kernel did not write read as zeros, never as another socket's data.
void Unread(char* buf, size_t bufsize, int flags) {
  if (flags & MSG_TRUNC) memset(buf, 0, bufsize);
}

// What a read waits for: urgent data (MSG_OOB) is signalled by POLLPRI, not POLLIN.
short ReadEvents(int flags) {
  return (flags & MSG_OOB) ? POLLPRI : POLLIN;
}

}  // namespace

Napi::Value Handle::JS_send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes b;
  ArgBytes(info[1], "data", &b);
  int flags = ArgFlags(info, 2);
  int fd = Fd(env, "send");
  ssize_t n = Call(
      env, "send", POLLOUT, [&](bool dw) { return sr_send(fd, b.data, b.len, flags | DontWait(dw)); }, Deadline());
  if (n < 0) ThrowSys(env, "send", static_cast<int>(-n));
  return Napi::Number::New(env, static_cast<double>(n));
}

// sendall(): one deadline for the whole call (Python 3.5+), not one per send().
Napi::Value Handle::JS_sendall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes b;
  ArgBytes(info[1], "data", &b);
  int flags = ArgFlags(info, 2);
  int fd = Fd(env, "sendall");
  double deadline = Deadline();
  size_t off = 0;
  while (off < b.len) {
    ssize_t n = Call(
        env, "send", POLLOUT, [&](bool dw) { return sr_send(fd, b.data + off, b.len - off, flags | DontWait(dw)); },
        deadline);
    if (n < 0) ThrowSys(env, "send", static_cast<int>(-n));
    off += static_cast<size_t>(n);
  }
  return env.Undefined();
}

// sendto(data, address) or sendto(data, flags, address), as Python overloads it.
Napi::Value Handle::JS_sendto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool has_flags = info.Length() > 3;
  // The address first: reading it can run JS (a getter) that closes this socket or detaches the
  // data's ArrayBuffer. So the pointer into the data and the descriptor are taken after it.
  sockaddr_storage ss;
  socklen_t len;
  ParseAddress(env, Family(env, "sendto"), info[has_flags ? 3 : 2], &ss, &len);
  Bytes b;
  ArgBytes(info[1], "data", &b);
  int flags = has_flags ? ArgFlags(info, 2) : 0;
  int fd = Fd(env, "sendto");
  const sockaddr* sa = reinterpret_cast<sockaddr*>(&ss);
  ssize_t n = Call(
      env, "sendto", POLLOUT, [&](bool dw) { return sr_sendto(fd, b.data, b.len, flags | DontWait(dw), sa, len); },
      Deadline());
  if (n < 0) ThrowSys(env, "sendto", static_cast<int>(-n), FormatAddress(sa, len));
  return Napi::Number::New(env, static_cast<double>(n));
}

// recv(id, bufsize, flags, into, offset) -> count: up to `bufsize` bytes into `into` at `offset`.
// The TypeScript recv() passes its shared pool (src/pool.ts) and returns a view of what was read,
// so a read allocates nothing here; a count of 0 means the peer has closed its side. The count is
// of the bytes written, never more than `bufsize`, MSG_TRUNC or not. (CPython's recv() returns the
// datagram's length there, its tail being whatever memory followed: not copied here.)
Napi::Value Handle::JS_recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t bufsize = static_cast<size_t>(ArgInt(info[1], "bufsize", 0, kMaxBufsize));
  int flags = ArgFlags(info, 2);
  char* data;
  size_t len;
  WritableView(info[3], &data, &len);
  size_t offset = static_cast<size_t>(ArgInt(info[4], "offset", 0, kMaxBufsize));
  int fd = Fd(env, "recv");
  if (offset > len || len - offset < bufsize)
    throw Napi::RangeError::New(env, "Expected room for bufsize bytes at offset in the pool");
  char* buf = data + offset;
  Unread(buf, bufsize, flags);
  ssize_t n = Call(
      env, "recv", ReadEvents(flags), [&](bool dw) { return sr_recv(fd, buf, bufsize, flags | DontWait(dw)); },
      Deadline());
  if (n < 0) ThrowSys(env, "recv", static_cast<int>(-n));
  return Napi::Number::New(env, static_cast<double>(Written(n, bufsize)));
}

// recv_into(buffer, nbytes = 0, flags = 0) -> count: reads straight into the caller's memory,
// at most `nbytes` bytes. With MSG_TRUNC on a datagram socket the count is the datagram's real
// length, which may be more than was written, as the kernel and Python report it.
Napi::Value Handle::JS_recv_into(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  char* data;
  size_t len;
  WritableView(info[1], &data, &len);
  size_t nbytes = static_cast<size_t>(ArgIntOr(info, 2, "nbytes", 0, kMaxBufsize, 0));
  if (nbytes > len)
    throw Napi::RangeError::New(env, "Expected nbytes to be at most the buffer's length (" + std::to_string(len) + ")");
  if (nbytes == 0) nbytes = len;
  int flags = ArgFlags(info, 3);
  int fd = Fd(env, "recv_into");
  ssize_t n = Call(
      env, "recv_into", ReadEvents(flags), [&](bool dw) { return sr_recv(fd, data, nbytes, flags | DontWait(dw)); },
      Deadline());
  if (n < 0) ThrowSys(env, "recv_into", static_cast<int>(-n));
  return Napi::Number::New(env, static_cast<double>(n));
}

// recvfrom(bufsize, flags) -> [Buffer, address | null]: the Buffer holds the bytes read, at most
// `bufsize`, MSG_TRUNC or not, as recv()'s do.
Napi::Value Handle::JS_recvfrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t bufsize = static_cast<size_t>(ArgInt(info[1], "bufsize", 0, kMaxBufsize));
  int flags = ArgFlags(info, 2);
  int fd = Fd(env, "recvfrom");
  std::unique_ptr<char[]> big;
  char* buf = Scratch(env, bufsize, &big);
  Unread(buf, bufsize, flags);
  sockaddr_storage ss;
  socklen_t len = 0;
  ssize_t n = Call(
      env, "recvfrom", ReadEvents(flags),
      [&](bool dw) { return sr_recvfrom(fd, buf, bufsize, flags | DontWait(dw), &ss, &len); }, Deadline());
  if (n < 0) ThrowSys(env, "recvfrom", static_cast<int>(-n));
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Buffer<char>::Copy(env, buf, Written(n, bufsize)));
  result.Set(1u, MakeAddress(env, reinterpret_cast<sockaddr*>(&ss), len));
  return result;
}

Napi::Value Handle::JS_shutdown(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int how = static_cast<int>(ArgInt(info[1], "how", INT32_MIN, INT32_MAX));
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
    throw Napi::RangeError::New(env, "Expected how to be SHUT_RD, SHUT_WR or SHUT_RDWR");
  int r = sr_shutdown(Fd(env, "shutdown"), how);
  if (r < 0) ThrowSys(env, "shutdown", -r);
  return env.Undefined();
}

}  // namespace sr
