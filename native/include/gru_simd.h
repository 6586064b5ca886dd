/*
 * gru_simd.h: the one C interface over the gru-simd kernel core.
 *
 * Both bindings (the Node N-API addon in native/addon and the WebAssembly exports built by
 * wasm/build.sh) are generic callers driven by a description of this file that
 * scripts/gen-abi.mjs parses out of it (ts/backends/abi.generated.ts,
 * native/addon/abi.generated.h), so every check lives here, once. Rules of the interface,
 * which the generator relies on:
 *   - Return types: `int` is a gru_status (every function that can fail returns one; no C++
 *     exception crosses the interface); `int32_t` and `size_t` are plain numbers; `const char*`
 *     a NUL-terminated string owned by the core; `void` nothing.
 *   - Every buffer comes as a pointer followed by its length in elements (`size_t NAME_len`,
 *     or `size_t n`): `const T*` is an input, `T*` an output. GRU_NULLABLE before a buffer
 *     says it may be null (with length 0). The core checks every length against the shape
 *     before it touches memory. A failure writes nothing into caller outputs.
 *   - A pointer not followed by a length is one scalar result (`size_t* out`, `float* loss`,
 *     `gru_handle* out`, `const char** out`); `const char*` alone is an input string.
 *   - GRU_ASYNC before the return type: the Node addon also offers the call on a worker thread
 *     (the binding's name + "Async").
 *   - Objects are named by handles (gru_handle: a number, 0 never valid). The core checks each
 *     handle's kind and liveness: a handle of the wrong kind is GRU_ERR_TYPE, a destroyed one
 *     GRU_ERR_DISPOSED, never a crash. One call at a time per object: a second call while one
 *     runs (on another thread) gets GRU_ERR_BUSY.
 *   - After a failure, gru_last_error() returns a message naming the argument, what was
 *     expected and what came (thread-local; valid until the next call on this thread).
 *
 * The list of functions marked GRU_API is also the export list of the wasm build.
 *
 * Over 400 lines: the whole interface and its contract in one file, the one the generator and
 * the wasm export list read.
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
/* Annotations for the generator (scripts/gen-abi.mjs); nothing to the compiler. */
#define GRU_ASYNC
#define GRU_NULLABLE

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. gru_status_code() maps each to a stable string ("ERR_GRU_SHAPE", ...) that
 * the bindings put on the JS Error as `code`. */
typedef enum gru_status {
  GRU_OK = 0,
  GRU_ERR_ARG = 1,      /* a scalar argument out of its domain (size <= 0, unknown flag) */
  GRU_ERR_SHAPE = 2,    /* a buffer length does not match the shape it must have */
  GRU_ERR_ALLOC = 3,    /* out of memory */
  GRU_ERR_NULL = 4,     /* a required pointer is null */
  GRU_ERR_RANGE = 5,    /* an index (layer, parameter, sequence length, class) out of range */
  GRU_ERR_STATE = 6,    /* the call is not valid in the object's current state */
  GRU_ERR_ISA = 7,      /* the requested ISA variant is not compiled in or not supported here */
  GRU_ERR_TYPE = 8,     /* a handle of the wrong kind (or, in a binding, a JS argument's type) */
  GRU_ERR_BUSY = 9,     /* another call is running on the object */
  GRU_ERR_DISPOSED = 10 /* the handle is not live: destroyed, or never one of this backend */
} gru_status;

/* The largest size of one dimension (features, hidden units, embedding dim) the core accepts:
 * past this a size is surely a mistake, and products of two stay far from overflow. */
#define GRU_MAX_DIM 1048576

GRU_API const char* gru_status_code(int32_t status);
GRU_API const char* gru_last_error(void);

/* ---- ISA dispatch -------------------------------------------------------------------------
 * The core picks the best variant at load ("avx512-dot", "avx512", "avx2", "scalar" on x86-64,
 * avx512-dot multiplying bf16 / int8 weights with rounded activations, native/kernels/
 * dot_products.h; "neon", "scalar" on arm64; "wasm128" or "scalar" in wasm). The environment
 * variable GRU_SIMD_ISA (native only) forces a lower one at load. gru_set_isa changes it later;
 * an object keeps the variant that was active when it was created (its weights are packed for
 * it). */
GRU_API const char* gru_isa_name(void);
GRU_API int32_t gru_isa_supported(const char* name); /* 1 if compiled in and runnable here */
GRU_API int gru_set_isa(const char* name);
/* Names of all variants compiled into this build, comma separated, best first. */
GRU_API const char* gru_isa_list(void);
/* Threads the core computes with: a persistent pool, the calling thread included. Default:
 * the CPUs this process may run on. Always 1 in wasm. */
GRU_API int32_t gru_threads(void);
/* Sets the pool size (1..1024); threads are started here, not per call. In wasm only 1 is
 * valid (GRU_ERR_ARG otherwise). */
GRU_API int gru_set_threads(int32_t n);
/* The thread policy now (native/core/thread_pool.h), policy_len = GRU_THREAD_POLICY_LEN:
 * [0] threads (gru_threads), [1] 1 while helpers are cooling down after a stall (regions then
 * run on the calling thread alone), else 0, [2] stalls seen since load (saturates at
 * INT32_MAX), [3] milliseconds of cooldown left (rounded up; 0 when not cooling down). In wasm:
 * 1, 0, 0, 0. GRU_ERR_SHAPE for another length. */
#define GRU_THREAD_POLICY_LEN 4
GRU_API int gru_thread_policy(int32_t* policy, size_t policy_len);
/* Bytes currently allocated by the core in total, all objects: for leak tests. */
GRU_API size_t gru_allocated_bytes(void);

/* ---- Activations (the kernels' fast approximations, exposed for error measurement) ---- */
GRU_API int gru_eval_sigmoid(const float* x, size_t x_len, float* y, size_t y_len);
GRU_API int gru_eval_tanh(const float* x, size_t x_len, float* y, size_t y_len);

/* ---- Objects and their parameters, whatever their kind -------------------------------------
 * Every object (a GRU network, a dense layer, an embedding, an optimizer) is named by a
 * handle. The typedefs say which kind a function takes; gru_handle takes any. */
