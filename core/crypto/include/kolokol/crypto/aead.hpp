#pragma once
// AEADs: XChaCha20-Poly1305 (records, key slots) and ChaCha20-Poly1305 IETF (Noise, age).
// Ciphertexts carry the 16-byte tag at the end. Opening returns nullopt on any failure.

#include <cstdint>
#include <optional>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::crypto {

inline constexpr std::size_t kAeadKeyBytes = 32;
inline constexpr std::size_t kAeadTagBytes = 16;
inline constexpr std::size_t kXNonceBytes = 24;
inline constexpr std::size_t kIetfNonceBytes = 12;

// Whether ChaCha20-Poly1305 runs on libcrypto (true wherever it offers the cipher) rather than
// on libsodium. Both give the same bytes.
bool aead_uses_libcrypto();

Bytes xchacha_seal(ByteView key, ByteView nonce24, ByteView ad, ByteView plaintext);
std::optional<Bytes> xchacha_open(ByteView key, ByteView nonce24, ByteView ad, ByteView ciphertext);
// Opens into secret memory (for wrapped keys).
std::optional<SecretBytes> xchacha_open_secret(ByteView key, ByteView nonce24, ByteView ad,
                                               ByteView ciphertext);

Bytes chacha_ietf_seal(ByteView key, ByteView nonce12, ByteView ad, ByteView plaintext);
std::optional<Bytes> chacha_ietf_open(ByteView key, ByteView nonce12, ByteView ad,
                                      ByteView ciphertext);
// Buffer-to-buffer forms for streams: `out` must hold plaintext.size() + 16 (seal) or
// ciphertext.size() - 16 (open) bytes; `out` may alias the input exactly.
void chacha_ietf_seal_into(MutableByteView out, ByteView key, ByteView nonce12, ByteView ad,
                           ByteView plaintext);
bool chacha_ietf_open_into(MutableByteView out, ByteView key, ByteView nonce12, ByteView ad,
                           ByteView ciphertext);

}  // namespace kolokol::crypto
