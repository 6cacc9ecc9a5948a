// The one error path. Names come from one table (libuv's UV_ERRNO_MAP habit); the error object
// itself is built by the JS factory handed over at load, so the SocketError classes live in one
// place (TypeScript) and native code only says which errno, from which call.
#include <errno.h>
#include <string.h>

#include "addon.h"

namespace sr {

namespace {

// POSIX errno values, plus the few socket ones both Linux and macOS define. Where two names share
// a value (EAGAIN/EWOULDBLOCK), the first listed is the name reported.
// clang-format off
#define SR_ERRNO_MAP(X) \
  X(E2BIG) \
  X(EACCES) \
  X(EADDRINUSE) \
  X(EADDRNOTAVAIL) \
  X(EAFNOSUPPORT) \
  X(EAGAIN) \
  X(EALREADY) \
  X(EBADF) \
  X(EBADMSG) \
  X(EBUSY) \
  X(ECANCELED) \
  X(ECHILD) \
  X(ECONNABORTED) \
  X(ECONNREFUSED) \
  X(ECONNRESET) \
  X(EDEADLK) \
  X(EDESTADDRREQ) \
  X(EDOM) \
  X(EDQUOT) \
  X(EEXIST) \
  X(EFAULT) \
  X(EFBIG) \
  X(EHOSTDOWN) \
  X(EHOSTUNREACH) \
  X(EIDRM) \
  X(EILSEQ) \
  X(EINPROGRESS) \
  X(EINTR) \
  X(EINVAL) \
  X(EIO) \
  X(EISCONN) \
  X(EISDIR) \
  X(ELOOP) \
  X(EMFILE) \
  X(EMLINK) \
  X(EMSGSIZE) \
  X(EMULTIHOP) \
  X(ENAMETOOLONG) \
  X(ENETDOWN) \
  X(ENETRESET) \
  X(ENETUNREACH) \
  X(ENFILE) \
  X(ENOBUFS) \
  X(ENODEV) \
  X(ENOENT) \
  X(ENOEXEC) \
  X(ENOLCK) \
  X(ENOLINK) \
  X(ENOMEM) \
  X(ENOMSG) \
  X(ENOPROTOOPT) \
  X(ENOSPC) \
  X(ENOSYS) \
  X(ENOTCONN) \
  X(ENOTDIR) \
  X(ENOTEMPTY) \
  X(ENOTRECOVERABLE) \
  X(ENOTSOCK) \
  X(ENOTSUP) \
  X(ENOTTY) \
  X(ENXIO) \
  X(EOPNOTSUPP) \
  X(EOVERFLOW) \
  X(EOWNERDEAD) \
  X(EPERM) \
  X(EPFNOSUPPORT) \
  X(EPIPE) \
  X(EPROTO) \
  X(EPROTONOSUPPORT) \
  X(EPROTOTYPE) \
  X(ERANGE) \
  X(EROFS) \
  X(ESHUTDOWN) \
  X(ESOCKTNOSUPPORT) \
  X(ESPIPE) \
  X(ESRCH) \
  X(ESTALE) \
  X(ETIMEDOUT) \
  X(ETOOMANYREFS) \
  X(ETXTBSY) \
  X(EWOULDBLOCK) \
  X(EXDEV)
// clang-format on

struct ErrnoEntry {
  const char* name;
  int value;
};

#define SR_ERRNO_ENTRY(e) {#e, e},
const ErrnoEntry kErrnoTable[] = {SR_ERRNO_MAP(SR_ERRNO_ENTRY)};
#undef SR_ERRNO_ENTRY

}  // namespace

const char* ErrnoName(int err) {
  for (const ErrnoEntry& e : kErrnoTable)
    if (e.value == err) return e.name;
  return nullptr;
}

napi_status SysErrorValue(napi_env env, const char* syscall, int err, const std::string& detail, napi_value* error) {
  const char* name = ErrnoName(err);
  std::string code = name ? name : "E" + std::to_string(err);
  char buf[256];
  // The XSI strerror_r on macOS, the GNU one on glibc: only the GNU one returns the text.
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  const char* text = strerror_r(err, buf, sizeof buf);
#else
  const char* text = strerror_r(err, buf, sizeof buf) == 0 ? buf : "Unknown error";
#endif
  std::string message = std::string(syscall) + " " + code + ": " + text;
  if (!detail.empty()) message += " (" + detail + ")";

  napi_value args[4], factory, recv;
  napi_status status;
  if ((status = napi_create_string_utf8(env, code.data(), code.size(), &args[0])) != napi_ok ||
      (status = napi_create_int32(env, err, &args[1])) != napi_ok ||
      (status = napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &args[2])) != napi_ok ||
      (status = napi_create_string_utf8(env, message.data(), message.size(), &args[3])) != napi_ok ||
      (status = napi_get_reference_value(env, Data(env)->error_factory, &factory)) != napi_ok ||
      (status = napi_get_undefined(env, &recv)) != napi_ok)
    return status;
  return napi_call_function(env, recv, factory, 4, args, error);
}

Napi::Value SysError(Napi::Env env, const char* syscall, int err, const std::string& detail) {
  napi_value error;
  NAPI_THROW_IF_FAILED(env, SysErrorValue(env, syscall, err, detail, &error), Napi::Value());
  return Napi::Value(env, error);
}

void ThrowSys(Napi::Env env, const char* syscall, int err, const std::string& detail) {
  throw Napi::Error(env, SysError(env, syscall, err, detail));
}

void ExportErrno(Napi::Env env, Napi::Object exports) {
  Napi::Object table = Napi::Object::New(env);
  for (const ErrnoEntry& e : kErrnoTable) table.Set(e.name, Napi::Number::New(env, e.value));
  exports.Set("errno", table);
}

}  // namespace sr
