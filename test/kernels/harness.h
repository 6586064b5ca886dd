// A small test harness for the per-kernel tests (the way XNNPACK tests its microkernels):
// every test runs once per ISA table (gru::KernelTable) compiled in and runnable here, calls
// the table's function pointers directly and compares against a float64 reference
// (reference.h) with the tolerances of tolerance.h. A test loops over the sizes at the
// kernel's edges; a failure names the ISA, the test, the sizes of the case and the element.
//
// No exceptions, no gtest: the program builds with the core's flags (-fno-exceptions
// -fno-rtti), natively and (test/kernels/build-wasm.sh) as a standalone wasm module.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "kernels/kernel_table.h"

namespace kt {

// A value passes when |got - ref| <= abs + rel * scale (scale >= |ref|: see tolerance.h).
struct Tol {
  double abs, rel;
};

// Deterministic, seedable (splitmix64): a case's data depends only on its seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  float uniform(float lo, float hi);  // in [lo, hi)
  int below(int n);                   // in [0, n)

 private:
  uint64_t state_;
};

// Collects the outcome of one test on one ISA. Between cases, at() names the case (its sizes);
// every failure message carries "[isa] test: case".
class Check {
 public:
  Check(const char* isa, const char* test);
  // Starts a case: printf-style description of its sizes, e.g. "M=3 K=17 H=33".
  void at(const char* format, ...) __attribute__((format(printf, 2, 3)));
  // A generator seeded from the test and the case's description (fixed seeds, and a case's
  // data does not depend on which cases ran before it).
  Rng rng() const;
  // |got - ref| <= tol.abs + tol.rel * scale; `what` names the element (printf-style).
  bool close(double got, double ref, double scale, Tol tol, const char* what, ...)
      __attribute__((format(printf, 6, 7)));
  // An integer outcome (a count, a decision), exactly.
  bool equal(long long got, long long want, const char* what, ...)
      __attribute__((format(printf, 4, 5)));
  // Exact: same bits, or both NaN when want is NaN.
  bool same(float got, float want, const char* what, ...) __attribute__((format(printf, 4, 5)));
  // A failure with its own message.
  void fail(const char* what, ...) __attribute__((format(printf, 2, 3)));
  // Every float of p[0, n) still holds the sentinel (the kernel wrote nothing there).
  bool untouched(const float* p, size_t n, const char* what, ...)
      __attribute__((format(printf, 4, 5)));
  // p[0, n) has the same bits as before[0, n) (a guard region of an in-place array).
  bool unchanged(const float* p, const float* before, size_t n, const char* what, ...)
      __attribute__((format(printf, 5, 6)));

  int cases() const { return cases_; }
  int failures() const { return failures_; }
  long long values() const { return values_; }
  double worst_ratio() const { return worst_; }  // max |got - ref| / tolerance seen

 private:
  void report(const char* message);
  const char* isa_;
  const char* test_;
  char case_[160] = "";
  int cases_ = 0, failures_ = 0, printed_ = 0;
  long long values_ = 0;
  double worst_ = 0.0;
};

using TestFn = void (*)(const gru::KernelTable& k, Check& c);

struct TestDef {
  const char* kernel;   // the KernelTable member under test, e.g. "gemm_panels"
  const char* variant;  // what this test varies, e.g. "G=3, bias"
  TestFn fn;
};

int register_test(const char* kernel, const char* variant, TestFn fn);
const std::vector<TestDef>& tests();

// KT_TEST(name, "kernel", "variant") { ...body using k (the table) and c (the Check)... }
#define KT_TEST(name, kernel, variant)                                                            \
  static void name(const gru::KernelTable& k, kt::Check& c);                                      \
  [[maybe_unused]] static const int name##_registered = kt::register_test(kernel, variant, name); \
  static void name(const gru::KernelTable& k, kt::Check& c)

// ---- sizes ----------------------------------------------------------------------------------
// The edge sizes of a dimension split into vectors of W: 1, W-1, W, W+1, 2W+3 (those > 0),
// plus `extra` (odd primes), sorted and unique.
std::vector<int> edge_sizes(int W, std::initializer_list<int> extra);
// Row counts of a GEMM: the row blocks of the microkernel are S::kMaxRows <= 8 rows, so 1..9
// covers every remainder block on every ISA; plus the W edges and `extra`.
std::vector<int> row_counts(int W, std::initializer_list<int> extra);

// ---- buffers ----------------------------------------------------------------------------------
// Two kinds of guard values around the data a kernel may touch:
//  - sentinel(): a quiet NaN with a payload no kernel computes, for output memory the kernel
//    must not write (and never reads): compared bit for bit afterwards (untouched()).
//  - kPoison: a finite value, for input memory the kernel must not read (padding, strides, past
//    n) and for the guard regions of arrays it updates in place (compared with unchanged()). A
//    read of it lands in a result as a large error; a kernel that processed it in place would
//    change it. (A NaN cannot serve there: NaN payloads pass through arithmetic, so a kernel
//    that computed sigmoid(NaN) or NaN + 0 into a NaN-guarded word would leave the same bits.)
constexpr uint32_t kSentinelBits = 0x7fc5a5a5u;
constexpr float kPoison = 4099.0f;
float sentinel();
std::vector<float> sentinels(size_t n);
bool is_sentinel(float x);
// Uniform random floats in [lo, hi).
void fill(Rng& rng, float* p, size_t n, float lo, float hi);
// Seconds of the monotonic clock (the runner's timings; tests that wait by the clock).
double seconds_now();

}  // namespace kt