typedef uint32_t gru_handle;
typedef gru_handle gru_net_handle;
typedef gru_handle gru_dense_handle;
typedef gru_handle gru_embedding_handle;
typedef gru_handle gru_optim_handle;
typedef gru_handle gru_layer_norm_handle;
typedef gru_handle gru_batch_norm_handle;
enum {
  GRU_KIND_NET = 1,
  GRU_KIND_DENSE = 2,
  GRU_KIND_EMBEDDING = 3,
  GRU_KIND_OPTIM = 4,
  GRU_KIND_LAYER_NORM = 5,
  GRU_KIND_BATCH_NORM = 6
};

/* Frees the object (GRU_ERR_BUSY while a call runs on it). An optimizer that added it keeps
 * its memory until the optimizer goes, and then fails with GRU_ERR_STATE. */
GRU_API int gru_destroy(gru_handle obj);
/* Its kind (GRU_KIND_*). */
GRU_API int gru_object_kind(gru_handle obj, int32_t* out);
/* Bytes the object holds (weights, packed forms, scratch, training storage). */
GRU_API int gru_bytes(gru_handle obj, size_t* out);
/* Objects live now: handles made and not yet destroyed. */
GRU_API int32_t gru_live_objects(void);

/* ---- The handle table, carried from one instance of the core to the next -------------------
 * A WebAssembly.Memory grows but never shrinks, so the wasm binding instantiates its module
 * afresh once no object is live and the memory has grown (ts/backends/wasm-instance.ts). The
 * new instance takes over the old one's handle table: it hands out the handles the old one
 * would have, and refuses every stale handle of the old one as the old one would have. */
/* Slots of the handle table (the most objects ever live at once): gru_handles_save's length. */
GRU_API size_t gru_handle_slots(void);
/* Writes the handle each slot hands out next, in the order the slots will be reused (a uint32
 * handle as int32 bits). GRU_ERR_STATE while an object is live; GRU_ERR_SHAPE unless len is
 * gru_handle_slots(). */
GRU_API int gru_handles_save(int32_t* next, size_t len);
/* Makes a table that never handed out a handle the one gru_handles_save wrote. GRU_ERR_STATE
 * once a handle was made; GRU_ERR_ARG unless `next` names each slot 1..len once (its low 20
 * bits). */
GRU_API int gru_handles_restore(const int32_t* next, size_t len);

/* Parameter tensors by index, in PyTorch's state_dict order, names and layouts (nn.GRU:
 * weight_ih_l{k}[_reverse] [3H, in], weight_hh_... [3H, H], bias_ih_... [3H], bias_hh_... [3H],
 * gate blocks r, z, n; nn.Linear: weight [out, in], bias [out]; nn.Embedding: weight
 * [num, dim]). An optimizer has none. */
GRU_API int gru_param_count(gru_handle obj, int32_t* out);
GRU_API int gru_param_name(gru_handle obj, int32_t index, const char** out);
/* dims [4]: the shape, row-major, 0 past its rank. */
GRU_API int gru_param_shape(gru_handle obj, int32_t index, int32_t* dims, size_t dims_len);
GRU_API int gru_param_size(gru_handle obj, int32_t index, size_t* out);
GRU_API int gru_param_get(gru_handle obj, int32_t index, float* data, size_t len);
GRU_API int gru_param_set(gru_handle obj, int32_t index, const float* data, size_t len);
/* The gradient backward() accumulated since the last zero. */
GRU_API int gru_param_grad(gru_handle obj, int32_t index, float* data, size_t len);
GRU_API int gru_zero_grad(gru_handle obj);
/* The layer's default initialisation (PyTorch's) from a seeded generator: the same seed gives
 * the same parameters on every backend. GRU: U(-1/sqrt(H), 1/sqrt(H)) in state_dict order;
 * dense: U(-1/sqrt(in), 1/sqrt(in)), weight then bias; embedding: approximately N(0, 1). */
GRU_API int gru_init_params(gru_handle obj, uint32_t seed);

/* Keras's initializers (keras.initializers), for one parameter tensor of any object. fan_in and
 * fan_out are Keras's for the weight's Keras shape (a kernel [in, out]: in and out; a GRU's
 * kernel [in, 3H]: in, 3H; its recurrent_kernel [H, 3H]: H, 3H; a vector [n]: n, n), each in
 * [1, 2^31); a and b are the kind's numbers (ignored by the others):
 *   ZEROS, ONES            0, 1
 *   RANDOM_UNIFORM         a + (b - a) U(0, 1) (Keras's defaults -0.05, 0.05; a > b is taken
 *                          as given, as Keras takes it)
 *   RANDOM_NORMAL          a + b N(0, 1), b >= 0 (Keras's defaults 0, 0.05)
 *   GLOROT_UNIFORM         U(-l, l), l = sqrt(6 / (fan_in + fan_out))
 *   GLOROT_NORMAL          N(0, s) cut at +-2s, s = sqrt(2 / (fan_in + fan_out)) / 0.8796...
 *   HE_UNIFORM, HE_NORMAL        the same with variance 2 / fan_in
 *   LECUN_UNIFORM, LECUN_NORMAL  the same with variance 1 / fan_in
 *   ORTHOGONAL             a (the gain, finite) times a Haar-random matrix of the tensor's
 *                          shape: orthonormal columns when rows >= cols, else orthonormal rows
 *                          (a vector, rank 1, is GRU_ERR_ARG, as Keras refuses it)
 * The normals are truncated (Keras's VarianceScaling truncated_normal) and drawn from a
 * generator without libm, so a seed gives the same values on every backend. Keras's own random
 * streams are not reproduced (a seed here is not a Keras seed). */
enum {
  GRU_INIT_ZEROS = 0,
  GRU_INIT_ONES = 1,
  GRU_INIT_RANDOM_UNIFORM = 2,
  GRU_INIT_RANDOM_NORMAL = 3,
  GRU_INIT_GLOROT_UNIFORM = 4,
  GRU_INIT_GLOROT_NORMAL = 5,
  GRU_INIT_HE_UNIFORM = 6,
  GRU_INIT_HE_NORMAL = 7,
  GRU_INIT_LECUN_UNIFORM = 8,
  GRU_INIT_LECUN_NORMAL = 9,
  GRU_INIT_ORTHOGONAL = 10
};
GRU_API int gru_param_init(gru_handle obj, int32_t index, int32_t kind, int32_t fan_in,
                           int32_t fan_out, float a, float b, uint32_t seed);

