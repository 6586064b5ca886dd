// The core's losses through the C interface, where the TypeScript facade cannot reach: a
// gradient array that aliases an input. The facade refuses any overlap (ERR_GRU_ARG); the C
// interface takes the input itself (the loops read each element, or row, before they write
// it) and refuses a partial overlap (status.h, check_in_place_or_apart), which would read
// gradients where inputs were.
#include <stdint.h>

#include <vector>

#include "gru_simd.h"
#include "harness.h"

namespace {

// Random values in one buffer with a float of room on each side, so a view can sit one off.
struct Padded {
  std::vector<float> buffer;
  explicit Padded(size_t n, kt::Rng& rng, float lo, float hi) : buffer(n + 2) {
    for (float& v : buffer) v = rng.uniform(lo, hi);
  }
  float* at(int shift) { return buffer.data() + 1 + shift; }
};

KT_TEST(core_mse_grad_in_place, "core",
        "mse: the gradient in place of pred or targets: the bits of separate arrays") {
  const int32_t threads = gru_threads();
  const size_t n = 3 * 8192 + 5;  // several of mse's blocks (>= 8192 elements), the last short
  for (int32_t t : {1, 2}) {
    gru_set_threads(t);
    for (bool on_targets : {false, true}) {
      c.at("threads=%d n=%zu grad in place of %s", t, n, on_targets ? "targets" : "pred");
      kt::Rng rng = c.rng();
      std::vector<float> pred(n), targets(n), want(n);
      for (float& v : pred) v = rng.uniform(-3.0f, 3.0f);
      for (float& v : targets) v = rng.uniform(-3.0f, 3.0f);
      float want_loss = 0.0f, loss = 0.0f;
      if (!c.equal(gru_loss_mse(pred.data(), n, targets.data(), n, want.data(), n, &want_loss),
                   GRU_OK, "separate arrays: %s", gru_last_error()))
        continue;
      float* grad = on_targets ? targets.data() : pred.data();
      if (!c.equal(gru_loss_mse(pred.data(), n, targets.data(), n, grad, n, &loss), GRU_OK,
                   "in place: %s", gru_last_error()))
        continue;
      c.same(loss, want_loss, "loss");
      for (size_t i = 0; i < n; ++i)
        if (!c.same(grad[i], want[i], "grad[%zu]", i)) break;
    }
  }
  gru_set_threads(threads);
}

KT_TEST(core_loss_grad_partial_overlap, "core",
        "every loss: a gradient one float off an input is GRU_ERR_ARG, the arrays untouched") {
  const size_t n = 3 * 8192 + 5;
  const int32_t classes = 5, rows = 7;
  const size_t m = static_cast<size_t>(rows) * classes;
  for (int shift : {1, -1}) {
    c.at("grad one float %s the input", shift > 0 ? "after" : "before");
    kt::Rng rng = c.rng();
    Padded a(n, rng, 0.05f, 0.95f), b(n, rng, 0.05f, 0.95f);
    const std::vector<float> a_before = a.buffer, b_before = b.buffer;
    std::vector<int32_t> labels(rows);
    for (int32_t r = 0; r < rows; ++r) labels[r] = rng.below(classes);
    float loss = 0.0f;
    const struct {
      const char* name;
      int status;
    } calls[] = {
        {"mse (grad on pred)", gru_loss_mse(a.at(0), n, b.at(0), n, a.at(shift), n, &loss)},
        {"mse (grad on targets)", gru_loss_mse(a.at(0), n, b.at(0), n, b.at(shift), n, &loss)},
        {"bce_with_logits",
         gru_loss_bce_with_logits(a.at(0), n, b.at(0), n, a.at(shift), n, &loss)},
        {"softmax_cross_entropy",
         gru_loss_softmax_cross_entropy(a.at(0), m, rows, classes, labels.data(), rows, a.at(shift),
                                        m, &loss)},
        {"gru_loss (mean squared error)", gru_loss(GRU_LOSS_MSE, classes, 1.0f, a.at(0), m, b.at(0),
                                                   m, nullptr, 0, b.at(shift), m, &loss)},
        {"gru_loss (sample_weight)", gru_loss(GRU_LOSS_MSE, 1, 1.0f, a.at(0), m, b.at(0), m,
                                              a.at(m + 0), m, a.at(m + shift), m, &loss)},
        {"gru_loss_sparse",
         gru_loss_sparse(GRU_LOSS_CATEGORICAL_CE, classes, a.at(0), m, labels.data(), rows, nullptr,
                         0, a.at(shift), m, &loss)},
    };
    for (const auto& call : calls) c.equal(call.status, GRU_ERR_ARG, "%s", call.name);
    c.unchanged(a.buffer.data(), a_before.data(), a.buffer.size(), "the first array");
    c.unchanged(b.buffer.data(), b_before.data(), b.buffer.size(), "the second array");
  }
}

}  // namespace
