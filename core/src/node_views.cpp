// Views compared in direct sessions (docs/design.md §5.12): when two members sync directly
// (`serve`, the LAN, a peer named to `sync`), each says what it holds of the group once
// everything is exchanged — the digest and count of its valid control records, signed by its
// identity — and each compares the other's with its own. Both then hold the same records, so
// digests that still differ mean the two views cannot be reconciled by syncing. Each outcome
// is kept (table view_checks, the latest per group and peer) for `sync` to warn of and
// `group audit` to show.
//
// The token: 0x01 || nonce (24) || XChaCha20-Poly1305 under a key derived from the mailbox's
// epoch control key (only members hold it: a relay, or a peer without that epoch, reads
// nothing), with the session's handshake hash and the mailbox as associated data. Inside:
// the side (0 client, 1 server) || author (32) || digest (32) || count (8, big-endian) ||
// Ed25519 signature by the author over the same fields, the handshake hash and the mailbox.
// The side is signed, so a peer cannot hand a member its own statement back as its answer; the
// handshake hash, so a statement from another session does not serve in this one.

#include <algorithm>

#include "domains.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/kdf.hpp"
#include "node_impl.hpp"

namespace kolokol::core {

namespace {

constexpr std::array<std::string_view, 1> kViewSteps = {
    R"sql(
CREATE TABLE view_checks(
  group_id BLOB NOT NULL, peer BLOB NOT NULL, at_ms INTEGER NOT NULL, same INTEGER NOT NULL,
  peer_count INTEGER NOT NULL, peer_digest BLOB NOT NULL, own_count INTEGER NOT NULL,
  own_digest BLOB NOT NULL, PRIMARY KEY(group_id, peer));
)sql",
};

constexpr std::uint8_t kTokenVersion = 1;
constexpr std::size_t kNonceBytes = 24;
constexpr std::size_t kStatementBytes = 1 + 32 + 32 + 8 + 64;
constexpr std::size_t kTokenBytes = 1 + kNonceBytes + kStatementBytes + 16;
constexpr std::string_view kViewKeyContext = "kkview01";

Status ensure_schema(storage::Database& db) {
    return db.migrate("views", kViewSteps);
}

Bytes view_ad(ByteView handshake_hash, const MailboxId& mailbox) {
    Bytes ad(kViewDomain.begin(), kViewDomain.end());
    ad.push_back(0);
    ad.insert(ad.end(), handshake_hash.begin(), handshake_hash.end());
    ad.insert(ad.end(), mailbox.begin(), mailbox.end());
    return ad;
}

// What the author signs: the side, the view, and where it is said.
Bytes signed_part(std::uint8_t side, const MemberKey& author, const ByteArray<32>& digest,
                  std::uint64_t count, ByteView handshake_hash, const MailboxId& mailbox,
                  const GroupId& group) {
    Bytes m;
    m.push_back(side);
    m.insert(m.end(), author.begin(), author.end());
    m.insert(m.end(), digest.begin(), digest.end());
    for (int i = 7; i >= 0; --i) m.push_back(static_cast<std::uint8_t>(count >> (8 * i)));
    m.insert(m.end(), handshake_hash.begin(), handshake_hash.end());
    m.insert(m.end(), mailbox.begin(), mailbox.end());
    m.insert(m.end(), group.begin(), group.end());
    return m;
}

}  // namespace

std::pair<ByteArray<32>, std::uint64_t> Node::Impl::control_view(const GroupId& group) {
    // As the store holds it now: another process of this member (a command run beside a
    // `serve`) may have written control records this one has not folded.
    states.erase(group);
    const auto& g = state(group);
    std::vector<RecordId> valid;
    for (const auto& r : g.records())
        if (g.status(r.id) == OpStatus::valid) valid.push_back(r.id);
    return {control_digest(group, valid), valid.size()};
}

std::optional<MailboxId> Node::Impl::view_mailbox(const GroupId& group) {
    const auto& g = state(group);
    auto at = [&](const EpochId& e) -> std::optional<MailboxId> {
        auto it = epoch_mailbox.find(e);
        if (it == epoch_mailbox.end() || !epochs.contains(it->second)) return std::nullopt;
        return it->second;
    };
    if (auto w = g.writer_epoch(identity.sign.public_key))
        if (auto m = at(*w)) return m;
    std::optional<MailboxId> out;
    for (const auto* e : g.frontier())
        if (auto m = at(e->id); m && (!out || *m < *out)) out = m;
    return out;
}

Result<std::optional<Bytes>> Node::Impl::view_token(const MailboxId& mailbox,
                                                    ByteView handshake_hash, bool server) {
    auto it = epochs.find(mailbox);
    if (it == epochs.end() || !genesis.contains(it->second.group_id)) return std::nullopt;
    const auto group = it->second.group_id;
    // A client speaks for each group once, on the mailbox it writes in (asked for every mailbox
    // it opened: the others cost no reload); a server answers on whichever mailbox it was asked.
    if (!server && view_mailbox(group) != mailbox) return std::nullopt;
    const auto [digest, count] = control_view(group);  // reloads the group first
    if (!state(group).is_member(identity.sign.public_key)) return std::nullopt;
    if (!server && view_mailbox(group) != mailbox) return std::nullopt;  // as it stands now
    const std::uint8_t side = server ? 1 : 0;
    const auto& me = identity.sign.public_key;
    const auto sig =
        crypto::sign(identity.sign.secret_key, kViewDomain,
                     signed_part(side, me, digest, count, handshake_hash, mailbox, group));
    Bytes plain;
    plain.push_back(side);
    plain.insert(plain.end(), me.begin(), me.end());
    plain.insert(plain.end(), digest.begin(), digest.end());
    for (int i = 7; i >= 0; --i) plain.push_back(static_cast<std::uint8_t>(count >> (8 * i)));
    plain.insert(plain.end(), sig.begin(), sig.end());
    const auto key = crypto::kdf_derive(it->second.control_key.view(), 1, kViewKeyContext);
    const auto nonce = random->bytes(kNonceBytes);
    Bytes token{kTokenVersion};
    token.insert(token.end(), nonce.begin(), nonce.end());
    const auto sealed =
        crypto::xchacha_seal(key.view(), nonce, view_ad(handshake_hash, mailbox), plain);
    token.insert(token.end(), sealed.begin(), sealed.end());
    return token;
}

