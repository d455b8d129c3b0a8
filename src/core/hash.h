#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace strata {

// 64-bit hash of a byte string with good avalanche (wyhash-style mixing). Used for dedup keys
// and HyperLogLog; stable across runs and machines, so it may be persisted in state files.
inline uint64_t Mix64(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t HashBytes(std::string_view s, uint64_t seed = 0x9E3779B97F4A7C15ull) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                     k2 = 0x8ebc6af09c88c6e3ull;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  uint64_t h = seed ^ Mix64(seed ^ k0, n ^ k1);
  while (n >= 16) {
    uint64_t a, b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    h = Mix64(a ^ k1 ^ h, b ^ k2 ^ h);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t x, y;
    std::memcpy(&x, p, 4);
    std::memcpy(&y, p + n - 4, 4);
    a = x;
    b = y;
  } else if (n > 0) {
    a = (uint64_t(p[0]) << 16) | (uint64_t(p[n >> 1]) << 8) | p[n - 1];
  }
  return Mix64(k1 ^ s.size(), Mix64(a ^ k1 ^ h, b ^ k2));
}

}  // namespace strata
