#include "noise_symmetric.hpp"

#include <algorithm>
#include <array>

#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/hmac_blake2b.hpp"

namespace kolokol::transport::noise {

namespace {

// HKDF(chaining_key, input_key_material, n) of §4.3, returning n outputs of HASHLEN bytes.
template <std::size_t N>
std::array<crypto::SecretBytes, N> hkdf(ByteView chaining_key, ByteView ikm) {
    static_assert(N == 2 || N == 3);
    auto temp_key = crypto::hmac_blake2b512(chaining_key, ikm);
    std::array<crypto::SecretBytes, N> out;
    const std::uint8_t one = 1, two = 2, three = 3;
    out[0] = crypto::hmac_blake2b512(temp_key.view(), ByteView(&one, 1));
    out[1] = crypto::hmac_blake2b512(temp_key.view(), {out[0].view(), ByteView(&two, 1)});
    if constexpr (N == 3)
        out[2] = crypto::hmac_blake2b512(temp_key.view(), {out[1].view(), ByteView(&three, 1)});
    return out;
}

// HASHLEN is 64, so each HKDF output is truncated to the 32-byte cipher key.
crypto::SecretBytes truncate_key(const crypto::SecretBytes& k) {
    return crypto::SecretBytes::copy_of(k.view().first(kKeyBytes));
}

}  // namespace

SymmetricState::SymmetricState(std::string_view protocol_name) : m_ck(kHashBytes) {
    auto name = as_bytes(protocol_name);
    if (name.size() <= kHashBytes) {
        std::copy(name.begin(), name.end(), m_h.begin());
    } else {
        auto digest = crypto::blake2b(kHashBytes, name);
        std::copy(digest.begin(), digest.end(), m_h.begin());
    }
    std::copy(m_h.begin(), m_h.end(), m_ck.data());
}

void SymmetricState::mix_hash(ByteView data) {
    crypto::Blake2b hash(kHashBytes);
    hash.update(m_h);
    hash.update(data);
    auto digest = hash.finish();
    std::copy(digest.begin(), digest.end(), m_h.begin());
}

void SymmetricState::mix_key(ByteView ikm) {
    auto [ck, k] = hkdf<2>(m_ck.view(), ikm);
    m_ck = std::move(ck);
    m_cipher = CipherState(truncate_key(k));
}

void SymmetricState::mix_key_and_hash(ByteView ikm) {
    auto [ck, temp_h, k] = hkdf<3>(m_ck.view(), ikm);
    m_ck = std::move(ck);
    mix_hash(temp_h.view());
    m_cipher = CipherState(truncate_key(k));
}

Result<Bytes> SymmetricState::encrypt_and_hash(ByteView plaintext) {
    Bytes out;
    if (m_cipher.has_key()) {
        auto sealed = m_cipher.encrypt_with_ad(m_h, plaintext);
        if (!sealed) return sealed;
        out = std::move(*sealed);
    } else {
        out.assign(plaintext.begin(), plaintext.end());
    }
    mix_hash(out);
    return out;
}

Result<Bytes> SymmetricState::decrypt_and_hash(ByteView ciphertext) {
    Bytes out;
    if (m_cipher.has_key()) {
        auto opened = m_cipher.decrypt_with_ad(m_h, ciphertext);
        if (!opened) return opened;
        out = std::move(*opened);
    } else {
        out.assign(ciphertext.begin(), ciphertext.end());
    }
    mix_hash(ciphertext);
    return out;
}

std::pair<CipherState, CipherState> SymmetricState::split() {
    auto [k1, k2] = hkdf<2>(m_ck.view(), {});
    m_ck = crypto::SecretBytes();
    m_cipher = CipherState();
    return {CipherState(truncate_key(k1)), CipherState(truncate_key(k2))};
}

}  // namespace kolokol::transport::noise
