#include "noise_symmetric.hpp"

#include <algorithm>

#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/hmac_blake2b.hpp"

namespace kolokol::transport::noise {

SymmetricState::SymmetricState(std::string_view protocol_name)
    : m_secrets(kSlots * kHashBytes + kDhBytes) {
    auto name = as_bytes(protocol_name);
    if (name.size() <= kHashBytes) {
        std::copy(name.begin(), name.end(), m_h.begin());
    } else {
        auto digest = crypto::blake2b(kHashBytes, name);
        std::copy(digest.begin(), digest.end(), m_h.begin());
    }
    std::copy(m_h.begin(), m_h.end(), slot(kCk).begin());
}

MutableByteView SymmetricState::slot(Slot s) {
    return m_secrets.mutable_view().subspan(static_cast<std::size_t>(s) * kHashBytes, kHashBytes);
}

MutableByteView SymmetricState::dh_scratch() {
    return m_secrets.mutable_view().subspan(kSlots * kHashBytes, kDhBytes);
}

void SymmetricState::hkdf(ByteView ikm, int outputs) {
    const std::uint8_t one = 1, two = 2, three = 3;
    auto temp_key = slot(kTempKey);
    crypto::hmac_blake2b512_into(temp_key, slot(kCk), {ikm});
    crypto::hmac_blake2b512_into(slot(kOut1), temp_key, {ByteView(&one, 1)});
    crypto::hmac_blake2b512_into(slot(kOut2), temp_key, {slot(kOut1), ByteView(&two, 1)});
    if (outputs == 3)
        crypto::hmac_blake2b512_into(slot(kOut3), temp_key, {slot(kOut2), ByteView(&three, 1)});
}

void SymmetricState::wipe_scratch() {
    crypto::memzero(m_secrets.mutable_view().subspan(kTempKey * kHashBytes));
}

void SymmetricState::mix_hash(ByteView data) {
    crypto::Blake2b hash(kHashBytes);
    hash.update(m_h);
    hash.update(data);
    auto digest = hash.finish();
    std::copy(digest.begin(), digest.end(), m_h.begin());
}

void SymmetricState::mix_key(ByteView ikm) {
    hkdf(ikm, 2);
    std::ranges::copy(slot(kOut1), slot(kCk).begin());
    // HASHLEN is 64: the cipher key is the first 32 bytes of the output.
    m_cipher.initialize_key(slot(kOut2).first(kKeyBytes));
    wipe_scratch();
}

void SymmetricState::mix_key_and_hash(ByteView ikm) {
    hkdf(ikm, 3);
    std::ranges::copy(slot(kOut1), slot(kCk).begin());
    mix_hash(slot(kOut2));
    m_cipher.initialize_key(slot(kOut3).first(kKeyBytes));
    wipe_scratch();
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
    hkdf({}, 2);
    CipherState c1, c2;
    c1.initialize_key(slot(kOut1).first(kKeyBytes));
    c2.initialize_key(slot(kOut2).first(kKeyBytes));
    m_secrets = crypto::SecretBytes();  // sodium_free wipes
    m_cipher = CipherState();
    return {std::move(c1), std::move(c2)};
}

}  // namespace kolokol::transport::noise
