// gru_kernel_tests: every test of test/kernels/*_tests.cpp on every ISA table compiled into
// this build (gru::compiled_kernel_names()) that this CPU runs (gru::find_kernels()). A table
// compiled in but not runnable here is listed as NOT RUN with its name: absent hardware, not
// a skipped test (no test is ever skipped). The last line is `N passed, N failed`; with env
// GRU_TEST_COUNTS set, {"passed": N, "failed": N, "skipped": 0} is written to that file (natively;
// a wasm build leaves that to scripts/run-wasi.mjs, which reads the last line).
//
// Usage: gru_kernel_tests [substring]   runs only the tests whose "kernel: variant" contains it.
// Env GRU_KERNEL_TESTS_TARGET names the build in the output (e.g. "wasm-simd": the ISA
// "scalar" of that module is then reported as "wasm-simd/scalar").
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>

#include "core/dispatch.h"
#include "harness.h"

namespace {

// Every function pointer of KernelTable, in its order; each must have at least one test.
const char* const kKernels[] = {"gemm_panels",
                                "gemm_panels_lowp",
                                "step_reset_after",
                                "step_reset_before",
                                "step_reset_after_any_act",
                                "step_reset_before_any_act",
                                "sigmoid",
                                "tanh",
                                "gemm_strided",
                                "gate_grads_reset_after",
                                "gate_grads_reset_before",
                                "gate_grads_reset_after_any_act",
                                "gate_grads_reset_before_any_act",
                                "adam_update",
                                "sgd_update",
                                "adam_keras_update",
                                "sgd_keras_update",
                                "rmsprop_update",
                                "adagrad_update",
                                "sum_squares",
                                "scale",
                                "clamp"};

// Adding a kernel to KernelTable breaks this build until its name is added to kKernels (and a
// test to test/kernels, or the run fails): the table is its name, its width and one pointer
// per kernel.
constexpr size_t kNumKernels = sizeof kKernels / sizeof kKernels[0];
static_assert(sizeof(gru::KernelTable) ==
                  offsetof(gru::KernelTable, gemm_panels) + kNumKernels * sizeof(void (*)()),
              "KernelTable has a member test/kernels/main.cpp does not list in kKernels");

// Tests of the C ABI around the kernels (fp_env_tests.cpp) are registered under "core": they run
// after the kernels' own, and no KernelTable member needs one.
int kernel_order(const char* kernel) {
  for (size_t i = 0; i < kNumKernels; ++i)
    if (strcmp(kKernels[i], kernel) == 0) return static_cast<int>(i);
  return strcmp(kernel, "core") == 0 ? static_cast<int>(kNumKernels) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  const char* filter = argc > 1 ? argv[1] : nullptr;
  const char* target = getenv("GRU_KERNEL_TESTS_TARGET");
  if (target && !*target) target = nullptr;
  const double started = kt::seconds_now();
  int passed = 0, failed = 0;

  std::vector<kt::TestDef> all = kt::tests();
  std::stable_sort(all.begin(), all.end(), [](const kt::TestDef& a, const kt::TestDef& b) {
    return kernel_order(a.kernel) < kernel_order(b.kernel);
  });
  // A test registered under a name that is not a KernelTable member, or a member without a
  // test, is a failure of the suite itself.
  for (const kt::TestDef& t : all)
    if (kernel_order(t.kernel) < 0) {
      printf("FAIL test \"%s: %s\" names no KernelTable member\n", t.kernel, t.variant);
      ++failed;
    }
  for (const char* kernel : kKernels)
    if (std::none_of(all.begin(), all.end(),
                     [&](const kt::TestDef& t) { return strcmp(t.kernel, kernel) == 0; })) {
      printf("FAIL KernelTable::%s has no test\n", kernel);
      ++failed;
    }

  // compiled_kernel_names(): "avx512,avx2,scalar", best first.
  std::string names = gru::compiled_kernel_names();
  std::vector<std::string> not_run;
  int isas_run = 0;
  for (size_t pos = 0; pos <= names.size();) {
    size_t comma = names.find(',', pos);
    if (comma == std::string::npos) comma = names.size();
    const std::string isa = names.substr(pos, comma - pos);
    pos = comma + 1;
    if (isa.empty()) continue;
    const gru::KernelTable* table = gru::find_kernels(isa.c_str());
    const std::string shown = target ? std::string(target) + "/" + isa : isa;
    if (!table) {
      printf("\nNOT RUN %s: compiled in, but this CPU cannot run it (absent hardware)\n",
             shown.c_str());
      not_run.push_back(isa);
      continue;
    }
    ++isas_run;
    printf("\n%s (W = %d)\n", shown.c_str(), table->width);
    int isa_passed = 0, isa_failed = 0;
    for (const kt::TestDef& t : all) {
      std::string full = std::string(t.kernel) + ": " + t.variant;
      if (filter && full.find(filter) == std::string::npos) continue;
      kt::Check c(shown.c_str(), full.c_str());
      const double t0 = kt::seconds_now();
      t.fn(*table, c);
      const double ms = (kt::seconds_now() - t0) * 1e3;
      // A test that checked nothing cannot fail: that is a failure too.
      const bool ok = c.failures() == 0 && c.cases() > 0 && c.values() > 0;
      if (ok) {
        printf("  ok   %-44s %5d cases %9lld values  worst/tol %.2f  %6.1f ms\n", full.c_str(),
               c.cases(), c.values(), c.worst_ratio(), ms);
        ++isa_passed;
      } else {
        if (c.failures() == 0)
          printf("    FAIL [%s] %s: checked nothing\n", shown.c_str(), full.c_str());
        printf("  FAIL %-44s %5d cases, %d failures\n", full.c_str(), c.cases(), c.failures());
        ++isa_failed;
      }
    }
    printf("%s: %d passed, %d failed\n", shown.c_str(), isa_passed, isa_failed);
    passed += isa_passed;
    failed += isa_failed;
  }
  if (isas_run == 0) {
    printf("FAIL no ISA table ran (compiled in: %s)\n", names.c_str());
    ++failed;
  }

  printf("\nkernel tests%s%s: ISAs run:", target ? " of " : "", target ? target : "");
  for (size_t pos = 0; pos < names.size();) {
    size_t comma = names.find(',', pos);
    if (comma == std::string::npos) comma = names.size();
    const std::string isa = names.substr(pos, comma - pos);
    if (std::find(not_run.begin(), not_run.end(), isa) == not_run.end()) printf(" %s", isa.c_str());
    pos = comma + 1;
  }
  if (!not_run.empty()) {
    printf("; NOT RUN (no hardware):");
    for (const std::string& isa : not_run) printf(" %s", isa.c_str());
  }
  printf("; %.2f s\n", kt::seconds_now() - started);
  if (const char* file = getenv("GRU_TEST_COUNTS")) {
    if (FILE* f = fopen(file, "w")) {
      fprintf(f, "{ \"passed\": %d, \"failed\": %d, \"skipped\": 0 }\n", passed, failed);
      fclose(f);
    } else {
      printf("FAIL cannot write GRU_TEST_COUNTS=%s\n", file);
      ++failed;
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
