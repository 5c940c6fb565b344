// The group fold (GroupState::compute, docs/design.md §5.2–5.13): the time to fold a group's
// control records, which every member's device does again whenever a control record arrives.
// Two histories per size:
//   honest: a group that grows to `members` members (a third admins, quorum 2), with adds that
//     wait for an approval, rotations, settings changes and key updates;
//   hostile: the same, plus a removed admin's seized copy that keeps writing control records
//     (adds, demotions, approvals, settings) at the position it had before its removal — records
//     every member stores and the fold drops (§5.4).
// Prints JSON: milliseconds per fold (wall and this thread's CPU) for each count of records.
// Usage: bench_group_fold [max records] [runs]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "group_state.hpp"
#include "kolokol/crypto/init.hpp"

using namespace kolokol;
using namespace kolokol::core;
using Clock = std::chrono::steady_clock;

namespace {

double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

MemberKey key(std::size_t n) {
    MemberKey k{};
    k[0] = static_cast<std::uint8_t>(n & 0xff);
    k[1] = static_cast<std::uint8_t>(n >> 8);
    k[31] = 0x5a;
    return k;
}

struct History {
    GenesisInfo genesis;
    std::vector<ControlRecord> ops;
    std::map<MemberKey, std::uint64_t> seqs;
    std::vector<RecordId> heads;  // the honest writers' heads: the last record
    std::uint64_t lamport = 0;
    EpochId epoch{};

    History() {
        genesis.group_id = key(60000);
        genesis.creator = key(0);
        genesis.creator_name = "creator";
        epoch = genesis.group_id;
    }
    RecordId write(const MemberKey& author, pb::RecordBody body,
                   const std::vector<RecordId>* at = nullptr, std::uint64_t at_lamport = 0) {
        ControlRecord op;
        op.author = author;
        op.seq = ++seqs[author];
        op.heads = at ? *at : heads;
        op.lamport = (at ? at_lamport : lamport) + 1;
        op.epoch = epoch;
        op.id = key(ops.size() + 1);
        op.id[2] = static_cast<std::uint8_t>(ops.size() >> 16);
        op.id[3] = 0xc0;
        op.body = std::move(body);
        op.body.set_wall_clock_ms(1000 + static_cast<std::int64_t>(ops.size()));
        if (!at) {
            heads = {op.id};
            lamport = op.lamport;
        }
        ops.push_back(op);
        return op.id;
    }
};

pb::RecordBody membership(pb::MembershipOp::Kind kind, const MemberKey& who, bool admin) {
    pb::RecordBody b;
    auto* m = b.mutable_membership();
    m->set_kind(kind);
    m->set_member(to_string(who));
    if (kind == pb::MembershipOp::ADD) {
        m->set_member_box_key(std::string(32, 'b'));
        m->set_display_name("member");
    }
    m->set_role(admin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER);
    return b;
}
pb::RecordBody approval(const RecordId& p, const EpochId& e) {
    pb::RecordBody b;
    b.mutable_approval()->mutable_proposal()->set_id(to_string(p));
    b.mutable_approval()->mutable_proposal()->set_epoch_id(to_string(e));
    return b;
}

// An honest history of about `target` records; with `hostile`, a fifth of them are the removed
// admin's, written at its old position.
History build(std::size_t target, bool hostile) {
    History h;
    const MemberKey creator = key(0), second = key(1), seized = key(2);
    h.write(creator, membership(pb::MembershipOp::ADD, second, true));
    h.write(creator, membership(pb::MembershipOp::ADD, seized, true));
    {
        pb::RecordBody q;
        q.mutable_settings()->set_set_quorum(true);
        q.mutable_settings()->set_quorum(2);
        auto id = h.write(creator, q);
        h.write(second, approval(id, h.epoch));
    }
    std::vector<MemberKey> members = {creator, second, seized};
    // The seized admin's position: before its removal.
    const auto seized_heads = h.heads;
    const auto seized_lamport = h.lamport;
    const auto seized_epoch = h.epoch;
    {
        pb::RecordBody burn = membership(pb::MembershipOp::REMOVE, seized, false);
        burn.mutable_membership()->set_compromised(true);
        auto id = h.write(creator, burn);
        h.write(second, approval(id, h.epoch));
        std::erase(members, seized);
    }
    std::size_t next = 3;
    std::size_t hostile_written = 0;
    while (h.ops.size() < target) {
        const std::size_t step = h.ops.size();
        if (hostile && hostile_written * 5 < h.ops.size()) {
            // The seized copy at its old position: adds of outsiders, approvals, settings.
            auto b = step % 3 == 0   ? membership(pb::MembershipOp::ADD, key(30000 + step), true)
                     : step % 3 == 1 ? membership(pb::MembershipOp::SET_ROLE, second, false)
                                     : [] {
                                           pb::RecordBody s;
                                           s.mutable_settings()->set_name("taken");
                                           return s;
                                       }();
            const auto now = h.epoch;
            h.epoch = seized_epoch;
            h.write(seized, b, &seized_heads, seized_lamport);
            h.epoch = now;
            ++hostile_written;
            continue;
        }
        switch (step % 6) {
            case 0:
            case 1: {  // an add that waits for a second admin
                const MemberKey who = key(next++);
                const bool admin = next % 3 == 0;
                auto id = h.write(creator, membership(pb::MembershipOp::ADD, who, admin));
                h.write(second, approval(id, h.epoch));
                members.push_back(who);
                break;
            }
            case 2: {  // a rotation for every member
                pb::RecordBody r;
                for (const auto& m : members) {
                    auto* g = r.mutable_rotation()->add_grants();
                    g->set_member_tag(to_string(m).substr(0, 8));
                    g->set_sealed_secret(std::string(80, 's'));
                }
                h.epoch = h.write(second, r);
                break;
            }
            case 3: {  // a key update by a member
                pb::RecordBody k;
                k.mutable_key_update()->set_box_key(std::string(32, static_cast<char>(step)));
                h.write(members[step % members.size()], k);
                break;
            }
            default: {  // a settings change
                pb::RecordBody s;
                s.mutable_settings()->set_name("group " + std::to_string(step));
                h.write(creator, s);
                break;
            }
        }
    }
    return h;
}

nlohmann::json measure(std::size_t count, bool hostile, int runs) {
    auto h = build(count, hostile);
    double wall = 1e9, cpu = 1e9;
    std::size_t members = 0, dropped = 0;
    for (int r = 0; r < runs; ++r) {
        const auto t0 = Clock::now();
        const double c0 = cpu_now();
        auto g = GroupState::compute(h.genesis, h.ops, nullptr);
        cpu = std::min(cpu, cpu_now() - c0);
        wall = std::min(wall, std::chrono::duration<double>(Clock::now() - t0).count());
        members = g.members().size();
        dropped = 0;
        for (const auto& op : h.ops) dropped += g.status(op.id) == OpStatus::dropped;
    }
    return {{"records", h.ops.size()}, {"hostile", hostile},    {"members", members},
            {"dropped", dropped},      {"ms_wall", wall * 1e3}, {"ms_cpu", cpu * 1e3}};
}

}  // namespace

int main(int argc, char** argv) {
    crypto::init();
    const std::size_t max = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000;
    const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
    auto out = nlohmann::json::array();
    for (std::size_t n = 250; n <= max; n *= 2)
        for (bool hostile : {false, true}) out.push_back(measure(n, hostile, runs));
    std::printf(
        "%s\n",
        nlohmann::json{{"bench", "group_fold"}, {"runs", runs}, {"folds", out}}.dump(2).c_str());
    return 0;
}
