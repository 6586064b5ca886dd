/*
 * gru_simd.h: the one C interface over the gru-simd kernel core.
 *
 * Both bindings (the Node N-API addon in native/addon and the WebAssembly exports built by
 * wasm/build.sh) are thin wrappers over exactly these functions, so every check lives here,
 * once. Rules of the interface:
 *   - Every function that can fail returns a gru_status. No C++ exception crosses it.
 *   - Every buffer comes with its length in elements; the core checks it against the shape
 *     before it touches memory. A failure writes nothing into caller outputs.
 *   - After a failure, gru_last_error() returns a message naming the argument, what was
 *     expected and what came (thread-local; valid until the next call on this thread).
 *   - Handles are opaque. The core owns what it allocates; *_destroy frees it.
 *
 * The list of functions marked GRU_API is the export list of the wasm build (wasm/build.sh
 * reads it from this file), so it is kept in one place.
 */
#ifndef GRU_SIMD_H_
#define GRU_SIMD_H_

#include <stddef.h>
#include <stdint.h>

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#define GRU_API EMSCRIPTEN_KEEPALIVE
#else
#define GRU_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. gru_status_code() maps each to a stable string ("ERR_GRU_SHAPE", ...) that
 * the bindings put on the JS Error as `code`. */
typedef enum gru_status {
  GRU_OK = 0,
  GRU_ERR_ARG = 1,   /* a scalar argument out of its domain (size <= 0, unknown flag) */
  GRU_ERR_SHAPE = 2, /* a buffer length does not match the shape it must have */
  GRU_ERR_ALLOC = 3, /* out of memory */
  GRU_ERR_NULL = 4,  /* a required handle or pointer is null */
  GRU_ERR_RANGE = 5, /* an index (layer, direction, parameter kind, sequence length) out of range */
  GRU_ERR_STATE = 6, /* the call is not valid in the object's current state */
  GRU_ERR_ISA = 7,   /* the requested ISA variant is not compiled in or not supported by the CPU */
  GRU_ERR_TYPE = 8   /* bindings only: a JS argument of the wrong type (not a Float32Array) */
} gru_status;

GRU_API const char* gru_status_code(int status);
GRU_API const char* gru_last_error(void);

/* ---- ISA dispatch -------------------------------------------------------------------------
 * The core picks the best variant at load ("avx512", "avx2", "scalar" on x86-64; "neon",
 * "scalar" on arm64; "wasm128" or "scalar" in wasm). The environment variable GRU_SIMD_ISA
 * (native only) forces a lower one at load. gru_set_isa changes it later; a network keeps
 * the variant that was active when it was created (its weights are packed for it). */
GRU_API const char* gru_isa_name(void);
GRU_API int gru_isa_supported(const char* name); /* 1 if compiled in and runnable here */
GRU_API int gru_set_isa(const char* name);
/* Names of all variants compiled into this build, comma separated, best first. */
GRU_API const char* gru_isa_list(void);
/* Threads the core computes with: a persistent pool, the calling thread included. Default:
 * the CPUs this process may run on. Always 1 in wasm. */
GRU_API int32_t gru_threads(void);
/* Sets the pool size (1..1024); threads are started here, not per call. In wasm only 1 is
 * valid (GRU_ERR_ARG otherwise). */
GRU_API int gru_set_threads(int32_t n);

/* ---- Activations (the kernels' fast approximations, exposed for error measurement) ---- */
GRU_API int gru_eval_sigmoid(const float* x, size_t x_len, float* y, size_t y_len);
GRU_API int gru_eval_tanh(const float* x, size_t x_len, float* y, size_t y_len);

/* ---- A GRU network: num_layers stacked layers, one or two directions each ----------------
 * Equations (gate order r, z, n, as PyTorch):
 *   r = sigmoid(W_r x + b_ir + U_r h + b_hr)
 *   z = sigmoid(W_z x + b_iz + U_z h + b_hz)
 *   reset_after=1: n = tanh(W_n x + b_in + r * (U_n h + b_hn))      (PyTorch, ONNX lbr=1)
 *   reset_after=0: n = tanh(W_n x + b_in + U_n (r * h) + b_hn)      (Cho 2014)
 *   h' = (1 - z) * n + z * h
 */
