#pragma once
// HMAC (RFC 2104) over unkeyed BLAKE2b-512 with BLAKE2b's 128-byte block, as the Noise protocol
// framework defines HMAC-HASH for its BLAKE2b suites. This is deliberately NOT BLAKE2b's keyed
// mode (crypto_generichash with a key): the two give different outputs and Noise peers would
// not interoperate.

#include <cstddef>
#include <initializer_list>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::crypto {

inline constexpr std::size_t kBlake2bBlockBytes = 128;
inline constexpr std::size_t kHmacBlake2bBytes = 64;

// HMAC-BLAKE2b-512 of the concatenation of `parts` under `key` (any length; a key longer than
// 128 bytes is first hashed, as RFC 2104 says). Returns 64 bytes in secret memory, because its
// callers (HKDF, Noise's chaining key) treat the output as key material. Every intermediate
// state holding key-derived bytes is wiped before returning. Thread-safe (no shared state).
SecretBytes hmac_blake2b512(ByteView key, std::initializer_list<ByteView> parts);
// The same into caller-provided memory: `out` must be exactly 64 bytes (asserted) and may be
// secret memory the caller reuses. `out` must not overlap `key` or the parts.
void hmac_blake2b512_into(MutableByteView out, ByteView key, std::initializer_list<ByteView> parts);
inline SecretBytes hmac_blake2b512(ByteView key, ByteView data) {
    return hmac_blake2b512(key, {data});
}

}  // namespace kolokol::crypto