/* ---- A GRU network: num_layers stacked layers, one or two directions each ----------------
 * Equations (gate order r, z, n, as PyTorch):
 *   r = sigmoid(W_r x + b_ir + U_r h + b_hr)
 *   z = sigmoid(W_z x + b_iz + U_z h + b_hz)
 *   reset_after=1: n = tanh(W_n x + b_in + r * (U_n h + b_hn))      (PyTorch, ONNX lbr=1)
 *   reset_after=0: n = tanh(W_n x + b_in + U_n (r * h) + b_hn)      (Cho 2014)
 *   h' = (1 - z) * n + z * h
 */
GRU_API int gru_net_create(int32_t input_size, int32_t hidden_size, int32_t num_layers,
                           int32_t bidirectional, int32_t has_bias, int32_t reset_after,
                           gru_net_handle* out);

/* The activations of every cell of the net (Keras's GRU activation and recurrent_activation):
 * activation, the candidate's, GRU_ACT_TANH (default) or GRU_ACT_RELU: n = relu(...);
 * recurrent_activation, the gates' (r and z), GRU_ACT_SIGMOID (default), GRU_ACT_HARD_SIGMOID
 * or GRU_ACT_HARD_SIGMOID_KERAS2 (formulas with the activations below). Other kinds are
 * GRU_ERR_ARG. What the last gru_net_forward_train kept is dropped (backward is GRU_ERR_STATE
 * until the next one). */
GRU_API int gru_net_set_activations(gru_net_handle net, int32_t activation,
                                    int32_t recurrent_activation);

/* Keras's GRU dropout (its `dropout` without `recurrent_dropout`) for the training forwards
 * that follow, until set again: each input feature f of sequence b is kept with probability
 * 1 - rate and scaled by 1 / (1 - rate), else zeroed, with one mask per sequence that every
 * step shares (Keras draws one [batch, features] mask per call). The mask is a function of
 * (seed, b, f): set a new seed per batch for new masks. Applies to the input of layer 0; dx of
 * gru_net_backward goes through the same mask. A bidirectional net draws one mask per direction
 * (the backward direction's from another seed), as Keras's Bidirectional runs two layers with
 * a mask each. rate in [0, 1) (0: off, the default); inference (gru_net_forward) never drops. */
GRU_API int gru_net_set_input_dropout(gru_net_handle net, float rate, uint32_t seed);

/* Keras's GRU recurrent_dropout for the training forwards that follow, until set again: each
 * gate g (r, z, n) multiplies its own masked copy of the state, m_g * h, by its recurrent
 * weights (reset_before: U_n (r * (m_n * h))); the blend h' = n + z (h - n) uses the unmasked
 * h. A mask keeps unit j of sequence b with probability 1 - rate, scaled by 1 / (1 - rate),
 * the same at every step: a function of (seed, layer, direction, gate, b, j), so set a new seed
 * per batch for new masks. With input dropout too (gru_net_set_input_dropout), that dropout
 * becomes Keras's one mask per gate: gate g's projection is (x * q_g) W_g^T, each q_g a
 * function of (seed of the input dropout, direction, gate, b, f). Every layer and direction of
 * the net is masked; dx and the weight gradients go through the same masks. rate in [0, 1)
 * (0: off, the default); inference (gru_net_forward) never drops and keeps its fused path. */
GRU_API int gru_net_set_recurrent_dropout(gru_net_handle net, float rate, uint32_t seed);

/* Forward over a batch of sequences.
 *   x       [T, B, in] (or [B, T, in] when batch_first)                    required
 *   h0      [L*D, B, H]                                                    may be null (zeros)
 *   lengths [B], each in [0, T]; steps at t >= lengths[b] are padding:     may be null (all T)
 *           they change neither the state nor the outputs (zeros there); the reverse
 *           direction runs over each sequence's own valid prefix.
 *   y       [T, B, D*H] (or [B, T, D*H])                                   may be null
 *   h_n     [L*D, B, H], the state at each sequence's own last step         may be null
 * h0 and h_n may be the same buffer (streaming: state in, state out). */
GRU_API GRU_ASYNC int gru_net_forward(gru_net_handle net, int32_t seq_len, int32_t batch,
                                      int32_t batch_first, const float* x, size_t x_len,
                                      GRU_NULLABLE const float* h0, size_t h0_len,
                                      GRU_NULLABLE const int32_t* lengths, size_t lengths_len,
                                      GRU_NULLABLE float* y, size_t y_len, GRU_NULLABLE float* h_n,
                                      size_t h_n_len);

/* Many independent streams, one timestep each, in one call (a server's live sessions): states
 * [capacity, L, H] holds every stream's state (stream s's layers at states[s*L*H ...]); the
 * streams listed in slots (n distinct indices in [0, capacity)) each take their input row of
 * x [n, in], and their states advance in place; y [n, H] gets each one's output (may be null).
 * states_out must be states itself (in place). A unidirectional net only (GRU_ERR_STATE). Each
 * stream's numbers are bitwise those of stepping it alone (gru_net_forward with batch 1). */
GRU_API GRU_ASYNC int gru_net_step_streams(gru_net_handle net, const int32_t* slots,
                                           size_t slots_len, const float* x, size_t x_len,
                                           const float* states, size_t states_len,
                                           GRU_NULLABLE float* y, size_t y_len, float* states_out,
                                           size_t states_out_len);

