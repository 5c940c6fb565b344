// One view of the group (docs/design.md §5.12): the control records as this member holds them,
// their digest to compare with other members, and the control records other members' records
// name that never arrived here.

#include <algorithm>
#include <map>

#include "domains.hpp"
#include "kolokol/crypto/hash.hpp"
#include "node_impl.hpp"
#include "records.hpp"

namespace kolokol::core {

ByteArray<32> control_digest(const GroupId& group, std::span<const RecordId> valid_ids) {
    std::vector<RecordId> ids(valid_ids.begin(), valid_ids.end());
    std::sort(ids.begin(), ids.end());
    // A record named twice is one record: the digest is of a set.
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    crypto::Blake2b h(32);
    h.update(kControlDigestDomain);
    const std::uint8_t zero = 0;
    h.update(ByteView(&zero, 1));
    h.update(ByteView(group));
    std::uint8_t count[8];
    std::uint64_t n = ids.size();
    for (int i = 7; i >= 0; --i, n >>= 8) count[i] = static_cast<std::uint8_t>(n & 0xff);
    h.update(ByteView(count, sizeof count));
    for (const auto& id : ids) h.update(ByteView(id));
    return to_array<32>(h.finish());
}

std::string control_digest_text(const ByteArray<32>& digest) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | digest[i];
    v >>= 4;  // 60 bits
    std::string digits = std::to_string(v % 1'000'000'000'000'000ULL);
    digits.insert(0, 15 - digits.size(), '0');
    return digits.substr(0, 5) + " " + digits.substr(5, 5) + " " + digits.substr(10, 5);
}

namespace {

ControlEntry entry_of(const GroupState& g, const ControlRecord& r) {
    ControlEntry e;
    e.id = r.id;
    e.author = r.author;
    e.lamport = r.lamport;
    e.wall_ms = r.body.wall_clock_ms();
    switch (g.status(r.id)) {
        case OpStatus::valid:
            e.status =
                g.pending(r.id) ? ControlEntry::Status::waiting : ControlEntry::Status::valid;
            break;
        case OpStatus::invalid:
            e.status = ControlEntry::Status::invalid;
            break;
        case OpStatus::dropped:
            e.status = ControlEntry::Status::dropped;
            break;
    }
    const auto& b = r.body;
    if (b.has_membership()) {
        const auto& m = b.membership();
        switch (m.kind()) {
            case pb::MembershipOp::REMOVE:
                e.kind = ControlEntry::Kind::remove;
                break;
            case pb::MembershipOp::SET_ROLE:
                e.kind = ControlEntry::Kind::set_role;
                break;
            default:
                e.kind = ControlEntry::Kind::add;
                break;
        }
        if (m.member().size() == 32) e.target = to_array<32>(as_bytes(m.member()));
        e.admin = m.role() == pb::ROLE_ADMIN;
        e.compromised = m.compromised();
        e.compromised_at_ms = m.compromised_at_ms();
    } else if (b.has_rotation()) {
        e.kind = ControlEntry::Kind::rotation;
    } else if (b.has_approval()) {
        e.kind = ControlEntry::Kind::approval;
        if (b.approval().proposal().id().size() == 32) e.proposal = ref_id(b.approval().proposal());
        e.withdraw = b.approval().withdraw();
    } else if (b.has_settings()) {
        e.kind = ControlEntry::Kind::settings;
        const auto& s = b.settings();
        if (!s.name().empty()) e.name = s.name();
        if (s.set_relays()) e.relays.emplace(s.relays().begin(), s.relays().end());
        if (s.set_retention()) e.retention_seconds = s.retention_seconds();
        if (s.set_tor_only()) e.tor_only = s.tor_only();
        if (s.set_quorum()) e.quorum = s.quorum();
        if (s.set_rekey_interval()) e.rekey_interval_seconds = s.rekey_interval_seconds();
    } else if (b.has_key_update()) {
        e.kind = ControlEntry::Kind::key_update;
    }
    return e;
}

}  // namespace

Status Node::Impl::each_held_body(
    const GroupId& group,
    const std::function<void(const RecordId&, const pb::RecordBody&)>& visit) {
    std::set<RecordId> ids;
    if (auto ok = records.each_wait([&](const RecordId&, const RecordId& id) { ids.insert(id); });
        !ok)
        return ok;
    for (const auto& id : ids) {
        // The body: opened already by this process, else opened again from the store (its
        // envelope was checked when it was held; open_record checks it again all the same).
        std::optional<pb::RecordBody> body;
        if (auto h = held_opened.find(std::string(as_chars(ByteView(id))));
            h != held_opened.end()) {
            body = h->second.body;
        } else {
            auto bytes = envelopes->get(id);
            if (!bytes) return std::unexpected(bytes.error());
            if (!*bytes) continue;
            auto view = storage::parse_envelope(**bytes);
            if (!view) continue;
            auto k = epochs.find(view->mailbox);
            if (k == epochs.end() || k->second.group_id != group) continue;
            auto opened = open_record(**bytes, k->second);
            if (!opened) continue;
            body = std::move(opened->body);
        }
        if (as_bytes(body->group_id()).size() != 32 ||
            to_array<32>(as_bytes(body->group_id())) != group)
            continue;
        visit(id, *body);
    }
    return {};
}

Result<std::vector<MissingControl>> Node::missing_control(const GroupId& group) {
    auto& m = *m_impl;
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    std::vector<MissingControl> out;
    if (m.pending_count() == 0) return out;
    // Which held record waits for which references (pending_refs): a reference that is still
    // not held, named in a held record's control_heads, is a control record this member lacks.
    std::map<RecordId, std::vector<RecordId>> waiting;  // held id → refs it waits for
    if (auto ok = m.records.each_wait(
            [&](const RecordId& ref, const RecordId& id) { waiting[id].push_back(ref); });
        !ok)
        return std::unexpected(ok.error());
    std::map<RecordId, MissingControl> found;
    auto received = m.db.cached("SELECT received_ms FROM pending WHERE id = ?");
    if (!received) return std::unexpected(received.error());
    const auto& g = m.state(group);
    auto visit = [&](const RecordId& id, const pb::RecordBody& body) {
        // Only a member's records tell of a withheld control record: anyone holding an old
        // epoch key (a removed member) can make records by made-up authors name made-up heads,
        // and those would bury a real warning under false ones.
        if (!g.is_member(author_of(body))) return;
        const auto& refs = waiting[id];
        std::int64_t since = m.now();
        (*received)->bind(1, ByteView(id));
        if (auto r = (*received)->step(); r && *r) since = (*received)->column_int64(0);
        (*received)->reset();
        for (const auto& h : body.control_heads()) {
            const auto ref = to_array<32>(as_bytes(h));
            if (std::find(refs.begin(), refs.end(), ref) == refs.end()) continue;
            if (m.record_row(ref)) continue;
            auto& mc = found[ref];
            mc.id = ref;
            const auto author = author_of(body);
            if (std::find(mc.referrers.begin(), mc.referrers.end(), author) == mc.referrers.end())
                mc.referrers.push_back(author);
            if (mc.since_ms == 0 || since < mc.since_ms) mc.since_ms = since;
        }
    };
    if (auto ok = m.each_held_body(group, visit); !ok) return std::unexpected(ok.error());
    for (auto& [ref, mc] : found) {
        std::sort(mc.referrers.begin(), mc.referrers.end());
        out.push_back(std::move(mc));
    }
    // The longest missing first.
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.since_ms < b.since_ms; });
    return out;
}

Result<GroupAudit> Node::audit(const GroupId& group) {
    auto& m = *m_impl;
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    GroupAudit out;
    const auto& g = m.state(group);
    std::vector<RecordId> valid;
    for (const auto& r : g.records()) {
        out.records.push_back(entry_of(g, r));
        if (g.status(r.id) == OpStatus::valid) valid.push_back(r.id);
    }
    out.valid = valid.size();
    out.digest = control_digest(group, valid);
    auto missing = missing_control(group);
    if (!missing) return std::unexpected(missing.error());
    out.missing = std::move(*missing);
    return out;
}

}  // namespace kolokol::core
