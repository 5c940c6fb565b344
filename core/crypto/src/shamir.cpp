#include "kolokol/crypto/shamir.hpp"

#include <algorithm>
#include <array>

namespace kolokol::crypto {

namespace {
constexpr std::size_t kMaxSecretBytes = 1024;
constexpr std::size_t kMaxShares = 255;

bool distinct_nonzero(std::span<const std::uint8_t> xs) {
    std::array<bool, 256> seen{};
    for (auto x : xs) {
        if (x == 0 || seen[x]) return false;
        seen[x] = true;
    }
    return true;
}
}  // namespace

std::uint8_t gf256_mul(std::uint8_t a, std::uint8_t b) {
    // Shift-and-add with masks instead of branches: the same instructions run for every input.
    std::uint8_t r = 0;
    for (int i = 0; i < 8; ++i) {
        r = static_cast<std::uint8_t>(r ^ (static_cast<std::uint8_t>(-(b & 1)) & a));
        b = static_cast<std::uint8_t>(b >> 1);
        const auto carry = static_cast<std::uint8_t>(-(a >> 7));
        a = static_cast<std::uint8_t>((a << 1) ^ (carry & 0x1d));
    }
    return r;
}

std::uint8_t gf256_inv(std::uint8_t a) {
    // a^254 = a^-1 for a != 0 (the multiplicative group has order 255); 0 stays 0.
    // 254 = 2 + 4 + ... + 128: multiply the successive squares.
    std::uint8_t square = a;
    std::uint8_t r = 1;
    for (int i = 1; i < 8; ++i) {
        square = gf256_mul(square, square);
        r = gf256_mul(r, square);
    }
    return r;
}

std::optional<std::vector<SecretBytes>> shamir_split(ByteView secret,
                                                     std::span<const std::uint8_t> xs,
                                                     unsigned threshold, Random& random) {
    if (secret.empty() || secret.size() > kMaxSecretBytes) return std::nullopt;
    if (xs.empty() || xs.size() > kMaxShares || !distinct_nonzero(xs)) return std::nullopt;
    if (threshold < 1 || threshold > xs.size()) return std::nullopt;
    const std::size_t size = secret.size();
    // coefficients[j * size + b]: byte b of the coefficient of x^(threshold - 1 - j).
    SecretBytes coefficients((threshold - 1) * size);
    if (!coefficients.empty()) random.fill(coefficients.mutable_view());
    std::vector<SecretBytes> shares;
    shares.reserve(xs.size());
    for (auto x : xs) {
        // Horner's rule from the highest coefficient down to the secret.
        SecretBytes share(size);
        auto* y = share.data();
        for (unsigned j = 0; j + 1 < threshold; ++j) {
            const auto* c = coefficients.data() + j * size;
            for (std::size_t b = 0; b < size; ++b)
                y[b] = static_cast<std::uint8_t>(gf256_mul(y[b], x) ^ c[b]);
        }
        for (std::size_t b = 0; b < size; ++b)
            y[b] = static_cast<std::uint8_t>(gf256_mul(y[b], x) ^ secret[b]);
        shares.push_back(std::move(share));
    }
    return shares;
}

std::optional<SecretBytes> shamir_combine(std::span<const std::uint8_t> xs,
                                          std::span<const ByteView> ys) {
    if (xs.empty() || xs.size() > kMaxShares || xs.size() != ys.size() || !distinct_nonzero(xs))
        return std::nullopt;
    const std::size_t size = ys[0].size();
    if (size == 0 || size > kMaxSecretBytes) return std::nullopt;
    for (auto y : ys)
        if (y.size() != size) return std::nullopt;
    SecretBytes secret(size);
    auto* s = secret.data();
    for (std::size_t i = 0; i < xs.size(); ++i) {
        // Lagrange basis at 0: L_i(0) = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR.
        // The share numbers are public, so only the share bytes need constant time; the
        // multiplications are constant time anyway.
        std::uint8_t numerator = 1;
        std::uint8_t denominator = 1;
        for (std::size_t j = 0; j < xs.size(); ++j) {
            if (j == i) continue;
            numerator = gf256_mul(numerator, xs[j]);
            denominator = gf256_mul(denominator, static_cast<std::uint8_t>(xs[j] ^ xs[i]));
        }
        const auto basis = gf256_mul(numerator, gf256_inv(denominator));
        for (std::size_t b = 0; b < size; ++b)
            s[b] = static_cast<std::uint8_t>(s[b] ^ gf256_mul(basis, ys[i][b]));
    }
    return secret;
}

}  // namespace kolokol::crypto
