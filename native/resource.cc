// getrlimit()/setrlimit(), as Python's resource module has them. Node has no way to raise the
// open-file limit, and a server holding 10,000 connections needs more than the usual soft limit
// of 1024 descriptors. A limit of RLIM_INFINITY is Infinity in JS; any other fits a double.
#include <sys/resource.h>

#include <cmath>

#include "addon.h"

namespace sr {

namespace {

Napi::Value Limit(Napi::Env env, rlim_t value) {
  if (value == RLIM_INFINITY) return Napi::Number::New(env, INFINITY);
  return Napi::Number::New(env, static_cast<double>(value));
}

rlim_t ArgLimit(const Napi::Value& v, const char* name) {
  if (v.IsNumber() && v.As<Napi::Number>().DoubleValue() == INFINITY) return RLIM_INFINITY;
  // 2^53: beyond it a double no longer holds every integer.
  return static_cast<rlim_t>(ArgInt(v, name, 0, (int64_t{1} << 53)));
}

// getrlimit(resource) -> [soft, hard]
Napi::Value JS_getrlimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int resource = static_cast<int>(ArgInt(info[0], "resource", 0, INT32_MAX));
  rlimit rl;
  int r = sr_getrlimit(resource, &rl);
  if (r < 0) ThrowSys(env, "getrlimit", -r);
  Napi::Array limits = Napi::Array::New(env, 2);
  limits.Set(0u, Limit(env, rl.rlim_cur));
  limits.Set(1u, Limit(env, rl.rlim_max));
  return limits;
}

// setrlimit(resource, soft, hard). Raising the soft limit up to the hard one needs no privilege;
// raising the hard one does (PermissionError), and soft > hard is EINVAL.
Napi::Value JS_setrlimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int resource = static_cast<int>(ArgInt(info[0], "resource", 0, INT32_MAX));
  rlimit rl;
  rl.rlim_cur = ArgLimit(info[1], "soft");
  rl.rlim_max = ArgLimit(info[2], "hard");
  int r = sr_setrlimit(resource, &rl);
  if (r < 0) ThrowSys(env, "setrlimit", -r);
  return env.Undefined();
}

}  // namespace

void InitResource(Napi::Env env, Napi::Object exports) {
  exports.Set("getrlimit", Napi::Function::New(env, JS_getrlimit, "getrlimit"));
  exports.Set("setrlimit", Napi::Function::New(env, JS_setrlimit, "setrlimit"));
  exports.Set("RLIMIT_NOFILE", Napi::Number::New(env, RLIMIT_NOFILE));
}

}  // namespace sr
