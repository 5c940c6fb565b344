#pragma once
// The membership and epoch state of a group: a pure function of its control records
// (DESIGN §4 "Groups and epochs"). The rules, also stated in SECURITY.md:
//  - Only admins issue control records; each is checked against the state at its own causal
//    position (the control records its control_heads reach), never against "now".
//  - Strong remove: a record by X that is concurrent with (or after) an effective removal or
//    demotion of X is dropped, unless it lies on X's own chain at or before the cutoff the
//    remover named (X's latest record the remover had seen). Removals themselves are exempt, so
//    mutual removals remove both. What a dropped op did (e.g. an add) is void, and so is every
//    op that needed it. The drop set is grown to a fixed point, so the result does not depend on
//    the order records arrived in.
//  - A re-add concurrent with a removal of the same member loses to the removal.
//  - Quorum (K > 1): membership ops and quorum changes are proposals that take effect at the
//    approval completing max(1, min(K*, admins at the proposal's position)) distinct admins, K*
//    the highest of the quorum there and of every effective quorum change the proposal does not
//    follow; strong remove counts from that point of effect (docs/design.md §5.10).
//  - Burn notice (a removal marked compromised): strong remove counts from the notice itself,
//    also while it waits for approvals; every op of the member the notice has not seen is
//    dropped whatever time it claims, except a removal concurrent with the notice; with a
//    detention time, ops in its past stamped after it (or after an ancestor so stamped) or
//    later on the member's chain than its cutoff are dropped too (docs/design.md §5.11).
//  - Key updates (§5.13): any member at the record's position may write one, for itself; the
//    fold gives each member the key of their latest valid one (highest seq, then smaller id).
//  - Concurrent rotations are both valid; writers use the untainted one with the smaller id.
//    An epoch is tainted when someone who holds it is no longer a member; an admin who sees the
//    writer epoch tainted, or a member without it, rotates again.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "kolokol/core/types.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "record.pb.h"

namespace kolokol::core {

using MemberTag = std::uint64_t;  // first 8 bytes of an Ed25519 key, big-endian
MemberTag member_tag(const MemberKey& key);

struct ControlRecord {
    RecordId id{};
    MemberKey author{};
    std::uint64_t seq = 0;
    std::uint64_t lamport = 0;
    EpochId epoch{};
    std::vector<RecordId> heads;  // the record's control_heads
    pb::RecordBody body;
};

struct GenesisInfo {
    GroupId group_id{};
    MemberKey creator{};
    crypto::BoxPublicKey creator_box{};
    std::string creator_name;
};

struct Member {
    MemberKey key{};
    // The key rotation grants to this member are sealed to: that of their latest valid key
    // update (highest seq on their chain; on a fork the smaller record id), else their add's.
    crypto::BoxPublicKey box{};
    std::string name;
    bool admin = false;
    std::uint64_t box_seq = 0;  // seq of the key update that set `box` (0: the add)
    RecordId box_record{};      // that key update (zero: the add)
    // Every key this member has named in the fold (the add's, then each key update's): a key
    // update naming one again is void (§5.13), so a copy holding an old key's secret cannot
    // take the member's grants back to it.
    std::vector<crypto::BoxPublicKey> named;
};

struct EpochInfo {
    EpochId id{};
    EpochId parent{};     // the epoch the rotation was written in (itself for genesis)
    RecordId rotation{};  // zero for the genesis epoch
    std::set<MemberTag> holders;
};

struct ChainLink {
    MemberKey author{};
    std::uint64_t seq = 0;
    std::optional<RecordId> prev;
};
// Looks up any stored record (content or control) for walking an author's chain.
using ChainLookup = std::function<std::optional<ChainLink>(const RecordId&)>;

enum class OpStatus { valid, invalid, dropped };

// A valid membership op or quorum change still waiting for approvals (§5.10).
struct Proposal {
    enum class Kind { add, remove, set_role, quorum };
    RecordId id{};
    Kind kind = Kind::add;
    MemberKey target{};        // zero for a quorum change
    std::uint32_t quorum = 0;  // the quorum a quorum change sets
    MemberKey proposer{};
    std::vector<MemberKey> approvers;  // the proposer first, then in (Lamport, id) order
    std::uint32_t needed = 1;          // distinct admins it needs, the proposer included
};

class GroupState {
public:
    static GroupState compute(const GenesisInfo& genesis, std::vector<ControlRecord> records,
                              const ChainLookup& chain);