/* Reduced-precision weights for inference. The packed weights the forward reads (input
 * projection and recurrent panels) are stored as:
 *   GRU_PRECISION_FP32  floats (the default);
 *   GRU_PRECISION_BF16  bfloat16: each weight rounded to nearest even, relative error <= 2^-9;
 *   GRU_PRECISION_INT8  int8 symmetric per output row: s = max|row| / 127, q = round(w / s) in
 *                       [-127, 127], absolute error <= s / 2 per weight.
 * Weight-only: the weights are widened to fp32 in registers and the inputs, sums and gate
 * math stay fp32 (the result is the fp32 forward of the rounded weights). Biases stay fp32.
 * The public fp32 values stay the master copy (get, set, files); setting them quantizes again.
 * gru_net_forward and gru_net_step_streams use the precision; gru_net_forward_train needs
 * GRU_PRECISION_FP32 (GRU_ERR_STATE otherwise). Other values are GRU_ERR_ARG. */
enum { GRU_PRECISION_FP32 = 0, GRU_PRECISION_BF16 = 1, GRU_PRECISION_INT8 = 2 };
GRU_API int gru_net_set_precision(gru_net_handle net, int32_t precision);
GRU_API int gru_net_get_precision(gru_net_handle net, int32_t* out);
/* Bytes of the packed weights a forward reads (int8 includes its per-row scales): about a half
 * (bf16) or a quarter (int8) of the fp32 figure. */
GRU_API int gru_net_weight_bytes(gru_net_handle net, size_t* out);

/* ==== Training ==============================================================================
 * Every object with parameters keeps, per parameter tensor, its value and a gradient buffer in
 * the public layout. backward() adds into the gradient buffers; gru_zero_grad() clears them; an
 * optimizer updates the values in place and the object repacks what its kernels need. */

/* Forward in training mode: as gru_net_forward, and keeps what backward needs (the gates of
 * every step and every layer's output; gru_net_train_bytes tells how much). dropout in [0, 1)
 * zeroes each input of layers 1..L-1 with that probability and scales the rest by 1/(1-p)
 * (PyTorch's GRU dropout), from a mask that dropout_seed determines. */
GRU_API GRU_ASYNC int gru_net_forward_train(gru_net_handle net, int32_t seq_len, int32_t batch,
                                            int32_t batch_first, const float* x, size_t x_len,
                                            GRU_NULLABLE const float* h0, size_t h0_len,
                                            GRU_NULLABLE const int32_t* lengths, size_t lengths_len,
                                            GRU_NULLABLE float* y, size_t y_len,
                                            GRU_NULLABLE float* h_n, size_t h_n_len, float dropout,
                                            uint32_t dropout_seed);
/* Backpropagation through time for the last gru_net_forward_train. dy [T, B, D*H] (layout of
 * y) and dh_n [L*D, B, H] are the loss gradients of the outputs; either may be null (zero).
 * Adds into the parameter gradients; writes dx (layout of x) and dh0 [L*D, B, H] when not null.
 * Valid once per forward_train: before one, or a second time, it is GRU_ERR_STATE. */
GRU_API GRU_ASYNC int gru_net_backward(gru_net_handle net, GRU_NULLABLE const float* dy,
                                       size_t dy_len, GRU_NULLABLE const float* dh_n,
                                       size_t dh_n_len, GRU_NULLABLE float* dx, size_t dx_len,
                                       GRU_NULLABLE float* dh0, size_t dh0_len);
/* Bytes forward_train keeps per (batch row, timestep, layer), and in total after the last one. */
GRU_API int gru_net_train_bytes_per_step(gru_net_handle net, size_t* out);
GRU_API int gru_net_train_bytes(gru_net_handle net, size_t* out);

/* ---- Activations (Keras 3's definitions), applied over rows of `cols` values -------------
 *   LINEAR      x                              RELU        max(x, 0)
 *   SIGMOID     1 / (1 + exp(-x))              TANH        tanh(x)
 *   SOFTMAX     exp(x_j - max) / sum_k exp(x_k - max), over each row of cols values
 *   GELU        0.5 x (1 + erf(x / sqrt 2))    (keras.activations.gelu, approximate=False)
 *   GELU_TANH   0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))      (approximate=True)
 *   ELU         x > 0 ? x : exp(x) - 1         (alpha 1)
 *   SELU        scale * (x > 0 ? x : alpha (exp(x) - 1)), alpha 1.6732632423543772,
 *               scale 1.0507009873554805
 *   SOFTPLUS    log(1 + exp(x))
 *   HARD_SIGMOID         relu6(x + 3) / 6                 (Keras 3)
 *   HARD_SIGMOID_KERAS2  clip(0.2 x + 0.5, 0, 1)          (Keras 2, tf.keras, tfjs)
 * Derivatives at kinks: relu'(0) = 0; ELU and SELU take the x <= 0 branch at 0 (as JAX's
 * autodiff, Keras 3's backend); the hard sigmoids' slope is 0 where the output is 0 or 1.
 * NaN in gives NaN out. */
enum {
  GRU_ACT_LINEAR = 0,
  GRU_ACT_RELU = 1,
  GRU_ACT_SIGMOID = 2,
  GRU_ACT_TANH = 3,
  GRU_ACT_SOFTMAX = 4,
  GRU_ACT_GELU = 5,
  GRU_ACT_GELU_TANH = 6,
  GRU_ACT_ELU = 7,
  GRU_ACT_SELU = 8,
  GRU_ACT_SOFTPLUS = 9,
  GRU_ACT_HARD_SIGMOID = 10,
  GRU_ACT_HARD_SIGMOID_KERAS2 = 11
};
/* x [rows, cols] -> y, same length (a multiple of cols >= 1; cols matters to SOFTMAX only). */
GRU_API GRU_ASYNC int gru_activation_forward(int32_t kind, int32_t cols, const float* x,
                                             size_t x_len, float* y, size_t y_len);
/* dx = dy * f'(x), from what the kind's derivative is cheapest and most accurate from: the
 * forward output y for every kind except GELU and GELU_TANH, which take the input x (LINEAR
 * takes neither). Pass the one it needs (GRU_ERR_NULL naming it otherwise); the other may be
 * null, and if given must have the length of dy. */
GRU_API GRU_ASYNC int gru_activation_backward(int32_t kind, int32_t cols,
                                              GRU_NULLABLE const float* x, size_t x_len,
                                              GRU_NULLABLE const float* y, size_t y_len,
                                              const float* dy, size_t dy_len, float* dx,
                                              size_t dx_len);

