#include "group_state.hpp"

#include <algorithm>
#include <utility>

#include "kolokol/crypto/error.hpp"
#include "kolokol/transport/address.hpp"
#include "records.hpp"

namespace kolokol::core {

MemberTag member_tag(const MemberKey& key) {
    MemberTag t = 0;
    for (int i = 0; i < 8; ++i) t = (t << 8) | key[static_cast<std::size_t>(i)];
    return t;
}

namespace {
std::string key_of(const RecordId& id) {
    return std::string(as_chars(id));
}

bool is_kind(const ControlRecord& op, pb::MembershipOp::Kind kind) {
    return op.body.has_membership() && op.body.membership().kind() == kind;
}
MemberKey target_of(const ControlRecord& op) {
    return to_array<32>(as_bytes(op.body.membership().member()));
}
bool is_demotion(const ControlRecord& op) {
    return is_kind(op, pb::MembershipOp::SET_ROLE) &&
           op.body.membership().role() == pb::ROLE_MEMBER;
}
// A burn notice: a removal whose author says the member's device is in other hands (§5.11).
bool is_burn(const ControlRecord& op) {
    return is_kind(op, pb::MembershipOp::REMOVE) && op.body.membership().compromised();
}
bool sets_quorum(const ControlRecord& op) {
    return op.body.has_settings() && op.body.settings().set_quorum();
}
// What waits for approvals when the quorum is above 1 (§5.10).
bool is_proposal(const ControlRecord& op) {
    return op.body.has_membership() || sets_quorum(op);
}
}  // namespace

GroupState GroupState::compute(const GenesisInfo& genesis, std::vector<ControlRecord> records,
                               const ChainLookup& chain) {
    GroupState g;
    g.m_genesis = genesis;
    g.m_chain = chain;
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
        return std::tie(a.lamport, a.id) < std::tie(b.lamport, b.id);
    });
    records.erase(std::unique(records.begin(), records.end(),
                              [](const auto& a, const auto& b) { return a.id == b.id; }),
                  records.end());
    g.m_ops = std::move(records);
    const std::size_t n = g.m_ops.size();
    const std::size_t words = (n + 63) / 64 + 1;
    for (std::size_t i = 0; i < n; ++i) g.m_index.emplace(key_of(g.m_ops[i].id), i);

    // Ancestors: heads always have smaller Lamport clocks (checked at ingest), so sorted order is
    // a topological order; a head that is not earlier is ignored and makes the op invalid below.
    std::vector<bool> bad_refs(n, false);
    g.m_anc.assign(n, Bits(words, 0));
    for (std::size_t i = 0; i < n; ++i) {
        for (const auto& h : g.m_ops[i].heads) {
            auto it = g.m_index.find(key_of(h));
            if (it == g.m_index.end() || it->second >= i) {
                bad_refs[i] = true;
                continue;
            }
            auto j = it->second;
            for (std::size_t w = 0; w < words; ++w) g.m_anc[i][w] |= g.m_anc[j][w];
            g.set(g.m_anc[i], j);
        }
    }

    // The quorum a proposal is held to does not depend on the position its author chose
    // (§5.10): besides the quorum at its own position, every effective quorum change concurrent
    // with it counts (neither follows the other), the highest winning. One whose proposal it
    // follows does not, even when the approval that completed it came later: at that proposal's
    // position at least its K admins stood, and a late approval by a seized admin would
    // otherwise hold to the new K everything the group decided under the old one. Those come from
    // the previous round below; each round computes strong remove afresh (a quorum record dropped
    // only because a removal took effect too early is valid again once that removal waits), until
    // the floors no longer change.
    std::vector<std::uint32_t> quorum_floor(n, 0);
    g.m_status.assign(n, OpStatus::invalid);
    g.m_needed.assign(n, 1);
    Bits valid(words, 0);
    // Whether op i's epoch is in the frontier at its position. Or: an approval of a burn notice
    // written in an epoch that the notice's target made by rotations that do not stand (the
    // notice drops them, or they granted to a member whose add the notice voided; the approver
    // held that epoch when approving), on an epoch that is in the frontier. The
    // notice's completion must not depend on its own drops: voided with the epoch, the approval
    // would void the notice, the rotation would stand again, and the rounds would alternate with
    // the burned admin still an admin (§5.11).
    auto epoch_stands = [&](std::size_t i, const Fold& s) {
        const auto frontier = g.frontier_of(s);
        const auto& op = g.m_ops[i];
        if (frontier.contains(op.epoch)) return true;
        if (!op.body.has_approval()) return false;
        const auto p = g.proposal_of(op);
        if (!p || !is_burn(g.m_ops[*p])) return false;
        const auto target = target_of(g.m_ops[*p]);
        EpochId e = op.epoch;
        for (std::size_t hops = 0; hops < n; ++hops) {
            auto it = g.m_index.find(key_of(e));
            if (it == g.m_index.end()) return false;
            const auto r = it->second;
            const auto& rot = g.m_ops[r];
            if (!rot.body.has_rotation() || rot.author != target || !g.in(g.m_anc[i], r) ||
                g.m_status[r] == OpStatus::valid)
                return false;
            if (frontier.contains(rot.epoch)) return true;
            e = rot.epoch;
        }
        return false;
    };
    // Validity of every record against the records valid before it, leaving out `dropped`: one
    // of those that would be valid is marked dropped (and may be found not dropped next round).
    auto validate = [&](const std::vector<bool>& dropped) {
        std::fill(valid.begin(), valid.end(), 0);
        g.m_void_quorum = 0;
        for (std::size_t i = 0; i < n; ++i) {
            g.m_status[i] = OpStatus::invalid;
            g.m_needed[i] = 1;
            if (bad_refs[i]) continue;
            Bits before = g.m_anc[i];
            for (std::size_t w = 0; w < words; ++w) before[w] &= valid[w];
            Fold s = g.fold(before);
            const auto& op = g.m_ops[i];
            auto author = s.members.find(op.author);
            if (author == s.members.end()) continue;
            // A key update is a member's own, about itself; everything else is an admin's.
            if (!author->second.admin && !op.body.has_key_update()) continue;
            if (!epoch_stands(i, s)) continue;
            bool ok = true;
            const auto admins_here = static_cast<std::uint32_t>(std::count_if(
                s.members.begin(), s.members.end(), [](const auto& m) { return m.second.admin; }));
            if (is_proposal(op)) {
                // The quorum, but never more than the admins at its position: a group left with
                // fewer admins than its quorum is not frozen for good.
                auto admins = admins_here;
                auto k = std::max(s.quorum, quorum_floor[i]);
                // A burn notice for an admin is counted among the other admins: the one it is
                // about never approves it (§5.11). Under a quorum of 2 or more it still needs two
                // of them, so with two admins it never completes: either, a seized one too, has
                // a veto, and neither burns the other alone. A plain removal still counts its
                // target.
                if (is_burn(op)) {
                    auto t = s.members.find(target_of(op));
                    if (t != s.members.end() && t->second.admin && admins > 0) {
                        --admins;
                        if (k >= 2) admins = std::max<std::uint32_t>(2, admins);
                    }
                }
                g.m_needed[i] = std::max<std::uint32_t>(1, std::min(k, admins));
                // A quorum this record does not follow is held whole, never capped by the admins
                // at its position: that quorum took effect where at least k admins stood (below),
                // and a position without it may be one where fewer did, such as the genesis,
                // where the creator alone is an admin. Otherwise a seized creator's copy that
                // drops every later control record decides alone at the genesis (§5.10). Not a
                // burn notice: it keeps its cap (at least two admins besides its target, above),
                // so a seized admin's late approval of a quorum raise concurrent with it cannot
                // hold it to more admins than there are and undo it.
                if (quorum_floor[i] > s.quorum && !is_burn(op)) g.m_needed[i] = k;
            }
            if (op.body.has_membership()) {
                bool present = s.members.contains(target_of(op));
                ok = is_kind(op, pb::MembershipOp::ADD) ? !present : present;
            } else if (op.body.has_settings()) {
                // Refused at ingest too: nothing else may wait with a quorum change. A quorum
                // above the admins at its position is void (§5.10): one admin alone never sets
                // a quorum that a position with fewer admins could then undercut.
                ok = !quorum_problem(op.body.settings());
                if (ok && sets_quorum(op) && op.body.settings().quorum() > admins_here) {
                    ok = false;
                    g.m_void_quorum = std::max(g.m_void_quorum, op.body.settings().quorum());
                }
            } else if (op.body.has_approval()) {
                // An approval counts once per admin, for a proposal it has seen still waiting.
                auto p = g.proposal_of(op);
                auto waiting = p && g.in(before, *p) ? s.pending.find(*p) : s.pending.end();
                // What a burned admin proposed can no longer be approved once the burn notice
                // took effect (§5.11).
                if (op.body.approval().withdraw())
                    // A withdrawal: by the proposer, of a proposal still waiting where it stands.
                    ok = waiting != s.pending.end() && g.m_ops[*p].author == op.author;
                else
                    ok = waiting != s.pending.end() &&
                         std::find(waiting->second.begin(), waiting->second.end(), op.author) ==
                             waiting->second.end() &&
                         (s.members.contains(g.m_ops[*p].author) ||
                          !g.burned(before, g.m_ops[*p].author)) &&
                         // Nor does the one a burn notice is about count towards it.
                         !(is_burn(g.m_ops[*p]) && target_of(g.m_ops[*p]) == op.author);
            } else if (op.body.has_rotation()) {
                std::set<MemberTag> grants, members;
                for (const auto& gr : op.body.rotation().grants()) {
                    MemberTag t = 0;
                    for (auto c : gr.member_tag()) t = (t << 8) | static_cast<std::uint8_t>(c);
                    grants.insert(t);
                }
                for (const auto& [k, m] : s.members) members.insert(member_tag(k));
                ok = grants == members &&
                     static_cast<std::size_t>(op.body.rotation().grants_size()) == grants.size();
            }
            if (!ok) continue;
            if (dropped[i]) {
                g.m_status[i] = OpStatus::dropped;
                continue;
            }
            g.m_status[i] = OpStatus::valid;
            g.set(valid, i);
        }
    };
    // Strong remove, the removals and demotions of the valid records alone: drop ops (valid, or
    // dropped but valid otherwise) concurrent with an effective removal or demotion of their
    // author (removals and approvals of removals excepted), unless the remover's cutoff covers
    // them. "Concurrent" is judged at the removal's point of effect: the approval that completed
    // it, or the removal itself when it needed no approval.
    auto drops_of = [&]() {
        std::vector<bool> out(n, false);
        const Fold whole = g.fold(valid);
        for (std::size_t i = 0; i < n; ++i) {
            if (g.m_status[i] == OpStatus::invalid) continue;
            for (const auto& [r, e] : whole.effect) {
                if (r == i || e == i) continue;
                const auto& rop = g.m_ops[r];
                if (!(is_kind(rop, pb::MembershipOp::REMOVE) || is_demotion(rop))) continue;
                if (target_of(rop) != g.m_ops[i].author) continue;
                if (is_burn(rop)) {
                    // A burn notice counts from itself, not from its completing approval.
                    if (g.burn_spares(i, r, e)) continue;
                    out[i] = true;
                    break;
                }
                if (g.exempt_from_strong_remove(g.m_ops[i].body, r, e)) continue;
                if (g.in(g.m_anc[i], e) || g.in(g.m_anc[e], i)) continue;
                if (g.on_chain_before(g.m_ops[i].id, g.m_ops[i].seq, rop.body.membership(),
                                      g.m_ops[i].author))
                    continue;
                out[i] = true;
                break;
            }
        }
        return out;
    };
    for (int floor_rounds = 0;;) {
        // The drop set is recomputed from scratch each round against the records the previous
        // round left standing, so a record dropped by one that is itself dropped (a seized
        // admin's demotion voided by a burn notice) stands again: what a dropped record did is
        // void, its drops included. Rounds alternate between too many drops and too few and
        // close in on each other; they end when one repeats (a fixed point), or when two keep
        // alternating (drops that depend on each other in a cycle, as mutual demotions do): then
        // both rounds' drops stand, the stricter choice. Bounded: after 16 rounds the last two
        // rounds' drops stand.
        std::vector<bool> dropped(n, false), earlier;
        for (int round = 0;; ++round) {
            validate(dropped);
            auto next = drops_of();
            if (next == dropped) break;
            if (next == earlier || round + 1 >= 16) {
                for (std::size_t i = 0; i < n; ++i) next[i] = next[i] || dropped[i];
                dropped = std::move(next);
                validate(dropped);
                break;
            }
            earlier = std::exchange(dropped, std::move(next));
        }
        // The floors for the next round, from this one's records valid or dropped by strong
        // remove (a dropped record was valid in this round; counting it is the stricter choice).
        // Recomputed, not accumulated: a record that counted only because something took effect
        // too early in an earlier round stops counting. Bounded: after 8 rounds the last stands.
        Bits seen(words, 0);
        for (std::size_t i = 0; i < n; ++i)
            if (g.m_status[i] != OpStatus::invalid) g.set(seen, i);
        const Fold with_dropped = g.fold(seen);
        std::vector<std::uint32_t> floors(n, 0);
        for (const auto& [j, e] : with_dropped.effect) {
            (void)e;
            if (!sets_quorum(g.m_ops[j])) continue;
            const auto k = g.m_ops[j].body.settings().quorum();
            for (std::size_t i = 0; i < n; ++i)
                if (i != j && g.in(seen, i) && is_proposal(g.m_ops[i]) && !g.in(g.m_anc[j], i) &&
                    !g.reaches(i, j))
                    floors[i] = std::max(floors[i], k);
        }
        if (floors == quorum_floor || ++floor_rounds >= 8) break;
        quorum_floor = std::move(floors);
    }

    Bits all_valid(words, 0);
    for (std::size_t i = 0; i < n; ++i)
        if (g.m_status[i] == OpStatus::valid) g.set(all_valid, i);
    g.m_final = g.fold(all_valid);

    EpochInfo first;
    first.id = genesis.group_id;
    first.parent = genesis.group_id;
    first.holders.insert(member_tag(genesis.creator));
    g.m_epochs.emplace(first.id, first);
    for (std::size_t r : g.m_final.rotations) {
        EpochInfo e;
        e.id = g.m_ops[r].id;
        e.parent = g.m_ops[r].epoch;
        e.rotation = g.m_ops[r].id;
        for (const auto& gr : g.m_ops[r].body.rotation().grants()) {
            MemberTag t = 0;
            for (auto c : gr.member_tag()) t = (t << 8) | static_cast<std::uint8_t>(c);
            e.holders.insert(t);
        }
        g.m_epochs.emplace(e.id, e);
    }
    for (std::size_t i = 0; i < n; ++i) {
        const auto& op = g.m_ops[i];
        if (g.m_status[i] == OpStatus::valid && is_kind(op, pb::MembershipOp::ADD) &&
            op.body.membership().grants_epoch() && g.m_final.effect.contains(i) &&
            g.m_final.effect.at(i) == i) {
            // Only an add that took effect at once came with the token holding the secrets; one
            // that waited for approvals got control access only (§5.10) and the next rotation.
            if (auto it = g.m_epochs.find(op.epoch); it != g.m_epochs.end())
                it->second.holders.insert(member_tag(target_of(op)));
        }
    }
    g.m_frontier = g.frontier_of(g.m_final);
    return g;
}

