// The C ABI functions on gru_optim: SGD, Adam, AdamW, RMSprop and Adagrad, in PyTorch's or
// Keras's formulas, over the parameter tensors of any object (object.h: a GRU net, a dense
// layer, an embedding, any layer to come), and the gradient clipping of both frameworks. Each step
// is one fused kernel pass per tensor (native/kernels/optim.h); the owners repack after it.
//
// The optimizer holds a reference on every owner it was given, so a layer destroyed by the user
// stays in memory until the optimizer goes; every call that would touch its tensors then fails
// with GRU_ERR_STATE instead.
//
// State layout (gru_optim_get_state / set_state), one float array:
//   [0]   the step count t (an integer; exact in float up to 2^24 steps)
//   then, per tensor in the order added (each object's tensors in its get_param order):
//     Adam / AdamW: m [size], v [size], and vmax [size] when amsgrad
//     SGD:          the momentum buffer [size] when momentum != 0, else nothing
//     RMSprop:      v [size], then gavg [size] when centered, then the momentum buffer [size]
//                   when momentum > 0
//     Adagrad:      the sum of squares [size] (starts at the initial accumulator value)
// The step count is shared by all tensors (PyTorch keeps one per tensor), which is why tensors
// can only be added before the first step.
//
// Over 400 lines: the five optimizers share the slot table, the state layout and the locking of
// the layers they update; apart they would copy it.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dispatch.h"
#include "handles.h"
#include "memory.h"
#include "object.h"
#include "status.h"

using gru::fail;

namespace {

constexpr int32_t kAllFlags = GRU_OPTIM_AMSGRAD | GRU_OPTIM_MAXIMIZE | GRU_OPTIM_NESTEROV |
                              GRU_OPTIM_CENTERED | GRU_OPTIM_KERAS;
constexpr double kMaxExactStep = 16777216.0;  // 2^24: the largest count a float holds exactly

// One parameter tensor and its moments.
struct Slot {
  gru::Object* owner;
  int32_t index;   // into owner->tensors
  size_t size;     // floats
  float* buffers;  // [buffers_per_tensor * size]: the moments (state layout above)
};

bool is_finite(float x) { return x == x && x - x == 0.0f; }

}  // namespace

struct gru_optim {
  gru::Object base;  // first member: kind, reference count (no parameters of its own)
  int32_t kind, flags;
  float lr, a, b, eps, weight_decay;  // a, b: as gru_optim_create's (gru_simd.h)
  int32_t buffers_per_tensor;
  const gru::KernelTable* kernels;  // fixed at creation
  int64_t steps;
  gru::Object** owners;
  int32_t n_owners, owners_cap;
  Slot* slots;
  int32_t n_slots, slots_cap;
};

