// Groups, membership and messages: what `kolokol group …`, `post` and `read` drive.

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "group.pb.h"
#include "kolokol/core/text_match.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "node_impl.hpp"
#include "records.hpp"

namespace kolokol::core {

namespace {
bool hex_prefix_matches(std::string_view prefix, ByteView key) {
    if (prefix.size() < 4 || prefix.size() > 64) return false;
    auto hex = crypto::hex_encode(key);
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(prefix[i])) != hex[i]) return false;
    return true;
}
// Whether a member who lacks `me`'s writer epoch was admitted by an add without history (or
// by one with history that waited for approvals: its token held no secret, §5.10).
bool lacks_key_without_history(const GroupState& g, const MemberKey& me) {
    auto w = g.writer_epoch(me);
    if (!w) return false;
    const auto* e = g.epoch(*w);
    if (!e) return false;
    for (const auto& [key, member] : g.members()) {
        if (e->holders.contains(member_tag(key))) continue;
        const auto* add = g.admitting_add(key);
        if (!add || !add->body.has_membership()) continue;
        const auto* first = g.epoch(add->epoch);
        const bool history_given = add->body.membership().grants_epoch() && first != nullptr &&
                                   first->holders.contains(member_tag(key));
        if (!history_given) return true;
    }
    return false;
}

}  // namespace

Result<GroupId> Node::create_group(std::string_view name) {
    auto& m = *m_impl;
    if (name.empty() || name.size() > 128 || !is_clean_utf8(name))
        return fail(CoreErrc::bad_input, "a group name has 1 to 128 bytes of clean UTF-8");
    for (const auto& s : groups())
        if (s.name == name)
            return fail(CoreErrc::exists, "you already have a group with that name");
    pb::Genesis g;
    g.set_version(1);
    g.set_creator(to_string(m.identity.sign.public_key));
    g.set_creator_box(to_string(m.identity.box.public_key));
    g.set_creator_name(m.identity.display_name);
    g.set_nonce(to_string(m.random->bytes(16)));
    g.set_created_ms(m.now());
    auto genesis_bytes = g.SerializeAsString();
    pb::SignedGenesis sg;
    sg.set_genesis(genesis_bytes);
    sg.set_signature(to_string(
        crypto::sign(m.identity.sign.secret_key, kGenesisDomain, as_bytes(genesis_bytes))));
    GroupId id = crypto::blake2b_256(kGroupDomain, as_bytes(genesis_bytes));

    {
        auto tx = m.db.begin();
        if (!tx) return std::unexpected(tx.error());
        auto st = m.db.cached("INSERT INTO groups(group_id, genesis, joined_ms) VALUES (?, ?, ?)");
        if (!st) return std::unexpected(st.error());
        auto sg_bytes = sg.SerializeAsString();
        (*st)->bind(1, ByteView(id)).bind(2, as_bytes(sg_bytes)).bind(3, m.now());
        if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
        crypto::SecretBytes secret(32);
        m.random->fill(secret.mutable_view());
        if (auto ok = m.add_epoch(EpochKeys::from_secret(id, id, secret.view())); !ok)
            return std::unexpected(ok.error());
        if (auto ok = tx->commit(); !ok) return std::unexpected(ok.error());
    }
    m.genesis[id] = GenesisInfo{id, m.identity.sign.public_key, m.identity.box.public_key,
                                m.identity.display_name};
    pb::RecordBody body;
    body.mutable_settings()->set_name(std::string(name));
    if (auto r = m.write(id, std::move(body)); !r) return std::unexpected(r.error());
    return id;
}

Result<GroupId> Node::resolve_group(std::string_view name_or_id) {
    const auto all = groups();
    std::optional<GroupId> found;
    for (const auto& s : all) {
        if (s.name == name_or_id) return s.id;
        if (hex_prefix_matches(name_or_id, s.id)) {
            if (found) return fail(CoreErrc::bad_input, "that id prefix matches several groups");
            found = s.id;
        }
    }
    if (found) return *found;
    // The name typed with other case or spacing ("legal support", "LegalSupport").
    const auto folded = fold_loosely(name_or_id);
    std::vector<std::string> names;
    for (const auto& s : all) {
        if (s.name.empty()) continue;
        names.push_back(s.name);
        if (folded.empty() || fold_loosely(s.name) != folded) continue;
        if (found)
            return fail(CoreErrc::bad_input,
                        "several groups are called \"{}\" apart from case and spaces: type the "
                        "name exactly as it is",
                        name_or_id);
        found = s.id;
    }
    if (found) return *found;
    if (auto near = closest_name(name_or_id, names))
        return fail(CoreErrc::not_found, "no group called \"{}\"; did you mean \"{}\"?", name_or_id,
                    *near);
    return fail(CoreErrc::not_found, "no group called \"{}\"", name_or_id);
}

