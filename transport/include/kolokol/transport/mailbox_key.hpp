#pragma once
// Mailbox keys and the open proof (DESIGN §6.3): what lets a session open a mailbox.

#include <cstdint>
#include <string_view>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/envelope/envelope.hpp"

namespace kolokol::transport {

using envelope::MailboxId;

// Domain of the mailbox-open signature over (handshake hash || mailbox).
inline constexpr std::string_view kMailboxOpenDomain = "kolokol/mailbox-open/v1";

// The capability to open one mailbox: the Ed25519 key pair derived from the epoch secret
// (DESIGN §4), with id == BLAKE2b-256(public_key). Move-only: the secret key is in
// sodium_malloc memory.
struct MailboxKey {
    MailboxId id{};
    crypto::SignPublicKey public_key{};
    crypto::SecretBytes secret_key;  // 64 bytes (seed || public key)
    // 0: take every envelope. Otherwise the largest envelope the server is asked to send from
    // this mailbox (Open.max_envelope_bytes); larger ones are never fetched, wanted ids of them
    // come back as missing, and live mode does not push them.
    std::uint32_t max_envelope_bytes = 0;

    // A key from a 32-byte seed (what core derives per epoch).
    static MailboxKey from_seed(ByteView seed32);
};

// mailbox = BLAKE2b-256(public key).
MailboxId mailbox_id_of(const crypto::SignPublicKey& public_key);
// The open proof: Ed25519 by the mailbox key over ("kolokol/mailbox-open/v1", handshake hash ||
// mailbox). Binding the session's handshake hash means a recorded proof is worthless on any
// other session.
crypto::Signature sign_mailbox_open(const MailboxKey& key, ByteView handshake_hash);
// True when `public_key` names `mailbox` and `signature` is its open proof for this handshake.
bool verify_mailbox_open(const MailboxId& mailbox, ByteView public_key, ByteView handshake_hash,
                         ByteView signature);

}  // namespace kolokol::transport