namespace {

const char* optim_name(int32_t kind) {
  switch (kind) {
    case GRU_OPTIM_SGD:
      return "SGD";
    case GRU_OPTIM_ADAM:
      return "Adam";
    case GRU_OPTIM_ADAMW:
      return "AdamW";
    case GRU_OPTIM_RMSPROP:
      return "RMSprop";
    default:
      return "Adagrad";
  }
}

// GRU_ERR_STATE if an object added to the optimizer has been destroyed since.
int check_owners(const gru_optim* opt) {
  for (int32_t i = 0; i < opt->n_owners; ++i)
    if (opt->owners[i]->disposed)
      return fail(GRU_ERR_STATE,
                  "a %s added to this optimizer has been disposed; create a new optimizer for "
                  "the objects still in use",
                  opt->owners[i]->type->what);
  return GRU_OK;
}

// Grows an array of trivially copyable T to hold at least `count`, keeping its contents.
template <class T>
bool reserve(T*& p, int32_t& cap, int32_t used, int32_t count) {
  if (count <= cap) return true;
  int32_t next = cap < 4 ? 4 : cap;
  while (next < count) next *= 2;
  T* grown = gru::alloc_array<T>(next);
  if (!grown) return false;
  if (used > 0) memcpy(grown, p, used * sizeof(T));
  gru::mem_free(p);
  p = grown;
  cap = next;
  return true;
}

int add_owner(gru_optim* opt, gru::Object* owner) {
  if (owner->disposed) return fail(GRU_ERR_STATE, "the %s has been disposed", owner->type->what);
  for (int32_t i = 0; i < opt->n_owners; ++i)
    if (opt->owners[i] == owner)
      return fail(GRU_ERR_ARG, "this %s was already added to the optimizer", owner->type->what);
  if (opt->steps > 0)
    return fail(GRU_ERR_STATE,
                "parameters must be added before the first step (the optimizer has taken %lld; "
                "the step count is shared by all parameters)",
                static_cast<long long>(opt->steps));
  // The trailing buffers (object.h: running statistics) are state, not parameters.
  const int32_t first = opt->n_slots, count = owner->count - owner->buffers;
  if (count > INT32_MAX - opt->n_slots)
    return fail(GRU_ERR_ARG, "too many parameter tensors in one optimizer");
  if (!reserve(opt->owners, opt->owners_cap, opt->n_owners, opt->n_owners + 1) ||
      !reserve(opt->slots, opt->slots_cap, opt->n_slots, opt->n_slots + count))
    return fail(GRU_ERR_ALLOC, "out of memory adding a %s to the optimizer", owner->type->what);
  // Moments, zeroed; on failure nothing is kept.
  for (int32_t i = 0; i < count; ++i) {
    Slot& s = opt->slots[first + i];
    s.owner = owner;
    s.index = i;
    s.size = owner->tensors[i].size;
    s.buffers = nullptr;
    const size_t per = opt->buffers_per_tensor;
    if (per > 0 && s.size > 0) {
      s.buffers = s.size <= SIZE_MAX / sizeof(float) / 2 / per
                      ? gru::alloc_array<float>(per * s.size)
                      : nullptr;
      if (!s.buffers) {
        for (int32_t j = 0; j < i; ++j) gru::mem_free(opt->slots[first + j].buffers);
        return fail(GRU_ERR_ALLOC, "out of memory for the optimizer state of a %s",
                    owner->type->what);
      }
      // Adagrad's sum of squares starts at the initial accumulator value (both frameworks).
      if (opt->kind == GRU_OPTIM_ADAGRAD)
        for (size_t j = 0; j < s.size; ++j) s.buffers[j] = opt->a;
    }
  }
  gru::object_retain(owner);
  opt->owners[opt->n_owners++] = owner;
  opt->n_slots += count;
  return GRU_OK;
}

// Floats in the state array: the step count, then every moment buffer.
size_t state_size(const gru_optim* opt) {
  size_t total = 1;
  for (int32_t i = 0; i < opt->n_slots; ++i) total += opt->buffers_per_tensor * opt->slots[i].size;
  return total;
}

// A call that touches the parameters holds every object added (object.h): GRU_ERR_BUSY when one
// is in use by another call, e.g. an async forward on a worker thread.
int lock_owners(gru_optim* opt) {
  for (int32_t i = 0; i < opt->n_owners; ++i)
    if (!gru::object_try_lock(opt->owners[i])) {
      for (int32_t j = 0; j < i; ++j) gru::object_unlock(opt->owners[j]);
      return fail(GRU_ERR_BUSY,
                  "a %s added to this optimizer is busy: another call is running on it (an async "
                  "call in flight?)",
                  opt->owners[i]->type->what);
    }
  return GRU_OK;
}

void unlock_owners(gru_optim* opt) {
  for (int32_t i = 0; i < opt->n_owners; ++i) gru::object_unlock(opt->owners[i]);
}

// The optimizer and, for the call's duration, every object it updates; disposed ones refused.
class Held {
 public:
  Held(gru_optim_handle handle) : opt_(handle, GRU_KIND_OPTIM, "opt") {
    if (!opt_) {
      status_ = opt_.status();
      return;
    }
    status_ = check_owners(opt_.get());
    if (status_ == GRU_OK) status_ = lock_owners(opt_.get());
    locked_ = status_ == GRU_OK;
  }
  ~Held() {
    if (locked_) unlock_owners(opt_.get());
  }
  int status() const { return status_; }
  gru_optim* operator->() const { return opt_.get(); }
  gru_optim* get() const { return opt_.get(); }