    const GenesisInfo& genesis() const { return m_genesis; }
    // Final state over every valid op.
    const std::map<MemberKey, Member>& members() const { return m_final.members; }
    bool is_member(const MemberKey& k) const { return m_final.members.contains(k); }
    bool is_admin(const MemberKey& k) const;
    std::uint32_t admin_count() const;
    const std::string& name() const { return m_final.name; }
    // One address per relay (the first the settings list for it), in the settings' order.
    const std::vector<std::string>& relays() const { return m_final.relays; }
    // More addresses of those relays (each with the key of one of them), in the order to try
    // them; checked at ingest (relay_list_problem).
    const std::vector<std::string>& relay_alternates() const { return m_final.relay_alternates; }
    // Whether a settings record set the relay list: from then on it is the list, also when
    // it is empty (a welcome token's relays are no longer used).
    bool relays_set() const { return m_final.relays_set; }
    // Every valid settings record that set the relay list, in the fold's order: what a member
    // holds back while its author's standing is not settled (Node::held_relays, §5.8).
    struct RelayChange {
        RecordId id{};
        MemberKey author{};
        std::vector<std::string> addresses;  // its relays, then their more addresses
        std::vector<std::string> retired;
    };
    const std::vector<RelayChange>& relay_changes() const { return m_final.relay_changes; }
    // Whether the held control record `earlier` is a causal ancestor of `later` (both held).
    bool precedes(const RecordId& earlier, const RecordId& later) const;
    bool tor_only() const { return m_final.tor_only; }
    std::uint64_t retention_seconds() const { return m_final.retention_seconds; }
    // The settings record that set the period (zero when none did), and the period it replaced
    // in the fold's order: while that record is not settled, deletion keeps to the longer of the
    // two (§13.8).
    // Every retention setting that took effect, in the fold's order: its record and period.
    const std::vector<std::pair<RecordId, std::uint64_t>>& retention_settings() const {
        return m_final.retention_settings;
    }
    // How often members write a key update (0 = never; §5.13).
    std::uint64_t rekey_interval_seconds() const { return m_final.rekey_interval_seconds; }
    // Whether `who`'s chain holds two valid key updates at the same seq: two devices sign with
    // their key (a copied store, §5.13).
    bool key_forked(const MemberKey& who) const;
    // Distinct admins a membership change or quorum change needs (1 unless set).
    std::uint32_t quorum() const { return m_final.quorum; }
    // The highest quorum a settings record set above the admins where it was written: void at
    // every member (§5.10), 0 if none. A group whose quorum was set that way before this rule
    // has quorum() below what its admins asked for, and is told so.
    std::uint32_t void_quorum() const { return m_void_quorum; }
    // The proposals waiting for approvals, in (Lamport, id) order.
    std::vector<Proposal> pending() const;
    // Whether `op` is a valid proposal still waiting for approvals.
    bool pending(const RecordId& op) const;
    // Whether `op` is valid and has taken effect (a proposal: its approvals are complete).
    bool effective(const RecordId& op) const;
    // Whether `op` is a proposal its proposer withdrew (§5.10).
    bool withdrawn(const RecordId& op) const;

    const EpochInfo* epoch(const EpochId& id) const;
    std::vector<const EpochInfo*> frontier() const;  // maximal valid epochs
    bool tainted(const EpochId& id) const;
    // The epoch to write in for `me`: the untainted frontier epoch I hold, smallest id first.
    std::optional<EpochId> writer_epoch(const MemberKey& me) const;
    // Why an admin should rotate now (empty when no rotation is needed).
    std::string rotation_needed(const MemberKey& me) const;

    // The maximal control records (valid or not): the control_heads of a new record.
    std::vector<RecordId> heads() const;

    OpStatus status(const RecordId& op) const;
    // Whether `op` is one of the control records this state was computed from.
    bool holds(const RecordId& op) const;
    // Whether the held control record `add` admits `who` now: a valid add of `who` that no valid
    // removal of them follows, `who` a member, and `inviter` (who signed the welcome token) its
    // author or an admin now. nullopt when it does, else why not (one line). A welcome token is
    // worth only what the add record it names is: this is how join() and ingest judge it.
    std::optional<std::string> refuses_admission(const RecordId& add, const MemberKey& who,
                                                 const MemberKey& inviter) const;
    // The add that admits `who` now (the latest valid one that no removal follows), or null.
    const ControlRecord* admitting_add(const MemberKey& who) const;
    const std::vector<ControlRecord>& records() const { return m_ops; }

    // State at a causal position given by control heads. nullopt if a head is unknown.
    struct Position {
        std::map<MemberKey, Member> members;
        std::set<EpochId> frontier;
    };
    const Position* at(std::span<const RecordId> heads) const;

