// The per-world SplitMix64 generator of docs/rules.md ("Random numbers").
#pragma once

#include "aip/hd.h"

namespace aip {

AIP_HD AIP_INLINE uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

AIP_HD AIP_INLINE uint64_t seed_state(uint64_t seed, uint64_t world_index) {
  return mix64(seed) ^ mix64(world_index + 0x632BE59BD9B4E019ULL);
}

// A view of one world's generator state; draws advance it in place.
struct Rng {
  uint64_t* state;

  AIP_HD AIP_INLINE uint64_t next() {
    *state += 0x9E3779B97F4A7C15ULL;
    return mix64(*state);
  }
  // In [0, 1).
  AIP_HD AIP_INLINE double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  AIP_HD AIP_INLINE double uniform(double a, double b) { return a + (b - a) * uniform(); }
  // Inclusive on both ends.
  AIP_HD AIP_INLINE int32_t randint(int32_t lo, int32_t hi) {
    const double span = static_cast<double>(static_cast<int64_t>(hi) - lo + 1);
    int64_t k = static_cast<int64_t>(std::floor(uniform() * span));
    const int64_t top = static_cast<int64_t>(hi) - lo;
    if (k > top) k = top;
    return static_cast<int32_t>(lo + k);
  }
  AIP_HD AIP_INLINE double angle() { return uniform(0.0, kTwoPi); }
};

}  // namespace aip
