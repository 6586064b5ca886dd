// A dense layer: y = act(x W^T + b), act a GRU_ACT_* kind applied in the same call. Its
// parameters live in the public layout only (the general GEMM packs W per call into scratch),
// so an optimizer's update needs no repacking.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernel_table.h"
#include "object.h"

struct gru_dense {
  gru::Object base;             // first member: kind, parameters, gradients, reference count
  gru::ParamTensor tensors[2];  // weight [out, in], then bias [out] when has_bias
  int32_t in, out, has_bias;
  int32_t activation;               // GRU_ACT_*
  const gru::KernelTable* kernels;  // fixed at creation, like a network's
  float* x_cache;                   // [rows, in] of the last training forward
  size_t x_cap;
  float* act_cache;  // [rows, out]: y, or x W^T + b for the GELUs (native/core/activation.h);
  size_t act_cap;    // backward turns it into d loss / d (x W^T + b) in place
  int32_t cached_rows;
  int32_t pending;  // 1 between a training forward and its backward
  float* pack;      // gemm packing scratch, grown on demand
  size_t pack_cap;
};