typedef struct gru_net gru_net;

GRU_API int gru_net_create(int32_t input_size, int32_t hidden_size, int32_t num_layers,
                           int32_t bidirectional, int32_t has_bias, int32_t reset_after,
                           gru_net** out);
GRU_API void gru_net_destroy(gru_net* net);

/* Parameter kinds, PyTorch's nn.GRU state_dict tensors for one (layer, direction):
 *   0 weight_ih [3H, in]   (in = input_size for layer 0, else H * num_directions)
 *   1 weight_hh [3H, H]
 *   2 bias_ih   [3H]
 *   3 bias_hh   [3H]
 * Row-major, gate blocks in the order r, z, n. Biases of a net created without bias do not
 * exist (GRU_ERR_RANGE). */
GRU_API int gru_net_param_size(const gru_net* net, int32_t layer, int32_t direction, int32_t kind,
                               size_t* out_len);
GRU_API int gru_net_set_param(gru_net* net, int32_t layer, int32_t direction, int32_t kind,
                              const float* data, size_t len);
GRU_API int gru_net_get_param(const gru_net* net, int32_t layer, int32_t direction, int32_t kind,
                              float* data, size_t len);
/* Fills every parameter with U(-1/sqrt(H), 1/sqrt(H)) from a seeded generator (PyTorch's
 * default init); the same seed gives the same parameters on every backend. */
GRU_API int gru_net_init_uniform(gru_net* net, uint32_t seed);

/* Forward over a batch of sequences.
 *   x       [T, B, in] (or [B, T, in] when batch_first)                    required
 *   h0      [L*D, B, H]                                                    may be null (zeros)
 *   lengths [B], each in [0, T]; steps at t >= lengths[b] are padding:     may be null (all T)
 *           they change neither the state nor the outputs (zeros there); the reverse
 *           direction runs over each sequence's own valid prefix.
 *   y       [T, B, D*H] (or [B, T, D*H])                                   may be null
 *   h_n     [L*D, B, H], the state at each sequence's own last step         may be null
 * h0 and h_n may be the same buffer (streaming: state in, state out).
 * A network is not re-entrant: one call at a time per network. */
GRU_API int gru_net_forward(gru_net* net, int32_t seq_len, int32_t batch, int32_t batch_first,
                            const float* x, size_t x_len, const float* h0, size_t h0_len,
                            const int32_t* lengths, size_t lengths_len, float* y, size_t y_len,
                            float* h_n, size_t h_n_len);

/* Bytes held by the network (weights, packed forms, scratch): for leak tests. */
GRU_API size_t gru_net_bytes(const gru_net* net);

/* Bytes currently allocated by the core in total, all objects: for leak tests. */
GRU_API size_t gru_allocated_bytes(void);

/* ==== Training ==============================================================================
 * Every object with parameters (a GRU net, a dense layer, an embedding) keeps, per parameter
 * tensor, its value and a gradient buffer in the public layout. backward() adds into the
 * gradient buffers; zero_grad() clears them; an optimizer updates the values in place and the
 * object repacks what its kernels need. An object destroyed while an optimizer still holds it
 * is released when the optimizer is; the optimizer then fails with GRU_ERR_STATE. */

/* Forward in training mode: as gru_net_forward, and keeps what backward needs (the gates of
 * every step and every layer's output; gru_net_train_bytes tells how much). dropout in [0, 1)
 * zeroes each input of layers 1..L-1 with that probability and scales the rest by 1/(1-p)
 * (PyTorch's GRU dropout), from a mask that dropout_seed determines. */
GRU_API int gru_net_forward_train(gru_net* net, int32_t seq_len, int32_t batch, int32_t batch_first,
                                  const float* x, size_t x_len, const float* h0, size_t h0_len,
                                  const int32_t* lengths, size_t lengths_len, float* y,
                                  size_t y_len, float* h_n, size_t h_n_len, float dropout,
                                  uint32_t dropout_seed);
