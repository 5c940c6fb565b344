#include "sync_wire.hpp"

#include "kolokol/crypto/hash.hpp"
#include "sync.pb.h"

namespace kolokol::transport {

namespace {
struct SyncCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.sync"; }
    std::string message(int c) const override {
        switch (static_cast<SyncErrc>(c)) {
            case SyncErrc::protocol_violation:
                return "the peer broke the sync protocol";
            case SyncErrc::unopened_mailbox:
                return "the peer used a mailbox it did not open";
            case SyncErrc::limit_exceeded:
                return "the peer went past a sync limit";
            case SyncErrc::version_mismatch:
                return "the peer speaks another sync version";
            case SyncErrc::replica_failed:
                return "the local store failed during sync";
            case SyncErrc::peer_closed:
                return "the peer closed the session";
            case SyncErrc::invalid_key:
                return "a mailbox key does not match its mailbox";
            case SyncErrc::stopped:
                return "the sync was stopped";
        }
        return "unknown sync error";
    }
};
}  // namespace

const std::error_category& SyncErrc_category() {
    static SyncCategory category;
    return category;
}

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

namespace kolokol::transport::detail {

Result<pb::SyncFrame> decode_frame(ByteView bytes) {
    if (bytes.size() > kSyncFrameMaxBytes)
        return fail(SyncErrc::limit_exceeded, "a sync frame over the size cap");
    pb::SyncFrame frame;
    if (!frame.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        return fail(SyncErrc::protocol_violation, "a sync frame that does not parse");
    const auto cap = static_cast<int>(kSyncMaxIdsPerFrame);
    if ((frame.has_want() && frame.want().ids_size() > cap) ||
        (frame.has_missing() && frame.missing().ids_size() > cap) ||
        (frame.has_ack() && frame.ack().rejected_size() > cap))
        return fail(SyncErrc::protocol_violation, "a sync frame with too many ids");
    return frame;
}

std::optional<RecordId> parse_id(const std::string& field) {
    if (field.size() != 32) return std::nullopt;
    return to_array<32>(as_bytes(field));
}

}  // namespace kolokol::transport::detail