// Whether a plain removal or a demotion of an admin, where it takes effect in `f`, would leave
// fewer admins than the quorum there (§5.10): it then does nothing, so that once a quorum is set
// no position has fewer admins than it through changes the group approved — a position where one
// admin alone decides would stay usable for ever by that admin's seized copy. A burn notice is
// not held to this: a group must be able to burn an admin (it needs two other admins, §5.11).
bool GroupState::leaves_too_few_admins(const Fold& f, const ControlRecord& op) {
    if (f.quorum < 2 || is_burn(op)) return false;
    const auto& m = op.body.membership();
    if (m.kind() == pb::MembershipOp::SET_ROLE && m.role() == pb::ROLE_ADMIN) return false;
    auto it = f.members.find(target_of(op));
    if (it == f.members.end() || !it->second.admin) return false;
    const auto admins = static_cast<std::uint32_t>(std::count_if(
        f.members.begin(), f.members.end(), [](const auto& x) { return x.second.admin; }));
    return admins - 1 < f.quorum;
}

GroupState::Fold GroupState::fold(const Bits& set) const {
    Fold f;
    f.members.emplace(m_genesis.creator, Member{m_genesis.creator, m_genesis.creator_box,
                                                m_genesis.creator_name, true});
    // First when each proposal takes effect: at itself when it needs one admin, else at the
    // approval that brings its distinct approvers (the proposer first) to what it needs.
    std::map<std::size_t, std::size_t> by_point;  // point of effect → proposal
    // A proposal its proposer withdrew (valid: it was waiting where the withdrawal stands) counts
    // no approval written after the withdrawal. One concurrent with it still counts: otherwise a
    // seized proposer's copy, writing a withdrawal at a stale position, would void changes that
    // other admins had completed (a removal, a burn notice).
    std::map<std::size_t, std::vector<std::size_t>> withdrawals;  // proposal → withdrawals
    for (std::size_t i = 0; i < m_ops.size(); ++i)
        if (in(set, i) && m_ops[i].body.has_approval() && m_ops[i].body.approval().withdraw())
            if (auto p = proposal_of(m_ops[i])) withdrawals[*p].push_back(i);
    for (std::size_t i = 0; i < m_ops.size(); ++i) {
        if (!in(set, i)) continue;
        const auto& op = m_ops[i];
        if (is_proposal(op)) {
            if (m_needed[i] <= 1)
                f.effect.emplace(i, i);
            else
                f.pending[i] = {op.author};
        } else if (op.body.has_approval()) {
            auto p = proposal_of(op);
            if (!p || op.body.approval().withdraw()) continue;
            auto it = f.pending.find(*p);
            if (it == f.pending.end()) continue;  // not in the set, or complete already
            if (auto w = withdrawals.find(*p);
                w != withdrawals.end() && std::any_of(w->second.begin(), w->second.end(),
                                                      [&](std::size_t x) { return reaches(i, x); }))
                continue;  // written after its proposer withdrew it
            auto& approvers = it->second;
            if (std::find(approvers.begin(), approvers.end(), op.author) != approvers.end())
                continue;
            approvers.push_back(op.author);
            if (approvers.size() >= m_needed[*p]) {
                f.effect.emplace(*p, i);
                f.pending.erase(it);
            }
        }
    }
    // Still waiting and withdrawn: no longer listed as waiting.
    for (const auto& [p, ws] : withdrawals)
        if (f.pending.erase(p) > 0) f.withdrawn.insert(p);
    for (const auto& [p, e] : f.effect) by_point.emplace(e, p);
    std::vector<std::pair<std::size_t, std::size_t>> removes;  // (removal, point of effect)
    for (const auto& [p, e] : f.effect)
        if (is_kind(m_ops[p], pb::MembershipOp::REMOVE)) removes.emplace_back(p, e);
    std::optional<std::size_t> relay_list;  // the settings op whose relay list is kept
    for (std::size_t at = 0; at < m_ops.size(); ++at) {
        if (!in(set, at)) continue;
        std::size_t i = at;
        if (is_proposal(m_ops[at]) || m_ops[at].body.has_approval()) {
            // A proposal acts where it takes effect, and is re-checked there.
            auto eff = by_point.find(at);
            if (eff == by_point.end()) continue;
            i = eff->second;
        }
        const auto& op = m_ops[i];
        if (op.body.has_membership()) {
            const auto& m = op.body.membership();
            auto who = target_of(op);
            switch (m.kind()) {
                case pb::MembershipOp::ADD: {
                    // A re-add concurrent with a removal of the same member loses to it (each
                    // judged at its point of effect). An add of a member is a no-op.
                    if (at != i && f.members.contains(who)) break;
                    bool loses = std::any_of(removes.begin(), removes.end(), [&](const auto& r) {
                        return target_of(m_ops[r.first]) == who && !reaches(at, r.second) &&
                               !reaches(r.second, at);
                    });
                    if (!loses)
                        f.members[who] = Member{who, to_array<32>(as_bytes(m.member_box_key())),
                                                m.display_name(), m.role() == pb::ROLE_ADMIN};
                    break;
                }
                case pb::MembershipOp::REMOVE:
                    if (leaves_too_few_admins(f, op)) {
                        f.idle.insert(i);
                        break;
                    }
                    f.members.erase(who);
                    break;
                case pb::MembershipOp::SET_ROLE:
                    if (leaves_too_few_admins(f, op)) {
                        f.idle.insert(i);
                        break;
                    }
                    if (auto it = f.members.find(who); it != f.members.end())
                        it->second.admin = m.role() == pb::ROLE_ADMIN;
                    break;
                default:
                    break;
            }
        } else if (op.body.has_rotation()) {
            f.rotations.push_back(i);
        } else if (op.body.has_key_update()) {
            // The latest on the member's own chain wins whatever order they are folded in; on a
            // fork (two at one seq) the smaller record id, so every member picks the same.
            auto it = f.members.find(op.author);
            if (it == f.members.end()) continue;
            auto& named = it->second.named;
            if (named.empty()) named.push_back(it->second.box);  // the add's key
            const auto key = to_array<32>(as_bytes(op.body.key_update().box_key()));
            if (std::find(named.begin(), named.end(), key) != named.end()) continue;
            named.push_back(key);
            if (op.seq > it->second.box_seq ||
                (op.seq == it->second.box_seq && op.id < it->second.box_record)) {
                it->second.box = key;
                it->second.box_seq = op.seq;
                it->second.box_record = op.id;
            }
        } else if (op.body.has_settings()) {
            const auto& s = op.body.settings();
            if (!s.name().empty()) f.name = s.name();
            if (s.set_relays()) {
                f.relays.assign(s.relays().begin(), s.relays().end());
                f.relay_alternates.assign(s.relay_alternates().begin(), s.relay_alternates().end());
                relay_list = i;
                f.relays_set = true;
                RelayChange change{op.id, op.author, f.relays, {}};
                change.addresses.insert(change.addresses.end(), f.relay_alternates.begin(),
                                        f.relay_alternates.end());
                change.retired.assign(s.relay_retired().begin(), s.relay_retired().end());
                f.relay_changes.push_back(std::move(change));
            }
            if (s.set_retention()) {
                f.retention_seconds = s.retention_seconds();
                f.retention_settings.emplace_back(op.id, s.retention_seconds());
            }
            if (s.set_tor_only()) f.tor_only = s.tor_only();
            if (s.set_quorum()) f.quorum = s.quorum();
            if (s.set_rekey_interval()) f.rekey_interval_seconds = s.rekey_interval_seconds();
        }
    }
    if (relay_list) drop_retired(f, set, *relay_list);
    for (auto i : f.idle) f.effect.erase(i);
    return f;
}