Result<bool> Node::Impl::take_peer_view(const MailboxId& mailbox, ByteView handshake_hash,
                                        ByteView token, bool server) {
    auto it = epochs.find(mailbox);
    if (it == epochs.end() || !genesis.contains(it->second.group_id)) return false;
    const auto group = it->second.group_id;
    // What cannot be read, does not verify, or is no current member's is no view: nothing is
    // recorded (a peer that says nothing readable leaves the comparison undone, and `group
    // audit` shows when each member's view was last compared), and a server does not answer.
    if (token.size() != kTokenBytes || token[0] != kTokenVersion) return false;
    const auto key = crypto::kdf_derive(it->second.control_key.view(), 1, kViewKeyContext);
    auto plain =
        crypto::xchacha_open(key.view(), token.subspan(1, kNonceBytes),
                             view_ad(handshake_hash, mailbox), token.subspan(1 + kNonceBytes));
    if (!plain || plain->size() != kStatementBytes) return false;
    const std::uint8_t side = (*plain)[0];
    // The peer's statement is from the other side of the session.
    if (side != (server ? 0 : 1)) return false;
    const auto peer = to_array<32>(ByteView(*plain).subspan(1, 32));
    const auto digest = to_array<32>(ByteView(*plain).subspan(33, 32));
    std::uint64_t count = 0;
    for (std::size_t i = 0; i < 8; ++i) count = (count << 8) | (*plain)[65 + i];
    const ByteView sig = ByteView(*plain).subspan(73, 64);
    if (peer == identity.sign.public_key) return false;
    if (!crypto::verify(peer, kViewDomain,
                        signed_part(side, peer, digest, count, handshake_hash, mailbox, group),
                        sig))
        return false;
    // Fresh (control_view reloads the group): a member added by another process is one.
    const auto [own_digest, own_count] = control_view(group);
    // Only a member's view is a comparison: anyone holding an old epoch's keys (a removed
    // member) could otherwise plant comparisons with made-up identities, one row each.
    if (!state(group).is_member(peer)) return false;
    if (auto ok = ensure_schema(db); !ok) return std::unexpected(ok.error());
    auto st = db.cached(
        "INSERT OR REPLACE INTO view_checks(group_id, peer, at_ms, same, peer_count, "
        "peer_digest, own_count, own_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return std::unexpected(st.error());
    (*st)
        ->bind(1, ByteView(group))
        .bind(2, ByteView(peer))
        .bind(3, now())
        .bind(4, std::int64_t{digest == own_digest && count == own_count})
        .bind(5, static_cast<std::int64_t>(count))
        .bind(6, ByteView(digest))
        .bind(7, static_cast<std::int64_t>(own_count))
        .bind(8, ByteView(own_digest));
    auto r = (*st)->step();
    (*st)->reset();
    if (!r) return std::unexpected(r.error());
    return true;
}

Result<std::vector<ViewCheck>> Node::view_checks(const GroupId* group, std::int64_t since_ms) {
    auto& m = *m_impl;
    if (auto ok = ensure_schema(m.db); !ok) return std::unexpected(ok.error());
    auto st = m.db.cached(
        "SELECT group_id, peer, at_ms, same, peer_count, peer_digest, own_count, own_digest "
        "FROM view_checks WHERE (?1 IS NULL OR group_id = ?1) AND at_ms >= ?2 "
        "ORDER BY at_ms DESC, peer");
    if (!st) return std::unexpected(st.error());
    if (group)
        (*st)->bind(1, ByteView(*group));
    else
        (*st)->bind_null(1);
    (*st)->bind(2, since_ms);
    std::vector<ViewCheck> out;
    while (true) {
        auto r = (*st)->step();
        if (!r) {
            (*st)->reset();
            return std::unexpected(r.error());
        }
        if (!*r) break;
        ViewCheck c;
        auto blob32 = [&](int col, ByteArray<32>& to) {
            const auto b = (*st)->column_blob(col);
            if (b.size() == 32) std::copy(b.begin(), b.end(), to.begin());
        };
        blob32(0, c.group);
        blob32(1, c.peer);
        c.at_ms = (*st)->column_int64(2);
        c.same = (*st)->column_int64(3) != 0;
        c.peer_count = static_cast<std::uint64_t>((*st)->column_int64(4));
        blob32(5, c.peer_digest);
        c.own_count = static_cast<std::uint64_t>((*st)->column_int64(6));
        blob32(7, c.own_digest);
        out.push_back(c);
    }
    (*st)->reset();
    return out;
}

}  // namespace kolokol::core
