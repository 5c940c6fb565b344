#pragma once
// Shamir secret sharing over GF(2^8), byte by byte, with the field polynomial
// x^8 + x^4 + x^3 + x^2 + 1 (0x11d) that Debian's libgfshare uses, so that the same secret,
// coefficients and share numbers give the same shares (tests/unit/crypto/test_shamir.cpp holds
// this code to vectors made with libgfshare 2.0.0-6).
//
// Share i of a secret s is P(x_i), byte by byte, where P(0) = s and P has k - 1 random
// coefficients: any k shares give s by Lagrange interpolation at 0, and any k - 1 of them are
// uniformly distributed whatever s is. Nothing here checks that shares belong together or that a
// combination is right: core/src/recovery.cpp frames shares and checks them against a commitment.
//
// Field arithmetic is constant time (no table lookups or branches on secret bytes), and the
// coefficients and every intermediate value live in SecretBytes.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::crypto {

// Multiplication and inverse in GF(2^8) mod 0x11d, in constant time. gf256_inv(0) is 0.
std::uint8_t gf256_mul(std::uint8_t a, std::uint8_t b);
std::uint8_t gf256_inv(std::uint8_t a);

// Splits `secret` (1..1024 bytes) into one share per entry of `xs` (the share numbers: distinct,
// nonzero, at most 255 of them), any `threshold` (1..255, at most xs.size()) of which give it
// back. The coefficients are drawn from `random` as (threshold - 1) * secret.size() bytes, that
// of x^(threshold-1) first (libgfshare's order). nullopt on arguments out of those bounds.
std::optional<std::vector<SecretBytes>> shamir_split(ByteView secret,
                                                     std::span<const std::uint8_t> xs,
                                                     unsigned threshold, Random& random);

// Interpolates shares `ys` (one per entry of `xs`: distinct nonzero numbers, all ys of one size,
// 1..1024 bytes) at 0. With at least the threshold of one split that is the secret; with fewer,
// or shares of different splits, it is some other value: the caller must check. nullopt on
// arguments out of bounds.
std::optional<SecretBytes> shamir_combine(std::span<const std::uint8_t> xs,
                                          std::span<const ByteView> ys);

}  // namespace kolokol::crypto