void GroupState::drop_retired(Fold& f, const Bits& set, std::size_t list) const {
    // What another record in the set retired stays retired unless the list's own record has
    // seen that one (an admin listing an address again after its retirement).
    std::set<std::string> retired;
    for (std::size_t r = 0; r < m_ops.size(); ++r) {
        if (r == list || !in(set, r) || in(m_anc[list], r) || !m_ops[r].body.has_settings())
            continue;
        const auto& s = m_ops[r].body.settings();
        if (s.set_relays()) retired.insert(s.relay_retired().begin(), s.relay_retired().end());
    }
    if (retired.empty()) return;
    std::erase_if(f.relay_alternates, [&](const std::string& a) { return retired.contains(a); });
    // A retired first address gives way to the relay's next one still listed; a relay with
    // none left goes.
    std::vector<std::string> relays;
    for (const auto& r : f.relays) {
        if (!retired.contains(r)) {
            relays.push_back(r);
            continue;
        }
        auto parsed = transport::Address::parse(r);
        if (!parsed) continue;
        auto next = std::find_if(f.relay_alternates.begin(), f.relay_alternates.end(),
                                 [&](const std::string& a) {
                                     auto other = transport::Address::parse(a);
                                     return other && other->key == parsed->key;
                                 });
        if (next == f.relay_alternates.end()) continue;
        relays.push_back(*next);
        f.relay_alternates.erase(next);
    }
    f.relays = std::move(relays);
}