 private:
  gru::Acquired<gru_optim> opt_;
  int status_ = GRU_OK;
  bool locked_ = false;
};

void free_optim(gru::Object* object) {
  gru_optim* opt = reinterpret_cast<gru_optim*>(object);
  for (int32_t i = 0; i < opt->n_slots; ++i) gru::mem_free(opt->slots[i].buffers);
  for (int32_t i = 0; i < opt->n_owners; ++i) gru::object_release(opt->owners[i]);
  gru::mem_free(opt->slots);
  gru::mem_free(opt->owners);
  gru::mem_free(opt);
}

size_t optim_bytes(const gru::Object* object) {
  const gru_optim* opt = reinterpret_cast<const gru_optim*>(object);
  size_t total = gru::mem_size(opt) + gru::mem_size(opt->slots) + gru::mem_size(opt->owners);
  for (int32_t i = 0; i < opt->n_slots; ++i) total += gru::mem_size(opt->slots[i].buffers);
  return total;
}

constexpr gru::ObjectType kOptimType = {GRU_KIND_OPTIM, "optimizer", &free_optim,
                                        &optim_bytes,   nullptr,     nullptr};
[[maybe_unused]] const bool kOptimTypeRegistered = gru::register_kind(&kOptimType);

// ---- One step of each optimizer: its arguments once, then one kernel pass per tensor -------

int32_t flag(const gru_optim* opt, int32_t f) { return (opt->flags & f) ? 1 : 0; }

// A slot's tensor and its buffer number `which` (each buffers[which * size ...]).
gru::ParamTensor& tensor_of(const Slot& s) { return s.owner->tensors[s.index]; }
float* buffer(const Slot& s, int32_t which) { return s.buffers + which * s.size; }

void sgd_step(gru_optim* opt, float lr, int64_t t) {
  const gru::SgdArgs args = {lr,
                             opt->a,
                             opt->b,
                             opt->weight_decay,
                             flag(opt, GRU_OPTIM_NESTEROV),
                             flag(opt, GRU_OPTIM_MAXIMIZE),
                             t == 1};
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    gru::ParamTensor& p = tensor_of(opt->slots[i]);
    opt->kernels->sgd_update(p.size, p.value, p.grad, opt->slots[i].buffers, &args);
  }
}

void adam_step(gru_optim* opt, float lr, int64_t t) {
  const int32_t amsgrad = flag(opt, GRU_OPTIM_AMSGRAD);
  const double steps = static_cast<double>(t);
  const gru::AdamArgs args = {lr,
                              opt->a,
                              opt->b,
                              opt->eps,
                              opt->weight_decay,
                              static_cast<float>(1.0 - pow(static_cast<double>(opt->a), steps)),
                              static_cast<float>(1.0 - pow(static_cast<double>(opt->b), steps)),
                              opt->kind == GRU_OPTIM_ADAMW,
                              amsgrad,
                              flag(opt, GRU_OPTIM_MAXIMIZE)};
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    const Slot& s = opt->slots[i];
    gru::ParamTensor& p = tensor_of(s);
    if (p.size == 0) continue;
    opt->kernels->adam_update(p.size, p.value, p.grad, buffer(s, 0), buffer(s, 1),
                              amsgrad ? buffer(s, 2) : nullptr, &args);
  }
}

// Keras folds both bias corrections into the rate: alpha = lr sqrt(1 - b2^t) / (1 - b1^t).
void keras_adam_step(gru_optim* opt, float lr, int64_t t) {
  const int32_t amsgrad = flag(opt, GRU_OPTIM_AMSGRAD);
  const double steps = static_cast<double>(t);
  const double alpha = lr * sqrt(1.0 - pow(static_cast<double>(opt->b), steps)) /
                       (1.0 - pow(static_cast<double>(opt->a), steps));
  const gru::KerasAdamArgs args = {
      static_cast<float>(alpha),    opt->a, opt->b, opt->eps, opt->weight_decay * lr, amsgrad,
      flag(opt, GRU_OPTIM_MAXIMIZE)};
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    const Slot& s = opt->slots[i];
    gru::ParamTensor& p = tensor_of(s);
    if (p.size == 0) continue;
    opt->kernels->adam_keras_update(p.size, p.value, p.grad, buffer(s, 0), buffer(s, 1),
                                    amsgrad ? buffer(s, 2) : nullptr, &args);
  }
}

void keras_sgd_step(gru_optim* opt, float lr) {
  const gru::KerasSgdArgs args = {lr, opt->a, opt->weight_decay * lr, flag(opt, GRU_OPTIM_NESTEROV),
                                  flag(opt, GRU_OPTIM_MAXIMIZE)};
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    gru::ParamTensor& p = tensor_of(opt->slots[i]);
    opt->kernels->sgd_keras_update(p.size, p.value, p.grad, opt->slots[i].buffers, &args);
  }
}

