#pragma once
// Control records built by hand for tests of the group fold (docs/design.md §5): the state is a
// pure function of its control records, so a test says exactly which record reaches which, what
// time each claims, and folds them with GroupState::compute.

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "group_state.hpp"

namespace kolokol::test::dag {

using core::ControlRecord;
using core::GenesisInfo;
using core::GroupState;
using core::MemberKey;
using core::RecordId;

inline MemberKey key(std::uint8_t n) {
    MemberKey k{};
    k[0] = n;
    k[31] = n;
    return k;
}
// A created the group; the others are whom the tests add.
inline const MemberKey A = key(1), B = key(2), C = key(3), D = key(4), M = key(5), X = key(6);

struct Dag {
    GenesisInfo genesis;
    std::vector<ControlRecord> ops;
    std::map<MemberKey, std::uint64_t> seqs;

    Dag() {
        genesis.group_id = key(200);
        genesis.creator = A;
        genesis.creator_name.assign(1, 'A');
    }
    // A record by `author` claiming `wall_ms`, whose control heads are `heads` (every maximal
    // record when not given: a writer who has seen everything).
    RecordId write(const MemberKey& author, pb::RecordBody body, std::int64_t wall_ms = 1000,
                   std::optional<std::vector<RecordId>> heads = std::nullopt) {
        ControlRecord op;
        op.author = author;
        op.seq = ++seqs[author];
        op.epoch = genesis.group_id;
        op.heads = heads ? *heads : state().heads();
        std::uint64_t lamport = 0;
        for (const auto& h : op.heads)
            for (const auto& o : ops)
                if (o.id == h) lamport = std::max(lamport, o.lamport);
        op.lamport = lamport + 1;
        op.id = key(static_cast<std::uint8_t>(100 + ops.size()));
        op.id[1] = static_cast<std::uint8_t>(ops.size());
        op.body = std::move(body);
        op.body.set_wall_clock_ms(wall_ms);
        ops.push_back(op);
        return op.id;
    }
    RecordId write(const MemberKey& author, pb::RecordBody body, std::vector<RecordId> heads) {
        return write(author, std::move(body), 1000, std::move(heads));
    }
    GroupState state() const { return GroupState::compute(genesis, ops, nullptr); }
};

inline pb::RecordBody add(const MemberKey& who, bool admin) {
    pb::RecordBody b;
    auto* m = b.mutable_membership();
    m->set_kind(pb::MembershipOp::ADD);
    m->set_member(to_string(who));
    m->set_member_box_key(std::string(32, 'b'));
    m->set_display_name("someone");
    m->set_role(admin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER);
    return b;
}
inline pb::RecordBody remove(const MemberKey& who) {
    pb::RecordBody b;
    b.mutable_membership()->set_kind(pb::MembershipOp::REMOVE);
    b.mutable_membership()->set_member(to_string(who));
    return b;
}
inline pb::RecordBody set_role(const MemberKey& who, bool admin) {
    pb::RecordBody b;
    b.mutable_membership()->set_kind(pb::MembershipOp::SET_ROLE);
    b.mutable_membership()->set_member(to_string(who));
    b.mutable_membership()->set_role(admin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER);
    return b;
}
// A demotion of `who` to member, with no cutoff: every record of theirs concurrent with it goes.
inline pb::RecordBody demote(const MemberKey& who) {
    return set_role(who, false);
}
// A burn notice of `who` whose cutoff is their record `cut` at `cut_seq` (none when 0).
inline pb::RecordBody burn(const MemberKey& who, std::uint64_t cut_seq = 0,
                           const RecordId& cut = {}, std::int64_t at_ms = 0) {
    auto b = remove(who);
    auto* m = b.mutable_membership();
    m->set_compromised(true);
    m->set_compromised_at_ms(at_ms);
    if (cut_seq > 0) {
        m->mutable_cutoff()->set_id(to_string(cut));
        m->mutable_cutoff()->set_epoch_id(std::string(32, '\0'));
        m->set_cutoff_seq(cut_seq);
    }
    return b;
}
inline pb::RecordBody retention(std::uint64_t seconds) {
    pb::RecordBody b;
    b.mutable_settings()->set_set_retention(true);
    b.mutable_settings()->set_retention_seconds(seconds);
    return b;
}
inline pb::RecordBody quorum(std::uint32_t k) {
    pb::RecordBody b;
    b.mutable_settings()->set_set_quorum(true);
    b.mutable_settings()->set_quorum(k);
    return b;
}
inline pb::RecordBody approve(const RecordId& proposal) {
    pb::RecordBody b;
    b.mutable_approval()->mutable_proposal()->set_id(to_string(proposal));
    b.mutable_approval()->mutable_proposal()->set_epoch_id(std::string(32, '\0'));
    return b;
}
// The proposer takes a waiting proposal back (§5.10).
inline pb::RecordBody withdraw(const RecordId& proposal) {
    auto b = approve(proposal);
    b.mutable_approval()->set_withdraw(true);
    return b;
}

}  // namespace kolokol::test::dag