std::set<EpochId> GroupState::frontier_of(const Fold& f) const {
    std::set<EpochId> out;
    for (std::size_t r : f.rotations) {
        bool superseded = std::any_of(f.rotations.begin(), f.rotations.end(),
                                      [&](std::size_t other) { return in(m_anc[other], r); });
        if (!superseded) out.insert(m_ops[r].id);
    }
    if (out.empty()) out.insert(m_genesis.group_id);
    return out;
}

bool GroupState::on_chain_before(const RecordId& id, std::uint64_t seq, const pb::MembershipOp& cut,
                                 const MemberKey& author) const {
    if (!cut.has_cutoff() || cut.cutoff_seq() == 0 || seq > cut.cutoff_seq()) return false;
    const RecordId start = to_array<32>(as_bytes(cut.cutoff().id()));
    // Walk the author's own chain back from the cutoff, once for every record checked against
    // it. A link we cannot read (a late joiner's horizon) ends the walk: then the record is
    // treated as not covered.
    auto& walk = m_walks[{start, cut.cutoff_seq(), author}];
    if (walk.ids.empty()) walk.ids.push_back(start);
    const auto want = cut.cutoff_seq() - seq;
    while (walk.ids.size() <= want && !walk.ended) {
        const auto cur_seq = cut.cutoff_seq() - (walk.ids.size() - 1);
        auto link = m_chain ? m_chain(walk.ids.back()) : std::nullopt;
        if (!link || link->author != author || link->seq != cur_seq || !link->prev) {
            walk.ended = true;
            break;
        }
        walk.ids.push_back(*link->prev);
    }
    return want < walk.ids.size() && walk.ids[want] == id;
}

