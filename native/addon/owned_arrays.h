// The memory an async call works on: its own copies of the typed arrays it was given, so that
// nothing JS does while the call is in flight (transferring, detaching or shrinking an
// ArrayBuffer, then letting the collector free it) can pull memory from under the worker thread.
//
// N-API cannot pin an ArrayBuffer's backing store (V8's std::shared_ptr<BackingStore> would,
// but only through V8's own API, which N-API's ABI stability rules out): a reference keeps the
// JS object alive, not its memory, since a transfer moves the memory to another buffer that
// may then be collected. So, on the JS thread:
//   - before the work is queued, every array gets addon-owned memory, and inputs are copied in
//     (a memcpy at memory bandwidth: README's "Node servers" section gives its measured cost);
//   - after the join, outputs are copied back, only if each is still a view of the same memory
//     with the same length; otherwise nothing is written and the call fails ERR_GRU_STATE
//     naming the argument.
// Arrays whose memory overlaps (h0 and hN the same array, the state updated in place; or two
// views of one SharedArrayBuffer) share one owned region laid out as in JS, so the core sees the
// same aliasing it would see in a sync call, which stays zero-copy (addon.cpp).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "addon/binding.h"

namespace gru_addon {

class OwnedArrays {
 public:
  OwnedArrays() = default;
  OwnedArrays(const OwnedArrays&) = delete;
  OwnedArrays& operator=(const OwnedArrays&) = delete;
  ~OwnedArrays();

  // JS thread, before queueing: points every array of args at owned memory, copying inputs
  // in, and keeps a reference to each output. False with ERR_GRU_ALLOC thrown if memory runs out.
  bool Take(Napi::Env env, const Binding& b, const FnSpec& fn, const Napi::CallbackInfo& info,
            Arg* args);

  // JS thread, after the join of a successful call: the name of the first output no longer
  // attached with its memory and length (nothing written then), or empty once every output has
  // been copied back.
  std::string CopyBack();

  // Drops the references and frees the memory (idempotent; also run by the destructor).
  void Release();

 private:
  struct Region {  // one owned block standing for [js, js + bytes) of JS memory
    uint8_t* js;
    size_t bytes;
    uint8_t* owned = nullptr;
    bool input = false;
  };
  struct Output {
    const std::string* name;
    Napi::Reference<Napi::TypedArray> array;
    uint8_t* js;  // where its elements were when the call started
    size_t len;   // elements
    size_t bytes;
    uint8_t* owned;
  };
  std::vector<Region> regions_;
  std::vector<Output> outputs_;
};

}  // namespace gru_addon
