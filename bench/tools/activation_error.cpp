// Exhaustive error of the kernels' sigmoid and tanh over every float32 bit pattern, against
// double-precision libm, for each ISA variant this CPU runs. Prints max absolute error, max
// relative error (where |reference| >= 1e-30) and whether specials (NaN, +-Inf) are right.
// Build and run: npm run measure:activations (scripts/measure-activations.sh)
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vector>

#include "gru_simd.h"

int main() {
  const char* isas[] = {"avx512", "avx2", "neon", "scalar"};
  const size_t chunk = 1u << 22;
  std::vector<float> x(chunk), y(chunk);
  for (const char* isa : isas) {
    if (!gru_isa_supported(isa)) continue;
    gru_set_isa(isa);
    for (int fn = 0; fn < 2; ++fn) {
      double max_abs = 0, max_rel = 0;
      float worst_abs_x = 0, worst_rel_x = 0;
      bool specials_ok = true;
      for (uint64_t base = 0; base < (1ull << 32); base += chunk) {
        for (size_t i = 0; i < chunk; ++i) {
          uint32_t bits = static_cast<uint32_t>(base + i);
          memcpy(&x[i], &bits, 4);
        }
        if (fn == 0) {
          gru_eval_sigmoid(x.data(), chunk, y.data(), chunk);
        } else {
          gru_eval_tanh(x.data(), chunk, y.data(), chunk);
        }
        for (size_t i = 0; i < chunk; ++i) {
          const double xi = x[i];
          const double ref = fn == 0 ? 1.0 / (1.0 + exp(-xi)) : tanh(xi);
          if (isnan(xi)) {
            specials_ok &= isnan(y[i]);
            continue;
          }
          const double err = fabs(static_cast<double>(y[i]) - ref);
          if (err > max_abs) max_abs = err, worst_abs_x = x[i];
          if (fabs(ref) >= 1e-30 && err / fabs(ref) > max_rel) max_rel = err / fabs(ref), worst_rel_x = x[i];
        }
      }
      printf("%-7s %-7s max abs err %.3g (at x=%.9g)  max rel err %.3g (at x=%.9g)  NaN->NaN %s\n",
             isa, fn == 0 ? "sigmoid" : "tanh", max_abs, worst_abs_x, max_rel, worst_rel_x,
             specials_ok ? "yes" : "NO");
    }
  }
  return 0;
}