GroupState::Bits GroupState::ancestors_of(std::span<const RecordId> heads, bool* complete) const {
    Bits b((m_ops.size() + 63) / 64 + 1, 0);
    *complete = true;
    for (const auto& h : heads) {
        auto it = m_index.find(key_of(h));
        if (it == m_index.end()) {
            *complete = false;
            continue;
        }
        for (std::size_t w = 0; w < b.size(); ++w) b[w] |= m_anc[it->second][w];
        set(b, it->second);
    }
    return b;
}

const GroupState::Position* GroupState::at(std::span<const RecordId> heads) const {
    std::vector<RecordId> key(heads.begin(), heads.end());
    std::sort(key.begin(), key.end());
    if (auto it = m_positions.find(key); it != m_positions.end())
        return it->second ? &*it->second : nullptr;
    bool complete = false;
    Bits b = ancestors_of(key, &complete);
    std::optional<Position> pos;
    if (complete) {
        for (std::size_t i = 0; i < m_ops.size(); ++i)
            if (in(b, i) && m_status[i] != OpStatus::valid)
                b[i / 64] &= ~(std::uint64_t{1} << (i % 64));
        Fold f = fold(b);
        pos = Position{std::move(f.members), frontier_of(f)};
    }
    auto& slot = m_positions[key];
    slot = std::move(pos);
    return slot ? &*slot : nullptr;
}

