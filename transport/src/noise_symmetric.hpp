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
    // `input_key_material` may be dh_scratch(); it is wiped afterwards either way.
    void mix_key(ByteView input_key_material);
    void mix_key_and_hash(ByteView input_key_material);
    // Without a key yet these copy the data unchanged, as the spec says; once a key is mixed
    // in they encrypt/decrypt with h as associated data. Both mix the ciphertext into h.
    Result<Bytes> encrypt_and_hash(ByteView plaintext);
    Result<Bytes> decrypt_and_hash(ByteView ciphertext);
    bool has_key() const { return m_cipher.has_key(); }
    // (initiator → responder, responder → initiator). Wipes and frees every secret here.
    std::pair<CipherState, CipherState> split();

    // 32 bytes of secret memory for the next DH result, consumed by mix_key().
    MutableByteView dh_scratch();
    const HandshakeHash& h() const { return m_h; }

private:
    enum Slot { kCk, kTempKey, kOut1, kOut2, kOut3, kSlots };
    MutableByteView slot(Slot s);
    // HKDF(ck, ikm, n) of §4.3 into the output slots.
    void hkdf(ByteView ikm, int outputs);
    void wipe_scratch();

    // Everything secret the key schedule touches, in one guarded allocation per handshake
    // (each sodium_malloc costs about as much as an X25519): ck, HKDF's temp_key and outputs,
    // then the DH scratch.
    crypto::SecretBytes m_secrets;
    HandshakeHash m_h{};
    CipherState m_cipher;
};

}  // namespace kolokol::transport::noise
