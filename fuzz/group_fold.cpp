// The group fold (core/src/group_state.cpp): GroupState::compute over control records whose
// shape the input chooses. Every member's device folds whatever control records other members
// sign — an informer's, a seized admin's, a removed member's — so the fold must survive any DAG
// of well-formed records: adds, removals, burn notices with and without a detention time,
// role changes, quorum changes, approvals (of anything, also of themselves), rotations with any
// set of grants, settings, key updates, forked chains and heads that name records out of order.
//
// The input is read six bytes per record (at most 48 records):
//   0: author (low 3 bits, of 6 keys; key 0 created the group) and kind (high 5 bits): add,
//      remove, burn notice, role, quorum, approval, rotation, settings, key update, relays
//   1: target member, approved record, quorum or grant mask, by kind
//   2: control heads: a mask over the 8 records written just before (0 = the genesis position)
//   3: the epoch written in: the genesis, or one of the rotations written so far
//   4: flags: role admin, grants_epoch, cutoff, fork the author's chain, a Lamport clock that
//      is not 1 + the heads' highest
//   5: claimed wall time (and the detention time of a burn notice)
// Besides surviving, the fold must not depend on the order or repetition of its records, and
// the state it reports must agree with itself (a waiting proposal is valid and not in effect;
// an admin is a member). A violation aborts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "group_state.hpp"

using namespace kolokol;
using namespace kolokol::core;

