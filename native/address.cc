// Socket addresses in Python's forms, and getaddrinfo(). Host names are resolved the way Python's
// setipaddr() does: "" is INADDR_ANY, "<broadcast>" is INADDR_BROADCAST, numeric forms are parsed,
// anything else goes to getaddrinfo() for the socket's family.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "addon.h"

namespace sr {

namespace {

// gaierror: errno is the EAI_* value, code its name, as Python's socket.gaierror.
[[noreturn]] void ThrowGai(Napi::Env env, int err, const std::string& host) {
  const char* name = "EAI_UNKNOWN";
  switch (err) {
#define SR_EAI(e) \
  case e:         \
    name = #e;    \
    break;
    SR_EAI(EAI_AGAIN)
    SR_EAI(EAI_BADFLAGS)
    SR_EAI(EAI_FAIL)
    SR_EAI(EAI_FAMILY)
    SR_EAI(EAI_MEMORY)
    SR_EAI(EAI_NONAME)
    SR_EAI(EAI_SERVICE)
    SR_EAI(EAI_SOCKTYPE)
#undef SR_EAI
    default:
      break;
  }
  if (err == EAI_SYSTEM) ThrowSys(env, "getaddrinfo", errno, host);
  std::string message = std::string("getaddrinfo ") + name + ": " + gai_strerror(err) + " (" + host + ")";
  Napi::Value error =
      Data(env)->error_factory.Call({Napi::String::New(env, name), Napi::Number::New(env, err),
                                     Napi::String::New(env, "getaddrinfo"), Napi::String::New(env, message)});
  throw Napi::Error(env, error);
}

// Fills the address part of an AF_INET/AF_INET6 sockaddr from a host string.
void ResolveHost(Napi::Env env, int family, const std::string& host, sockaddr_storage* ss) {
  if (family == AF_INET) {
    sockaddr_in* sin = reinterpret_cast<sockaddr_in*>(ss);
    if (host.empty()) {
      sin->sin_addr.s_addr = htonl(INADDR_ANY);
      return;
    }
    if (host == "<broadcast>") {
      sin->sin_addr.s_addr = htonl(INADDR_BROADCAST);
      return;
    }
    if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) == 1) return;
  } else {
    sockaddr_in6* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
    if (host.empty()) {
      sin6->sin6_addr = in6addr_any;
      return;
    }
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) == 1) return;
  }
  addrinfo hints = {};
  hints.ai_family = family;
  addrinfo* res = nullptr;
  int err = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (err != 0) ThrowGai(env, err, host);
  if (family == AF_INET)
    reinterpret_cast<sockaddr_in*>(ss)->sin_addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  else
    reinterpret_cast<sockaddr_in6*>(ss)->sin6_addr = reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr;
  freeaddrinfo(res);
}

[[noreturn]] void ThrowAddressType(Napi::Env env, const char* expected) {
  throw Napi::TypeError::New(env, std::string("Expected address to be ") + expected);
}

}  // namespace

void ParseAddress(Napi::Env env, int family, const Napi::Value& v, sockaddr_storage* ss, socklen_t* len) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_UNIX) {
    if (!v.IsString()) ThrowAddressType(env, "a path string for AF_UNIX");
    std::string path = v.As<Napi::String>().Utf8Value();
    sockaddr_un* sun = reinterpret_cast<sockaddr_un*>(ss);
    // Abstract names (leading NUL) use every byte given; paths need room for their terminator. The
    // empty name is no name at all (Linux autobinds an abstract one), as Python passes it.
    bool abstract = path.empty() || path[0] == '\0';
    size_t max = sizeof sun->sun_path - (abstract ? 0 : 1);
    if (path.size() > max)
      throw Napi::RangeError::New(env, "Expected an AF_UNIX path of at most " + std::to_string(max) + " bytes");
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path.data(), path.size());
    *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
    return;
  }
  if (family != AF_INET && family != AF_INET6)
    throw Napi::RangeError::New(env, "Addresses are supported for AF_INET, AF_INET6 and AF_UNIX only");

  const char* form = family == AF_INET ? "[host, port] for AF_INET" : "[host, port, flowinfo?, scope_id?] for AF_INET6";
  if (!v.IsArray()) ThrowAddressType(env, form);
  Napi::Array a = v.As<Napi::Array>();
  uint32_t n = a.Length();
  if (n < 2 || (family == AF_INET && n != 2) || n > 4) ThrowAddressType(env, form);
  Napi::Value host = a.Get(0u);
  if (!host.IsString()) ThrowAddressType(env, form);
  int port = static_cast<int>(ArgInt(a.Get(1u), "port", 0, 65535));

  ResolveHost(env, family, host.As<Napi::String>().Utf8Value(), ss);
  if (family == AF_INET) {
    sockaddr_in* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *sin;
  } else {
    sockaddr_in6* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    if (n > 2) sin6->sin6_flowinfo = htonl(static_cast<uint32_t>(ArgInt(a.Get(2u), "flowinfo", 0, 0xfffff)));
    if (n > 3) sin6->sin6_scope_id = static_cast<uint32_t>(ArgInt(a.Get(3u), "scope_id", 0, UINT32_MAX));
    *len = sizeof *sin6;
  }
}

