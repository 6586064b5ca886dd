// Seeded generators of the core. Integer arithmetic only, so a seed gives the same numbers on
// every platform and backend (native and wasm initialise identical weights).
#pragma once
#include <stdint.h>

namespace gru {

// PCG32 (O'Neill 2014): small, fast, good statistics.
struct Pcg32 {
  uint64_t state, inc;
  explicit Pcg32(uint32_t seed) : state(0), inc((static_cast<uint64_t>(seed) << 1) | 1u) {
    next();
    state += 0x853c49e6748fea9bULL + seed;
    next();
  }
  uint32_t next() {
    uint64_t old = state;
    state = old * 6364136223846793005ULL + inc;
    uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = static_cast<uint32_t>(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
  }
  // Uniform in [0, 1) with 24 random bits: exact in float.
  float uniform() { return static_cast<float>(next() >> 8) * (1.0f / 16777216.0f); }
  // Approximately N(0, 1): the sum of 12 uniforms minus 6 (Irwin-Hall); no libm, so it is
  // bit-identical everywhere (tails are cut at +-6, which a weight initialisation never needs).
  float normal() {
    float s = 0.0f;
    for (int i = 0; i < 12; ++i) s += uniform();
    return s - 6.0f;
  }
};

// A counter-based hash (a "random access" generator): the value for (seed, index) needs no
// state, so a dropout mask can be regenerated in backward instead of stored.
inline uint32_t hash_uniform_bits(uint32_t seed, uint64_t index) {
  uint64_t z = index * 0x9E3779B97F4A7C15ULL + (static_cast<uint64_t>(seed) << 32 | seed);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;  // splitmix64 finaliser
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}
// Uniform in [0, 1) for (seed, index).
inline float hash_uniform(uint32_t seed, uint64_t index) {
  return static_cast<float>(hash_uniform_bits(seed, index) >> 8) * (1.0f / 16777216.0f);
}

}  // namespace gru
