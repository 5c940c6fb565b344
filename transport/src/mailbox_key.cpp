#include "kolokol/transport/mailbox_key.hpp"

#include "kolokol/crypto/hash.hpp"

namespace kolokol::transport {

MailboxKey MailboxKey::from_seed(ByteView seed32) {
    auto pair = crypto::sign_seed_keypair(seed32);
    MailboxKey key;
    key.public_key = pair.public_key;
    key.id = mailbox_id_of(pair.public_key);
    key.secret_key = std::move(pair.secret_key);
    return key;
}

MailboxId mailbox_id_of(const crypto::SignPublicKey& public_key) {
    return crypto::blake2b_256(public_key);
}

namespace {
Bytes open_message(ByteView handshake_hash, const MailboxId& mailbox) {
    Bytes msg(handshake_hash.begin(), handshake_hash.end());
    append(msg, mailbox);
    return msg;
}
}  // namespace

crypto::Signature sign_mailbox_open(const MailboxKey& key, ByteView handshake_hash) {
    return crypto::sign(key.secret_key, kMailboxOpenDomain, open_message(handshake_hash, key.id));
}

bool verify_mailbox_open(const MailboxId& mailbox, ByteView public_key, ByteView handshake_hash,
                         ByteView signature) {
    if (public_key.size() != crypto::kSignPublicBytes ||
        signature.size() != crypto::kSignatureBytes)
        return false;
    if (mailbox_id_of(to_array<crypto::kSignPublicBytes>(public_key)) != mailbox) return false;
    return crypto::verify(public_key, kMailboxOpenDomain, open_message(handshake_hash, mailbox),
                          signature);
}

}  // namespace kolokol::transport