Napi::Value MakeAddress(Napi::Env env, const sockaddr* sa, socklen_t len) {
  if (len == 0) return env.Null();  // recvfrom() on a connected stream socket fills in nothing
  char host[INET6_ADDRSTRLEN];
  switch (sa->sa_family) {
    case AF_INET: {
      const sockaddr_in* sin = reinterpret_cast<const sockaddr_in*>(sa);
      inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
      Napi::Array a = Napi::Array::New(env, 2);
      a.Set(0u, Napi::String::New(env, host));
      a.Set(1u, Napi::Number::New(env, ntohs(sin->sin_port)));
      return a;
    }
    case AF_INET6: {
      const sockaddr_in6* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
      Napi::Array a = Napi::Array::New(env, 4);
      a.Set(0u, Napi::String::New(env, host));
      a.Set(1u, Napi::Number::New(env, ntohs(sin6->sin6_port)));
      a.Set(2u, Napi::Number::New(env, ntohl(sin6->sin6_flowinfo)));
      a.Set(3u, Napi::Number::New(env, sin6->sin6_scope_id));
      return a;
    }
    case AF_UNIX: {
      const sockaddr_un* sun = reinterpret_cast<const sockaddr_un*>(sa);
      size_t off = offsetof(sockaddr_un, sun_path);
      if (len <= off) return Napi::String::New(env, "");  // unnamed
      size_t n = len - off;
      if (sun->sun_path[0] != '\0') n = strnlen(sun->sun_path, n);
      return Napi::String::New(env, sun->sun_path, n);
    }
    default:
      // An address family we do not decode (a socket adopted with fileno): say so, do not guess.
      return env.Null();
  }
}

std::string FormatAddress(const sockaddr* sa, socklen_t len) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    const sockaddr_in* sin = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(sin->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const sockaddr_in6* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(sin6->sin6_port));
  }
  if (sa->sa_family == AF_UNIX && len > offsetof(sockaddr_un, sun_path)) {
    const sockaddr_un* sun = reinterpret_cast<const sockaddr_un*>(sa);
    return std::string(sun->sun_path, strnlen(sun->sun_path, len - offsetof(sockaddr_un, sun_path)));
  }
  return "?";
}

namespace {

// getaddrinfo(host, port, family, type, proto, flags) -> [family, type, proto, canonname, address][]
Napi::Value JS_getaddrinfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host, port;
  bool has_host = false, has_port = false;
  if (info.Length() > 0 && !info[0].IsNull() && !info[0].IsUndefined()) {
    host = ArgString(info[0], "host");
    has_host = true;
  }
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) {
    port =
        info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::to_string(ArgInt(info[1], "port", 0, 65535));
    has_port = true;
  }
  if (!has_host && !has_port) throw Napi::TypeError::New(env, "Expected host or port to be given");
  addrinfo hints = {};
  hints.ai_family = static_cast<int>(ArgIntOr(info, 2, "family", 0, INT32_MAX, AF_UNSPEC));
  hints.ai_socktype = static_cast<int>(ArgIntOr(info, 3, "type", 0, INT32_MAX, 0));
  hints.ai_protocol = static_cast<int>(ArgIntOr(info, 4, "proto", 0, INT32_MAX, 0));
  hints.ai_flags = static_cast<int>(ArgIntOr(info, 5, "flags", 0, INT32_MAX, 0));

  addrinfo* res = nullptr;
  int err = getaddrinfo(has_host ? host.c_str() : nullptr, has_port ? port.c_str() : nullptr, &hints, &res);
  if (err != 0) ThrowGai(env, err, has_host ? host : port);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    Napi::Array row = Napi::Array::New(env, 5);
    row.Set(0u, Napi::Number::New(env, ai->ai_family));
    row.Set(1u, Napi::Number::New(env, ai->ai_socktype));
    row.Set(2u, Napi::Number::New(env, ai->ai_protocol));
    row.Set(3u, Napi::String::New(env, ai->ai_canonname ? ai->ai_canonname : ""));
    row.Set(4u, MakeAddress(env, ai->ai_addr, ai->ai_addrlen));
    out.Set(i++, row);
  }
  freeaddrinfo(res);
  return out;
}

// Byte order, as in C: the argument's range is checked, never silently truncated.
Napi::Value JS_htons(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), htons(static_cast<uint16_t>(ArgInt(info[0], "x", 0, 0xffff))));
}
Napi::Value JS_ntohs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ntohs(static_cast<uint16_t>(ArgInt(info[0], "x", 0, 0xffff))));
}
Napi::Value JS_htonl(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), htonl(static_cast<uint32_t>(ArgInt(info[0], "x", 0, 0xffffffff))));
}
Napi::Value JS_ntohl(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ntohl(static_cast<uint32_t>(ArgInt(info[0], "x", 0, 0xffffffff))));
}

}  // namespace

void InitAddress(Napi::Env env, Napi::Object exports) {
  exports.Set("getaddrinfo", Napi::Function::New(env, JS_getaddrinfo, "getaddrinfo"));
  exports.Set("htons", Napi::Function::New(env, JS_htons, "htons"));
  exports.Set("ntohs", Napi::Function::New(env, JS_ntohs, "ntohs"));
  exports.Set("htonl", Napi::Function::New(env, JS_htonl, "htonl"));
  exports.Set("ntohl", Napi::Function::New(env, JS_ntohl, "ntohl"));
}

}  // namespace sr
