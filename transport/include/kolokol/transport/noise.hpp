#pragma once
// The Noise protocol framework (revision 34) for the suite 25519_ChaChaPoly_BLAKE2b: a generic
// HandshakeState driven by a pattern table that holds every fundamental pattern (one-way N, K, X
// and the twelve interactive ones), every deferred pattern (NK1 … I1X1) and the psk0..psk3
// modifiers (also combined, "NNpsk0+psk2"). Checked against the cacophony vectors.
//
// Kolokol's own sessions use Noise_XX with the prologue "kolokol/1" (see session.hpp); this
// layer knows nothing about sockets. None of these types is thread-safe: one owner at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/transport/session_error.hpp"

namespace kolokol::transport::noise {

inline constexpr std::size_t kDhBytes = 32;             // X25519 keys and shared secrets
inline constexpr std::size_t kHashBytes = 64;           // BLAKE2b-512: h and ck
inline constexpr std::size_t kKeyBytes = 32;            // ChaCha20-Poly1305 key
inline constexpr std::size_t kTagBytes = 16;            // Poly1305 tag
inline constexpr std::size_t kPskBytes = 32;            // pre-shared keys
inline constexpr std::size_t kMaxMessageBytes = 65535;  // any Noise message, spec §3
inline constexpr std::string_view kSuffix = "_25519_ChaChaPoly_BLAKE2b";

using PublicKey = ByteArray<kDhBytes>;
using HandshakeHash = ByteArray<kHashBytes>;

// A ChaCha20-Poly1305 key and a 64-bit counter nonce (little-endian in the last 8 bytes of the
// 12-byte IETF nonce, the first 4 bytes zero). A default-constructed CipherState has no key and
// refuses to encrypt or decrypt (it never passes plaintext through). Move-only; the key lives in
// sodium_malloc memory.
class CipherState {
public:
    CipherState() = default;
    // `key` must be 32 bytes (asserted: it only ever comes from split()).
    explicit CipherState(crypto::SecretBytes key);

    // InitializeKey(): copies `key` (32 bytes, asserted) into this cipher's secret memory
    // (allocated on first use, then reused) and resets the nonce to 0.
    void initialize_key(ByteView key);

    bool has_key() const { return !m_key.empty(); }
    std::uint64_t nonce() const { return m_nonce; }
    // For tests and for transports that carry explicit nonces; Kolokol's sessions never call it.
    void set_nonce(std::uint64_t n) { m_nonce = n; }

    // Seals `plaintext` (≤ 65,535 − 16 bytes) with the current nonce, then increments it.
    // Fails with bad_config (no key), message_too_large, or nonce_exhausted when the nonce is
    // 2^64−1 (reserved by the spec; rekeying is not offered, a session never gets near it).
    Result<Bytes> encrypt_with_ad(ByteView ad, ByteView plaintext);
    // Opens `ciphertext` (16..65,535 bytes). On decrypt_failed the nonce is not incremented.
    Result<Bytes> decrypt_with_ad(ByteView ad, ByteView ciphertext);

private:
    crypto::SecretBytes m_key;
    std::uint64_t m_nonce = 0;
};

enum class Role { initiator, responder };

// The two transport ciphers from Split(), already oriented for this side. After a one-way
// pattern (N, K, X and their psk variants) only initiator → responder traffic exists: the
// responder's `send` and the initiator's `receive` are keyless and refuse to work.
struct TransportCiphers {
    CipherState send;
    CipherState receive;
};

struct HandshakeConfig {
    // Full name, e.g. "Noise_XX_25519_ChaChaPoly_BLAKE2b" or "Noise_NNpsk0+psk2_25519_…".
    std::string protocol_name;
    Role role = Role::initiator;
    Bytes prologue;
    // This side's X25519 private key (32 bytes), exactly when the pattern uses one.
    crypto::SecretBytes local_static;
    // The peer's static public key, exactly when the pattern's pre-messages carry it (K, I, …
    // from the initiator's view; N, K, X … from the responder's). Patterns that transmit the
    // key during the handshake refuse this: check remote_static() after the handshake instead.
    std::optional<PublicKey> remote_static;
    // One 32-byte key per psk modifier, in the order the psk tokens occur.
    std::vector<crypto::SecretBytes> psks;
};

// One handshake. Create it, then alternate write_message / read_message as the pattern says
// (is_write_turn() tells which), then split() once. Any failure poisons the state: every later
// call fails with wrong_state, so a half-verified handshake can never yield keys.
// Move-only; not thread-safe.
class HandshakeState {
public:
    // Fails with unknown_protocol for names outside the table and bad_config when keys or psks
    // do not match what the pattern needs. `rng` supplies the ephemeral key, fresh for every
    // handshake, drawn when the "e" token is written; it must outlive the HandshakeState.
    static Result<HandshakeState> create(HandshakeConfig config,
                                         crypto::Random& rng = crypto::system_random());
    // Tests only (the cacophony vectors fix the ephemeral): uses `ephemeral_private` (32 bytes)
    // instead of a fresh key. Reusing an ephemeral across handshakes breaks Noise's security;
    // production code must call create().
    static Result<HandshakeState> create_with_fixed_ephemeral_for_testing(
        HandshakeConfig config, crypto::SecretBytes ephemeral_private);

    HandshakeState(HandshakeState&&) noexcept;
    HandshakeState& operator=(HandshakeState&&) noexcept;
    ~HandshakeState();

    Role role() const;
    // True when the next step is write_message (false once finished or failed).
    bool is_write_turn() const;
    // True once every handshake message has been written or read successfully.
    bool is_finished() const;
    bool has_failed() const;
    // Number of handshake messages in the pattern (1 for one-way patterns).
    std::size_t message_count() const;

    // Writes the next handshake message carrying `payload`. The whole message must fit in
    // 65,535 bytes (message_too_large, checked before any state changes).
    Result<Bytes> write_message(ByteView payload);
    // Reads the next handshake message (≤ 65,535 bytes) and returns its payload. Fails with
    // malformed_message, decrypt_failed or invalid_dh.
    Result<Bytes> read_message(ByteView message);

    // The peer's static public key once known (from a pre-message or a received "s" token).
    std::optional<PublicKey> remote_static() const;
    // The handshake hash h. Final (and suitable for channel binding) once is_finished(); the
    // value before that is the running transcript hash.
    const HandshakeHash& handshake_hash() const;

    // Derives the transport ciphers. Only after is_finished(), only once (wrong_state
    // otherwise). Wipes the chaining key and the ephemeral key.
    Result<TransportCiphers> split();

private:
    struct Impl;
    explicit HandshakeState(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// True when `protocol_name` names a pattern of the table with this suite.
bool is_supported_protocol(std::string_view protocol_name);

}  // namespace kolokol::transport::noise
