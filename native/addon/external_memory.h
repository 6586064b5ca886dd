// Tells V8 how many bytes an object holds outside its heap, so that unreferenced objects are
// collected under memory pressure. Each wrapper keeps one and sets it to what its object holds
// now (0 once freed).
#ifndef GRU_SIMD_ADDON_EXTERNAL_MEMORY_H_
#define GRU_SIMD_ADDON_EXTERNAL_MEMORY_H_

#include <napi.h>

#include <cstdint>

namespace gru_addon {

class ExternalMemory {
 public:
  void Set(Napi::BasicEnv env, int64_t bytes) {
    if (bytes == reported_) return;
    Napi::MemoryManagement::AdjustExternalMemory(env, bytes - reported_);
    reported_ = bytes;
  }

 private:
  int64_t reported_ = 0;
};

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_EXTERNAL_MEMORY_H_