/* ---- Dense layer: y = act(x W^T + b), W [out, in], b [out], act a GRU_ACT_* kind --------- */
GRU_API int gru_dense_create(int32_t in_features, int32_t out_features, int32_t has_bias,
                             int32_t activation, gru_dense_handle* out);
/* x [rows, in] -> y [rows, out], the activation applied in the same call (softmax over the out
 * features of each row). train = 1 keeps a copy of x, and of what the activation's derivative
 * needs (y, or x W^T + b for the GELUs), for backward. */
GRU_API GRU_ASYNC int gru_dense_forward(gru_dense_handle layer, int32_t rows, const float* x,
                                        size_t x_len, float* y, size_t y_len, int32_t train);
/* dy [rows, out] of the last training forward (the gradient of the activation's output: the
 * layer applies the activation's derivative first); adds into the gradients; dx [rows, in] may
 * be null. Once per training forward (GRU_ERR_STATE otherwise). */
GRU_API GRU_ASYNC int gru_dense_backward(gru_dense_handle layer, const float* dy, size_t dy_len,
                                         GRU_NULLABLE float* dx, size_t dx_len);

/* ---- Embedding: y[i] = W[index[i]], W [num_embeddings, dim] ---------------------------- */
GRU_API int gru_embedding_create(int32_t num_embeddings, int32_t dim, gru_embedding_handle* out);
/* indices [n], each in [0, num_embeddings) (GRU_ERR_RANGE otherwise) -> y [n, dim].
 * train = 1 keeps the indices for backward. */
GRU_API GRU_ASYNC int gru_embedding_forward(gru_embedding_handle layer, const int32_t* indices,
                                            size_t n, float* y, size_t y_len, int32_t train);
/* dy [n, dim]: adds into the gradient rows of the indices used, no other row. */
GRU_API GRU_ASYNC int gru_embedding_backward(gru_embedding_handle layer, const float* dy,
                                             size_t dy_len);

/* ---- Layer normalization over the last dimension, nn.LayerNorm(dim, eps, affine) ----------
 * y = (x - mean) / sqrt(var + eps) * weight + bias, mean and biased variance over each row of
 * dim features. Parameters (affine = 1): weight [dim] (ones), bias [dim] (zeros). */
GRU_API int gru_layer_norm_create(int32_t dim, float eps, int32_t affine,
                                  gru_layer_norm_handle* out);
/* x [rows, dim] -> y [rows, dim]. train = 1 keeps the normalized rows for backward. */
GRU_API GRU_ASYNC int gru_layer_norm_forward(gru_layer_norm_handle layer, int32_t rows,
                                             const float* x, size_t x_len, float* y, size_t y_len,
                                             int32_t train);
/* dy [rows, dim] of the last training forward; adds into the gradients; dx may be null. Once
 * per training forward (GRU_ERR_STATE otherwise). */
GRU_API GRU_ASYNC int gru_layer_norm_backward(gru_layer_norm_handle layer, const float* dy,
                                              size_t dy_len, GRU_NULLABLE float* dx, size_t dx_len);

/* ---- Batch normalization over the last dimension, nn.BatchNorm1d(features, eps, momentum) --
 * Rows are samples (batch x steps of a sequence), features the last dimension. Per feature j,
 * over the rows:  y = (x - mean_j) / sqrt(var_j + eps) * weight_j + bias_j.
 * Training (train = 1): mean and biased var of this batch's rows; then
 *   running_mean = (1 - momentum) running_mean + momentum mean
 *   running_var  = (1 - momentum) running_var  + momentum var'
 * with var' the unbiased variance (var * rows / (rows - 1), PyTorch's; needs rows >= 2) when
 * unbiased_running_var = 1, else the biased one (Keras's moving_variance; Keras's momentum m is
 * 1 - momentum here); num_batches_tracked += 1. Inference (train = 0): running_mean and
 * running_var, fused as y = x * scale + shift per feature.
 * Tensors: weight [features] (ones), bias [features] (zeros) when affine = 1; then the buffers
 * running_mean [features] (zeros), running_var [features] (ones), num_batches_tracked [] (0):
 * in the state dict, never updated by an optimizer. */
GRU_API int gru_batch_norm_create(int32_t features, float eps, float momentum, int32_t affine,
                                  int32_t unbiased_running_var, gru_batch_norm_handle* out);
/* x [rows, features] -> y [rows, features], rows >= 1. train = 1 updates the running statistics
 * and keeps the normalized rows for backward (rows >= 2 with unbiased_running_var:
 * GRU_ERR_SHAPE otherwise). mask [rows] (may be null; inference ignores it): a row counts in the
 * batch statistics where its mask is not 0, and they are divided by count + 1e-7, Keras's
 * masked moments; every row is normalised. A training mask needs unbiased_running_var = 0
 * (GRU_ERR_ARG). */
GRU_API int gru_batch_norm_forward(gru_batch_norm_handle layer, int32_t rows, const float* x,
                                   size_t x_len, GRU_NULLABLE const float* mask, size_t mask_len,
                                   float* y, size_t y_len, int32_t train);
/* dy [rows, features] of the last training forward (through the batch statistics); adds into
 * the gradients of weight and bias; dx may be null. Once per training forward (GRU_ERR_STATE
 * otherwise). */
GRU_API int gru_batch_norm_backward(gru_batch_norm_handle layer, const float* dy, size_t dy_len,
                                    GRU_NULLABLE float* dx, size_t dx_len);

/* ---- Global pooling over the steps (Keras's GlobalAveragePooling1D, GlobalMaxPooling1D) ----
 * x [batch, steps, features] -> y [batch, features]. mask [batch, steps] (may be null: every
 * step counts): a step counts where its mask is not 0. Per sample b and feature j, over the
 * steps t that count:
 *   AVERAGE  y = sum_t x[b, t, j] / count;  dx[b, t, j] = dy[b, j] / count
 *   MAX      y = max_t x[b, t, j] (NaN if one is NaN);  dx = dy split equally among the steps
 *            equal to the max (JAX's rule for ties), 0 elsewhere
 * A sample with no step that counts gives y = 0 and dx = 0 (Keras's average would be 0 / 0);
 * steps that do not count get dx = 0. MAX's backward needs x (GRU_ERR_NULL otherwise);
 * AVERAGE's ignores it. */
