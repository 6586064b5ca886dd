// Denormals flushed to zero in the core's arithmetic. A float32 below FLT_MIN (1.18e-38) is
// denormal; many CPUs compute with one through a slow path (a microcode assist per instruction
// on most x86 cores: a forward with denormal weights has been measured over 100x slower). Such
// values are far below anything a GRU's result depends on (a denormal term is lost in any sum
// with a normal one, and a state that decays into the range is 0 for every purpose), so the
// core computes with
//   x86-64  MXCSR FTZ (bit 15: a denormal result is written as 0) and DAZ (bit 6: a denormal
//           operand is read as 0), the SSE/AVX control register of the thread;
//   arm64   FPCR FZ (bit 24: both, for the Advanced SIMD and FP instructions);
// in an environment of its own (kCoreFpEnv: also round to nearest, exceptions masked). The
// pool's own threads set it once (thread_pool.cpp); a thread that calls the C ABI gets it for
// the length of the call and its own environment back afterwards (FlushDenormals, in Acquired
// and at the top of each computing function that takes no handle), so the caller's arithmetic
// (JavaScript's, in the addon) is never changed. WebAssembly has no such control: denormals are
// computed exactly there (README, Accuracy).
#pragma once
#include <stdint.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace gru {

#if defined(__x86_64__) || defined(_M_X64)
using FpEnv = uint32_t;
// MXCSR: every exception masked (bits 7-12), round to nearest (RC = 0), FTZ (bit 15), DAZ (bit 6),
// no sticky flags.
constexpr FpEnv kCoreFpEnv = 0x1f80u | 0x8000u | 0x0040u;
inline FpEnv fp_env_get() { return _mm_getcsr(); }
inline void fp_env_set(FpEnv env) { _mm_setcsr(env); }
#elif defined(__aarch64__) && defined(__GNUC__)
using FpEnv = uint64_t;
// FPCR: FZ (bit 24); round to nearest, no trapping, IEEE NaNs (all other bits 0).
constexpr FpEnv kCoreFpEnv = uint64_t{1} << 24;
inline FpEnv fp_env_get() {
  uint64_t env;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(env));
  return env;
}
inline void fp_env_set(FpEnv env) { __asm__ __volatile__("msr fpcr, %0" : : "r"(env)); }
#else  // WebAssembly (and anything else): IEEE 754 as is, denormals computed exactly
using FpEnv = uint32_t;
constexpr FpEnv kCoreFpEnv = 0;
inline FpEnv fp_env_get() { return 0; }
inline void fp_env_set(FpEnv) {}
#endif

// True where the core sets its own environment (x86-64, arm64), false in WebAssembly.
constexpr bool kHasFpEnv = kCoreFpEnv != 0;

// For the rest of this thread's life: the pool's worker threads, which compute nothing else.
inline void use_core_fp_env_on_this_thread() {
  if (kHasFpEnv) fp_env_set(kCoreFpEnv);
}

// For the length of one call on the calling thread: the core's environment (whatever the caller's
// rounding mode or exception masks, the core computes the same bits), and on the way out the
// caller's whole register back, its sticky exception flags included. One read and two writes of
// the control register per call: a few nanoseconds. Nested guards (a call holding several
// objects) restore in reverse order, each what it found.
class FlushDenormals {
 public:
  FlushDenormals() : saved_(fp_env_get()) {
    if (kHasFpEnv) fp_env_set(kCoreFpEnv);
  }
  ~FlushDenormals() {
    if (kHasFpEnv) fp_env_set(saved_);
  }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  FpEnv saved_;
};

}  // namespace gru
