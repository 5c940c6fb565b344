#include "kolokol/crypto/sign.hpp"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace kolokol::crypto {

SignKeyPair sign_keypair() {
    SignKeyPair kp{{}, SecretBytes(kSignSecretBytes)};
    crypto_sign_keypair(kp.public_key.data(), kp.secret_key.data());
    return kp;
}

SignKeyPair sign_seed_keypair(ByteView seed32) {
    if (seed32.size() != kSignSeedBytes) throw std::invalid_argument("sign: bad seed length");
    SignKeyPair kp{{}, SecretBytes(kSignSecretBytes)};
    crypto_sign_seed_keypair(kp.public_key.data(), kp.secret_key.data(), seed32.data());
    return kp;
}

namespace {
Bytes framed(std::string_view domain, ByteView message) {
    Bytes m;
    m.reserve(domain.size() + 1 + message.size());
    append(m, as_bytes(domain));
    m.push_back(0);
    append(m, message);
    return m;
}
}  // namespace

Signature sign(const SecretBytes& secret_key, std::string_view domain, ByteView message) {
    return sign_raw(secret_key, framed(domain, message));
}

Signature sign_secret_message(const SecretBytes& secret_key, std::string_view domain,
                              ByteView message) {
    SecretBytes m(domain.size() + 1 + message.size());
    if (!domain.empty()) std::memcpy(m.data(), domain.data(), domain.size());
    if (!message.empty()) std::memcpy(m.data() + domain.size() + 1, message.data(), message.size());
    return sign_raw(secret_key, m.view());
}

bool verify(ByteView public_key, std::string_view domain, ByteView message, ByteView signature) {
    return verify_raw(public_key, framed(domain, message), signature);
}

Signature sign_raw(const SecretBytes& secret_key, ByteView message) {
    if (secret_key.size() != kSignSecretBytes) throw std::invalid_argument("sign: bad key");
    Signature sig{};
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_key.data());
    return sig;
}

bool verify_raw(ByteView public_key, ByteView message, ByteView signature) {
    if (public_key.size() != kSignPublicBytes || signature.size() != kSignatureBytes) return false;
    return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                       public_key.data()) == 0;
}

}  // namespace kolokol::crypto