enum { GRU_POOL_AVERAGE = 0, GRU_POOL_MAX = 1 };
GRU_API int gru_pool_forward(int32_t kind, int32_t batch, int32_t steps, int32_t features,
                             const float* x, size_t x_len, GRU_NULLABLE const float* mask,
                             size_t mask_len, float* y, size_t y_len);
GRU_API int gru_pool_backward(int32_t kind, int32_t batch, int32_t steps, int32_t features,
                              GRU_NULLABLE const float* x, size_t x_len,
                              GRU_NULLABLE const float* mask, size_t mask_len, const float* dy,
                              size_t dy_len, float* dx, size_t dx_len);

/* ---- Bidirectional merge (Keras's merge_mode sum, ave, mul) --------------------------------
 * x [rows, 2 * units]: each row the forward half a then the backward half b (a bidirectional
 * GRU's output) -> y [rows, units]: SUM a + b, AVE (a + b) / 2, MUL a * b. Backward: dx
 * [rows, 2 * units] = [dy, dy] (SUM), [dy / 2, dy / 2] (AVE), [dy * b, dy * a] (MUL, from x). */
enum { GRU_MERGE_SUM = 0, GRU_MERGE_AVE = 1, GRU_MERGE_MUL = 2 };
GRU_API int gru_merge_forward(int32_t kind, int32_t rows, int32_t units, const float* x,
                              size_t x_len, float* y, size_t y_len);
GRU_API int gru_merge_backward(int32_t kind, int32_t rows, int32_t units, const float* x,
                               size_t x_len, const float* dy, size_t dy_len, float* dx,
                               size_t dx_len);

/* ---- Row gather and scatter: moving steps (goBackwards, masks, Bidirectional states) -------
 * Matrices of rows of `width` floats; index has one entry per row it names, each in [-1, rows).
 * gather: x [rows, width] -> y [index_len, width], y row i = x row index[i], zeros where
 * index[i] == -1. scatter_sum, gather's adjoint: x [index_len, width] -> y [rows, width], y row
 * r = the sum of the x rows i with index[i] == r in increasing i (zeros where none). Every
 * index is checked before y is written. */
GRU_API int gru_rows_gather(int32_t rows, int32_t width, const float* x, size_t x_len,
                            const int32_t* index, size_t index_len, float* y, size_t y_len);
GRU_API int gru_rows_scatter_sum(int32_t rows, int32_t width, const float* x, size_t x_len,
                                 const int32_t* index, size_t index_len, float* y, size_t y_len);

/* ---- Keras's Masking: x [rows, features] (rows = batch x steps) -> y, mask [rows] ----------
 * mask[r] = 1 if any x[r, j] != mask_value, else 0 (a padding step); y = x * mask[r], Keras's
 * product (a padding step becomes 0). */
GRU_API int gru_masking_forward(int32_t rows, int32_t features, float mask_value, const float* x,
                                size_t x_len, float* y, size_t y_len, float* mask, size_t mask_len);

/* ---- Losses, PyTorch's (mean over elements / rows); the gradient output may be null -------- */
/* The gradient output of every loss (these and gru_loss, gru_loss_sparse below) may be one of
 * the inputs itself (same start, same length), or share no memory with them; a partial overlap
 * is GRU_ERR_ARG. */
/* logits [rows, classes], targets [rows] in [0, classes) or -1 (ignored row); mean over the
 * rows not ignored. dlogits [rows, classes] = d loss / d logits. */
GRU_API GRU_ASYNC int gru_loss_softmax_cross_entropy(const float* logits, size_t logits_len,
                                                     int32_t rows, int32_t classes,
                                                     const int32_t* targets, size_t targets_len,
                                                     GRU_NULLABLE float* dlogits,
                                                     size_t dlogits_len, float* loss);
/* Binary cross-entropy on logits (numerically stable), targets in [0, 1]. */
GRU_API GRU_ASYNC int gru_loss_bce_with_logits(const float* logits, size_t n, const float* targets,
                                               size_t targets_len, GRU_NULLABLE float* dlogits,
                                               size_t dlogits_len, float* loss);
GRU_API GRU_ASYNC int gru_loss_mse(const float* pred, size_t n, const float* targets,
                                   size_t targets_len, GRU_NULLABLE float* dpred, size_t dpred_len,
                                   float* loss);

/* ---- Losses with Keras 3's semantics, sample weights included ------------------------------
 * pred and targets [rows, cols]. The loss of row r, l_r:
 *   CATEGORICAL_CE         -sum_j t_j log(clip(p_j / sum_k p_k, eps, 1 - eps))   (cols = classes,
 *                          pred probabilities, e.g. a softmax output; eps = 1e-7)
 *   CATEGORICAL_CE_LOGITS  -sum_j t_j log_softmax(x)_j
 *   BINARY_CE              mean_j -(t log(c) + (1 - t) log(1 - c)), c = clip(p, eps, 1 - eps)
 *   BINARY_CE_LOGITS       mean_j max(x, 0) - x t + log(1 + exp(-|x|))
 *   MSE                    mean_j (p - t)^2
 *   MAE                    mean_j |p - t|
 *   HUBER                  mean_j (|e| <= delta ? e^2 / 2 : delta |e| - delta^2 / 2), e = p - t
 * The clip bounds are float32 numbers (1e-7 and 1 - 1e-7 rounded), as Keras computes in float32.
 * Reduction 'sum_over_batch_size': loss = sum_r w_r l_r / rows (0 when rows = 0). sample_weight
 * null means w = 1; otherwise its W entries (finite, >= 0; W divides rows) each weigh a block of
 * rows / W consecutive rows: Keras's broadcast of per-sample weights [batch] over the steps of
 * a sequence [batch, T]. grad = d loss / d pred as Keras's autodiff gives it (CATEGORICAL_CE:
 * through the row normalization; both probability forms: zero where the clip is active;
 * MAE: sign(e), 0 at e = 0, where JAX's autodiff gives -1).
 * Targets of the CE kinds must be in [0, 1], of the others finite (GRU_ERR_RANGE otherwise). */