void rmsprop_step(gru_optim* opt, float lr) {
  const int32_t centered = flag(opt, GRU_OPTIM_CENTERED);
  const bool momentum = opt->b > 0.0f;
  const gru::RmspropArgs args = {lr,
                                 opt->a,
                                 opt->b,
                                 opt->eps,
                                 opt->weight_decay,
                                 centered,
                                 flag(opt, GRU_OPTIM_MAXIMIZE),
                                 flag(opt, GRU_OPTIM_KERAS)};
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    const Slot& s = opt->slots[i];
    gru::ParamTensor& p = tensor_of(s);
    if (p.size == 0) continue;
    opt->kernels->rmsprop_update(p.size, p.value, p.grad, buffer(s, 0),
                                 centered ? buffer(s, 1) : nullptr,
                                 momentum ? buffer(s, 1 + centered) : nullptr, &args);
  }
}

// PyTorch's lr_decay: clr = lr / (1 + (t - 1) lr_decay) (0 in Keras's, which has none).
void adagrad_step(gru_optim* opt, float lr, int64_t t) {
  const double clr = lr / (1.0 + static_cast<double>(t - 1) * opt->b);
  const gru::AdagradArgs args = {static_cast<float>(clr), opt->eps, opt->weight_decay,
                                 flag(opt, GRU_OPTIM_MAXIMIZE), flag(opt, GRU_OPTIM_KERAS)};
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    const Slot& s = opt->slots[i];
    gru::ParamTensor& p = tensor_of(s);
    if (p.size == 0) continue;
    opt->kernels->adagrad_update(p.size, p.value, p.grad, buffer(s, 0), &args);
  }
}

// Whether slot i is in the caller's skip list (a handful of indices: a linear search).
bool skipped(int32_t i, const int32_t* skip, size_t skip_len) {
  for (size_t j = 0; j < skip_len; ++j)
    if (skip[j] == i) return true;
  return false;
}

}  // namespace

