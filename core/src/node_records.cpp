// Writing our own records, and reading stored ones back: the group state, heads, validity.

#include "kolokol/crypto/x25519.hpp"
#include "node_impl.hpp"
#include "records.hpp"

namespace kolokol::core {

RecordKind kind_of(const pb::RecordBody& body) {
    switch (body.payload_case()) {
        case pb::RecordBody::kMessage:
            return RecordKind::message;
        case pb::RecordBody::kMembership:
            return RecordKind::membership;
        case pb::RecordBody::kRotation:
            return RecordKind::rotation;
        case pb::RecordBody::kSettings:
            return RecordKind::settings;
        case pb::RecordBody::kRedaction:
            return RecordKind::redaction;
        case pb::RecordBody::kObject:
            return RecordKind::object;
        case pb::RecordBody::kChunk:
            return RecordKind::chunk;
        case pb::RecordBody::kManifest:
            return RecordKind::manifest;
        case pb::RecordBody::kApproval:
            return RecordKind::approval;
        case pb::RecordBody::kKeyUpdate:
            return RecordKind::key_update;
        default:
            return RecordKind::message;
    }
}

std::optional<RecordRow> Node::Impl::record_row(const RecordId& id) {
    if (auto it = recent_rows.find(std::string(as_chars(id))); it != recent_rows.end())
        return it->second;
    return records.row(id);
}

bool Node::Impl::record_exists(const RecordId& id) {
    return records.contains(id);
}

const GroupState& Node::Impl::state(const GroupId& group) {
    if (auto it = states.find(group); it != states.end()) return *it->second;
    std::vector<ControlRecord> ops;
    // A failed read is not fatal here: the state is computed from what could be read.
    (void)records.each(group, kControlKinds, false, [&](const StoredRecord& rec) {
        ControlRecord op;
        op.id = rec.row.id;
        op.author = rec.row.author;
        op.seq = rec.row.seq;
        op.lamport = rec.row.lamport;
        op.epoch = rec.row.epoch;
        op.heads = rec.row.heads;
        if (auto body = parse_stored_body(rec.body)) op.body = std::move(*body);
        ops.push_back(std::move(op));
        return true;
    });
    ChainLookup chain = [this](const RecordId& id) -> std::optional<ChainLink> {
        auto row = record_row(id);
        if (!row) return std::nullopt;
        return ChainLink{row->author, row->seq, row->prev};
    };
    auto g =
        std::make_unique<GroupState>(GroupState::compute(genesis.at(group), std::move(ops), chain));
    auto& ref = *g;
    states[group] = std::move(g);
    return ref;
}

std::vector<RecordId> Node::Impl::group_heads(const GroupId& group, std::uint64_t* max_lamport) {
    return records.heads(group, 32, max_lamport);
}

bool Node::Impl::record_valid_now(const RecordRow& row) {
    const auto& g = state(row.group);
    const auto* pos = g.at(row.heads);
    if (!pos || !pos->members.contains(row.author) || !pos->frontier.contains(row.epoch))
        return false;
    return !g.dropped(row.author, row.id, row.seq, row.heads);
}

std::optional<EpochId> Node::Impl::rotation_epoch(const GroupId& group) {
    // A rotation may be written in any frontier epoch we hold, tainted or not.
    for (const auto* e : state(group).frontier()) {
        const auto* k = keys_for_epoch(e->id);
        if (k && k->secret) return e->id;
    }
    return std::nullopt;
}

Result<EpochId> Node::Impl::prepare(const GroupId& group, pb::RecordBody& body,
                                    std::optional<EpochId> epoch) {
    if (!genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    const auto& g = state(group);
    if (!g.is_member(identity.sign.public_key))
        return fail(CoreErrc::not_permitted,
                    "you are not a member of this group (or have not synced your admission yet)");
    if (!epoch) epoch = g.writer_epoch(identity.sign.public_key);
    const EpochKeys* keys = epoch ? keys_for_epoch(*epoch) : nullptr;
    if (!keys || !keys->secret)
        return fail(CoreErrc::no_epoch,
                    "no usable key to write with: an admin must rotate the group's key first");
    // A key only a welcome token vouches for may be the token's forger's: records sealed with
    // it would go to his mailbox. It becomes usable when the token's add record arrives.
    if (keys->provisional())
        return fail(CoreErrc::not_permitted,
                    "your admission is not confirmed yet: sync to receive the add record your "
                    "welcome token names");

    std::uint64_t lamport = 0;
    auto parents = group_heads(group, &lamport);
    body.set_group_id(to_string(group));
    body.set_epoch_id(to_string(*epoch));
    body.set_author(to_string(identity.sign.public_key));
    body.clear_parents();
    body.clear_control_heads();
    for (const auto& p : parents) {
        auto* ref = body.add_parents();
        ref->set_id(to_string(p));
        if (auto row = record_row(p)) ref->set_epoch_id(to_string(row->epoch));
    }
    for (const auto& h : g.heads()) {
        body.add_control_heads(to_string(h));
        if (auto row = record_row(h)) lamport = std::max(lamport, row->lamport);
    }
    // A failed read must not restart the chain at 1: that would fork it.
    auto last = records.last_by(group, identity.sign.public_key);
    if (!last) return std::unexpected(last.error());
    std::uint64_t seq = 1;
    body.clear_prev();
    if (*last) {
        seq = (*last)->seq + 1;
        auto* prev = body.mutable_prev();
        prev->set_id(to_string((*last)->id));
        prev->set_epoch_id(to_string((*last)->epoch));
        lamport = std::max(lamport, (*last)->lamport);
    }
    body.set_seq(seq);
    body.set_lamport(lamport + 1);
    body.set_wall_clock_ms(now());
    return *epoch;
}

Bytes Node::Impl::seal(const pb::RecordBody& body, const EpochId& epoch) {
    return seal_record(body, identity.sign.secret_key, *keys_for_epoch(epoch), *random);
}

Result<RecordId> Node::Impl::write(const GroupId& group, pb::RecordBody body,
                                   std::optional<EpochId> epoch) {
    auto chosen = prepare(group, body, epoch);
    if (!chosen) return std::unexpected(chosen.error());
    auto envelope = seal(body, *chosen);
    auto id = storage::record_id_of(envelope);
    Bytes one[] = {std::move(envelope)};
    auto report = ingest(one);
    if (!report) return std::unexpected(report.error());
    if (report->added != 1) {
        auto st = db.cached("SELECT reason, detail FROM rejected WHERE id = ?");
        std::string why = "it was not accepted";
        if (st) {
            (*st)->bind(1, ByteView(id));
            if (auto r = (*st)->step(); r && *r)
                why = std::string(
                          reject_reason_name(static_cast<RejectReason>((*st)->column_int64(0)))) +
                      ": " + (*st)->column_text(1);
            (*st)->reset();
        }
        return fail(CoreErrc::not_permitted, "your record was refused ({})", why);
    }
    return id;
}

Result<RecordId> Node::Impl::rotate(const GroupId& group) {
    const auto& g = state(group);
    if (!g.is_admin(identity.sign.public_key))
        return fail(CoreErrc::not_permitted, "only an admin can rotate the group's key");
    auto epoch = rotation_epoch(group);
    if (!epoch) return fail(CoreErrc::no_epoch, "you hold no current key of this group");
    auto secret = crypto::SecretBytes(32);
    random->fill(secret.mutable_view());
    pb::RecordBody body;
    auto* rotation = body.mutable_rotation();
    for (const auto& [key, member] : g.members()) {
        auto* grant = rotation->add_grants();
        grant->set_member_tag(std::string(as_chars(ByteView(key).first(8))));
        grant->set_sealed_secret(to_string(crypto::box_seal(member.box, secret.view())));
        grant->set_box_key_hash(grant_key_hash(member.box));
    }
    add_control_grants(g, EpochKeys::from_secret(group, EpochId{}, secret.view()), *rotation);
    return write(group, std::move(body), epoch);
}

void Node::Impl::add_control_grants(const GroupState& g, const EpochKeys& keys,
                                    pb::Rotation& rotation) {
    // The rotation is written in an epoch a waiting newcomer holds without its secret: it must
    // stay under the size such a holder downloads (§6.2), headers and seal included.
    constexpr std::size_t kBudget = 40'000;
    constexpr std::size_t kGrantBytes = 2 + 8 + 3 + kControlGrantKeyBytes + 48 + 3;
    std::map<RecordId, const Proposal*> adds;
    const auto waiting = g.pending();
    // Only adds whose proposer is still an admin: a seized admin removed since (a removal
    // voids nothing of his) must not keep handing the group's later control access to the
    // outsider he proposed.
    for (const auto& p : waiting)
        if (p.kind == Proposal::Kind::add && !g.is_member(p.target) && g.is_admin(p.proposer))
            adds.emplace(p.id, &p);
    if (adds.empty()) return;
    crypto::SecretBytes plain(kControlGrantKeyBytes);
    auto out = plain.mutable_view();
    std::copy_n(keys.control_key.view().begin(), 32, out.begin());
    std::copy_n(keys.mailbox_seed.view().begin(), 32, out.begin() + 32);
    std::copy_n(keys.file_key.view().begin(), 32, out.begin() + 64);
    std::set<MemberKey> done;
    std::size_t size = rotation.ByteSizeLong();
    // In the order the adds were proposed (the records are sorted by (Lamport, id)).
    for (const auto& op : g.records()) {
        if (rotation.control_grants_size() >= kMaxControlGrants || size + kGrantBytes > kBudget)
            break;
        auto it = adds.find(op.id);
        if (it == adds.end() || !done.insert(it->second->target).second) continue;
        const auto& box = op.body.membership().member_box_key();
        if (box.size() != 32) continue;
        auto* grant = rotation.add_control_grants();
        grant->set_member_tag(std::string(as_chars(ByteView(it->second->target).first(8))));
        grant->set_sealed_keys(to_string(crypto::box_seal(as_bytes(box), plain.view())));
        size += kGrantBytes;
    }
}

}  // namespace kolokol::core
