#include "kolokol/crypto/aead.hpp"

#include <sodium.h>

#include <stdexcept>

namespace kolokol::crypto {

namespace {
void check_sizes(ByteView key, ByteView nonce, std::size_t nonce_len) {
    if (key.size() != kAeadKeyBytes || nonce.size() != nonce_len)
        throw std::invalid_argument("aead: bad key or nonce length");
}
}  // namespace

Bytes xchacha_seal(ByteView key, ByteView nonce24, ByteView ad, ByteView plaintext) {
    check_sizes(key, nonce24, kXNonceBytes);
    Bytes out(plaintext.size() + kAeadTagBytes);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &len, plaintext.data(), plaintext.size(),
                                               ad.data(), ad.size(), nullptr, nonce24.data(),
                                               key.data());
    return out;
}

std::optional<Bytes> xchacha_open(ByteView key, ByteView nonce24, ByteView ad,
                                  ByteView ciphertext) {
    check_sizes(key, nonce24, kXNonceBytes);
    if (ciphertext.size() < kAeadTagBytes) return std::nullopt;
    Bytes out(ciphertext.size() - kAeadTagBytes);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &len, nullptr, ciphertext.data(),
                                                   ciphertext.size(), ad.data(), ad.size(),
                                                   nonce24.data(), key.data()) != 0)
        return std::nullopt;
    return out;
}

std::optional<SecretBytes> xchacha_open_secret(ByteView key, ByteView nonce24, ByteView ad,
                                               ByteView ciphertext) {
    check_sizes(key, nonce24, kXNonceBytes);
    if (ciphertext.size() < kAeadTagBytes) return std::nullopt;
    SecretBytes out(ciphertext.size() - kAeadTagBytes);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &len, nullptr, ciphertext.data(),
                                                   ciphertext.size(), ad.data(), ad.size(),
                                                   nonce24.data(), key.data()) != 0)
        return std::nullopt;
    return out;
}

Bytes chacha_ietf_seal(ByteView key, ByteView nonce12, ByteView ad, ByteView plaintext) {
    Bytes out(plaintext.size() + kAeadTagBytes);
    chacha_ietf_seal_into(out, key, nonce12, ad, plaintext);
    return out;
}

std::optional<Bytes> chacha_ietf_open(ByteView key, ByteView nonce12, ByteView ad,
                                      ByteView ciphertext) {
    if (ciphertext.size() < kAeadTagBytes) return std::nullopt;
    Bytes out(ciphertext.size() - kAeadTagBytes);
    if (!chacha_ietf_open_into(out, key, nonce12, ad, ciphertext)) return std::nullopt;
    return out;
}

void chacha_ietf_seal_into(MutableByteView out, ByteView key, ByteView nonce12, ByteView ad,
                           ByteView plaintext) {
    check_sizes(key, nonce12, kIetfNonceBytes);
    if (out.size() != plaintext.size() + kAeadTagBytes)
        throw std::invalid_argument("aead: bad output length");
    unsigned long long len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &len, plaintext.data(), plaintext.size(),
                                              ad.data(), ad.size(), nullptr, nonce12.data(),
                                              key.data());
}

bool chacha_ietf_open_into(MutableByteView out, ByteView key, ByteView nonce12, ByteView ad,
                           ByteView ciphertext) {
    check_sizes(key, nonce12, kIetfNonceBytes);
    if (ciphertext.size() < kAeadTagBytes || out.size() != ciphertext.size() - kAeadTagBytes)
        return false;
    unsigned long long len = 0;
    return crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &len, nullptr, ciphertext.data(),
                                                     ciphertext.size(), ad.data(), ad.size(),
                                                     nonce12.data(), key.data()) == 0;
}

}  // namespace kolokol::crypto
