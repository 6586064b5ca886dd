#include "addon/owned_arrays.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace gru_addon {
namespace {

// 64: a cache line, and the widest vector the kernels load (AVX-512).
constexpr std::align_val_t kAlign{64};
constexpr size_t kElementBytes = 4;  // float and int32_t, the only element types of the ABI

}  // namespace

OwnedArrays::~OwnedArrays() { Release(); }

bool OwnedArrays::Take(Napi::Env env, const Binding& b, const FnSpec& fn,
                       const Napi::CallbackInfo& info, Arg* args) {
  struct Piece {
    size_t arg;
    uint8_t* js;
    size_t bytes;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < fn.args.size(); ++i) {
    // A null (nullable) array stays null; so does the null pointer of an empty array, as in a
    // sync call.
    if (fn.args[i].kind != ArgKind::kArray || args[i].data == nullptr) continue;
    pieces.push_back({i, static_cast<uint8_t*>(args[i].data), args[i].len * kElementBytes});
  }
  std::sort(pieces.begin(), pieces.end(),
            [](const Piece& a, const Piece& c) { return a.js < c.js; });
  // Overlapping pieces (by address: views of one ArrayBuffer, or of one SharedArrayBuffer
  // through two objects) become one region, so they overlap in the copy as they did in JS.
  std::vector<size_t> region_of(pieces.size());
  for (size_t k = 0; k < pieces.size(); ++k) {
    const Piece& p = pieces[k];
    if (regions_.empty() ||
        !(p.js < regions_.back().js + regions_.back().bytes || p.js == regions_.back().js)) {
      regions_.push_back({p.js, 0});
    }
    Region& r = regions_.back();
    r.bytes = std::max(r.bytes, static_cast<size_t>(p.js - r.js) + p.bytes);
    r.input = r.input || !fn.args[p.arg].out;
    region_of[k] = regions_.size() - 1;
  }
  for (Region& r : regions_) {
    // Never zero bytes: an empty array keeps a non-null pointer, as in JS.
    r.owned =
        static_cast<uint8_t*>(::operator new(std::max<size_t>(r.bytes, 64), kAlign, std::nothrow));
    if (!r.owned) {
      b.Throw(env, "ERR_GRU_ALLOC",
              fn.method + "Async: out of memory for the call's copy of its arrays (" +
                  std::to_string(r.bytes) + " bytes)");
      return false;
    }
    // Outputs are not copied in: the core writes every element of an output on success (as
    // the wasm binding assumes, ts/backends/wasm-caller.ts) and none on failure.
    if (r.input) std::memcpy(r.owned, r.js, r.bytes);
  }
  for (size_t k = 0; k < pieces.size(); ++k) {
    const Piece& p = pieces[k];
    const Region& r = regions_[region_of[k]];
    uint8_t* owned = r.owned + (p.js - r.js);
    args[p.arg].data = owned;
    if (fn.args[p.arg].out)
      outputs_.push_back(
          {&fn.args[p.arg].name,
           Napi::Reference<Napi::TypedArray>::New(info[p.arg].As<Napi::TypedArray>(), 1), p.js,
           args[p.arg].len, p.bytes, owned});
  }
  return true;
}

std::string OwnedArrays::CopyBack() {
  for (const Output& o : outputs_) {
    Napi::TypedArray a = o.array.Value();
    uint8_t* data = nullptr;
    size_t len = 0;
    if (!ArrayMemory(a.Env(), a, &data, &len) || data != o.js || len != o.len) return *o.name;
  }
  for (const Output& o : outputs_) std::memcpy(o.js, o.owned, o.bytes);
  return std::string();
}

void OwnedArrays::Release() {
  outputs_.clear();
  for (Region& r : regions_) ::operator delete(r.owned, kAlign);
  regions_.clear();
}

}  // namespace gru_addon