enum {
  GRU_LOSS_CATEGORICAL_CE = 0,
  GRU_LOSS_CATEGORICAL_CE_LOGITS = 1,
  GRU_LOSS_BINARY_CE = 2,
  GRU_LOSS_BINARY_CE_LOGITS = 3,
  GRU_LOSS_MSE = 4,
  GRU_LOSS_MAE = 5,
  GRU_LOSS_HUBER = 6
};
/* pred_len a multiple of cols >= 1 (cols changes only the CE kinds' results); delta is
 * HUBER's (finite, > 0), ignored by the other kinds. */
GRU_API GRU_ASYNC int gru_loss(int32_t kind, int32_t cols, float delta, const float* pred,
                               size_t pred_len, const float* targets, size_t targets_len,
                               GRU_NULLABLE const float* sample_weight, size_t sample_weight_len,
                               GRU_NULLABLE float* grad, size_t grad_len, float* loss);
/* Sparse categorical cross-entropy: kind CATEGORICAL_CE or CATEGORICAL_CE_LOGITS on pred
 * [rows, classes] with integer targets [rows], each in [0, classes) (GRU_ERR_RANGE otherwise):
 * the loss of the one-hot rows, as gru_loss. */
GRU_API GRU_ASYNC int gru_loss_sparse(int32_t kind, int32_t classes, const float* pred,
                                      size_t pred_len, const int32_t* targets, size_t targets_len,
                                      GRU_NULLABLE const float* sample_weight,
                                      size_t sample_weight_len, GRU_NULLABLE float* grad,
                                      size_t grad_len, float* loss);

/* ---- Metrics (Keras 3's), as sums that a caller adds up over batches ------------------------
 * Each call writes the sums of this batch only; the metric over many batches is the ratio of
 * the sums added up (ts/metrics.ts adds them in float64). rows, cols and sample_weight as for
 * the losses: sample i is a block of rows / W rows of weight w_i (without weights, each row is
 * a sample of weight 1).
 *   BINARY_ACCURACY       per element: t == (p > threshold ? 1 : 0)
 *   CATEGORICAL_ACCURACY  per row: argmax t == argmax p (the first index on ties)
 *   MAE, MSE              per element: |p - t|, (p - t)^2
 * sums [2] = { sum_i w_i v_i, sum_i w_i }, v_i the mean of the values of sample i: the metric
 * is sums[0] / sums[1]. threshold: BINARY_ACCURACY's, ignored by the other kinds. */
enum {
  GRU_METRIC_BINARY_ACCURACY = 0,
  GRU_METRIC_CATEGORICAL_ACCURACY = 1,
  GRU_METRIC_MAE = 2,
  GRU_METRIC_MSE = 3
};
GRU_API int gru_metric_mean(int32_t kind, int32_t cols, float threshold, const float* pred,
                            size_t pred_len, const float* targets, size_t targets_len,
                            GRU_NULLABLE const float* sample_weight, size_t sample_weight_len,
                            float* sums, size_t sums_len);
/* Sparse categorical accuracy: per row, argmax p == targets[r], each target in [0, classes)
 * (GRU_ERR_RANGE otherwise); sums [2] as gru_metric_mean. */
GRU_API int gru_metric_sparse_accuracy(int32_t classes, const float* pred, size_t pred_len,
                                       const int32_t* targets, size_t targets_len,
                                       GRU_NULLABLE const float* sample_weight,
                                       size_t sample_weight_len, float* sums, size_t sums_len);
/* Confusion counts at a threshold (Keras's Precision and Recall): per element, predicted
 * positive when p > threshold, positive when t != 0. counts [4] = { true positives, false
 * positives, true negatives, false negatives }, each element counting its sample's weight
 * (sample_weight's W entries divide the elements into W equal blocks). precision = tp / (tp +
 * fp), recall = tp / (tp + fn). */
GRU_API int gru_metric_confusion(float threshold, const float* pred, size_t pred_len,
                                 const float* targets, size_t targets_len,
                                 GRU_NULLABLE const float* sample_weight, size_t sample_weight_len,
                                 float* counts, size_t counts_len);

/* AUC (Keras's AUC with multi_label false): confusion counts at num_thresholds (>= 2)
 * thresholds, which a caller accumulates over batches and turns into the area.
 * Each element of pred is a probability (from_logits = 1: a logit, sigmoid applied first),
 * clipped to [0, 1]; it counts at thresholds 0..b, b = max(0, ceil(p (T - 1)) - 1) computed in
 * float32 (Keras's bucketing of its thresholds {-eps, 1/(T-1), ..., (T-2)/(T-1), 1 + eps}:
 * p > i / (T - 1), and every p at threshold 0). NaN counts as 0. t != 0 is a positive. Each
 * element weighs its sample's weight (sample_weight as gru_metric_confusion's).
 * counts and updated [4 T] = { tp[T], fp[T], tn[T], fn[T] }: updated = counts + this batch's
 * counts, added in float32 as Keras's variables; counts and updated may be the same buffer. */
GRU_API int gru_metric_auc_update(int32_t num_thresholds, int32_t from_logits, const float* pred,
                                  size_t pred_len, const float* targets, size_t targets_len,
                                  GRU_NULLABLE const float* sample_weight, size_t sample_weight_len,
                                  const float* counts, size_t counts_len, float* updated,
                                  size_t updated_len);
/* The area from counts [4 T] as gru_metric_auc_update leaves them (T = counts_len / 4, >= 2),
 * Keras's AUC.result(): the curve's points per threshold, ROC (x fp / (fp + tn), y tp / (tp +
 * fn)) or PR (x recall, y tp / (tp + fp)), each ratio 0 when its denominator is 0; the area
 * sum_i (x_i - x_{i+1}) h_i with h_i the mean (INTERPOLATION), min (MINORING) or max (MAJORING)
 * of y_i and y_{i+1}; PR with INTERPOLATION is instead Keras's interpolation of precision
 * between thresholds (Davis & Goadrich 2006; comment in native/core/metrics_auc.cpp). */
