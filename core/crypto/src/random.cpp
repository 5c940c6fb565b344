#include "kolokol/crypto/random.hpp"

#include <sodium.h>

#include <algorithm>

namespace kolokol::crypto {

std::uint64_t Random::uniform(std::uint64_t bound) {
    // Rejection sampling avoids modulo bias.
    const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (;;) {
        auto v = u64();
        if (v < limit) return v % bound;
    }
}

namespace {
class SystemRandom final : public Random {
public:
    void fill(MutableByteView out) override {
        if (!out.empty()) randombytes_buf(out.data(), out.size());
    }
};
}  // namespace

Random& system_random() {
    static SystemRandom instance;
    return instance;
}

DeterministicRandom::DeterministicRandom(std::uint64_t seed) {
    for (int i = 0; i < 8; ++i) m_seed[i] = static_cast<std::uint8_t>(seed >> (8 * i));
}

void DeterministicRandom::fill(MutableByteView out) {
    // Each call uses a fresh per-call seed so successive calls do not repeat.
    ByteArray<40> input{};
    std::copy(m_seed.begin(), m_seed.end(), input.begin());
    for (int i = 0; i < 8; ++i) input[32 + i] = static_cast<std::uint8_t>(m_counter >> (8 * i));
    ++m_counter;
    ByteArray<randombytes_SEEDBYTES> call_seed{};
    crypto_generichash(call_seed.data(), call_seed.size(), input.data(), input.size(), nullptr, 0);
    if (!out.empty()) randombytes_buf_deterministic(out.data(), out.size(), call_seed.data());
}

}  // namespace kolokol::crypto