extern "C" {

int gru_optim_create(int32_t kind, float lr, float a, float b, float eps, float weight_decay,
                     int32_t flags, gru_optim_handle* out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  *out = 0;
  if (kind < GRU_OPTIM_SGD || kind > GRU_OPTIM_ADAGRAD)
    return fail(GRU_ERR_ARG,
                "optimizer kind must be 0 (SGD), 1 (Adam), 2 (AdamW), 3 (RMSprop) or 4 (Adagrad), "
                "got %d",
                kind);
  if (!(lr > 0.0f) || !is_finite(lr))
    return fail(GRU_ERR_ARG, "lr must be a finite number > 0, got %g", static_cast<double>(lr));
  if (!(weight_decay >= 0.0f) || !is_finite(weight_decay))
    return fail(GRU_ERR_ARG, "weight_decay must be a finite number >= 0, got %g",
                static_cast<double>(weight_decay));
  if (flags & ~kAllFlags)
    return fail(GRU_ERR_ARG,
                "flags must combine AMSGRAD (1), MAXIMIZE (2), NESTEROV (4), CENTERED (8), "
                "KERAS (16), got %d",
                flags);
  if ((flags & GRU_OPTIM_AMSGRAD) && kind != GRU_OPTIM_ADAM && kind != GRU_OPTIM_ADAMW)
    return fail(GRU_ERR_ARG, "amsgrad applies to Adam/AdamW only");
  if ((flags & GRU_OPTIM_NESTEROV) && kind != GRU_OPTIM_SGD)
    return fail(GRU_ERR_ARG, "nesterov applies to SGD only");
  if ((flags & GRU_OPTIM_CENTERED) && kind != GRU_OPTIM_RMSPROP)
    return fail(GRU_ERR_ARG, "centered applies to RMSprop only");
  if (kind != GRU_OPTIM_SGD && (!(eps >= 0.0f) || !is_finite(eps)))
    return fail(GRU_ERR_ARG, "eps must be a finite number >= 0, got %g", static_cast<double>(eps));
  int32_t buffers = 0;
  if (kind == GRU_OPTIM_SGD) {
    if (!(a >= 0.0f) || !is_finite(a))
      return fail(GRU_ERR_ARG, "momentum must be a finite number >= 0, got %g",
                  static_cast<double>(a));
    if (!is_finite(b))
      return fail(GRU_ERR_ARG, "dampening must be a finite number, got %g", static_cast<double>(b));
    if ((flags & GRU_OPTIM_NESTEROV) && (a <= 0.0f || b != 0.0f))
      return fail(GRU_ERR_ARG,
                  "nesterov needs momentum > 0 and dampening = 0, got momentum %g, dampening %g",
                  static_cast<double>(a), static_cast<double>(b));
    if ((flags & GRU_OPTIM_KERAS) && b != 0.0f)
      return fail(GRU_ERR_ARG, "Keras's SGD has no dampening: it must be 0, got %g",
                  static_cast<double>(b));
    buffers = a != 0.0f ? 1 : 0;
  } else if (kind == GRU_OPTIM_RMSPROP) {
    if (!(a >= 0.0f && a <= 1.0f))
      return fail(GRU_ERR_ARG, "alpha (rho) must be in [0, 1], got %g", static_cast<double>(a));
    if (!(b >= 0.0f) || !is_finite(b))
      return fail(GRU_ERR_ARG, "momentum must be a finite number >= 0, got %g",
                  static_cast<double>(b));
    buffers = 1 + ((flags & GRU_OPTIM_CENTERED) ? 1 : 0) + (b > 0.0f ? 1 : 0);
  } else if (kind == GRU_OPTIM_ADAGRAD) {
    if (!(a >= 0.0f) || !is_finite(a))
      return fail(GRU_ERR_ARG, "initial_accumulator_value must be a finite number >= 0, got %g",
                  static_cast<double>(a));
    if (!(b >= 0.0f) || !is_finite(b))
      return fail(GRU_ERR_ARG, "lr_decay must be a finite number >= 0, got %g",
                  static_cast<double>(b));
    buffers = 1;
  } else {
    if (!(a >= 0.0f && a < 1.0f))
      return fail(GRU_ERR_ARG, "beta1 must be in [0, 1), got %g", static_cast<double>(a));
    if (!(b >= 0.0f && b < 1.0f))
      return fail(GRU_ERR_ARG, "beta2 must be in [0, 1), got %g", static_cast<double>(b));
    buffers = (flags & GRU_OPTIM_AMSGRAD) ? 3 : 2;
  }

  gru_optim* opt = static_cast<gru_optim*>(gru::mem_calloc(sizeof(gru_optim)));
  if (!opt) return fail(GRU_ERR_ALLOC, "out of memory creating the optimizer");
  gru::object_init(&opt->base, &kOptimType);
  opt->kind = kind;
  opt->flags = flags;
  opt->lr = lr;
  opt->a = a;
  opt->b = b;
  opt->eps = eps;
  opt->weight_decay = weight_decay;
  opt->buffers_per_tensor = buffers;
  opt->kernels = gru::active_kernels();
  const int status = gru::handle_register(&opt->base, out);
  if (status != GRU_OK) free_optim(&opt->base);
  return status;
}

int gru_optim_add(gru_optim_handle handle, gru_handle obj) {
  gru::clear_error();
  gru::Acquired<gru_optim> opt(handle, GRU_KIND_OPTIM, "opt");
  if (!opt) return opt.status();
  if (obj == handle) return fail(GRU_ERR_ARG, "obj: an optimizer cannot add itself");
  gru::Acquired<gru::Object> owner(obj, 0, "obj");
  if (!owner) return owner.status();
  if (owner->type->kind == GRU_KIND_OPTIM)
    return fail(GRU_ERR_TYPE, "obj: an optimizer has no parameters to add");
  return add_owner(opt.get(), owner.get());
}

int gru_optim_clip_grad_norm(gru_optim_handle handle, float max_norm, float* total_norm) {
  gru::clear_error();
  if (!(max_norm > 0.0f))
    return fail(GRU_ERR_ARG, "max_norm must be > 0, got %g", static_cast<double>(max_norm));
  Held opt(handle);
  if (opt.status() != GRU_OK) return opt.status();
  const gru::KernelTable* k = opt->kernels;
  double sum = 0.0;
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    const gru::ParamTensor& t = opt->slots[i].owner->tensors[opt->slots[i].index];
    sum += k->sum_squares(t.grad, t.size);
  }
  const double total = sqrt(sum);
  // PyTorch's clip_grad_norm_: coefficient max_norm / (total + 1e-6), applied when below 1
  // (a NaN or infinite total leaves the gradients as they are; the caller sees the total).
  const double coef = static_cast<double>(max_norm) / (total + 1e-6);
  if (coef < 1.0)
    for (int32_t i = 0; i < opt->n_slots; ++i) {
      gru::ParamTensor& t = opt->slots[i].owner->tensors[opt->slots[i].index];
      k->scale(t.grad, t.size, static_cast<float>(coef));
    }
  if (total_norm) *total_norm = static_cast<float>(total);
  return GRU_OK;
}