/* Backpropagation through time for the last gru_net_forward_train. dy [T, B, D*H] (layout of
 * y) and dh_n [L*D, B, H] are the loss gradients of the outputs; either may be null (zero).
 * Adds into the parameter gradients; writes dx (layout of x) and dh0 [L*D, B, H] when not null.
 * Valid once per forward_train: before one, or a second time, it is GRU_ERR_STATE. */
GRU_API int gru_net_backward(gru_net* net, const float* dy, size_t dy_len, const float* dh_n,
                             size_t dh_n_len, float* dx, size_t dx_len, float* dh0, size_t dh0_len);
/* Gradient of one parameter tensor, same indexing and layout as gru_net_get_param. */
GRU_API int gru_net_get_grad(const gru_net* net, int32_t layer, int32_t direction, int32_t kind,
                             float* data, size_t len);
GRU_API int gru_net_zero_grad(gru_net* net);
/* Bytes forward_train keeps per (batch row, timestep, layer), and in total after the last one. */
GRU_API size_t gru_net_train_bytes_per_step(const gru_net* net);
GRU_API size_t gru_net_train_bytes(const gru_net* net);

/* ---- Dense (linear) layer: y = x W^T + b, W [out, in], b [out] ------------------------- */
typedef struct gru_dense gru_dense;
GRU_API int gru_dense_create(int32_t in_features, int32_t out_features, int32_t has_bias,
                             gru_dense** out);
GRU_API void gru_dense_destroy(gru_dense* layer);
/* kind 0: weight [out, in]; kind 1: bias [out]. */
GRU_API int gru_dense_set_param(gru_dense* layer, int32_t kind, const float* data, size_t len);
GRU_API int gru_dense_get_param(const gru_dense* layer, int32_t kind, float* data, size_t len);
GRU_API int gru_dense_get_grad(const gru_dense* layer, int32_t kind, float* data, size_t len);
/* PyTorch's nn.Linear default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)). */
GRU_API int gru_dense_init_uniform(gru_dense* layer, uint32_t seed);
/* x [rows, in] -> y [rows, out]. train = 1 keeps a copy of x for backward. */
GRU_API int gru_dense_forward(gru_dense* layer, int32_t rows, const float* x, size_t x_len,
                              float* y, size_t y_len, int32_t train);
/* dy [rows, out] of the last training forward; adds into the gradients; dx [rows, in] may be
 * null. Once per training forward (GRU_ERR_STATE otherwise). */
GRU_API int gru_dense_backward(gru_dense* layer, const float* dy, size_t dy_len, float* dx,
                               size_t dx_len);
GRU_API int gru_dense_zero_grad(gru_dense* layer);

/* ---- Embedding: y[i] = W[index[i]], W [num_embeddings, dim] ---------------------------- */
typedef struct gru_embedding gru_embedding;
GRU_API int gru_embedding_create(int32_t num_embeddings, int32_t dim, gru_embedding** out);
GRU_API void gru_embedding_destroy(gru_embedding* layer);
/* kind 0: weight [num_embeddings, dim] (the only parameter). */
GRU_API int gru_embedding_set_param(gru_embedding* layer, int32_t kind, const float* data,
                                    size_t len);
GRU_API int gru_embedding_get_param(const gru_embedding* layer, int32_t kind, float* data,
                                    size_t len);
GRU_API int gru_embedding_get_grad(const gru_embedding* layer, int32_t kind, float* data,
                                   size_t len);
/* Approximately N(0, 1) (PyTorch's default), from a seeded generator, identical everywhere. */
GRU_API int gru_embedding_init_normal(gru_embedding* layer, uint32_t seed);
/* indices [n], each in [0, num_embeddings) (GRU_ERR_RANGE otherwise) -> y [n, dim].
 * train = 1 keeps the indices for backward. */
GRU_API int gru_embedding_forward(gru_embedding* layer, const int32_t* indices, size_t n, float* y,
                                  size_t y_len, int32_t train);
/* dy [n, dim]: adds into the gradient rows of the indices used, no other row. */
GRU_API int gru_embedding_backward(gru_embedding* layer, const float* dy, size_t dy_len);
GRU_API int gru_embedding_zero_grad(gru_embedding* layer);

