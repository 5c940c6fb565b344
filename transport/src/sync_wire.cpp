#include "sync_wire.hpp"

#include <algorithm>

#include "kolokol/crypto/hash.hpp"
#include "sync.pb.h"

namespace kolokol::transport {

namespace {
struct SyncCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.sync"; }
    std::string message(int c) const override {
        switch (static_cast<SyncErrc>(c)) {
            case SyncErrc::protocol_violation:
                return KOLOKOL_TEXT("the peer broke the sync protocol");
            case SyncErrc::unopened_mailbox:
                return KOLOKOL_TEXT("the peer used a mailbox it did not open");
            case SyncErrc::limit_exceeded:
                return KOLOKOL_TEXT("the peer went past a sync limit");
            case SyncErrc::version_mismatch:
                return KOLOKOL_TEXT("the peer speaks another sync version");
            case SyncErrc::replica_failed:
                return KOLOKOL_TEXT("the local store failed during sync");
            case SyncErrc::peer_closed:
                return KOLOKOL_TEXT("the peer closed the session");
            case SyncErrc::invalid_key:
                return KOLOKOL_TEXT("a mailbox key does not match its mailbox");
            case SyncErrc::stopped:
                return KOLOKOL_TEXT("the sync was stopped");
        }
        return KOLOKOL_TEXT("unknown sync error");
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

Result<Replica::StoredIds> Replica::ids_in_stored_order(const MailboxId& mailbox,
                                                        std::uint64_t from, std::size_t limit) {
    auto all = ids(mailbox);
    if (!all) return std::unexpected(all.error());
    StoredIds page;
    page.total = all->size();
    const std::size_t start = std::min<std::uint64_t>(from, all->size());
    const std::size_t end = start + std::min(limit, all->size() - start);
    page.ids.assign(all->begin() + static_cast<std::ptrdiff_t>(start),
                    all->begin() + static_cast<std::ptrdiff_t>(end));
    page.next = end;
    page.more = end < all->size();
    return page;
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
        (frame.has_ack() && frame.ack().rejected_size() > cap) ||
        (frame.has_fetch_all() &&
         frame.fetch_all().have_size() > static_cast<int>(kSyncMaxFetchHave)) ||
        (frame.has_fetched() &&
         frame.fetched().lacking_size() > static_cast<int>(kSyncMaxFetchHave)))
        return fail(SyncErrc::protocol_violation, "a sync frame with too many ids");
    return frame;
}

std::optional<RecordId> parse_id(const std::string& field) {
    if (field.size() != 32) return std::nullopt;
    return to_array<32>(as_bytes(field));
}

}  // namespace kolokol::transport::detail
