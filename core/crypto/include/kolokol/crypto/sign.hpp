#pragma once
// Ed25519 signatures. Always sign a domain-separated message: sign(sk, domain, bytes).

#include <string_view>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::crypto {

inline constexpr std::size_t kSignPublicBytes = 32;
inline constexpr std::size_t kSignSecretBytes = 64;
inline constexpr std::size_t kSignSeedBytes = 32;
inline constexpr std::size_t kSignatureBytes = 64;

using SignPublicKey = ByteArray<32>;
using Signature = ByteArray<64>;

struct SignKeyPair {
    SignPublicKey public_key{};
    SecretBytes secret_key;  // 64 bytes (seed || public key)
};

SignKeyPair sign_keypair();
SignKeyPair sign_seed_keypair(ByteView seed32);

// Ed25519 over domain || 0x00 || message. `domain` names what is signed ("kolokol/record/v1").
Signature sign(const SecretBytes& secret_key, std::string_view domain, ByteView message);
// The same for a message that holds keys (a welcome token): framed in locked memory, not the heap.
Signature sign_secret_message(const SecretBytes& secret_key, std::string_view domain,
                              ByteView message);
bool verify(ByteView public_key, std::string_view domain, ByteView message, ByteView signature);

// Raw Ed25519 (no domain) — only for interoperability with external formats.
Signature sign_raw(const SecretBytes& secret_key, ByteView message);
bool verify_raw(ByteView public_key, ByteView message, ByteView signature);

}  // namespace kolokol::crypto
