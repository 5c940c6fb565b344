#include "kolokol/crypto/x25519.hpp"

#include <sodium.h>

#include <stdexcept>

namespace kolokol::crypto {

BoxKeyPair box_keypair() {
    BoxKeyPair kp{{}, SecretBytes(32)};
    crypto_box_keypair(kp.public_key.data(), kp.secret_key.data());
    return kp;
}

BoxKeyPair box_seed_keypair(ByteView seed32) {
    if (seed32.size() != 32) throw std::invalid_argument("x25519: bad seed length");
    BoxKeyPair kp{{}, SecretBytes(32)};
    crypto_box_seed_keypair(kp.public_key.data(), kp.secret_key.data(), seed32.data());
    return kp;
}

BoxPublicKey x25519_base(ByteView secret32) {
    if (secret32.size() != 32) throw std::invalid_argument("x25519: bad key length");
    BoxPublicKey pk{};
    crypto_scalarmult_base(pk.data(), secret32.data());
    return pk;
}

std::optional<SecretBytes> x25519(ByteView secret32, ByteView public32) {
    if (secret32.size() != 32 || public32.size() != 32) return std::nullopt;
    SecretBytes shared(32);
    // crypto_scalarmult returns -1 when the output is all zero (a low-order public key).
    if (crypto_scalarmult(shared.data(), secret32.data(), public32.data()) != 0)
        return std::nullopt;
    return shared;
}

bool x25519_into(MutableByteView out, ByteView secret32, ByteView public32) {
    if (out.size() != 32 || secret32.size() != 32 || public32.size() != 32) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    if (crypto_scalarmult(out.data(), secret32.data(), public32.data()) != 0) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    return true;
}

Bytes box_seal(ByteView recipient_public, ByteView message) {
    if (recipient_public.size() != 32) throw std::invalid_argument("seal: bad key length");
    Bytes out(message.size() + crypto_box_SEALBYTES);
    crypto_box_seal(out.data(), message.data(), message.size(), recipient_public.data());
    return out;
}

std::optional<SecretBytes> box_seal_open(const BoxKeyPair& recipient, ByteView sealed) {
    if (sealed.size() < crypto_box_SEALBYTES) return std::nullopt;
    SecretBytes out(sealed.size() - crypto_box_SEALBYTES);
    if (crypto_box_seal_open(out.data(), sealed.data(), sealed.size(), recipient.public_key.data(),
                             recipient.secret_key.data()) != 0)
        return std::nullopt;
    return out;
}

}  // namespace kolokol::crypto
