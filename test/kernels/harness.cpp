#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <algorithm>

namespace kt {

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float Rng::uniform(float lo, float hi) {
  const double u01 = static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
  const float x = static_cast<float>(lo + (static_cast<double>(hi) - lo) * u01);
  return x < hi ? x : lo;
}

int Rng::below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }

namespace {

// A failing test prints this many messages, then only counts.
constexpr int kMaxPrinted = 8;

uint64_t fnv1a(uint64_t h, const char* s) {
  for (; *s; ++s) h = (h ^ static_cast<unsigned char>(*s)) * 0x100000001B3ull;
  return h;
}

std::vector<TestDef>& registry() {
  static std::vector<TestDef> all;
  return all;
}

}  // namespace

Check::Check(const char* isa, const char* test) : isa_(isa), test_(test) {}

void Check::at(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(case_, sizeof case_, format, args);
  va_end(args);
  ++cases_;
}

Rng Check::rng() const {
  // Seeded from the test and case names only, not the ISA: every ISA sees the same data.
  return Rng(fnv1a(fnv1a(0xCBF29CE484222325ull, test_), case_));
}

void Check::report(const char* message) {
  ++failures_;
  if (printed_ < kMaxPrinted) {
    printf("    FAIL [%s] %s: %s: %s\n", isa_, test_, case_, message);
  } else if (printed_ == kMaxPrinted) {
    printf("    ... [%s] %s: further failures are counted, not printed\n", isa_, test_);
  }
  ++printed_;
}

bool Check::close(double got, double ref, double scale, Tol tol, const char* what, ...) {
  ++values_;
  const double bound = tol.abs + tol.rel * scale;
  const double diff = fabs(got - ref);
  if (diff <= bound) {  // false for NaN, so a NaN result always fails
    if (bound > 0 && diff / bound > worst_) worst_ = diff / bound;
    return true;
  }
  char name[96];
  va_list args;
  va_start(args, what);
  vsnprintf(name, sizeof name, what, args);
  va_end(args);
  char message[320];
  snprintf(message, sizeof message, "%s = %.9g, expected %.9g (|diff| %.3g > tolerance %.3g)", name,
           got, ref, diff, bound);
  report(message);
  return false;
}

bool Check::equal(long long got, long long want, const char* what, ...) {
  ++values_;
  if (got == want) return true;
  char name[96];
  va_list args;
  va_start(args, what);
  vsnprintf(name, sizeof name, what, args);
  va_end(args);
  char message[256];
  snprintf(message, sizeof message, "%s = %lld, expected %lld", name, got, want);
  report(message);
  return false;
}

bool Check::same(float got, float want, const char* what, ...) {
  ++values_;
  uint32_t g, w;
  memcpy(&g, &got, 4);
  memcpy(&w, &want, 4);
  if (g == w || (isnan(want) && isnan(got))) return true;
  char name[96];
  va_list args;
  va_start(args, what);
  vsnprintf(name, sizeof name, what, args);
  va_end(args);
  char message[256];
  snprintf(message, sizeof message, "%s = %.9g (0x%08x), expected exactly %.9g (0x%08x)", name, got,
           g, want, w);
  report(message);
  return false;
}

void Check::fail(const char* what, ...) {
  char message[320];
  va_list args;
  va_start(args, what);
  vsnprintf(message, sizeof message, what, args);
  va_end(args);
  report(message);
}

bool Check::untouched(const float* p, size_t n, const char* what, ...) {
  ++values_;
  for (size_t i = 0; i < n; ++i) {
    if (is_sentinel(p[i])) continue;
    char name[96];
    va_list args;
    va_start(args, what);
    vsnprintf(name, sizeof name, what, args);
    va_end(args);
    char message[256];
    snprintf(message, sizeof message, "%s[%zu] = %.9g was written (must stay untouched)", name, i,
             p[i]);
    report(message);
    return false;
  }
  return true;
}

bool Check::unchanged(const float* p, const float* before, size_t n, const char* what, ...) {
  ++values_;
  for (size_t i = 0; i < n; ++i) {
    if (memcmp(&p[i], &before[i], 4) == 0) continue;
    char name[96];
    va_list args;
    va_start(args, what);
    vsnprintf(name, sizeof name, what, args);
    va_end(args);
    char message[256];
    snprintf(message, sizeof message, "%s[%zu] = %.9g was %.9g (must stay unchanged)", name, i,
             p[i], before[i]);
    report(message);
    return false;
  }
  return true;
}

int register_test(const char* kernel, const char* variant, TestFn fn) {
  registry().push_back({kernel, variant, fn});
  return static_cast<int>(registry().size());
}

const std::vector<TestDef>& tests() { return registry(); }

std::vector<int> edge_sizes(int W, std::initializer_list<int> extra) {
  std::vector<int> s = {1, W - 1, W, W + 1, 2 * W + 3};
  s.insert(s.end(), extra.begin(), extra.end());
  s.erase(std::remove_if(s.begin(), s.end(), [](int x) { return x <= 0; }), s.end());
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

std::vector<int> row_counts(int W, std::initializer_list<int> extra) {
  std::vector<int> s = edge_sizes(W, extra);
  for (int m = 1; m <= 9; ++m) s.push_back(m);
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

float sentinel() {
  float f;
  memcpy(&f, &kSentinelBits, 4);
  return f;
}

std::vector<float> sentinels(size_t n) { return std::vector<float>(n, sentinel()); }

bool is_sentinel(float x) {
  uint32_t b;
  memcpy(&b, &x, 4);
  return b == kSentinelBits;
}

void fill(Rng& rng, float* p, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; ++i) p[i] = rng.uniform(lo, hi);
}

double seconds_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

}  // namespace kt
