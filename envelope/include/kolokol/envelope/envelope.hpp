#pragma once
// The envelope: what crosses the network and what relays store (DESIGN §7.1). A fixed layout
//   version(1) || mailbox(32) || nonce(24) || ciphertext(≥ 16)
// so that record_id = BLAKE2b-256(envelope bytes) has exactly one encoding. Storage and
// transport see only this outer layer; core alone opens the ciphertext.

#include <optional>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::envelope {

using RecordId = ByteArray<32>;
using MailboxId = ByteArray<32>;

inline constexpr std::uint8_t kEnvelopeVersion = 1;
inline constexpr std::size_t kEnvelopeHeaderBytes = 1 + 32 + 24;
inline constexpr std::size_t kEnvelopeMinBytes = kEnvelopeHeaderBytes + 16;
// Fits one transport frame (65,535 bytes) with room for the sync frame around it.
inline constexpr std::size_t kEnvelopeMaxBytes = 60 * 1024;

struct EnvelopeView {
    std::uint8_t version = 0;
    MailboxId mailbox{};
    ByteView nonce;       // 24 bytes, points into the envelope
    ByteView ciphertext;  // points into the envelope
    ByteView header;      // version || mailbox: the AEAD's associated data
};

// Splits an envelope into its fields. nullopt when it is too short, too long or of an unknown
// version. The views point into `bytes`, which must outlive the result.
std::optional<EnvelopeView> parse_envelope(ByteView bytes);

// BLAKE2b-256 of the whole envelope (no domain: the id names the exact bytes).
RecordId record_id_of(ByteView envelope_bytes);

}  // namespace kolokol::envelope
