#pragma once
// Randomness behind an interface so tests and fuzzers can be deterministic.

#include <cstdint>
#include <memory>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::crypto {

class Random {
public:
    virtual ~Random() = default;
    virtual void fill(MutableByteView out) = 0;

    template <std::size_t N>
    ByteArray<N> array() {
        ByteArray<N> a;
        fill(a);
        return a;
    }
    Bytes bytes(std::size_t n) {
        Bytes b(n);
        fill(b);
        return b;
    }
    std::uint64_t u64() {
        auto a = array<8>();
        std::uint64_t v = 0;
        for (auto x : a) v = (v << 8) | x;
        return v;
    }
    // Uniform in [0, bound). bound must be > 0.
    std::uint64_t uniform(std::uint64_t bound);
};

// The operating system's CSPRNG (randombytes_buf).
Random& system_random();

// A reproducible stream (ChaCha20 keyed by the seed). Only for tests, fuzzers and benchmarks.
class DeterministicRandom final : public Random {
public:
    explicit DeterministicRandom(std::uint64_t seed);
    void fill(MutableByteView out) override;

private:
    ByteArray<32> m_seed{};
    std::uint64_t m_counter = 0;
};

}  // namespace kolokol::crypto