std::vector<GroupSummary> Node::groups() {
    std::vector<GroupSummary> out;
    for (const auto& [id, info] : m_impl->genesis) {
        const auto& g = m_impl->state(id);
        GroupSummary s;
        s.id = id;
        s.name = g.name();
        s.members = g.members().size();
        s.admin = g.is_admin(me());
        s.member = g.is_member(me());
        s.rotation_needed = g.rotation_needed(me());
        if (auto a = m_impl->admission(id); a && *a) {
            const auto& adm = **a;
            if (adm.state == Impl::AdmissionState::waiting)
                s.admission = "waiting for the add record named by the welcome token from " +
                              adm.inviter_name + ": sync with the group";
            else if (adm.state == Impl::AdmissionState::refused)
                s.admission = "the welcome token from " + adm.inviter_name + " (" +
                              short_key(adm.inviter) + ") was refused: " + adm.detail;
        }
        out.push_back(std::move(s));
    }
    return out;
}

Result<std::vector<MemberView>> Node::members(const GroupId& group) {
    if (!m_impl->genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    std::vector<MemberView> out;
    for (const auto& [key, member] : m_impl->state(group).members())
        out.push_back(MemberView{key, member.name, member.admin, is_verified(key), key == me()});
    return out;
}

Result<MemberKey> Node::resolve_member(const GroupId& group, std::string_view who) {
    auto list = members(group);
    if (!list) return std::unexpected(list.error());
    std::optional<MemberKey> found;
    for (const auto& mv : *list) {
        if (mv.name == who || hex_prefix_matches(who, mv.key)) {
            if (found)
                return fail(CoreErrc::bad_input, "\"{}\" matches several members; use their key",
                            who);
            found = mv.key;
        }
    }
    if (!found) return fail(CoreErrc::not_found, "no member \"{}\" in this group", who);
    return *found;
}

Status Node::remove_member(const GroupId& group, const MemberKey& member) {
    auto& m = *m_impl;
    auto allowed = m.admin_over(group, member);
    if (!allowed) return std::unexpected(allowed.error());
    if (!*allowed) return fail(CoreErrc::not_permitted, "only an admin can remove members");
    if (member == me())
        return fail(CoreErrc::not_permitted, "you cannot remove yourself; ask another admin");
    if (auto ok = m.keeps_quorum_admins(group, member); !ok) return ok;
    pb::RecordBody body;
    auto* op = body.mutable_membership();
    op->set_kind(pb::MembershipOp::REMOVE);
    op->set_member(to_string(member));
    // The cutoff: their latest record we hold. Theirs at or before it survive the removal.
    auto last = m.records.last_by(group, member);
    if (!last) return std::unexpected(last.error());
    Impl::set_cutoff(*op, *last);
    auto removal = m.write(group, std::move(body), m.rotation_epoch(group));
    if (!removal) return std::unexpected(removal.error());
    // Post-removal secrecy: a new epoch the removed member does not receive — once the removal
    // has taken effect (with a quorum, at its last approval: then `approve` or `maintain`).
    if (!m.state(group).effective(*removal)) return {};
    if (auto r = m.rotate(group); !r) return std::unexpected(r.error());
    return {};
}

// A plain removal or demotion of an admin that would leave fewer admins than the quorum does
// nothing where it takes effect (§5.10): refused here rather than written to no end.
Status Node::Impl::keeps_quorum_admins(const GroupId& group, const MemberKey& member) {
    const auto& g = state(group);
    if (g.quorum() < 2 || !g.is_admin(member) || g.admin_count() - 1 >= g.quorum()) return {};
    return fail(CoreErrc::not_permitted,
                "that would leave {} admins under a quorum of {}, and such a change does nothing; "
                "make another member an admin first, or lower the quorum (`kolokol group quorum`)",
                g.admin_count() - 1, g.quorum());
}

Status Node::set_role(const GroupId& group, const MemberKey& member, bool admin) {
    auto& m = *m_impl;
    auto allowed = m.admin_over(group, member);
    if (!allowed) return std::unexpected(allowed.error());
    if (!*allowed) return fail(CoreErrc::not_permitted, "only an admin can change a member's role");
    {
        const auto& g = m.state(group);
        if (admin && g.is_admin(member)) return fail(CoreErrc::exists, "they are an admin already");
        if (!admin && !g.is_admin(member))
            return fail(CoreErrc::exists, "they are a member who is no admin already");
        if (!admin && member == me()) {
            const auto& all = g.members();
            auto admins = std::count_if(all.begin(), all.end(),
                                        [](const auto& kv) { return kv.second.admin; });
            if (admins < 2)
                return fail(CoreErrc::not_permitted,
                            "you are the only admin: make someone else an admin first");
        }
    }
    if (!admin)
        if (auto ok = m.keeps_quorum_admins(group, member); !ok) return ok;
    pb::RecordBody body;
    auto* op = body.mutable_membership();
    op->set_kind(pb::MembershipOp::SET_ROLE);
    op->set_member(to_string(member));
    op->set_role(admin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER);
    if (!admin) {
        // A demotion's cutoff, as a removal's (§5.4): their control records at or before their
        // latest one we hold survive; the rest concurrent with the demotion are void.
        auto last = m.records.last_by(group, member);
        if (!last) return std::unexpected(last.error());
        Impl::set_cutoff(*op, *last);
    }
    if (auto r = m.write(group, std::move(body)); !r) return std::unexpected(r.error());
    return {};
}

Result<std::optional<RecordRow>> Node::Impl::burn_cutoff(const GroupId& group,
                                                         const MemberKey& member,
                                                         std::int64_t at_ms) {
    auto last = records.last_by(group, member);
    if (!last) return std::unexpected(last.error());
    if (!*last) return std::optional<RecordRow>{};
    // The chain of their latest record, oldest first.
    std::vector<RecordRow> chain{**last};
    while (chain.back().prev) {
        auto prev = record_row(*chain.back().prev);
        if (!prev || prev->author != member) break;
        chain.push_back(*prev);
    }
    std::reverse(chain.begin(), chain.end());
    // Every record of the group stamped after the time, or with such a record among its
    // parents or as its previous one: (Lamport, id) order is a topological order (§5.2).
    std::unordered_set<std::string> late;
    auto visit = records.each(
        group,
        {RecordKind::message, RecordKind::membership, RecordKind::rotation, RecordKind::settings,
         RecordKind::redaction, RecordKind::object, RecordKind::chunk, RecordKind::manifest,
         RecordKind::redacted, RecordKind::approval, RecordKind::key_update},
        false, [&](const StoredRecord& rec) {
            bool is_late = rec.row.wall_ms > at_ms;
            if (!is_late && !late.empty()) {
                if (rec.row.prev && late.contains(std::string(as_chars(*rec.row.prev))))
                    is_late = true;
                if (auto body = parse_stored_body(rec.body); body && !is_late)
                    for (const auto& p : body->parents())
                        if (late.contains(p.id())) {
                            is_late = true;
                            break;
                        }
            }
            if (is_late) late.insert(std::string(as_chars(rec.row.id)));
            return true;
        });
    if (!visit) return std::unexpected(visit.error());
    std::optional<RecordRow> cut;
    for (const auto& row : chain) {
        if (late.contains(std::string(as_chars(row.id)))) break;
        cut = row;
    }
    return cut;
}

Result<bool> Node::Impl::admin_over(const GroupId& group, const MemberKey& member) {
    if (!genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    const auto& g = state(group);
    if (!g.is_admin(card.sign_key)) return false;
    if (!g.is_member(member)) return fail(CoreErrc::not_found, "not a member of this group");
    return true;
}

void Node::Impl::set_cutoff(pb::MembershipOp& op, const std::optional<RecordRow>& row) {
    if (!row) return;
    op.mutable_cutoff()->set_id(to_string(row->id));
    op.mutable_cutoff()->set_epoch_id(to_string(row->epoch));
    op.set_cutoff_seq(row->seq);
}

Status Node::Impl::post_burn_alert(const GroupId& group, const std::string& name,
                                   std::string_view text) {
    std::string line(text);
    if (line.empty()) {
        line = KOLOKOL_TEXT(
            "Burn notice: the device of {} is in other hands. They were removed and the group's "
            "key rotated; whatever their keys sign now is rejected.");
        if (auto at = line.find("{}"); at != std::string::npos) line.replace(at, 2, name);
    }
    pb::RecordBody body;
    auto* op = body.mutable_object();
    op->set_type("alert");
    (*op->mutable_set())["text"] = line.substr(0, 1000);
    (*op->mutable_set())["urgency"] = "critical";
    if (auto r = write(group, std::move(body)); !r) return std::unexpected(r.error());
    return {};
}

Result<BurnNotice> Node::burn_member(const GroupId& group, const MemberKey& member,
                                     std::int64_t at_ms, std::string_view alert_text) {
    auto& m = *m_impl;
    auto allowed = m.admin_over(group, member);
    if (!allowed) return std::unexpected(allowed.error());
    if (!*allowed) return fail(CoreErrc::not_permitted, "only an admin can send a burn notice");
    if (member == me())
        return fail(CoreErrc::not_permitted,
                    "you cannot send a burn notice for yourself; ask another admin");
    if (at_ms < 0) return fail(CoreErrc::bad_input, "the time of the seizure is not a time");
    if (at_ms > m.now())
        return fail(CoreErrc::bad_input, "the time of the seizure lies in the future");
    pb::RecordBody body;
    auto* op = body.mutable_membership();
    op->set_kind(pb::MembershipOp::REMOVE);
    op->set_member(to_string(member));
    op->set_compromised(true);
    op->set_compromised_at_ms(at_ms);
    // The cutoff: their latest record we hold — with a time, the last before anything of theirs
    // stamped after it. Theirs at or before it on their chain survive; nothing else does.
    std::optional<RecordRow> cut;
    if (at_ms > 0) {
        auto c = m.burn_cutoff(group, member, at_ms);
        if (!c) return std::unexpected(c.error());
        cut = *c;
    } else {
        auto last = m.records.last_by(group, member);
        if (!last) return std::unexpected(last.error());
        cut = *last;
    }
    Impl::set_cutoff(*op, cut);
    auto scope = WriteScope::open(m);
    if (!scope) return std::unexpected(scope.error());
    auto notice = m.write(group, std::move(body), m.rotation_epoch(group));
    if (!notice) return std::unexpected(notice.error());
    BurnNotice out;
    out.notice = *notice;
    out.effective = m.state(group).effective(*notice);
    if (out.effective) {
        if (auto r = m.rotate(group); !r) return std::unexpected(r.error());
        if (auto a = m.post_burn_alert(group, display_name_of(member), alert_text); !a)
            return std::unexpected(a.error());
    } else {
        bool waits = false;
        for (const auto& p : m.state(group).pending())
            if (p.id == *notice) {
                waits = true;
                out.needed = p.needed;
                out.approvers = static_cast<std::uint32_t>(p.approvers.size());
            }
        // Neither in effect nor waiting: it would be void where it stands (the scope is not
        // committed, so nothing is kept).
        if (!waits)
            return fail(CoreErrc::not_permitted,
                        "this burn notice would not be valid where it stands; nothing was sent");
    }
    if (auto ok = scope->commit(); !ok) return std::unexpected(ok.error());
    return out;
}

Status Node::set_quorum(const GroupId& group, std::uint32_t quorum) {
    auto& m = *m_impl;
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    if (!m.state(group).is_admin(me()))
        return fail(CoreErrc::not_permitted, "only an admin can change the quorum");
    if (quorum < 1 || quorum > kMaxQuorum)
        return fail(CoreErrc::bad_input, "the quorum must be 1 to {}", kMaxQuorum);
    // A quorum above the admins where it is written is void at every member (§5.10).
    if (const auto admins = m.state(group).admin_count(); quorum > admins)
        return fail(CoreErrc::not_permitted,
                    "a quorum of {} needs at least {} admins, and this group has {}; make more "
                    "members admins first (`kolokol group role`)",
                    quorum, quorum, admins);
    pb::RecordBody body;
    body.mutable_settings()->set_set_quorum(true);
    body.mutable_settings()->set_quorum(quorum);
    if (auto r = m.write(group, std::move(body)); !r) return std::unexpected(r.error());
    return {};
}

Status Node::approve(const GroupId& group, const RecordId& proposal, std::string_view burn_alert) {
    auto& m = *m_impl;
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    const ControlRecord* op = nullptr;
    {
        const auto& g = m.state(group);
        if (!g.is_admin(me()))
            return fail(CoreErrc::not_permitted, "only an admin can approve a proposal");
        auto waiting = g.pending();
        auto it = std::find_if(waiting.begin(), waiting.end(),
                               [&](const Proposal& p) { return p.id == proposal; });
        if (it == waiting.end()) return fail(CoreErrc::not_found, "no such proposal is waiting");
        if (std::find(it->approvers.begin(), it->approvers.end(), me()) != it->approvers.end())
            return fail(CoreErrc::exists, "you have proposed or approved it already");
        for (const auto& r : g.records())
            if (r.id == proposal) op = &r;
        if (!op) return fail(CoreErrc::not_found, "no such proposal is waiting");
    }
    // A waiting add's token held no secret, also with history: the newcomer starts with the
    // rotation this approval makes owed, like one added without history.
    const bool burn = op->body.has_membership() && op->body.membership().compromised();
    const std::string burned =
        burn ? display_name_of(to_array<32>(as_bytes(op->body.membership().member()))) : "";
    const bool fresh_add =
        op->body.has_membership() && op->body.membership().kind() == pb::MembershipOp::ADD;
    pb::RecordBody body;
    body.mutable_approval()->mutable_proposal()->set_id(to_string(proposal));
    body.mutable_approval()->mutable_proposal()->set_epoch_id(to_string(op->epoch));
    // The approval and the rotation it makes owed are stored all or nothing.
    auto scope = WriteScope::open(m);
    if (!scope) return std::unexpected(scope.error());
    if (auto r = m.write(group, std::move(body), m.rotation_epoch(group)); !r)
        return std::unexpected(r.error());
    if (m.state(group).effective(proposal) && !m.state(group).rotation_needed(me()).empty()) {
        if (auto r = m.rotate(group); !r) return std::unexpected(r.error());
        // A newcomer added without history gets the carried objects in the new epoch.
        if (fresh_add)
            if (auto r = m.write_carried(group); !r) return std::unexpected(r.error());
    }
    // A burn notice that takes effect here: the group is told, in the new epoch (§5.11).
    if (burn && m.state(group).effective(proposal))
        if (auto r = m.post_burn_alert(group, burned, burn_alert); !r)
            return std::unexpected(r.error());
    if (auto ok = scope->commit(); !ok) return std::unexpected(ok.error());
    return {};
}

Status Node::withdraw(const GroupId& group, const RecordId& proposal) {
    auto& m = *m_impl;
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    EpochId epoch{};
    {
        const auto& g = m.state(group);
        auto waiting = g.pending();
        auto it = std::find_if(waiting.begin(), waiting.end(),
                               [&](const Proposal& p) { return p.id == proposal; });
        if (it == waiting.end()) return fail(CoreErrc::not_found, "no such proposal is waiting");
        if (it->proposer != me())
            return fail(CoreErrc::not_permitted, "only the admin who proposed it can withdraw it");
        bool found = false;
        for (const auto& r : g.records())
            if (r.id == proposal) {
                epoch = r.epoch;
                found = true;
            }
        if (!found) return fail(CoreErrc::not_found, "no such proposal is waiting");
    }
    pb::RecordBody body;
    body.mutable_approval()->mutable_proposal()->set_id(to_string(proposal));
    body.mutable_approval()->mutable_proposal()->set_epoch_id(to_string(epoch));
    body.mutable_approval()->set_withdraw(true);
    if (auto r = m.write(group, std::move(body), m.rotation_epoch(group)); !r)
        return std::unexpected(r.error());
    return {};
}

Result<std::vector<ProposalView>> Node::pending(const GroupId& group) {
    if (!m_impl->genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    const auto& g = m_impl->state(group);
    std::vector<ProposalView> out;
    for (const auto& p : g.pending()) {
        ProposalView v;
        v.id = p.id;
        v.kind = static_cast<ProposalView::Kind>(p.kind);
        v.target = p.target;
        v.quorum = p.quorum;
        v.proposer = p.proposer;
        v.approvers = p.approvers;
        v.needed = p.needed;
        for (const auto& r : g.records())
            if (r.id == p.id && r.body.has_membership()) {
                v.admin = r.body.membership().role() == pb::ROLE_ADMIN;
                v.compromised = r.body.membership().compromised();
                v.compromised_at_ms = r.body.membership().compromised_at_ms();
            }
        out.push_back(std::move(v));
    }
    return out;
}

Result<RecordId> Node::resolve_proposal(const GroupId& group, std::string_view prefix) {
    if (!m_impl->genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    if (prefix.size() < 4 || prefix.size() > 64 ||
        !std::all_of(prefix.begin(), prefix.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
        return fail(CoreErrc::bad_input,
                    "give at least 4 hex digits of the proposal's id (`kolokol group pending`)");
    const auto& g = m_impl->state(group);
    std::optional<RecordId> found;
    for (const auto& p : g.pending()) {
        if (!hex_prefix_matches(prefix, p.id)) continue;
        if (found)
            return fail(CoreErrc::bad_input,
                        "\"{}\" matches several waiting proposals: give more of the id", prefix);
        found = p.id;
    }
    if (found) return *found;
    // Not waiting: say whether it already took effect, so that a late approver knows.
    for (const auto& r : g.records()) {
        if (!hex_prefix_matches(prefix, r.id)) continue;
        if (!r.body.has_membership() && !(r.body.has_settings() && r.body.settings().set_quorum()))
            continue;
        if (g.effective(r.id))
            return fail(CoreErrc::exists, "the proposal {} has taken effect already", prefix);
        return fail(CoreErrc::not_found,
                    "the proposal {} is not waiting: it was refused or is void", prefix);
    }
    return fail(CoreErrc::not_found, "no proposal {} is waiting in this group", prefix);
}

Result<std::uint32_t> Node::quorum(const GroupId& group) {
    if (!m_impl->genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    return m_impl->state(group).quorum();
}

Result<std::uint32_t> Node::void_quorum(const GroupId& group) {
    if (!m_impl->genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    return m_impl->state(group).void_quorum();
}

Status Node::rotate(const GroupId& group) {
    if (!m_impl->genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    if (auto r = m_impl->rotate(group); !r) return std::unexpected(r.error());
    return {};
}

Result<std::vector<std::string>> Node::maintain() {
    std::vector<std::string> done;
    auto& m = *m_impl;
    // Key updates first: a rotation this admin owes below then seals to the new key.
    auto due = m.rekey_due();
    if (!due) return std::unexpected(due.error());
    for (const auto& group : *due) {
        auto r = rekey(group);
        if (!r) {
            // No key to write with yet (control access only, an admission waiting): later.
            if (r.error().code == CoreErrc::no_epoch || r.error().code == CoreErrc::not_permitted)
                continue;
            return std::unexpected(r.error());
        }
        done.push_back("wrote a key update in \"" + m.state(group).name() +
                       "\" (the group's rekey interval passed)");
    }
    for (const auto& s : groups()) {
        if (s.rotation_needed.empty()) continue;
        // A member added without history who lacks the current key (an add that took effect
        // at approvals this device did not write, §5.10) gets the carried objects in the new
        // epoch, as `add_member` and `approve` give them.
        const bool carry = lacks_key_without_history(m.state(s.id), me());
        auto scope = WriteScope::open(m);
        if (!scope) return std::unexpected(scope.error());
        if (auto r = m.rotate(s.id); !r) return std::unexpected(r.error());
        if (carry)
            if (auto r = m.write_carried(s.id); !r) return std::unexpected(r.error());
        if (auto ok = scope->commit(); !ok) return std::unexpected(ok.error());
        done.push_back("rotated the key of \"" + s.name + "\": " + s.rotation_needed);
    }
    return done;
}

Result<RecordId> Node::post(const GroupId& group, std::string_view text) {
    if (text.empty()) return fail(CoreErrc::bad_input, "the message is empty");
    if (text.size() > kMaxMessageBytes)
        return fail(CoreErrc::bad_input, "the message is longer than 16 KiB");
    if (!is_clean_utf8(text, "\n\t"))
        return fail(CoreErrc::bad_input, "the message is not valid UTF-8 text");
    pb::RecordBody body;
    body.mutable_message()->set_text(std::string(text));
    return m_impl->write(group, std::move(body));
}

Result<std::vector<MessageView>> Node::messages(const GroupId& group, std::size_t limit) {
    auto& m = *m_impl;
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    std::vector<MessageView> out;
    auto read = m.records.each(group, {RecordKind::message}, true, [&](const StoredRecord& rec) {
        const auto& row = rec.row;
        if (!m.record_valid_now(row)) return true;
        auto body = parse_stored_body(rec.body);
        if (!body) return true;
        MessageView v;
        v.id = row.id;
        v.author = row.author;
        v.author_name = display_name_of(row.author);
        v.author_verified = is_verified(row.author);
        v.text = body->message().text();
        v.lamport = row.lamport;
        v.wall_ms = row.wall_ms;
        v.seq = row.seq;
        out.push_back(std::move(v));
        return out.size() < limit;
    });
    if (!read) return std::unexpected(read.error());
    std::reverse(out.begin(), out.end());
    if (auto ok = m.mark_forks(group, out); !ok) return std::unexpected(ok.error());
    return out;
}

std::string Node::display_name_of(const MemberKey& key) const {
    if (key == me()) return m_impl->identity.display_name;
    for (const auto& [id, info] : m_impl->genesis) {
        const auto& g = m_impl->state(id);
        if (auto it = g.members().find(key); it != g.members().end()) return it->second.name;
        if (info.creator == key) return info.creator_name;
        for (const auto& op : g.records())
            if (op.body.has_membership() && op.body.membership().kind() == pb::MembershipOp::ADD &&
                op.body.membership().member() == to_string(key))
                return op.body.membership().display_name();
    }
    return short_key(key);
}

Status Node::mark_verified(const MemberKey& key) {
    auto st = m_impl->db.cached("INSERT OR REPLACE INTO verified(sign_key, at_ms) VALUES (?, ?)");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(key)).bind(2, m_impl->now());
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    return {};
}

bool Node::is_verified(const MemberKey& key) {
    auto st = m_impl->db.cached("SELECT 1 FROM verified WHERE sign_key = ?");
    if (!st) return false;
    (*st)->bind(1, ByteView(key));
    auto r = (*st)->step();
    (*st)->reset();
    return r && *r;
}

std::vector<RejectionView> Node::rejections(std::size_t limit) {
    std::vector<RejectionView> out;
    auto st = m_impl->db.prepare(
        "SELECT id, reason, detail, at_ms FROM rejected ORDER BY at_ms DESC LIMIT ?");
    if (!st) return out;
    st->bind(1, static_cast<std::int64_t>(limit));
    while (true) {
        auto r = st->step();
        if (!r || !*r) break;
        out.push_back(RejectionView{to_array<32>(st->column_blob(0)),
                                    static_cast<RejectReason>(st->column_int64(1)),
                                    st->column_text(2), st->column_int64(3)});
    }
    return out;
}

std::size_t Node::rejection_count() {
    auto st = m_impl->db.prepare("SELECT COUNT(*) FROM rejected");
    if (!st) return 0;
    auto r = st->step();
    return r && *r ? static_cast<std::size_t>(st->column_int64(0)) : 0;
}

}  // namespace kolokol::core

namespace kolokol::core {

std::vector<MailboxId> Node::mailboxes(const GroupId* group) const {
    std::vector<MailboxId> out;
    for (const auto& [mailbox, keys] : m_impl->epochs)
        if (!group || keys.group_id == *group) out.push_back(mailbox);
    return out;
}

Result<std::vector<RecordId>> Node::envelope_ids(const MailboxId& mailbox) {
    return m_impl->envelopes->ids(mailbox);
}

Result<std::optional<Bytes>> Node::envelope(const RecordId& id) {
    return m_impl->envelopes->get(id);
}

}  // namespace kolokol::core
