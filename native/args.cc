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

size_t ElementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
    default:  // a type newer than this code: not guessed, since a wrong size would overrun
      return 0;
  }
}

}  // namespace

int64_t ArgInt(const Napi::Value& v, const char* name, int64_t min, int64_t max) {
  Napi::Env env = v.Env();
  double d;
  // One N-API call both checks and reads it: this runs for most arguments of every call.
  if (napi_get_value_double(env, v, &d) != napi_ok)
    ThrowType(env, std::string("Expected ") + name + " to be an integer, got " + Describe(v));
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

bool ViewBytes(const Napi::Value& v, char** data, size_t* len) {
  napi_env env = v.Env();
  void* start = nullptr;
  napi_typedarray_type type;
  size_t length;
  // Asked first, without asking whether it is one: napi_invalid_arg says it is not.
  if (napi_get_typedarray_info(env, v, &type, &length, &start, nullptr, nullptr) == napi_ok) {
    size_t size = ElementSize(type);
    if (size == 0) throw Napi::TypeError::New(env, "Expected a TypedArray of a known element type");
    *len = length * size;
  } else if (v.IsDataView()) {
    NAPI_THROW_IF_FAILED(env, napi_get_dataview_info(env, v, len, &start, nullptr, nullptr), false);
  } else {
    return false;
  }
  *data = static_cast<char*>(start);
  return true;
}

void* TypedView(const Napi::Value& v, napi_typedarray_type want, const char* name, size_t* length) {
  napi_typedarray_type type;
  void* data = nullptr;
  // One call, which also says whether it is a TypedArray at all (napi_invalid_arg): select()
  // passes two on every wait.
  if (napi_get_typedarray_info(v.Env(), v, &type, length, &data, nullptr, nullptr) != napi_ok || type != want) {
    const char* kind = want == napi_int32_array   ? "an Int32Array"
                       : want == napi_uint8_array ? "a Uint8Array"
                                                  : "a TypedArray";
    throw Napi::TypeError::New(v.Env(), std::string("Expected ") + name + " to be " + kind);
  }
  return data;
}

void ArgBytes(const Napi::Value& v, const char* name, Bytes* out) {
  char* data;
  if (ViewBytes(v, &data, &out->len)) {  // a Buffer first: what every echo puts
    out->data = data;
    return;
  }
  if (v.IsString()) {
    out->storage = v.As<Napi::String>().Utf8Value();
    out->data = out->storage.data();
    out->len = out->storage.size();
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