bool GroupState::burn_spares(std::size_t i, std::size_t notice, std::size_t effect) const {
    const auto& op = m_ops[i];
    // Written after the notice took effect: the author is no member there, so it is invalid
    // anyway (§5.3).
    if (in(m_anc[i], effect)) return true;
    const auto& m = m_ops[notice].body.membership();
    // An approval of a proposal its proposer withdrew, written without having seen the
    // withdrawal: dropped even when the notice has seen it. Otherwise a seized admin's copy,
    // approving from a stale position, completes a change its proposer took back, and the notice
    // — written once the damage is seen, so having seen it — would leave it standing (§5.10).
    if (op.body.has_approval() && !op.body.approval().withdraw())
        if (auto p = proposal_of(op))
            for (std::size_t w = 0; w < m_ops.size(); ++w) {
                const auto& wop = m_ops[w];
                if (m_status[w] != OpStatus::invalid && wop.body.has_approval() &&
                    wop.body.approval().withdraw() && proposal_of(wop) == p &&
                    wop.author == m_ops[*p].author && !in(m_anc[i], w))
                    return false;
            }
    if (in(m_anc[notice], i)) {
        // In the notice's causal past: it stands, unless a detention time is given and the
        // record is later on the member's chain than the notice's cutoff, is stamped after that
        // time, or has a control record stamped after it among its ancestors.
        const std::int64_t at = m.compromised_at_ms();
        if (at == 0) return true;
        // The membership changes, approvals and rotations the notice has seen stand whatever
        // the time: the notice's own standing (its author's add, role and epoch) and that of
        // the members it was built among rest on them. A seized device's change of that kind
        // between the time and the notice stands until removed by ordinary means (§5.11).
        if (op.body.has_membership() || op.body.has_approval() || op.body.has_rotation())
            return true;
        if (op.seq > m.cutoff_seq() || op.body.wall_clock_ms() > at) return false;
        for (std::size_t j = 0; j < i; ++j)
            if (in(m_anc[i], j) && m_ops[j].body.wall_clock_ms() > at) return false;
        return true;
    }
    // Not seen by the notice, whatever time it claims: dropped — except a removal of the
    // notice's author (or of its completing approver) that has not seen the notice (mutual
    // removals remove both, §5.11); a removal of anyone else is the seized device's like the
    // rest.
    return is_kind(op, pb::MembershipOp::REMOVE) && !in(m_anc[i], notice) &&
           exempt_from_strong_remove(op.body, notice, effect);
}