    // Whether a record by `author` (id, seq) written at `heads` is void under strong remove.
    // With its `body`, a removal or an approval of one is spared as strong remove spares it
    // (a burn notice spares only a removal concurrent with it).
    bool dropped(const MemberKey& author, const RecordId& id, std::uint64_t seq,
                 std::span<const RecordId> heads, const pb::RecordBody* body = nullptr) const;

private:
    // Whether strong remove, for the removal or demotion `removal` that took effect at
    // `effect`, spares a record with this body: a removal of that removal's author or of the
    // author of its completing approval, or an approval of such a removal — so that mutual
    // removals remove both, also under a quorum. A removed admin's removal of anyone else is
    // dropped like his other records.
    bool exempt_from_strong_remove(const pb::RecordBody& body, std::size_t removal,
                                   std::size_t effect) const;
    struct Fold {
        std::map<MemberKey, Member> members;
        std::string name;
        std::vector<std::string> relays;
        std::vector<std::string> relay_alternates;
        bool relays_set = false;  // a settings record set the relay list (perhaps to none)
        std::vector<RelayChange> relay_changes;
        bool tor_only = false;
        std::uint64_t retention_seconds = 0;
        // Every retention setting applied, in order (Node::Impl::deleting_retention).
        std::vector<std::pair<RecordId, std::uint64_t>> retention_settings;
        std::uint64_t rekey_interval_seconds = 0;
        std::uint32_t quorum = 1;
        std::vector<std::size_t> rotations;  // valid rotation ops in the fold
        // Proposals waiting in the fold: index → approvers (the proposer first).
        std::map<std::size_t, std::vector<MemberKey>> pending;
        // Proposals that took effect: index → the op at which they did (the completing
        // approval, or the proposal itself when it needed one admin).
        std::map<std::size_t, std::size_t> effect;
        // Removals and demotions of an admin (not burn notices) that were complete but did
        // nothing, because they would have left fewer admins than the quorum (§5.10); not in
        // `effect`, so they drop nothing either.
        std::set<std::size_t> idle;
        // Proposals withdrawn by their proposer: never pending, never in effect.
        std::set<std::size_t> withdrawn;
    };
    using Bits = std::vector<std::uint64_t>;

    static bool leaves_too_few_admins(const Fold& f, const ControlRecord& op);
    Fold fold(const Bits& set) const;
    // Drops from `f`'s relay list (that of op `list`) the addresses other settings ops of `set`
    // retired that `list` has not seen.
    void drop_retired(Fold& f, const Bits& set, std::size_t list) const;
    std::set<EpochId> frontier_of(const Fold& f) const;
    bool on_chain_before(const RecordId& id, std::uint64_t seq, const pb::MembershipOp& cut,
                         const MemberKey& author) const;
    Bits ancestors_of(std::span<const RecordId> heads, bool* complete) const;
    bool in(const Bits& b, std::size_t i) const { return (b[i / 64] >> (i % 64)) & 1; }
    void set(Bits& b, std::size_t i) const { b[i / 64] |= std::uint64_t{1} << (i % 64); }
    bool reaches(std::size_t from, std::size_t to) const {
        return from == to || in(m_anc[from], to);
    }
    // Whether burn notice `notice` (effective at `effect`) spares op `i` of the member it
    // names (§5.11).
    bool burn_spares(std::size_t i, std::size_t notice, std::size_t effect) const;
    // Whether `set` holds a burn notice of `who`.
    bool burned(const Bits& set, const MemberKey& who) const;
    // Whether `who` is no member now and an effective burn notice names them.
    bool burned(const MemberKey& who) const;
    // The index of the proposal an approval names, if held.
    std::optional<std::size_t> proposal_of(const ControlRecord& approval) const;
    // Effective removals of `who`: (removal, its point of effect), for strong remove.
    std::vector<std::pair<std::size_t, std::size_t>> removals_of(const MemberKey& who) const;

    GenesisInfo m_genesis;
    std::vector<ControlRecord> m_ops;  // sorted by (lamport, id)
    std::unordered_map<std::string, std::size_t> m_index;
    std::vector<Bits> m_anc;  // strict control ancestors of each op
    std::vector<OpStatus> m_status;
    // Distinct admins op i needs to take effect: max(1, min(K*, admins at its position)) for a
    // proposal (K* as above), 1 for anything else.
    std::vector<std::uint32_t> m_needed;
    std::uint32_t m_void_quorum = 0;
    Fold m_final;
    std::map<EpochId, EpochInfo> m_epochs;  // valid epochs
    std::set<EpochId> m_frontier;
    ChainLookup m_chain;
    // An author's chain read back from a removal's cutoff (id at cutoff_seq - k at [k]), as far
    // as it was needed, keyed by the cutoff, its seq and the author: every record checked against
    // one cutoff shares one walk, so a flood of records costs each link one lookup, not one per
    // record (`dropped`, `on_chain_before`).
    struct ChainWalk {
        std::vector<RecordId> ids;
        bool ended = false;
    };
    mutable std::map<std::tuple<RecordId, std::uint64_t, MemberKey>, ChainWalk> m_walks;
    mutable std::map<std::vector<RecordId>, std::optional<Position>> m_positions;
};

}  // namespace kolokol::core
