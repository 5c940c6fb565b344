#pragma once
// X25519 key agreement and sealed boxes (crypto_box_seal: anonymous sender, X25519+XSalsa20).

#include <optional>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::crypto {

using BoxPublicKey = ByteArray<32>;

struct BoxKeyPair {
    BoxPublicKey public_key{};
    SecretBytes secret_key;  // 32 bytes
};

BoxKeyPair box_keypair();
BoxKeyPair box_seed_keypair(ByteView seed32);
BoxPublicKey x25519_base(ByteView secret32);
// X25519(secret, public). nullopt when the result is all zero (low-order point): the caller must
// treat that as a failed handshake, never as a key.
std::optional<SecretBytes> x25519(ByteView secret32, ByteView public32);
// The same into caller-provided memory (exactly 32 bytes, e.g. reused secret memory). Returns
// false on bad sizes or an all-zero result; `out` is then zeroed.
bool x25519_into(MutableByteView out, ByteView secret32, ByteView public32);

inline constexpr std::size_t kSealOverhead = 48;
Bytes box_seal(ByteView recipient_public, ByteView message);
std::optional<SecretBytes> box_seal_open(const BoxKeyPair& recipient, ByteView sealed);

}  // namespace kolokol::crypto