namespace {

constexpr std::size_t kKeys = 6;
constexpr std::size_t kMaxOps = 48;

MemberKey key(std::size_t n) {
    MemberKey k{};
    k[0] = static_cast<std::uint8_t>(n + 1);
    k[31] = static_cast<std::uint8_t>(n + 1);
    return k;
}

void check(bool ok) {
    if (!ok) std::abort();
}

struct Built {
    GenesisInfo genesis;
    std::vector<ControlRecord> ops;
    std::map<RecordId, ChainLink> links;
};

Built build(const std::uint8_t* data, std::size_t size) {
    Built out;
    out.genesis.group_id = key(200);
    out.genesis.creator = key(0);
    out.genesis.creator_name = "creator";
    std::map<MemberKey, std::pair<std::uint64_t, std::optional<RecordId>>> chains;
    std::vector<std::size_t> rotations;
    for (std::size_t at = 0; at + 6 <= size && out.ops.size() < kMaxOps; at += 6) {
        const std::uint8_t* b = data + at;
        ControlRecord op;
        op.author = key(b[0] % kKeys);
        const unsigned kind = (b[0] >> 3) % 11;
        const MemberKey target = key(b[1] % kKeys);
        const bool flag_admin = b[4] & 1, flag_grants = b[4] & 2, flag_cutoff = b[4] & 4,
                   flag_fork = b[4] & 8, flag_lamport = b[4] & 16;
        // Heads: a subset of the last 8 records.
        std::uint64_t lamport = 0;
        for (std::size_t i = 0; i < 8 && i < out.ops.size(); ++i) {
            if (!((b[2] >> i) & 1)) continue;
            const auto& h = out.ops[out.ops.size() - 1 - i];
            op.heads.push_back(h.id);
            lamport = std::max(lamport, h.lamport);
        }
        op.lamport = flag_lamport ? b[5] % 16 : lamport + 1;
        op.epoch = out.genesis.group_id;
        if (b[3] != 0 && !rotations.empty())
            op.epoch = out.ops[rotations[b[3] % rotations.size()]].id;
        auto& chain = chains[op.author];
        if (!flag_fork || chain.first == 0) ++chain.first;
        op.seq = chain.first;
        op.id = key(100);
        op.id[1] = static_cast<std::uint8_t>(out.ops.size());
        op.id[2] = b[0];
        op.body.set_wall_clock_ms(static_cast<std::int64_t>(b[5]) * 1000);
        auto membership = [&](pb::MembershipOp::Kind k) {
            auto* m = op.body.mutable_membership();
            m->set_kind(k);
            m->set_member(to_string(target));
            return m;
        };
        switch (kind) {
            case 0:
            case 1: {
                auto* m = membership(pb::MembershipOp::ADD);
                m->set_member_box_key(std::string(32, static_cast<char>(b[1])));
                m->set_display_name("member");
                m->set_role(flag_admin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER);
                m->set_grants_epoch(flag_grants);
                break;
            }
            case 2:
            case 3: {
                auto* m = membership(pb::MembershipOp::REMOVE);
                const auto& tc = chains[target];
                if (flag_cutoff && tc.second) {
                    m->mutable_cutoff()->set_id(to_string(*tc.second));
                    m->set_cutoff_seq(tc.first);
                }
                if (kind == 3) {
                    m->set_compromised(true);
                    if (flag_grants)
                        m->set_compromised_at_ms(static_cast<std::int64_t>(b[5]) * 500);
                }
                break;
            }
            case 4: {
                auto* m = membership(pb::MembershipOp::SET_ROLE);
                m->set_role(flag_admin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER);
                const auto& tc = chains[target];
                if (flag_cutoff && tc.second) {
                    m->mutable_cutoff()->set_id(to_string(*tc.second));
                    m->set_cutoff_seq(tc.first);
                }
                break;
            }
            case 5: {
                auto* s = op.body.mutable_settings();
                s->set_set_quorum(true);
                s->set_quorum(1 + b[1] % 4);
                break;
            }
            case 6: {
                if (out.ops.empty()) {
                    op.body.mutable_settings()->set_name("first");
                    break;
                }
                const auto& p = out.ops[b[1] % out.ops.size()];
                op.body.mutable_approval()->mutable_proposal()->set_id(to_string(p.id));
                op.body.mutable_approval()->mutable_proposal()->set_epoch_id(to_string(p.epoch));
                break;
            }
            case 7: {
                auto* r = op.body.mutable_rotation();
                for (std::size_t k = 0; k < kKeys; ++k) {
                    if (!((b[1] >> k) & 1)) continue;
                    auto* g = r->add_grants();
                    g->set_member_tag(to_string(key(k)).substr(0, 8));
                    g->set_sealed_secret(std::string(80, 's'));
                }
                rotations.push_back(out.ops.size());
                break;
            }
            case 8: {
                auto* s = op.body.mutable_settings();
                s->set_name(flag_admin ? "renamed" : "");
                s->set_set_retention(flag_grants);
                s->set_retention_seconds(b[1]);
                s->set_set_tor_only(flag_cutoff);
                s->set_tor_only(b[1] & 1);
                break;
            }
            case 9: {
                op.body.mutable_key_update()->set_box_key(std::string(32, static_cast<char>(b[1])));
                break;
            }
            default: {
                auto* s = op.body.mutable_settings();
                s->set_set_relays(true);
                s->add_relays(b[1] & 1 ? "kolokol://a:1/k1" : "kolokol://b:2/k2");
                if (flag_admin) s->add_relay_retired("kolokol://a:1/k1");
                break;
            }
        }
        ChainLink link;
        link.author = op.author;
        link.seq = op.seq;
        link.prev = chain.second;
        out.links[op.id] = link;
        chain.second = op.id;
        out.ops.push_back(std::move(op));
    }
    return out;
}

struct Summary {
    std::vector<std::tuple<MemberKey, bool, crypto::BoxPublicKey>> members;
    std::uint32_t quorum = 0;
    std::string name;
    std::vector<std::string> relays;
    std::vector<OpStatus> status;
    std::vector<RecordId> pending;
    std::vector<RecordId> frontier;
    std::vector<RecordId> heads;
    bool operator==(const Summary&) const = default;
};

Summary summarize(const GroupState& g, const std::vector<ControlRecord>& ops) {
    Summary s;
    for (const auto& [k, m] : g.members()) s.members.emplace_back(k, m.admin, m.box);
    s.quorum = g.quorum();
    s.name = g.name();
    s.relays = g.relays();
    for (const auto& op : ops) s.status.push_back(g.status(op.id));
    for (const auto& p : g.pending()) s.pending.push_back(p.id);
    for (const auto* e : g.frontier()) s.frontier.push_back(e->id);
    s.heads = g.heads();
    std::sort(s.heads.begin(), s.heads.end());
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Built built = build(data, size);
    ChainLookup chain = [&](const RecordId& id) -> std::optional<ChainLink> {
        auto it = built.links.find(id);
        if (it == built.links.end()) return std::nullopt;
        return it->second;
    };
    auto g = GroupState::compute(built.genesis, built.ops, chain);
    auto first = summarize(g, built.ops);

    // The same records reversed, each twice: the same state.
    std::vector<ControlRecord> again(built.ops.rbegin(), built.ops.rend());
    again.insert(again.end(), built.ops.begin(), built.ops.end());
    auto g2 = GroupState::compute(built.genesis, std::move(again), chain);
    check(summarize(g2, built.ops) == first);

    // The state agrees with itself.
    for (const auto& p : g.pending()) {
        check(g.status(p.id) == OpStatus::valid);
        check(g.pending(p.id) && !g.effective(p.id));
        check(p.needed >= 1 && p.approvers.size() < p.needed);
    }
    for (const auto& [k, m] : g.members()) check(g.is_member(k) && g.is_admin(k) == m.admin);

    // The queries every caller makes, at every record's position.
    for (const auto& op : built.ops) {
        (void)g.at(op.heads);
        (void)g.dropped(op.author, op.id, op.seq, op.heads, &op.body);
        if (op.body.has_membership() && op.body.membership().kind() == pb::MembershipOp::ADD)
            (void)g.refuses_admission(op.id, to_array<32>(as_bytes(op.body.membership().member())),
                                      op.author);
    }
    for (std::size_t k = 0; k < kKeys; ++k) {
        (void)g.writer_epoch(key(k));
        (void)g.rotation_needed(key(k));
        (void)g.admitting_add(key(k));
    }
    return 0;
}