bool GroupState::burned(const Bits& set, const MemberKey& who) const {
    for (std::size_t i = 0; i < m_ops.size(); ++i)
        if (in(set, i) && is_burn(m_ops[i]) && target_of(m_ops[i]) == who) return true;
    return false;
}

bool GroupState::burned(const MemberKey& who) const {
    if (is_member(who)) return false;
    for (const auto& [p, e] : m_final.effect)
        if (m_status[p] == OpStatus::valid && is_burn(m_ops[p]) && target_of(m_ops[p]) == who)
            return true;
    return false;
}

bool GroupState::exempt_from_strong_remove(const pb::RecordBody& body, std::size_t removal,
                                           std::size_t effect) const {
    const pb::MembershipOp* m = nullptr;
    if (body.has_membership()) {
        m = &body.membership();
    } else if (body.has_approval() && !body.approval().withdraw()) {
        auto it = m_index.find(body.approval().proposal().id());
        if (it != m_index.end() && m_ops[it->second].body.has_membership())
            m = &m_ops[it->second].body.membership();
    }
    if (!m || m->kind() != pb::MembershipOp::REMOVE) return false;
    const auto target = to_array<32>(as_bytes(m->member()));
    return target == m_ops[removal].author || target == m_ops[effect].author;
}

std::optional<std::size_t> GroupState::proposal_of(const ControlRecord& approval) const {
    const auto& ref = approval.body.approval().proposal().id();
    if (ref.size() != 32) return std::nullopt;
    auto it = m_index.find(ref);
    if (it == m_index.end()) return std::nullopt;
    return it->second;
}

std::vector<std::pair<std::size_t, std::size_t>> GroupState::removals_of(
    const MemberKey& who) const {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (const auto& [r, e] : m_final.effect)
        if (m_status[r] == OpStatus::valid && is_kind(m_ops[r], pb::MembershipOp::REMOVE) &&
            target_of(m_ops[r]) == who)
            out.emplace_back(r, e);
    return out;
}

std::vector<Proposal> GroupState::pending() const {
    std::vector<Proposal> out;
    for (const auto& [i, approvers] : m_final.pending) {
        const auto& op = m_ops[i];
        if (burned(op.author)) continue;  // a burned proposer's: no approval counts now
        Proposal p;
        p.id = op.id;
        p.proposer = op.author;
        p.approvers = approvers;
        p.needed = m_needed[i];
        if (op.body.has_membership()) {
            p.target = target_of(op);
            switch (op.body.membership().kind()) {
                case pb::MembershipOp::REMOVE:
                    p.kind = Proposal::Kind::remove;
                    break;
                case pb::MembershipOp::SET_ROLE:
                    p.kind = Proposal::Kind::set_role;
                    break;
                default:
                    p.kind = Proposal::Kind::add;
                    break;
            }
        } else {
            p.kind = Proposal::Kind::quorum;
            p.quorum = op.body.settings().quorum();
        }
        out.push_back(std::move(p));
    }
    return out;
}

bool GroupState::pending(const RecordId& op) const {
    auto it = m_index.find(key_of(op));
    return it != m_index.end() && m_final.pending.contains(it->second) &&
           !burned(m_ops[it->second].author);
}

bool GroupState::withdrawn(const RecordId& op) const {
    auto it = m_index.find(key_of(op));
    return it != m_index.end() && m_final.withdrawn.contains(it->second);
}

bool GroupState::effective(const RecordId& op) const {
    auto it = m_index.find(key_of(op));
    if (it == m_index.end() || m_status[it->second] != OpStatus::valid) return false;
    return !is_proposal(m_ops[it->second]) || m_final.effect.contains(it->second);
}

bool GroupState::dropped(const MemberKey& author, const RecordId& id, std::uint64_t seq,
                         std::span<const RecordId> heads, const pb::RecordBody* body) const {
    auto removals = removals_of(author);
    if (removals.empty()) return false;
    bool complete = false;
    Bits b = ancestors_of(heads, &complete);
    const bool removal =
        body && body->has_membership() && body->membership().kind() == pb::MembershipOp::REMOVE;
    for (auto [r, e] : removals) {
        if (in(b, e)) continue;  // written after learning of the removal: judged by membership
        const auto& cut = m_ops[r].body.membership();
        if (cut.compromised()) {
            // A burn notice spares only a removal of its author concurrent with it, and what its
            // cutoff covers.
            if (removal && !in(b, r) && exempt_from_strong_remove(*body, r, e)) continue;
        } else if (body && exempt_from_strong_remove(*body, r, e)) {
            continue;
        }
        if (!on_chain_before(id, seq, cut, author)) return true;
    }
    return false;
}

bool GroupState::is_admin(const MemberKey& k) const {
    auto it = m_final.members.find(k);
    return it != m_final.members.end() && it->second.admin;
}

std::uint32_t GroupState::admin_count() const {
    return static_cast<std::uint32_t>(std::count_if(m_final.members.begin(), m_final.members.end(),
                                                    [](const auto& m) { return m.second.admin; }));
}