/* ---- Losses (mean over elements / rows); the gradient output may be null ------------------ */
/* logits [rows, classes], targets [rows] in [0, classes) or -1 (ignored row); mean over the
 * rows not ignored. dlogits [rows, classes] = d loss / d logits. */
GRU_API int gru_loss_softmax_cross_entropy(const float* logits, size_t logits_len, int32_t rows,
                                           int32_t classes, const int32_t* targets,
                                           size_t targets_len, float* dlogits, size_t dlogits_len,
                                           float* loss);
/* Binary cross-entropy on logits (numerically stable), targets in [0, 1]. */
GRU_API int gru_loss_bce_with_logits(const float* logits, size_t n, const float* targets,
                                     size_t targets_len, float* dlogits, size_t dlogits_len,
                                     float* loss);
GRU_API int gru_loss_mse(const float* pred, size_t n, const float* targets, size_t targets_len,
                         float* dpred, size_t dpred_len, float* loss);

/* ---- Dropout: y = x * mask / (1 - p); the mask is a function of (seed, index), so backward
 * regenerates it instead of storing it. p in [0, 1). ----------------------------------------- */
GRU_API int gru_dropout_forward(const float* x, size_t n, float p, uint32_t seed, float* y,
                                size_t y_len);
GRU_API int gru_dropout_backward(const float* dy, size_t n, float p, uint32_t seed, float* dx,
                                 size_t dx_len);

/* ---- Optimizers, fused: one pass over all parameters per step ----------------------------
 * PyTorch's semantics. Adam: g += wd * p (L2); m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * (amsgrad: vmax = max(vmax, v)); p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
 * AdamW: p *= 1 - lr * wd first, no L2. SGD: g += wd * p; buf = momentum buf + (1-dampening) g
 * (buf = g on the first step); nesterov: g += momentum buf, else g = buf; p -= lr g.
 * maximize: ascend (g = -g). */
typedef struct gru_optim gru_optim;
enum { GRU_OPTIM_SGD = 0, GRU_OPTIM_ADAM = 1, GRU_OPTIM_ADAMW = 2 };
enum { GRU_OPTIM_AMSGRAD = 1, GRU_OPTIM_MAXIMIZE = 2, GRU_OPTIM_NESTEROV = 4 };
/* a = beta1 (Adam) or momentum (SGD); b = beta2 (Adam) or dampening (SGD); eps unused by SGD. */
GRU_API int gru_optim_create(int32_t kind, float lr, float a, float b, float eps,
                             float weight_decay, int32_t flags, gru_optim** out);
GRU_API void gru_optim_destroy(gru_optim* opt);
/* Adds every parameter tensor of the object, in its get_param order. */
GRU_API int gru_optim_add_net(gru_optim* opt, gru_net* net);
GRU_API int gru_optim_add_dense(gru_optim* opt, gru_dense* layer);
GRU_API int gru_optim_add_embedding(gru_optim* opt, gru_embedding* layer);
/* clip_grad_norm_: total 2-norm of all gradients; if above max_norm, scales them by
 * max_norm / (total + 1e-6). Writes the total norm before clipping. */
GRU_API int gru_optim_clip_grad_norm(gru_optim* opt, float max_norm, float* total_norm);
/* clip_grad_value_: clamps every gradient to [-clip, clip]. */
GRU_API int gru_optim_clip_grad_value(gru_optim* opt, float clip);
/* One update with this learning rate, >= 0 (a schedule computes it per step and may reach 0;
 * creation requires lr > 0). */
GRU_API int gru_optim_step(gru_optim* opt, float lr);
GRU_API int gru_optim_zero_grad(gru_optim* opt);
/* The optimizer's state as one float array: [step count, then every moment buffer]. */
GRU_API int gru_optim_state_size(const gru_optim* opt, size_t* out_len);
GRU_API int gru_optim_get_state(const gru_optim* opt, float* data, size_t len);
GRU_API int gru_optim_set_state(gru_optim* opt, const float* data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* GRU_SIMD_H_ */
