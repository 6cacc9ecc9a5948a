// SR_ASSERT(cond): an invariant of the addon's own state, checked in debug builds and in the
// sanitizer build (SR_CHECKS: binding.gyp's Debug configuration, scripts/test-asan.js) and compiled
// out of Release. A broken invariant is a bug in this addon, never bad input from JS (that always
// throws a TypeError, RangeError or SocketError instead), so a failure prints where and what to
// stderr and aborts on the spot, before the broken state can reach memory or the kernel.
// The condition stays compiled in Release, unevaluated, so that it cannot rot unseen.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace sr {

#ifdef SR_CHECKS
constexpr bool kChecks = true;
#else
constexpr bool kChecks = false;
#endif

[[noreturn]] inline void AssertFailed(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "select-reactor: %s:%d: invariant broken: %s\n", file, line, cond);
  std::fflush(stderr);
  std::abort();
}

}  // namespace sr

#ifdef SR_CHECKS
#define SR_ASSERT(cond) ((cond) ? static_cast<void>(0) : ::sr::AssertFailed(__FILE__, __LINE__, #cond))
#else
#define SR_ASSERT(cond) static_cast<void>(sizeof(!(cond)))
#endif
