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
/* Threads the core computes with (1 until the thread pool lands). */
GRU_API int32_t gru_threads(void);

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

#ifdef __cplusplus
}
#endif

#endif /* GRU_SIMD_H_ */