int gru_optim_clip_grad_value(gru_optim_handle handle, float clip) {
  gru::clear_error();
  if (!(clip > 0.0f))
    return fail(GRU_ERR_ARG, "clip must be > 0, got %g", static_cast<double>(clip));
  Held opt(handle);
  if (opt.status() != GRU_OK) return opt.status();
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    gru::ParamTensor& t = opt->slots[i].owner->tensors[opt->slots[i].index];
    opt->kernels->clamp(t.grad, t.size, -clip, clip);
  }
  return GRU_OK;
}

int gru_optim_clip_keras(gru_optim_handle handle, int32_t mode, float value, const int32_t* skip,
                         size_t skip_len) {
  gru::clear_error();
  if (mode < GRU_CLIP_NORM || mode > GRU_CLIP_VALUE)
    return fail(GRU_ERR_ARG, "mode must be 0 (norm), 1 (global norm) or 2 (value), got %d", mode);
  if (!(value > 0.0f) || !is_finite(value))
    return fail(GRU_ERR_ARG, "value must be a finite number > 0, got %g",
                static_cast<double>(value));
  if (skip_len > 0 && !skip) return fail(GRU_ERR_NULL, "skip is null");
  Held opt(handle);
  if (opt.status() != GRU_OK) return opt.status();
  for (size_t j = 0; j < skip_len; ++j)
    if (skip[j] < 0 || skip[j] >= opt->n_slots)
      return fail(GRU_ERR_RANGE, "skip[%zu] must be a tensor index in [0, %d), got %d", j,
                  opt->n_slots, skip[j]);
  const gru::KernelTable* k = opt->kernels;
  const double limit = value;
  if (mode == GRU_CLIP_VALUE) {
    for (int32_t i = 0; i < opt->n_slots; ++i) {
      if (skipped(i, skip, skip_len)) continue;
      gru::ParamTensor& t = tensor_of(opt->slots[i]);
      k->clamp(t.grad, t.size, -value, value);
    }
  } else if (mode == GRU_CLIP_NORM) {
    // Each tensor alone: g *= value / max(|g|, value); a NaN norm makes the tensor NaN, as
    // Keras's maximum propagates it.
    for (int32_t i = 0; i < opt->n_slots; ++i) {
      if (skipped(i, skip, skip_len)) continue;
      gru::ParamTensor& t = tensor_of(opt->slots[i]);
      const double norm = sqrt(k->sum_squares(t.grad, t.size));
      const double coef = norm > limit ? limit / norm : norm <= limit ? 1.0 : NAN;
      if (coef != 1.0) k->scale(t.grad, t.size, static_cast<float>(coef));
    }
  } else {
    // All of them together: g *= value min(1 / n, 1 / value), plus n - n so that an infinite
    // or NaN norm makes every gradient NaN (Keras's clip_by_global_norm).
    double sum = 0.0;
    for (int32_t i = 0; i < opt->n_slots; ++i) {
      if (skipped(i, skip, skip_len)) continue;
      const gru::ParamTensor& t = tensor_of(opt->slots[i]);
      sum += k->sum_squares(t.grad, t.size);
    }
    const double norm = sqrt(sum);
    const double coef = limit * fmin(1.0 / norm, 1.0 / limit) + (norm - norm);
    if (coef != 1.0)
      for (int32_t i = 0; i < opt->n_slots; ++i) {
        if (skipped(i, skip, skip_len)) continue;
        gru::ParamTensor& t = tensor_of(opt->slots[i]);
        k->scale(t.grad, t.size, static_cast<float>(coef));
      }
  }
  return GRU_OK;
}

