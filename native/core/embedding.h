// An embedding table: y[i] = W[index[i]].
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "object.h"

struct gru_embedding {
  gru::Object base;        // first member: kind, parameters, gradients, reference count
  gru::ParamTensor table;  // weight [num_embeddings, dim]
  int32_t num, dim;
  int32_t* indices;  // the indices of the last training forward
  size_t indices_cap;
  size_t cached_n;
  int32_t pending;  // 1 between a training forward and its backward
};
