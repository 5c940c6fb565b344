#include <algorithm>
#include <cassert>
#include <limits>

#include "kolokol/crypto/aead.hpp"
#include "kolokol/transport/noise.hpp"

namespace kolokol::transport::noise {

namespace {

// 32 zero bits then the 64-bit counter little-endian (§5.1, ChaChaPoly).
ByteArray<crypto::kIetfNonceBytes> nonce_bytes(std::uint64_t n) {
    ByteArray<crypto::kIetfNonceBytes> out{};
    for (std::size_t i = 0; i < 8; ++i) out[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
    return out;
}

constexpr std::uint64_t kReservedNonce = std::numeric_limits<std::uint64_t>::max();

}  // namespace

CipherState::CipherState(crypto::SecretBytes key) : m_key(std::move(key)) {
    assert(m_key.size() == kKeyBytes);
}

void CipherState::initialize_key(ByteView key) {
    assert(key.size() == kKeyBytes);
    if (m_key.empty()) m_key = crypto::SecretBytes(kKeyBytes);
    std::copy(key.begin(), key.end(), m_key.data());
    m_nonce = 0;
}

Result<Bytes> CipherState::encrypt_with_ad(ByteView ad, ByteView plaintext) {
    // Refusing instead of passing through: a keyless CipherState outside a handshake means a
    // one-way pattern's unused direction, and plaintext must never leave by accident.
    if (!has_key()) return fail(TransportErrc::bad_config, "no key for this direction");
    if (plaintext.size() > kMaxMessageBytes - kTagBytes)
        return fail(TransportErrc::message_too_large, "Noise message over 65,535 bytes");
    // 2^64-1 is reserved for rekeying by the spec; a cipher that reached it is finished.
    if (m_nonce == kReservedNonce)
        return fail(TransportErrc::nonce_exhausted, "nonces exhausted: start a new session");
    auto nonce = nonce_bytes(m_nonce);
    auto out = crypto::chacha_ietf_seal(m_key.view(), nonce, ad, plaintext);
    ++m_nonce;
    return out;
}

Result<Bytes> CipherState::decrypt_with_ad(ByteView ad, ByteView ciphertext) {
    if (!has_key()) return fail(TransportErrc::bad_config, "no key for this direction");
    if (ciphertext.size() > kMaxMessageBytes)
        return fail(TransportErrc::message_too_large, "Noise message over 65,535 bytes");
    if (ciphertext.size() < kTagBytes)
        return fail(TransportErrc::decrypt_failed, "ciphertext shorter than its tag");
    if (m_nonce == kReservedNonce)
        return fail(TransportErrc::nonce_exhausted, "nonces exhausted: start a new session");
    auto nonce = nonce_bytes(m_nonce);
    auto out = crypto::chacha_ietf_open(m_key.view(), nonce, ad, ciphertext);
    if (!out) return fail(TransportErrc::decrypt_failed, "decryption failed");
    ++m_nonce;
    return std::move(*out);
}

}  // namespace kolokol::transport::noise
