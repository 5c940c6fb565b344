// Coordination objects (DESIGN §6) on the record DAG: writing object changes, the fold of a
// group's object records into an ObjectSet, the views front ends read, and redaction.

#include <algorithm>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/objects/codec.hpp"
#include "kolokol/objects/values.hpp"
#include "node_impl.hpp"

namespace kolokol::core {

namespace {

constexpr std::size_t kMaxReasonBytes = 500;

bool is_zero(ByteView b) {
    return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

// A Change from a stored or received ObjectOp and its record's header.
std::optional<objects::Change> change_of(const RecordId& id, const pb::RecordBody& body) {
    const auto& op = body.object();
    if (!op.object_id().empty() && op.object_id().size() != 32) return std::nullopt;
    if (!op.carried_item().empty() && op.carried_item().size() != 32) return std::nullopt;
    if (op.carry() != pb::ObjectOp::CARRY_UNSET && op.carry() != pb::ObjectOp::CARRY &&
        op.carry() != pb::ObjectOp::UNCARRY)
        return std::nullopt;
    if (op.set_size() > static_cast<int>(objects::kMaxFieldWrites) ||
        op.item_size() > static_cast<int>(objects::kMaxItemFields) ||
        op.carried_from_size() > static_cast<int>(objects::kMaxFieldWrites))
        return std::nullopt;
    if (!op.carried_item_author().empty() && op.carried_item_author().size() != 32)
        return std::nullopt;
    for (const auto& [k, from] : op.carried_from())
        if (from.record().size() != 32 || from.author().size() != 32) return std::nullopt;
    objects::Change c;
    c.record_id = id;
    c.author = author_of(body);
    c.lamport = body.lamport();
    c.wall_clock_ms = body.wall_clock_ms();
    c.type = op.type();
    if (!op.object_id().empty()) c.object_id = to_array<32>(as_bytes(op.object_id()));
    for (const auto& [k, v] : op.set()) c.fields.emplace(k, v);
    if (!op.list().empty() || op.item_size() > 0) {
        objects::ListAppend a;
        a.list = op.list();
        for (const auto& [k, v] : op.item()) a.item.emplace(k, v);
        c.append = std::move(a);
    }
    if (op.carry() != pb::ObjectOp::CARRY_UNSET) c.carry_mark = op.carry() == pb::ObjectOp::CARRY;
    c.carried = op.carried();
    if (!op.carried_item().empty()) c.carried_item = to_array<32>(as_bytes(op.carried_item()));
    if (!op.carried_item_author().empty())
        c.carried_item_author = to_array<32>(as_bytes(op.carried_item_author()));
    for (const auto& [k, from] : op.carried_from())
        c.carried_from.emplace(k, objects::CarriedSource{to_array<32>(as_bytes(from.record())),
                                                         to_array<32>(as_bytes(from.author()))});
    return c;
}

bool hex_prefix_ok(std::string_view prefix) {
    if (prefix.size() < 4 || prefix.size() > 64) return false;
    return std::all_of(prefix.begin(), prefix.end(),
                       [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
}

bool hex_prefix_matches(std::string_view prefix, ByteView key) {
    auto hex = crypto::hex_encode(key);
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(prefix[i])) != hex[i]) return false;
    return true;
}

int urgency_rank(std::string_view u) {
    if (u == "critical") return 0;
    if (u == "urgent") return 1;
    return 2;
}

Error bad_input(const Error& e) {
    return reclassify(CoreErrc::bad_input, e).error();
}

}  // namespace

// ---- the fold -----------------------------------------------------------------------------

Result<const objects::ObjectSet*> Node::Impl::object_set(const GroupId& group) {
    if (!genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    if (auto it = object_sets.find(group); it != object_sets.end()) return it->second.get();
    auto set = std::make_unique<objects::ObjectSet>();
    auto read = records.each(
        group, {RecordKind::object, RecordKind::redacted}, false, [&](const StoredRecord& rec) {
            const auto& row = rec.row;
            auto body = parse_stored_body(rec.body);
            if (!body || !body->has_object()) return true;
            // Authors removed concurrently with their writes drop out, as their messages do.
            if (!record_valid_now(row)) return true;
            auto change = change_of(row.id, *body);
            if (!change) return true;
            if (rec.kind == RecordKind::redacted) {
                // The tombstone kept the shape (type, object, field names) but no values:
                // folded as redacted so the history still shows that a change was made and
                // removed. A list item's required fields are gone, so a removed append is
                // left out.
                set->redact(row.id);
                if (change->append) {
                    if (!change->is_create() && change->fields.empty()) return true;
                    change->append.reset();
                }
            }
            (void)set->apply(std::move(*change));  // refused changes are simply not part of state
            return true;
        });
    if (!read) return std::unexpected(read.error());
    // What carried copies took from a redacted write goes too (§13.9), whether or not this
    // member holds the write: an admin's redaction voids it in every copy, another member's in
    // the copies that name him as the write's author. A redaction counts as it does for its
    // target (redaction_stands): its author not dropped, an admin at its position or not.
    auto notes = db.cached("SELECT target, redaction FROM redactions WHERE group_id = ?");
    if (!notes) return std::unexpected(notes.error());
    (*notes)->bind(1, ByteView(group));
    std::vector<std::pair<RecordId, RecordId>> redactions;
    while (true) {
        auto r = (*notes)->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) break;
        redactions.emplace_back(to_array<32>((*notes)->column_blob(0)),
                                to_array<32>((*notes)->column_blob(1)));
    }
    (*notes)->reset();
    for (const auto& [target, redaction] : redactions) {
        auto row = record_row(redaction);
        if (!row || row->group != group || !record_valid_now(*row)) continue;
        bool admin = false;
        if (const auto* pos = state(group).at(row->heads)) {
            auto m = pos->members.find(row->author);
            admin = m != pos->members.end() && m->second.admin;
        }
        set->redact_copied(target, admin ? std::nullopt : std::optional<MemberKey>(row->author));
    }
    auto* out = set.get();
    object_sets[group] = std::move(set);
    return out;
}

// ---- ingest hooks -------------------------------------------------------------------------

std::optional<Rejection> Node::Impl::check_payload(const RecordId& id, const pb::RecordBody& body,
                                                   bool author_admin) {
    switch (body.payload_case()) {
        case pb::RecordBody::kObject: {
            auto c = change_of(id, body);
            if (!c) return Rejection{RejectReason::malformed_record, "object op over its limits"};
            if (auto ok = objects::builtin_types().validate(*c); !ok)
                return Rejection{RejectReason::invalid_op, ok.error().message};
            // What is carried to newcomers is the admins' call: a member's mark would copy a
            // private case into every later newcomer's epoch, and a member's copy would show a
            // newcomer an object as the admin carried it.
            if ((c->carry_mark || c->carried) && !author_admin)
                return Rejection{RejectReason::not_admin,
                                 "only an admin may carry an object to newcomers"};
            return std::nullopt;
        }
        case pb::RecordBody::kChunk: {
            const auto& ch = body.chunk();
            if (ch.attachment_id().size() != 16)
                return Rejection{RejectReason::malformed_record, "bad attachment id"};
            if (ch.data().size() > objects::kMaxChunkBytes || ch.data().empty())
                return Rejection{RejectReason::malformed_record, "chunk of 0 or over 48 KiB"};
            return std::nullopt;
        }
        case pb::RecordBody::kManifest:
            if (auto why = check_manifest(body.manifest()))
                return Rejection{RejectReason::invalid_op, why->what()};
            return std::nullopt;
        case pb::RecordBody::kRedaction: {
            const auto& rd = body.redaction();
            if (rd.target().size() != 32)
                return Rejection{RejectReason::malformed_record, "bad redaction target"};
            if (rd.reason().size() > kMaxReasonBytes || !is_clean_utf8(rd.reason(), "\n\t"))
                return Rejection{RejectReason::malformed_record, "bad redaction reason"};
            auto target = to_array<32>(as_bytes(rd.target()));
            if (auto row = record_row(target)) {
                if (row->group != to_array<32>(as_bytes(body.group_id())))
                    return Rejection{RejectReason::invalid_op, "redacts another group's record"};
                if (row->author != author_of(body) && !author_admin)
                    return Rejection{RejectReason::not_admin,
                                     "only the author or an admin may redact a record"};
                if (auto kind = records.kind(target); kind && is_control(*kind))
                    return Rejection{RejectReason::invalid_op,
                                     "control records cannot be redacted"};
            }
            return std::nullopt;
        }
        default:
            return std::nullopt;
    }
}

void Node::Impl::strip_stored(const pb::RecordBody& body, Bytes& signed_record) {
    if (!body.has_chunk()) return;
    pb::SignedRecord sr;
    if (!sr.ParseFromArray(signed_record.data(), static_cast<int>(signed_record.size()))) return;
    pb::RecordBody light = body;
    light.mutable_chunk()->clear_data();
    sr.set_body(light.SerializeAsString());
    sr.clear_signature();  // it covered the data; the envelope keeps both
    auto bytes = sr.SerializeAsString();
    crypto::memzero(signed_record);
    signed_record.assign(bytes.begin(), bytes.end());
}

Status Node::Impl::wake_waiting(const RecordId& ref, std::vector<RecordId>& retry) {
    if (auto ok = load_waits(); !ok) return ok;
    auto it = waits.by_ref.find(std::string(as_chars(ref)));
    if (it == waits.by_ref.end()) return {};
    const auto waiting = std::move(it->second);
    waits.by_ref.erase(it);
    if (auto ok = records.clear_waits_for(ref); !ok) return ok;
    for (const auto& w : waiting) {
        auto c = waits.count.find(std::string(as_chars(w)));
        if (c != waits.count.end() && --c->second > 0) continue;  // still waits for another
        if (c != waits.count.end()) waits.count.erase(c);
        if (auto ok = records.release(w); !ok) return ok;
        retry.push_back(w);
    }
    return {};
}

Status Node::Impl::note_redaction(const RecordId& redaction, const GroupId& group,
                                  const pb::RecordBody& body, std::vector<RecordId>& retry) {
    if (body.redaction().target().size() != 32) return {};
    auto target = to_array<32>(as_bytes(body.redaction().target()));
    auto st =
        db.cached("INSERT OR IGNORE INTO redactions(target, redaction, group_id) VALUES (?, ?, ?)");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(target)).bind(2, ByteView(redaction)).bind(3, ByteView(group));
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    return wake_waiting(target, retry);
}

bool Node::Impl::redaction_noted(const RecordId& target) {
    auto st = db.cached("SELECT 1 FROM redactions WHERE target = ? LIMIT 1");
    if (!st) return false;
    (*st)->bind(1, ByteView(target));
    auto r = (*st)->step();
    (*st)->reset();
    return r && *r;
}

Status Node::Impl::on_applied(const RecordId& id, const GroupId& group, const pb::RecordBody& body,
                              bool author_admin, std::vector<RecordId>& retry) {
    (void)retry;
    switch (body.payload_case()) {
        case pb::RecordBody::kObject:
            // Ingest has just found the author a member at this position, not removed: fold the
            // change into the cached state rather than rebuilding it (a rebuild reads every
            // object record of the group).
            if (auto it = object_sets.find(group); it != object_sets.end()) {
                auto c = change_of(id, body);
                if (!c || !it->second->apply(std::move(*c))) object_sets.erase(it);
            }
            break;
        case pb::RecordBody::kChunk: {
            auto st = db.cached(
                "INSERT OR IGNORE INTO attachment_chunks(attachment_id, author, idx, id, group_id) "
                "VALUES (?, ?, ?, ?, ?)");
            if (!st) return std::unexpected(st.error());
            (*st)
                ->bind(1, as_bytes(body.chunk().attachment_id()))
                .bind(2, as_bytes(body.author()))
                .bind(3, static_cast<std::int64_t>(body.chunk().index()))
                .bind(4, ByteView(id))
                .bind(5, ByteView(group));
            if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
            break;
        }
        case pb::RecordBody::kRedaction: {
            object_sets.erase(group);
            auto target = to_array<32>(as_bytes(body.redaction().target()));
            // check_payload refused it unless its author or an admin wrote it. The target goes at
            // the end of the batch, if the redaction still stands then: a removal of its author
            // later in the batch voids it (§5.4), and a tombstone cannot be taken back.
            if (record_row(target)) redact_later.push_back(target);
            break;
        }
        default:
            if (is_control_payload(body)) object_sets.erase(group);
            break;
    }
    (void)author_admin;
    // A redaction that came before its target (the target's envelope came from a peer that had
    // not seen the redaction yet) takes effect too, at the end of the batch, if it stands.
    // A redaction is a target like any other (§13.7): its envelope and reason go, its effect on
    // its own target stays.
    if (!is_control_payload(body) && redaction_noted(id)) redact_later.push_back(id);
    return {};
}

bool Node::Impl::redaction_stands(const RecordId& target, const RecordRow& target_row) {
    auto st = db.cached("SELECT redaction FROM redactions WHERE target = ?");
    if (!st) return false;
    (*st)->bind(1, ByteView(target));
    std::vector<RecordId> by;
    while (true) {
        auto r = (*st)->step();
        if (!r || !*r) break;
        by.push_back(to_array<32>((*st)->column_blob(0)));
    }
    (*st)->reset();
    for (const auto& redaction : by) {
        auto row = record_row(redaction);
        if (!row || row->group != target_row.group || !record_valid_now(*row)) continue;
        if (row->author == target_row.author) return true;
        const auto* pos = state(row->group).at(row->heads);
        if (!pos) continue;
        auto m = pos->members.find(row->author);
        if (m != pos->members.end() && m->second.admin) return true;
    }
    return false;
}

Status Node::Impl::settle_redactions() {
    auto later = std::exchange(redact_later, {});
    std::set<RecordId> done;
    for (const auto& target : later) {
        if (!done.insert(target).second) continue;
        auto row = record_row(target);
        if (!row || !redaction_stands(target, *row)) continue;
        object_sets.erase(row->group);
        if (auto ok = tombstone(target); !ok) return ok;
    }
    // A control record of this batch may have changed whether an applied redaction stands
    // (§5.4): its author dropped by a removal, or back after the removal went void; its author's
    // admin role at its position voided (a promotion by a removed admin) or confirmed. Every
    // noted redaction of such a group is judged again, both ways: a target no standing
    // redaction covers any more is restored (fetched again by the next sync), and one that some
    // redaction covers again is deleted again. All is decided against the rows as they are
    // before anything is changed, so the outcome does not depend on the order of the notes.
    auto groups = std::exchange(redactions_to_recheck, {});
    for (const auto& group : groups) {
        auto st = db.cached("SELECT DISTINCT target FROM redactions WHERE group_id = ?");
        if (!st) return std::unexpected(st.error());
        (*st)->bind(1, ByteView(group));
        std::vector<RecordId> targets;
        while (true) {
            auto r = (*st)->step();
            if (!r) return std::unexpected(r.error());
            if (!*r) break;
            targets.push_back(to_array<32>((*st)->column_blob(0)));
        }
        (*st)->reset();
        std::vector<std::pair<RecordId, RecordRow>> restore;
        std::vector<RecordId> redo;
        for (const auto& target : targets) {
            auto row = record_row(target);
            if (!row) continue;  // not held (yet): on_applied judges it when it comes
            const auto kind = records.kind(target);
            if (!kind || is_control(*kind)) continue;
            const bool stands = redaction_stands(target, *row);
            if (*kind == RecordKind::redacted && !stands)
                restore.emplace_back(target, *row);
            else if (*kind != RecordKind::redacted && stands)
                redo.push_back(target);
        }
        for (const auto& target : redo) {
            object_sets.erase(group);
            if (auto ok = tombstone(target); !ok) return ok;
        }
        for (const auto& [target, row] : restore)
            if (auto ok = restore_redacted(target, row); !ok) return ok;
    }
    return {};
}

Status Node::Impl::restore_redacted(const RecordId& target, const RecordRow& row) {
    std::vector<RecordId> ids{target};
    // A manifest's tombstone keeps its attachment id: its chunks (by the same author, marked
    // redacted with their envelopes deleted) come back with it.
    auto stored = records.body(target);
    if (!stored) return std::unexpected(stored.error());
    std::string attachment;
    if (*stored)
        if (auto stone = parse_stored_body((*stored)->second); stone && stone->has_manifest())
            attachment = stone->manifest().attachment_id();
    if (attachment.size() == 16) {
        auto visit =
            records.each(row.group, {RecordKind::redacted}, false, [&](const StoredRecord& rec) {
                if (rec.row.author != row.author) return true;
                auto body = parse_stored_body(rec.body);
                if (body && body->has_chunk() && body->chunk().attachment_id() == attachment)
                    ids.push_back(rec.row.id);
                return true;
            });
        if (!visit) return visit;
    }
    // Their envelopes went with the tombstone: with the rows gone too, nothing says they were
    // seen, and the next sync fetches them again (reconciliation offers every id a store lacks)
    // and ingests them as new. The redaction's note stays: should it stand again (its author's
    // removal voided in turn), it takes effect when the target comes back.
    if (auto ok = records.remove(ids, false); !ok) return ok;
    for (const auto& id : ids) recent_rows.erase(std::string(as_chars(ByteView(id))));
    forget_waits();
    object_sets.erase(row.group);
    return {};
}

Status Node::Impl::enable_secure_delete() {
    if (secure_delete_on) return {};
    if (auto ok = db.exec("PRAGMA secure_delete = ON"); !ok) return std::unexpected(ok.error());
    secure_delete_on = true;
    return {};
}

Status Node::Impl::tombstone(const RecordId& id) {
    if (auto ok = enable_secure_delete(); !ok) return ok;
    auto stored = records.body(id);
    if (!stored) return std::unexpected(stored.error());
    if (!*stored) return {};
    const auto kind = (*stored)->first;
    auto body = parse_stored_body((*stored)->second);
    if (kind == RecordKind::redacted || !body) return {};
    if (is_control(kind)) return {};

    pb::RecordBody stone;
    stone.set_group_id(body->group_id());
    stone.set_epoch_id(body->epoch_id());
    stone.set_author(body->author());
    stone.set_seq(body->seq());
    if (body->has_prev()) *stone.mutable_prev() = body->prev();
    stone.set_lamport(body->lamport());
    *stone.mutable_parents() = body->parents();
    *stone.mutable_control_heads() = body->control_heads();
    stone.set_wall_clock_ms(body->wall_clock_ms());
    if (body->has_object()) {
        // The shape only: which object and fields were touched, so the history shows a
        // removed change where it was. No values.
        auto* op = stone.mutable_object();
        op->set_type(body->object().type());
        op->set_object_id(body->object().object_id());
        for (const auto& [k, v] : body->object().set()) (*op->mutable_set())[k] = "";
        op->set_list(body->object().list());
    }
    // A manifest's keeps the attachment id alone, so that its chunks can be found again should
    // the redaction go void (restore_redacted).
    if (body->has_manifest() && body->manifest().attachment_id().size() == 16)
        stone.mutable_manifest()->set_attachment_id(body->manifest().attachment_id());
    pb::SignedRecord sr;
    sr.set_body(stone.SerializeAsString());
    auto bytes = sr.SerializeAsString();
    if (auto ok = records.replace_body(id, RecordKind::redacted, as_bytes(bytes)); !ok) return ok;
    RecordId one[] = {id};
    if (auto rm = envelopes->remove(one); !rm) return std::unexpected(rm.error());

    if (body->has_manifest() && body->manifest().attachment_id().size() == 16) {
        // An attachment goes with its manifest: every chunk of it, by the same author.
        std::vector<RecordId> chunks;
        auto cs =
            db.cached("SELECT id FROM attachment_chunks WHERE attachment_id = ? AND author = ?");
        if (!cs) return std::unexpected(cs.error());
        (*cs)
            ->bind(1, as_bytes(body->manifest().attachment_id()))
            .bind(2, as_bytes(body->author()));
        while (true) {
            auto c = (*cs)->step();
            if (!c) return std::unexpected(c.error());
            if (!*c) break;
            chunks.push_back(to_array<32>((*cs)->column_blob(0)));
        }
        for (const auto& c : chunks) {
            if (auto ok = records.set_kind(c, RecordKind::redacted); !ok) return ok;
        }
        if (auto rm = envelopes->remove(chunks); !rm) return std::unexpected(rm.error());
        auto del =
            db.cached("DELETE FROM attachment_chunks WHERE attachment_id = ? AND author = ?");
        if (!del) return std::unexpected(del.error());
        (*del)
            ->bind(1, as_bytes(body->manifest().attachment_id()))
            .bind(2, as_bytes(body->author()));
        if (auto d = (*del)->step(); !d) return std::unexpected(d.error());
    }
    return {};
}

// ---- public API ---------------------------------------------------------------------------

Result<RecordId> Node::object_change(const GroupId& group, const ObjectEdit& edit) {
    auto& m = *m_impl;
    objects::Change c;
    c.type = edit.type;
    c.fields = edit.set;
    c.append = edit.append;
    c.carry_mark = edit.carry;
    c.record_id[0] = 1;  // any non-zero id: validate looks at the content only
    if (edit.object) {
        if (is_zero(*edit.object)) return fail(CoreErrc::bad_input, "an object id is not zero");
        c.object_id = *edit.object;
    }
    objects::builtin_types().fill_defaults(c);
    if (auto ok = objects::builtin_types().validate(c); !ok)
        return std::unexpected(bad_input(ok.error()));
    if (edit.carry && !m.state(group).is_admin(me()))
        return fail(CoreErrc::not_permitted,
                    "only an admin can choose what is carried to new members");
    if (edit.object) {
        auto set = m.object_set(group);
        if (!set) return std::unexpected(set.error());
        auto view = (*set)->view(*edit.object);
        if (!view) return fail(CoreErrc::not_found, "no such object in this group");
        if (view->type != edit.type)
            return fail(CoreErrc::bad_input, "that object is a {}, not a {}", view->type,
                        edit.type);
    }
    pb::RecordBody body;
    auto* op = body.mutable_object();
    op->set_type(edit.type);
    if (edit.object) op->set_object_id(to_string(*edit.object));
    for (const auto& [k, v] : c.fields) (*op->mutable_set())[k] = v;
    if (edit.append) {
        op->set_list(edit.append->list);
        for (const auto& [k, v] : edit.append->item) (*op->mutable_item())[k] = v;
    }
    if (edit.carry) op->set_carry(*edit.carry ? pb::ObjectOp::CARRY : pb::ObjectOp::UNCARRY);
    if (body.ByteSizeLong() > objects::kMaxPayloadBytes - 4096)
        return fail(CoreErrc::bad_input, "the change is too large for one record");
    return m.write(group, std::move(body));
}

Status Node::Impl::write_carried(const GroupId& group) {
    // Read everything first: writing may rebuild the group's fold.
    std::vector<pb::RecordBody> copies;
    {
        auto set = object_set(group);
        if (!set) return std::unexpected(set.error());
        for (const auto& id : (*set)->objects()) {
            auto v = (*set)->view(id);
            if (!v || !v->carried) continue;
            auto start = [&] {
                pb::RecordBody body;
                auto* op = body.mutable_object();
                op->set_type(v->type);
                op->set_object_id(to_string(v->id));
                op->set_carried(true);
                return body;
            };
            // The fields, with the mark (so an admin added without history carries it on),
            // split where one record would be too large.
            copies.push_back(start());
            copies.back().mutable_object()->set_carry(pb::ObjectOp::CARRY);
            for (const auto& [name, value] : v->fields) {
                auto* op = copies.back().mutable_object();
                if (op->set_size() > 0 &&
                    copies.back().ByteSizeLong() + 2 * name.size() + value.value.size() + 96 >
                        objects::kMaxPayloadBytes - 4096)
                    op = copies.emplace_back(start()).mutable_object();
                (*op->mutable_set())[name] = value.value;
                // The write it copies, so that its redaction reaches the copy; a copy of a
                // copy names the write the first one copied.
                const bool copy = value.carried_from.record != RecordId{};
                auto& from = (*op->mutable_carried_from())[name];
                from.set_record(to_string(copy ? value.carried_from.record : value.record_id));
                from.set_author(to_string(copy ? value.carried_from.author : value.author));
            }
            // Each list item it still shows, naming the item it copies.
            for (const auto& [list, items] : v->lists)
                for (const auto& item : items) {
                    if (item.redacted) continue;
                    auto& body = copies.emplace_back(start());
                    auto* op = body.mutable_object();
                    op->set_list(list);
                    for (const auto& [k, val] : item.fields) (*op->mutable_item())[k] = val;
                    const bool copy = std::any_of(item.carried_of.begin(), item.carried_of.end(),
                                                  [](std::uint8_t b) { return b != 0; });
                    op->set_carried_item(to_string(copy ? item.carried_of : item.record_id));
                    const auto& author = copy ? item.carried_of_author : item.author;
                    if (author != MemberKey{}) op->set_carried_item_author(to_string(author));
                }
        }
    }
    for (auto& body : copies)
        if (auto r = write(group, std::move(body)); !r) return std::unexpected(r.error());
    return {};
}

Result<std::vector<ObjectView>> Node::objects(const GroupId& group, std::string_view type) {
    auto set = m_impl->object_set(group);
    if (!set) return std::unexpected(set.error());
    if (!type.empty() && !objects::builtin_types().find(type))
        return fail(CoreErrc::bad_input, "unknown object type \"{}\"", type);
    std::vector<ObjectView> out;
    for (const auto& id : (*set)->objects(type))
        if (auto v = (*set)->view(id)) out.push_back(std::move(*v));
    return out;
}

Result<ObjectView> Node::object(const GroupId& group, const RecordId& id) {
    auto set = m_impl->object_set(group);
    if (!set) return std::unexpected(set.error());
    auto v = (*set)->view(id);
    if (!v) return fail(CoreErrc::not_found, "no such object in this group");
    return std::move(*v);
}

Result<RecordId> Node::resolve_object(const GroupId& group, std::string_view prefix,
                                      std::string_view type) {
    if (!hex_prefix_ok(prefix))
        return fail(CoreErrc::bad_input, "an object is named by 4 to 64 hex digits of its id");
    auto set = m_impl->object_set(group);
    if (!set) return std::unexpected(set.error());
    std::optional<RecordId> found;
    for (const auto& id : (*set)->objects(type)) {
        if (!hex_prefix_matches(prefix, id)) continue;
        if (found)
            return fail(CoreErrc::bad_input, "\"{}\" matches several objects: give more digits",
                        prefix);
        found = id;
    }
    if (!found) {
        // One sentence per type, so that each reads naturally once translated.
        const char* literal = type == "case"      ? KOLOKOL_TEXT("no case matches \"{}\"")
                              : type == "task"    ? KOLOKOL_TEXT("no task matches \"{}\"")
                              : type == "event"   ? KOLOKOL_TEXT("no event matches \"{}\"")
                              : type == "contact" ? KOLOKOL_TEXT("no contact matches \"{}\"")
                              : type == "report"  ? KOLOKOL_TEXT("no report matches \"{}\"")
                              : type == "alert"   ? KOLOKOL_TEXT("no alert matches \"{}\"")
                                                  : KOLOKOL_TEXT("no object matches \"{}\"");
        return fail(CoreErrc::not_found, literal, prefix);
    }
    return *found;
}

Result<std::vector<HistoryEntry>> Node::object_history(const GroupId& group, const RecordId& id) {
    auto set = m_impl->object_set(group);
    if (!set) return std::unexpected(set.error());
    if (!(*set)->view(id)) return fail(CoreErrc::not_found, "no such object in this group");
    return (*set)->history(id);
}

Result<CaseView> Node::case_view(const GroupId& group, const RecordId& id) {
    auto v = object(group, id);
    if (!v) return std::unexpected(v.error());
    if (v->type != objects::kCase) return fail(CoreErrc::not_found, "that object is not a case");
    CaseView out;
    auto totals = objects::ledger_totals(*v);
    if (!totals) return std::unexpected(bad_input(totals.error()));
    out.totals = std::move(*totals);
    auto att = attachments(group, id);
    if (!att) return std::unexpected(att.error());
    out.attachments = std::move(*att);
    out.object = std::move(*v);
    return out;
}

Result<std::vector<ObjectView>> Node::alerts(const GroupId& group, bool include_resolved) {
    auto all = objects(group, objects::kAlert);
    if (!all) return all;
    if (!include_resolved)
        std::erase_if(*all, [](const ObjectView& v) { return !objects::is_active(v); });
    std::stable_sort(all->begin(), all->end(), [](const ObjectView& a, const ObjectView& b) {
        auto ra = urgency_rank(a.get("urgency")), rb = urgency_rank(b.get("urgency"));
        if (ra != rb) return ra < rb;
        return std::tie(a.created_lamport, a.id) > std::tie(b.created_lamport, b.id);
    });
    return all;
}

Result<std::vector<ObjectView>> Node::events_due(const GroupId& group, std::int64_t from_ms,
                                                 std::int64_t until_ms) {
    auto all = objects(group, objects::kEvent);
    if (!all) return all;
    std::vector<std::pair<std::int64_t, ObjectView>> due;
    for (auto& v : *all) {
        if (v.get("status") == "cancelled") continue;
        auto at = objects::parse_datetime(v.get("starts"));
        if (!at) continue;
        std::int64_t ms = *at * 1000;
        if (ms >= from_ms && ms < until_ms) due.emplace_back(ms, std::move(v));
    }
    std::stable_sort(due.begin(), due.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<ObjectView> out;
    for (auto& [ms, v] : due) out.push_back(std::move(v));
    return out;
}

Result<std::vector<ObjectView>> Node::open_tasks(const GroupId& group) {
    auto all = objects(group, objects::kTask);
    if (!all) return all;
    std::erase_if(*all, [](const ObjectView& v) { return !objects::is_active(v); });
    return all;
}

Result<RecordId> Node::resolve_record(const GroupId& group, std::string_view prefix) {
    if (!hex_prefix_ok(prefix))
        return fail(CoreErrc::bad_input, "a record is named by 4 to 64 hex digits of its id");
    if (!m_impl->genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    // Ids are stored as blobs; compare on their hex form, with an index-friendly range on the
    // first whole bytes of the prefix.
    std::string upper;
    for (char ch : prefix)
        upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
    auto matches = m_impl->records.ids_with_prefix(group, upper, 2);
    if (!matches) return std::unexpected(matches.error());
    const auto& found = *matches;
    if (found.empty()) return fail(CoreErrc::not_found, "no record matches \"{}\"", prefix);
    if (found.size() > 1)
        return fail(CoreErrc::bad_input, "\"{}\" matches several records: give more digits",
                    prefix);
    return found.front();
}

Result<RecordId> Node::redact(const GroupId& group, const RecordId& record,
                              std::string_view reason) {
    auto& m = *m_impl;
    if (reason.size() > kMaxReasonBytes || !is_clean_utf8(reason, "\n\t"))
        return fail(CoreErrc::bad_input, "a reason has at most 500 bytes of clean UTF-8");
    auto row = m.record_row(record);
    if (!row || row->group != group)
        return fail(CoreErrc::not_found, "no such record in this group");
    auto found = m.records.kind(record);
    if (!found) return fail(CoreErrc::not_found, "no such record");
    const auto kind = *found;
    if (is_control(kind))
        return fail(CoreErrc::bad_input, "membership, key and settings records cannot be redacted");
    if (kind == RecordKind::redacted)
        return fail(CoreErrc::exists, "that record is already redacted");
    if (kind == RecordKind::chunk)
        return fail(CoreErrc::bad_input, "redact the attachment's manifest, not one chunk");
    if (row->author != me() && !m.state(group).is_admin(me()))
        return fail(CoreErrc::not_permitted, "only the record's author or an admin may redact it");
    pb::RecordBody body;
    body.mutable_redaction()->set_target(to_string(record));
    body.mutable_redaction()->set_reason(std::string(reason));
    return m.write(group, std::move(body));
}

}  // namespace kolokol::core
