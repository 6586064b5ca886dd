// The addon's free functions of the training section: losses and dropout.
//
//   lossSoftmaxCrossEntropy(logits, rows, classes, targets, dlogits) -> mean loss
//   lossBceWithLogits(logits, targets, dlogits) -> mean loss
//   lossMse(pred, targets, dpred) -> mean loss            (the gradient output may be null)
//   lossSoftmaxCrossEntropyAsync / lossBceWithLogitsAsync / lossMseAsync: the same arguments,
//   a Promise of the mean loss, computed on a worker thread (async.h)
//   dropoutForward(x, p, seed, y) / dropoutBackward(dy, p, seed, dx)
#ifndef GRU_SIMD_ADDON_FUNCTIONS_H_
#define GRU_SIMD_ADDON_FUNCTIONS_H_

#include <napi.h>

namespace gru_addon {

// Stores the functions above on exports.
void InitTrainingFunctions(Napi::Env env, Napi::Object exports);

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_FUNCTIONS_H_
