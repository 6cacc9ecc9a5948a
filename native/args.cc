// Argument checks. Whatever JS passes, native code sees only values it has checked; a bad one
// becomes a TypeError or RangeError that names the argument and says what was expected.
#include <cmath>

#include "addon.h"

namespace sr {

namespace {

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

std::string Describe(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return "a boolean";
    case napi_number:
      return std::to_string(v.As<Napi::Number>().DoubleValue());
    case napi_string:
      return "a string";
    case napi_bigint:
      return "a bigint";
    case napi_function:
      return "a function";
    default:
      return "an object";
  }
}

}  // namespace

int64_t ArgInt(const Napi::Value& v, const char* name, int64_t min, int64_t max) {
  Napi::Env env = v.Env();
  if (!v.IsNumber()) ThrowType(env, std::string("Expected ") + name + " to be an integer, got " + Describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d) || std::trunc(d) != d)
    ThrowType(env, std::string("Expected ") + name + " to be an integer, got " + Describe(v));
  if (d < static_cast<double>(min) || d > static_cast<double>(max))
    throw Napi::RangeError::New(env, std::string("Expected ") + name + " to be an integer in [" + std::to_string(min) +
                                         ", " + std::to_string(max) + "], got " + Describe(v));
  return static_cast<int64_t>(d);
}

int64_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max,
                 int64_t fallback) {
  if (i >= info.Length() || info[i].IsUndefined()) return fallback;
  return ArgInt(info[i], name, min, max);
}

std::string ArgString(const Napi::Value& v, const char* name) {
  if (!v.IsString()) ThrowType(v.Env(), std::string("Expected ") + name + " to be a string, got " + Describe(v));
  return v.As<Napi::String>().Utf8Value();
}

void ArgBytes(const Napi::Value& v, const char* name, Bytes* out) {
  if (v.IsString()) {
    out->storage = v.As<Napi::String>().Utf8Value();
    out->data = out->storage.data();
    out->len = out->storage.size();
    return;
  }
  if (v.IsTypedArray() || v.IsDataView()) {
    // Both are views: ask N-API for the view's own bytes, not the whole backing store.
    void* data = nullptr;
    size_t len = 0;
    if (v.IsTypedArray()) {
      Napi::TypedArray ta = v.As<Napi::TypedArray>();
      len = ta.ByteLength();
      data = static_cast<char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    } else {
      Napi::DataView dv = v.As<Napi::DataView>();
      len = dv.ByteLength();
      data = static_cast<char*>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
    }
    out->data = static_cast<const char*>(data);
    out->len = len;
    return;
  }
  if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    out->data = static_cast<const char*>(ab.Data());
    out->len = ab.ByteLength();
    return;
  }
  ThrowType(v.Env(), std::string("Expected ") + name + " to be a Uint8Array or a string, got " + Describe(v));
}

}  // namespace sr