const EpochInfo* GroupState::epoch(const EpochId& id) const {
    auto it = m_epochs.find(id);
    return it == m_epochs.end() ? nullptr : &it->second;
}

std::vector<const EpochInfo*> GroupState::frontier() const {
    std::vector<const EpochInfo*> out;
    for (const auto& id : m_frontier)
        if (auto* e = epoch(id)) out.push_back(e);
    return out;
}

bool GroupState::tainted(const EpochId& id) const {
    const auto* e = epoch(id);
    if (!e) return true;
    std::set<MemberTag> current;
    for (const auto& [k, m] : m_final.members) current.insert(member_tag(k));
    return std::any_of(e->holders.begin(), e->holders.end(),
                       [&](MemberTag t) { return !current.contains(t); });
}

std::optional<EpochId> GroupState::writer_epoch(const MemberKey& me) const {
    for (const auto& id : m_frontier) {  // std::set: ascending id order
        const auto* e = epoch(id);
        if (e && !tainted(id) && e->holders.contains(member_tag(me))) return id;
    }
    return std::nullopt;
}

std::string GroupState::rotation_needed(const MemberKey& me) const {
    if (!is_admin(me)) return {};
    auto w = writer_epoch(me);
    if (!w) {
        bool all_tainted = std::all_of(m_frontier.begin(), m_frontier.end(),
                                       [&](const EpochId& id) { return tainted(id); });
        return all_tainted ? KOLOKOL_TEXT("a removed member still holds the current key")
                           : std::string{};
    }
    const auto* e = epoch(*w);
    for (const auto& [k, m] : m_final.members)
        if (!e->holders.contains(member_tag(k)))
            return KOLOKOL_TEXT("a member lacks the current key");
    // A member who replaced their key since the epoch's rotation (§5.13): its grant went to a
    // key they mean to erase, and a copy of their old keys still opens it.
    std::vector<RecordId> heads;
    if (auto it = m_index.find(key_of(e->rotation)); it != m_index.end())
        heads = m_ops[it->second].heads;
    else if (e->rotation != RecordId{})
        return {};
    if (const auto* pos = at(heads))
        for (const auto& [k, m] : m_final.members)
            if (auto then = pos->members.find(k);
                then != pos->members.end() && then->second.box != m.box)
                return KOLOKOL_TEXT("a member replaced their key");
    return {};
}

bool GroupState::key_forked(const MemberKey& who) const {
    std::set<std::uint64_t> seqs;
    for (std::size_t i = 0; i < m_ops.size(); ++i)
        if (m_status[i] == OpStatus::valid && m_ops[i].body.has_key_update() &&
            m_ops[i].author == who && !seqs.insert(m_ops[i].seq).second)
            return true;
    return false;
}

std::vector<RecordId> GroupState::heads() const {
    const std::size_t n = m_ops.size();
    std::vector<bool> has_child(n, false);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
            if (in(m_anc[i], j)) has_child[j] = true;
    std::vector<RecordId> out;
    for (std::size_t i = 0; i < n; ++i)
        if (!has_child[i]) out.push_back(m_ops[i].id);
    return out;
}

bool GroupState::holds(const RecordId& op) const {
    return m_index.contains(key_of(op));
}

std::optional<std::string> GroupState::refuses_admission(const RecordId& add, const MemberKey& who,
                                                         const MemberKey& inviter) const {
    auto it = m_index.find(key_of(add));
    if (it == m_index.end()) return "the add record it names is not held";
    const std::size_t i = it->second;
    const auto& op = m_ops[i];
    if (!is_kind(op, pb::MembershipOp::ADD) || target_of(op) != who)
        return "the record it names is not an add of you";
    if (m_status[i] != OpStatus::valid)
        return "the add record it names is void (its author was not an admin there)";
    if (!m_final.effect.contains(i))
        return "the add record it names is still waiting for approvals";
    for (auto [r, e] : removals_of(who))
        if (in(m_anc[e], i)) return "you were removed after the add record it names";
    if (!is_member(who)) return "you are not a member (a removal won over the add)";
    if (op.author != inviter && !is_admin(inviter))
        return "it is signed by someone who neither wrote the add record nor is an admin";
    return std::nullopt;
}

const ControlRecord* GroupState::admitting_add(const MemberKey& who) const {
    for (std::size_t i = m_ops.size(); i-- > 0;) {
        const auto& op = m_ops[i];
        if (m_status[i] != OpStatus::valid || !is_kind(op, pb::MembershipOp::ADD) ||
            target_of(op) != who)
            continue;
        if (!refuses_admission(op.id, who, op.author)) return &op;
    }
    return nullptr;
}

bool GroupState::precedes(const RecordId& earlier, const RecordId& later) const {
    auto e = m_index.find(key_of(earlier));
    auto l = m_index.find(key_of(later));
    return e != m_index.end() && l != m_index.end() && e->second != l->second &&
           in(m_anc[l->second], e->second);
}

OpStatus GroupState::status(const RecordId& op) const {
    auto it = m_index.find(key_of(op));
    return it == m_index.end() ? OpStatus::invalid : m_status[it->second];
}

}  // namespace kolokol::core