enum { GRU_AUC_ROC = 0, GRU_AUC_PR = 1 };
enum { GRU_AUC_INTERPOLATION = 0, GRU_AUC_MINORING = 1, GRU_AUC_MAJORING = 2 };
GRU_API int gru_metric_auc_result(int32_t curve, int32_t summation, const float* counts,
                                  size_t counts_len, float* auc);

/* ---- Dropout: y = x * mask / (1 - p); the mask is a function of (seed, index), so backward
 * regenerates it instead of storing it. p in [0, 1). ----------------------------------------- */
GRU_API int gru_dropout_forward(const float* x, size_t n, float p, uint32_t seed, float* y,
                                size_t y_len);
GRU_API int gru_dropout_backward(const float* dy, size_t n, float p, uint32_t seed, float* dx,
                                 size_t dx_len);

/* ---- Optimizers, fused: one pass over all parameters per step ----------------------------
 * PyTorch's formulas by default. Adam: g += wd * p (L2); m = b1 m + (1-b1) g;
 * v = b2 v + (1-b2) g^2; (amsgrad: vmax = max(vmax, v));
 * p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). AdamW: p *= 1 - lr * wd first, no L2.
 * SGD: g += wd * p; buf = momentum buf + (1-dampening) g (buf = g on the first step);
 * nesterov: g += momentum buf, else g = buf; p -= lr g.
 * RMSprop (a = alpha, b = momentum): g += wd * p; v = alpha v + (1-alpha) g^2;
 * centered: gavg = alpha gavg + (1-alpha) g, d = sqrt(v - gavg^2) + eps, else d = sqrt(v) + eps;
 * momentum > 0: buf = momentum buf + g / d, p -= lr buf; else p -= lr g / d.
 * Adagrad (a = initial accumulator value, b = lr_decay): clr = lr / (1 + (t-1) lr_decay);
 * g += wd * p; sum += g^2; p -= clr g / (sqrt(sum) + eps).
 * GRU_OPTIM_KERAS: Keras 3's formulas instead. Weight decay is decoupled for every kind,
 * p -= p * wd * lr, before the update. Adam / AdamW (the same then):
 * m += (g - m)(1-b1); v += (g^2 - v)(1-b2); (amsgrad: v = vmax = max(vmax, v));
 * p -= lr sqrt(1-b2^t) / (1-b1^t) * m / (sqrt(v) + eps). SGD (dampening 0):
 * buf = momentum buf - lr g; nesterov: p += momentum buf - lr g, else p += buf.
 * RMSprop: v = rho v + (1-rho) g^2; centered: gavg as above, d = sqrt(v - gavg^2 + eps), else
 * d = sqrt(v + eps); inc = lr g / d; momentum > 0: buf = momentum buf + inc, p -= buf; else
 * p -= inc. Adagrad: sum += g^2; p -= clr g / sqrt(sum + eps).
 * maximize: ascend (g = -g). A call that touches the parameters (step, clipping, zero_grad)
 * holds every object added for its duration (GRU_ERR_BUSY if one is in use). */
enum {
  GRU_OPTIM_SGD = 0,
  GRU_OPTIM_ADAM = 1,
  GRU_OPTIM_ADAMW = 2,
  GRU_OPTIM_RMSPROP = 3,
  GRU_OPTIM_ADAGRAD = 4
};
enum {
  GRU_OPTIM_AMSGRAD = 1,
  GRU_OPTIM_MAXIMIZE = 2,
  GRU_OPTIM_NESTEROV = 4,
  GRU_OPTIM_CENTERED = 8,
  GRU_OPTIM_KERAS = 16
};
/* a = beta1 (Adam), momentum (SGD), alpha (RMSprop), initial accumulator value (Adagrad);
 * b = beta2 (Adam), dampening (SGD), momentum (RMSprop), lr_decay (Adagrad); eps unused by
 * SGD. */
GRU_API int gru_optim_create(int32_t kind, float lr, float a, float b, float eps,
                             float weight_decay, int32_t flags, gru_optim_handle* out);
/* Adds every parameter tensor of the object, in its state_dict order (not its buffers: a batch
 * norm's running statistics). */
GRU_API int gru_optim_add(gru_optim_handle opt, gru_handle obj);
/* clip_grad_norm_: total 2-norm of all gradients; if above max_norm, scales them by
 * max_norm / (total + 1e-6). Writes the total norm before clipping. */
GRU_API GRU_ASYNC int gru_optim_clip_grad_norm(gru_optim_handle opt, float max_norm,
                                               float* total_norm);
/* clip_grad_value_: clamps every gradient to [-clip, clip]. */
GRU_API int gru_optim_clip_grad_value(gru_optim_handle opt, float clip);
/* Keras 3's gradient clipping (its optimizers' clipnorm, global_clipnorm, clipvalue), over
 * every gradient except the tensors listed in skip (indices in the order added, counting every
 * object's tensors: a parameter Keras does not have, such as a GRU's zero bias_hh).
 * GRU_CLIP_NORM: each tensor g *= value / max(|g|, value). GRU_CLIP_GLOBAL_NORM: n = the
 * 2-norm of all of them together, every g *= value * min(1/n, 1/value) (NaN if n is not
 * finite). GRU_CLIP_VALUE: g = clamp(g, -value, value). value > 0. */
enum { GRU_CLIP_NORM = 0, GRU_CLIP_GLOBAL_NORM = 1, GRU_CLIP_VALUE = 2 };
GRU_API GRU_ASYNC int gru_optim_clip_keras(gru_optim_handle opt, int32_t mode, float value,
                                           GRU_NULLABLE const int32_t* skip, size_t skip_len);
/* One update with this learning rate, >= 0 (a schedule computes it per step and may reach 0;
 * creation requires lr > 0). */
GRU_API GRU_ASYNC int gru_optim_step(gru_optim_handle opt, float lr);
/* Zeroes the gradients of every object added. */
GRU_API int gru_optim_zero_grad(gru_optim_handle opt);
/* The optimizer's state as one float array: [step count, then every moment buffer]. */
GRU_API int gru_optim_state_size(gru_optim_handle opt, size_t* out);
GRU_API int gru_optim_get_state(gru_optim_handle opt, float* data, size_t len);
GRU_API int gru_optim_set_state(gru_optim_handle opt, const float* data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* GRU_SIMD_H_ */
