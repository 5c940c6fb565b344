#pragma once
// SymmetricState (Noise rev. 34 §5.2) for BLAKE2b: HASHLEN 64, HKDF built on HMAC-BLAKE2b-512.

#include <string_view>
#include <utility>

#include "kolokol/crypto/secret.hpp"
#include "kolokol/transport/noise.hpp"

namespace kolokol::transport::noise {

class SymmetricState {
public:
    explicit SymmetricState(std::string_view protocol_name);

    void mix_hash(ByteView data);
    void mix_key(ByteView input_key_material);
    void mix_key_and_hash(ByteView input_key_material);
    // Without a key yet these copy the data unchanged, as the spec says; once a key is mixed
    // in they encrypt/decrypt with h as associated data. Both mix the ciphertext into h.
    Result<Bytes> encrypt_and_hash(ByteView plaintext);
    Result<Bytes> decrypt_and_hash(ByteView ciphertext);
    bool has_key() const { return m_cipher.has_key(); }
    // (initiator → responder, responder → initiator). Wipes ck.
    std::pair<CipherState, CipherState> split();

    const HandshakeHash& h() const { return m_h; }

private:
    crypto::SecretBytes m_ck;  // 64 bytes
    HandshakeHash m_h{};
    CipherState m_cipher;
};

}  // namespace kolokol::transport::noise
