// Key updates (docs/design.md §5.13): a member's per-group box keys, the records that announce
// them, the erasure of the old ones, and the key updates made with this member's signing key
// elsewhere.

#include <set>
#include <tuple>

#include "kolokol/crypto/x25519.hpp"
#include "node_impl.hpp"
#include "records.hpp"
#include "schema.hpp"

namespace kolokol::core {

Result<std::vector<Node::Impl::HeldBoxKey>> Node::Impl::held_box_keys(const GroupId* group) {
    std::vector<HeldBoxKey> out;
    auto st = group ? db.cached(
                          "SELECT public_key, secret, rowid FROM box_keys WHERE group_id = ? AND "
                          "secret IS NOT NULL ORDER BY rowid DESC")
                    : db.cached(
                          "SELECT public_key, secret, rowid FROM box_keys WHERE secret IS NOT "
                          "NULL ORDER BY rowid DESC");
    if (!st) return std::unexpected(st.error());
    auto& q = **st;
    if (group) q.bind(1, ByteView(*group));
    for (;;) {
        auto r = q.step();
        if (!r) {
            q.reset();
            return std::unexpected(r.error());
        }
        if (!*r) break;
        auto pub = q.column_blob(0);
        if (pub.size() != 32) continue;
        auto secret = db.open_secret(q.column_blob(1), secret_place("box_keys.secret", pub));
        if (!secret) continue;  // a damaged row opens nothing
        HeldBoxKey k;
        k.pair.public_key = to_array<32>(pub);
        k.pair.secret_key = std::move(*secret);
        k.order = q.column_int64(2);
        out.push_back(std::move(k));
    }
    q.reset();
    return out;
}

Status Node::Impl::erase_box_keys_before(const GroupId& group, std::int64_t order) {
    auto st = db.cached(
        "UPDATE box_keys SET secret = NULL WHERE group_id = ? AND secret IS NOT NULL AND "
        "rowid < ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(group)).bind(2, order);
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    return {};
}

Result<RecordId> Node::rekey(const GroupId& group) {
    auto& m = *m_impl;
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    if (!m.state(group).is_member(me()))
        return fail(CoreErrc::not_permitted,
                    "you are not a member of this group (or have not synced your admission yet)");
    auto pair = crypto::box_keypair();
    auto sealed = m.db.seal_secret(pair.secret_key.view(),
                                   secret_place("box_keys.secret", ByteView(pair.public_key)));
    if (!sealed) return std::unexpected(sealed.error());
    // The secret and the record that announces it are kept together or not at all.
    auto scope = WriteScope::open(m);
    if (!scope) return std::unexpected(scope.error());
    auto st = m.db.cached(
        "INSERT INTO box_keys(public_key, group_id, secret, made_ms) VALUES (?, ?, ?, ?)");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(pair.public_key)).bind(2, ByteView(group)).bind(3, *sealed);
    (*st)->bind(4, m.now());
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    pb::RecordBody body;
    body.mutable_key_update()->set_box_key(to_string(pair.public_key));
    auto id = m.write(group, std::move(body));
    if (!id) return std::unexpected(id.error());
    if (auto ok = scope->commit(); !ok) return std::unexpected(ok.error());
    return *id;
}

Status Node::set_rekey_interval(const GroupId& group, std::uint64_t seconds) {
    auto& m = *m_impl;
    if (seconds > kMaxRekeyIntervalSeconds)
        return fail(CoreErrc::bad_input, "a rekey interval is at most 10 years");
    if (seconds != 0 && seconds < kMinRekeyIntervalSeconds)
        return fail(CoreErrc::bad_input, "a rekey interval is at least one hour");
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    if (!m.state(group).is_admin(me()))
        return fail(CoreErrc::not_permitted, "only an admin can set the group's rekey interval");
    pb::RecordBody body;
    body.mutable_settings()->set_set_rekey_interval(true);
    body.mutable_settings()->set_rekey_interval_seconds(seconds);
    auto id = m.write(group, std::move(body), m.rotation_epoch(group));
    if (!id) return std::unexpected(id.error());
    return {};
}

std::uint64_t Node::rekey_interval(const GroupId& group) {
    if (!m_impl->genesis.contains(group)) return 0;
    return m_impl->state(group).rekey_interval_seconds();
}

Result<std::vector<Node::ForeignKeyUpdate>> Node::foreign_key_updates() {
    auto& m = *m_impl;
    std::vector<ForeignKeyUpdate> out;
    auto mine = m.db.cached("SELECT 1 FROM box_keys WHERE public_key = ? AND group_id = ?");
    if (!mine) return std::unexpected(mine.error());
    const bool held_any = m.pending_count() > 0;
    for (const auto& [group, info] : m.genesis) {
        const auto& g = m.state(group);
        const auto members = g.members();
        const auto self = members.find(me());
        // This device never names a key twice: one naming a key named before (the card's, or
        // an earlier key update's) was made elsewhere, with a copy of an old key's secret. The
        // fold voids it (§5.13), but it shows that the signing key is in other hands.
        std::set<std::string> named{std::string(as_chars(ByteView(m.identity.box.public_key)))};
        for (const auto& op : g.records()) {
            if (op.author != me() || !op.body.has_key_update()) continue;
            const auto& key = op.body.key_update().box_key();
            const bool again = !named.insert(key).second;
            (*mine)->bind(1, as_bytes(key)).bind(2, ByteView(group));
            auto r = (*mine)->step();
            (*mine)->reset();
            if (!r) return std::unexpected(r.error());
            if (*r && !again) continue;
            ForeignKeyUpdate f;
            f.group = group;
            f.group_name = g.name();
            f.record = op.id;
            f.wall_ms = op.body.wall_clock_ms();
            f.current = self != members.end() && self->second.box_record == op.id;
            out.push_back(std::move(f));
        }
        // A grant to this member sealed to a key it never made, while the key update that set
        // that key is not here (a relay that delivers it to the admins and withholds it from
        // this member): the newest such rotation, once per group.
        std::set<std::string> known;
        known.insert(grant_key_hash(m.identity.box.public_key));
        {
            auto st = m.db.cached("SELECT public_key FROM box_keys WHERE group_id = ?");
            if (!st) return std::unexpected(st.error());
            (*st)->bind(1, ByteView(group));
            for (;;) {
                auto r = (*st)->step();
                if (!r) {
                    (*st)->reset();
                    return std::unexpected(r.error());
                }
                if (!*r) break;
                known.insert(grant_key_hash((*st)->column_blob(0)));
            }
            (*st)->reset();
        }
        for (const auto& op : g.records())
            if (op.body.has_key_update() && op.author == me())
                known.insert(grant_key_hash(as_bytes(op.body.key_update().box_key())));
        // Rotations applied, and those held for a control record this member lacks (the
        // withheld key update itself, when the rotation names it as a head) by a current admin.
        const auto tag = ByteView(me()).first(8);
        std::optional<std::tuple<std::uint64_t, RecordId, std::int64_t>> newest;
        auto consider = [&](const RecordId& id, const pb::RecordBody& body) {
            for (const auto& grant : body.rotation().grants()) {
                if (!crypto::equal_ct(as_bytes(grant.member_tag()), tag)) continue;
                if (grant.box_key_hash().size() != kGrantKeyHashBytes ||
                    known.contains(grant.box_key_hash()))
                    continue;
                auto at = std::make_tuple(body.lamport(), id, body.wall_clock_ms());
                if (!newest || at > *newest) newest = at;
            }
        };
        for (const auto& op : g.records())
            if (op.body.has_rotation() && g.status(op.id) == OpStatus::valid)
                consider(op.id, op.body);
        // Opening held records costs a decryption each: only when any are held.
        if (held_any)
            if (auto ok =
                    m.each_held_body(group,
                                     [&](const RecordId& id, const pb::RecordBody& body) {
                                         if (body.has_rotation() && g.is_admin(author_of(body)))
                                             consider(id, body);
                                     });
                !ok)
                return std::unexpected(ok.error());
        if (newest) {
            ForeignKeyUpdate f;
            f.group = group;
            f.group_name = g.name();
            f.record = std::get<1>(*newest);
            f.wall_ms = std::get<2>(*newest);
            f.current = true;
            f.withheld = true;
            out.push_back(std::move(f));
        }
    }
    return out;
}

Result<Node::BoxKeyCount> Node::box_keys(const GroupId& group) {
    auto st = m_impl->db.cached(
        "SELECT COUNT(secret), COUNT(*) - COUNT(secret) FROM box_keys WHERE group_id = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(group));
    auto r = (*st)->step();
    BoxKeyCount out;
    if (r && *r) {
        out.held = static_cast<std::size_t>((*st)->column_int64(0));
        out.erased = static_cast<std::size_t>((*st)->column_int64(1));
    }
    (*st)->reset();
    if (!r) return std::unexpected(r.error());
    return out;
}

Result<std::vector<GroupId>> Node::Impl::rekey_due() {
    std::vector<GroupId> due;
    for (const auto& [group, info] : genesis) {
        const auto& g = state(group);
        const auto interval = g.rekey_interval_seconds();
        if (interval == 0 || !g.is_member(identity.sign.public_key)) continue;
        // The last key update this device made in the group, else when it joined.
        auto st = db.cached(
            "SELECT MAX(made_ms) FROM box_keys WHERE group_id = ? UNION ALL "
            "SELECT joined_ms FROM groups WHERE group_id = ?");
        if (!st) return std::unexpected(st.error());
        (*st)->bind(1, ByteView(group)).bind(2, ByteView(group));
        std::int64_t last = 0;
        for (;;) {
            auto r = (*st)->step();
            if (!r) {
                (*st)->reset();
                return std::unexpected(r.error());
            }
            if (!*r) break;
            if (!(*st)->column_is_null(0)) last = std::max(last, (*st)->column_int64(0));
        }
        (*st)->reset();
        if (now() - last >= static_cast<std::int64_t>(interval) * 1000) due.push_back(group);
    }
    return due;
}

}  // namespace kolokol::core