int gru_optim_step(gru_optim_handle handle, float lr) {
  gru::clear_error();
  // >= 0, not > 0 as at creation: a schedule may anneal the rate to exactly 0 (PyTorch's
  // CosineAnnealingLR with eta_min = 0 does on its last step).
  if (!(lr >= 0.0f) || !is_finite(lr))
    return fail(GRU_ERR_ARG, "lr must be a finite number >= 0, got %g", static_cast<double>(lr));
  Held opt(handle);
  if (opt.status() != GRU_OK) return opt.status();
  const int64_t t = ++opt->steps;
  const bool keras = (opt->flags & GRU_OPTIM_KERAS) != 0;
  // Keras's SGD without momentum or weight decay is PyTorch's p -= lr g: one kernel for both,
  // so that the two agree to the bit.
  if (opt->kind == GRU_OPTIM_SGD && keras && (opt->a != 0.0f || opt->weight_decay != 0.0f))
    keras_sgd_step(opt.get(), lr);
  else if (opt->kind == GRU_OPTIM_SGD)
    sgd_step(opt.get(), lr, t);
  else if (opt->kind == GRU_OPTIM_RMSPROP)
    rmsprop_step(opt.get(), lr);
  else if (opt->kind == GRU_OPTIM_ADAGRAD)
    adagrad_step(opt.get(), lr, t);
  else if (keras)
    keras_adam_step(opt.get(), lr, t);
  else
    adam_step(opt.get(), lr, t);
  for (int32_t i = 0; i < opt->n_owners; ++i) {
    gru::Object* owner = opt->owners[i];
    if (owner->type->values_changed) owner->type->values_changed(owner, -1);
  }
  return GRU_OK;
}

int gru_optim_zero_grad(gru_optim_handle handle) {
  gru::clear_error();
  Held opt(handle);
  if (opt.status() != GRU_OK) return opt.status();
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    gru::ParamTensor& t = opt->slots[i].owner->tensors[opt->slots[i].index];
    memset(t.grad, 0, t.size * sizeof(float));
  }
  return GRU_OK;
}

int gru_optim_state_size(gru_optim_handle handle, size_t* out) {
  gru::clear_error();
  gru::Acquired<gru_optim> opt(handle, GRU_KIND_OPTIM, "opt");
  if (!opt) return opt.status();
  *out = state_size(opt.get());
  return GRU_OK;
}

int gru_optim_get_state(gru_optim_handle handle, float* data, size_t len) {
  gru::clear_error();
  gru::Acquired<gru_optim> opt(handle, GRU_KIND_OPTIM, "opt");
  if (!opt) return opt.status();
  const size_t expected = state_size(opt.get());
  if (len != expected)
    return fail(GRU_ERR_SHAPE, "optimizer state: output must hold %zu floats, got %zu", expected,
                len);
  if (!data) return fail(GRU_ERR_NULL, "data is null");
  data[0] = static_cast<float>(opt->steps);
  float* dst = data + 1;
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    const size_t n = opt->buffers_per_tensor * opt->slots[i].size;
    if (n > 0) memcpy(dst, opt->slots[i].buffers, n * sizeof(float));
    dst += n;
  }
  return GRU_OK;
}

// All or nothing: the whole array is checked before anything is written.
int gru_optim_set_state(gru_optim_handle handle, const float* data, size_t len) {
  gru::clear_error();
  gru::Acquired<gru_optim> opt(handle, GRU_KIND_OPTIM, "opt");
  if (!opt) return opt.status();
  const size_t expected = state_size(opt.get());
  if (len != expected)
    return fail(GRU_ERR_SHAPE,
                "optimizer state: expected %zu floats (the step count, then the %s moments of "
                "the parameters added, in order), got %zu",
                expected, optim_name(opt->kind), len);
  if (!data) return fail(GRU_ERR_NULL, "data is null");
  const double t = data[0];
  if (!(t >= 0.0 && t <= kMaxExactStep) || floor(t) != t)
    return fail(GRU_ERR_ARG,
                "optimizer state: the step count must be an integer in [0, 2^24], got %g", t);
  opt->steps = static_cast<int64_t>(t);
  const float* src = data + 1;
  for (int32_t i = 0; i < opt->n_slots; ++i) {
    const size_t n = opt->buffers_per_tensor * opt->slots[i].size;
    if (n > 0) memcpy(opt->slots[i].buffers, src, n * sizeof(float));
    src += n;
  }
  return GRU_OK;
}

}  // extern "C"
