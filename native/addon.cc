// Module initialisation: constants from the platform headers, the errno table, the socket calls
// (by id, socket.cc), and setup(), through which the TypeScript layer hands over its error factory.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>

#include "addon.h"

namespace sr {

AddonData* Data(Napi::Env env) {
  return env.GetInstanceData<AddonData>();
}

namespace {

// setup(errorFactory, isMainThread): called once by src/binding.ts right after loading.
Napi::Value JS_setup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "Expected errorFactory to be a function");
  AddonData* data = Data(env);
  data->error_factory = Napi::Persistent(info[0].As<Napi::Function>());
  data->interruptible = info[1].ToBoolean().Value();
  return env.Undefined();
}

void ExportConstants(Napi::Env env, Napi::Object exports) {
#define SR_SET(name) exports.Set(#name, Napi::Number::New(env, static_cast<double>(name)))
  // Required by POSIX: every platform node-gyp builds on has these.
  SR_SET(AF_UNSPEC);
  SR_SET(AF_INET);
  SR_SET(AF_INET6);
  SR_SET(AF_UNIX);
  SR_SET(SOCK_STREAM);
  SR_SET(SOCK_DGRAM);
  SR_SET(SOCK_RAW);
  SR_SET(SOL_SOCKET);
  SR_SET(SO_REUSEADDR);
  SR_SET(SO_ERROR);
  SR_SET(SO_RCVBUF);
  SR_SET(SO_SNDBUF);
  SR_SET(SO_KEEPALIVE);
  SR_SET(SO_LINGER);
  SR_SET(SO_BROADCAST);
  SR_SET(SO_TYPE);
  SR_SET(SO_ACCEPTCONN);
  SR_SET(SO_RCVLOWAT);
  SR_SET(SO_SNDLOWAT);
  SR_SET(SO_RCVTIMEO);
  SR_SET(SO_SNDTIMEO);
  SR_SET(SO_DONTROUTE);
  SR_SET(SOMAXCONN);
  SR_SET(IPPROTO_IP);
  SR_SET(IPPROTO_IPV6);
  SR_SET(IPPROTO_TCP);
  SR_SET(IPPROTO_ICMP);
  SR_SET(TCP_NODELAY);
  SR_SET(IP_TTL);
  SR_SET(IP_TOS);
  SR_SET(IP_MULTICAST_TTL);
  SR_SET(IP_MULTICAST_LOOP);
  SR_SET(IP_MULTICAST_IF);
  SR_SET(IP_ADD_MEMBERSHIP);
  SR_SET(IP_DROP_MEMBERSHIP);
  SR_SET(IPV6_UNICAST_HOPS);
  SR_SET(IPV6_JOIN_GROUP);
  SR_SET(IPV6_LEAVE_GROUP);
  SR_SET(INADDR_ANY);
  SR_SET(INADDR_BROADCAST);
  SR_SET(INADDR_LOOPBACK);
  SR_SET(INADDR_NONE);
  SR_SET(SHUT_WR);
  SR_SET(SHUT_RDWR);
  SR_SET(MSG_PEEK);
  SR_SET(MSG_DONTWAIT);
  SR_SET(MSG_OOB);
  SR_SET(MSG_WAITALL);
  SR_SET(MSG_TRUNC);
  SR_SET(MSG_CTRUNC);
  SR_SET(MSG_DONTROUTE);
  SR_SET(AI_PASSIVE);
  SR_SET(AI_CANONNAME);
  SR_SET(AI_NUMERICHOST);
  SR_SET(AI_NUMERICSERV);
  SR_SET(AI_ADDRCONFIG);
  SR_SET(AI_V4MAPPED);
  SR_SET(AI_ALL);
  SR_SET(FD_SETSIZE);
  SR_SET(POLLPRI);
  SR_SET(POLLOUT);
  SR_SET(POLLERR);
  SR_SET(POLLHUP);
  SR_SET(POLLNVAL);
  SR_SET(SOCK_SEQPACKET);
  SR_SET(SO_OOBINLINE);
  SR_SET(IPPROTO_UDP);
  SR_SET(IPV6_V6ONLY);
  SR_SET(SHUT_RD);
  SR_SET(MSG_EOR);
  SR_SET(POLLIN);
  // Present on some platforms only: exported where the headers define them, absent elsewhere.
#ifdef SO_REUSEPORT
  SR_SET(SO_REUSEPORT);
#endif
#ifdef SO_DOMAIN
  SR_SET(SO_DOMAIN);
#endif
#ifdef SO_PROTOCOL
  SR_SET(SO_PROTOCOL);
#endif
#ifdef SO_NOSIGPIPE
  SR_SET(SO_NOSIGPIPE);
#endif
#ifdef SO_BINDTODEVICE
  SR_SET(SO_BINDTODEVICE);
#endif
#ifdef SO_PRIORITY
  SR_SET(SO_PRIORITY);
#endif
#ifdef SO_PEERCRED
  SR_SET(SO_PEERCRED);
#endif
#ifdef SOCK_NONBLOCK
  SR_SET(SOCK_NONBLOCK);
#endif
#ifdef SOCK_CLOEXEC
  SR_SET(SOCK_CLOEXEC);
#endif
#ifdef MSG_NOSIGNAL
  SR_SET(MSG_NOSIGNAL);
#endif
#ifdef MSG_MORE
  SR_SET(MSG_MORE);
#endif
#ifdef MSG_CONFIRM
  SR_SET(MSG_CONFIRM);
#endif
#ifdef TCP_KEEPIDLE
  SR_SET(TCP_KEEPIDLE);
#endif
#ifdef TCP_KEEPINTVL
  SR_SET(TCP_KEEPINTVL);
#endif
#ifdef TCP_KEEPCNT
  SR_SET(TCP_KEEPCNT);
#endif
#ifdef TCP_KEEPALIVE
  SR_SET(TCP_KEEPALIVE);
#endif
#ifdef TCP_MAXSEG
  SR_SET(TCP_MAXSEG);
#endif
#ifdef TCP_CORK
  SR_SET(TCP_CORK);
#endif
#ifdef TCP_QUICKACK
  SR_SET(TCP_QUICKACK);
#endif
#ifdef TCP_USER_TIMEOUT
  SR_SET(TCP_USER_TIMEOUT);
#endif
#ifdef TCP_FASTOPEN
  SR_SET(TCP_FASTOPEN);
#endif
#ifdef POLLRDHUP
  SR_SET(POLLRDHUP);
#endif
#undef SR_SET
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  Handle::Init(env, exports);
  exports.Set("setup", Napi::Function::New(env, JS_setup, "setup"));
  // Whether SR_ASSERT is compiled in (checks.h), so that a test can tell that the sanitizer build
  // really checks the invariants, and that Release does not pay for them.
  exports.Set("checksEnabled", Napi::Boolean::New(env, kChecks));
  ExportConstants(env, exports);
  ExportErrno(env, exports);
  InitAddress(env, exports);
  InitSelect(env, exports);
  InitPoll(env, exports);
  InitEpoll(env, exports);
  InitResource(env, exports);
  InitSignals(env, exports);
  return exports;
}

}  // namespace

}  // namespace sr

// The macro pastes its argument into an identifier, so it needs an unqualified name.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return sr::Init(env, exports);
}
NODE_API_MODULE(select_reactor, InitModule)
