#pragma once
// The STREAM construction of the age payload: key derivation and chunk nonces.

#include <cstdint>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::age::detail {

// payload key = HKDF-SHA-256(salt = nonce, file key, "payload").
inline crypto::SecretBytes payload_key(const crypto::SecretBytes& file_key, ByteView nonce) {
    return crypto::hkdf_sha256(nonce, file_key.view(), as_bytes("payload"), 32);
}

// 11-byte big-endian chunk counter followed by the final-chunk flag.
inline ByteArray<12> chunk_nonce(std::uint64_t counter, bool final_chunk) {
    ByteArray<12> n{};
    for (int i = 0; i < 8; ++i)
        n[static_cast<std::size_t>(10 - i)] = static_cast<std::uint8_t>(counter >> (8 * i));
    n[11] = final_chunk ? 1 : 0;
    return n;
}

// Callback errors keep their own code; one without a code becomes AgeErrc::io.
Error as_io_error(Error e);

}  // namespace kolokol::age::detail
