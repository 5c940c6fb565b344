// The burn notice (docs/design.md §5.11): a removal marked compromised. On the group state alone
// (control records built by hand, so every case says which record reaches which and what time
// it claims), then on nodes (content records, a back-dated clock, arrival after the fact).

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "control_dag.hpp"
#include "group_state.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/wall_clock.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;
using namespace kolokol::test::dag;

namespace {
// Admins A, B and X, member M, with quorum k (set while it was 1).
Dag group_with_x(std::uint32_t k) {
    Dag d;
    d.write(A, add(B, true));
    d.write(A, add(X, true));
    d.write(A, add(M, false));
    if (k > 1) d.write(A, quorum(k));
    return d;
}
}  // namespace

TEST_CASE("burn notice: a back-dated record written after it is dropped, whatever time it claims") {
    auto d = group_with_x(1);
    auto before = d.state().heads();
    auto early = d.write(X, add(D, false), 500);  // seen by the notice: stands
    auto notice = d.write(A, burn(X, 1, early), 2000);
    // The seized device, not having synced (or pretending not to), names old heads and an
    // early clock: the notice has not seen it, so it is dropped.
    auto backdated = d.write(X, retention(60), 100, before);
    auto s = d.state();
    CHECK(s.effective(notice));
    CHECK_FALSE(s.is_member(X));
    CHECK(s.status(early) == OpStatus::valid);
    CHECK(s.is_member(D));
    CHECK(s.status(backdated) == OpStatus::dropped);
    CHECK(s.retention_seconds() == 0);
    // A content record of X past the cutoff, at a position before the notice: dropped; the
    // cutoff itself survives.
    const RecordId old_heads[] = {before.front()};
    CHECK(s.dropped(X, key(90), 2, old_heads));
    CHECK_FALSE(s.dropped(X, early, 1, old_heads));
}

TEST_CASE("burn notice under a quorum counts from the proposal, not the completing approval") {
    // X sees the notice while it waits and hurries: a retention of one minute, an approval of
    // B's pending removal of M. B, having seen both, completes the notice. A plain removal
    // counts from B's approval, which has seen X's records: they would stand. The notice
    // counts from itself: they are dropped.
    for (bool as_burn : {false, true}) {
        CAPTURE(as_burn);
        auto d = group_with_x(2);
        auto rm_m = d.write(B, remove(M));
        auto notice = d.write(A, as_burn ? burn(X) : remove(X));
        auto x_retention = d.write(X, retention(60));
        auto x_approval = d.write(X, approve(rm_m));
        auto completing = d.write(B, approve(notice));
        auto s = d.state();
        CHECK(s.effective(notice));
        CHECK(s.effective(completing));
        CHECK_FALSE(s.is_member(X));
        if (as_burn) {
            CHECK(s.status(x_retention) == OpStatus::dropped);
            CHECK(s.status(x_approval) == OpStatus::dropped);
            CHECK(s.retention_seconds() == 0);
            CHECK(s.is_member(M));  // X's approval does not count
            CHECK(s.pending(rm_m));
        } else {
            CHECK(s.status(x_retention) == OpStatus::valid);
            CHECK(s.retention_seconds() == 60);
            CHECK_FALSE(s.is_member(M));
        }
    }
}

TEST_CASE("burn notice with a detention time drops what its past holds stamped after it") {
    auto d = group_with_x(1);
    auto x1 = d.write(X, add(D, false), 1000);   // before the detention: stands
    auto x2 = d.write(X, retention(60), 5000);   // stamped after it
    auto x3 = d.write(X, retention(120), 2000);  // back-dated, but after x2 on X's chain
    auto notice = d.write(A, burn(X, 1, x1, 4000), 9000);
    auto s = d.state();
    CHECK(s.effective(notice));
    CHECK(s.status(x1) == OpStatus::valid);
    CHECK(s.is_member(D));
    CHECK(s.status(x2) == OpStatus::dropped);
    CHECK(s.status(x3) == OpStatus::dropped);
    CHECK(s.retention_seconds() == 0);
}

TEST_CASE("burn notice with a detention time drops a record whose past holds a later stamp") {
    // The cutoff (as the proposer found it) covers everything here, so only the stamps decide:
    // X's record stamped early but written after B's record stamped after the detention is
    // dropped; X's record before it stands.
    auto d = group_with_x(1);
    auto x1 = d.write(X, retention(30), 1000);
    auto b_late = d.write(B, add(D, false), 5000);
    auto x2 = d.write(X, retention(60), 2000);  // its heads reach b_late
    auto notice = d.write(A, burn(X, 2, x2, 4000), 9000);
    auto s = d.state();
    CHECK(s.effective(notice));
    CHECK(s.status(x1) == OpStatus::valid);
    CHECK(s.status(b_late) == OpStatus::valid);
    CHECK(s.status(x2) == OpStatus::dropped);
    CHECK(s.retention_seconds() == 30);
    // Without the time, the same records stand.
    auto plain = group_with_x(1);
    plain.write(X, retention(30), 1000);
    plain.write(B, add(D, false), 5000);
    auto y2 = plain.write(X, retention(60), 2000);
    plain.write(A, burn(X, 2, y2), 9000);
    CHECK(plain.state().status(y2) == OpStatus::valid);
}

TEST_CASE("burn notice: the state does not depend on the order records are listed in") {
    auto d = group_with_x(2);
    auto before = d.state().heads();
    auto notice = d.write(A, burn(X));
    auto x_counter = d.write(X, remove(A), 10, before);
    d.write(X, retention(60), 10);
    d.write(B, approve(notice));
    auto reference = d.state();
    crypto::DeterministicRandom rng(7);
    for (int trial = 0; trial < 30; ++trial) {
        auto ops = d.ops;
        for (std::size_t i = ops.size(); i > 1; --i) std::swap(ops[i - 1], ops[rng.uniform(i)]);
        ops.push_back(ops[rng.uniform(ops.size())]);  // a duplicate
        auto s = GroupState::compute(d.genesis, ops, nullptr);
        CHECK(s.members().size() == reference.members().size());
        for (const auto& op : d.ops) CHECK(s.status(op.id) == reference.status(op.id));
        CHECK(s.retention_seconds() == 0);
        CHECK(s.status(x_counter) == OpStatus::valid);
        CHECK(s.is_member(A));
    }
}

TEST_CASE("burn notice: a counter-removal by the burned admin cannot undo it") {
    SUBCASE("quorum 2: concurrent or later, it never takes effect, nor can it be approved") {
        auto d = group_with_x(2);
        auto before = d.state().heads();
        auto notice = d.write(A, burn(X));
        auto concurrent = d.write(X, remove(A), 1000, before);
        auto later = d.write(X, remove(B));  // has seen the notice
        auto completing = d.write(B, approve(notice), 1000,
                                  std::vector<RecordId>{notice});  // has not seen X's records
        auto s = d.state();
        CHECK(s.effective(notice));
        CHECK(s.effective(completing));
        CHECK_FALSE(s.is_member(X));
        CHECK(s.is_admin(A));
        CHECK(s.is_admin(B));
        CHECK(s.status(concurrent) == OpStatus::valid);  // a removal the notice has not seen
        CHECK(s.status(later) == OpStatus::dropped);
        CHECK_FALSE(s.pending(concurrent));  // a burned admin's proposal is not listed
        CHECK(s.pending().empty());
        // An admin who approves it after the notice took effect approves nothing.
        auto mistaken = d.write(B, approve(concurrent));
        auto t = d.state();
        CHECK(t.status(mistaken) == OpStatus::invalid);
        CHECK(t.is_member(A));
    }
    SUBCASE("quorum 1: a concurrent counter-removal removes both; a later one is void") {
        auto d = group_with_x(1);
        auto before = d.state().heads();
        auto notice = d.write(A, burn(X));
        auto concurrent = d.write(X, remove(A), 1000, before);
        auto s = d.state();
        CHECK(s.effective(notice));
        CHECK(s.status(concurrent) == OpStatus::valid);
        CHECK_FALSE(s.is_member(X));
        CHECK_FALSE(s.is_member(A));  // mutual removal: both go
        CHECK(s.is_admin(B));         // the other admin stays, and may add A again
        auto readd = d.write(B, add(A, true));
        CHECK(d.state().effective(readd));
        CHECK(d.state().is_admin(A));

        auto e = group_with_x(1);
        auto notice2 = e.write(A, burn(X));
        auto later = e.write(X, remove(A));  // has seen the notice: X is no member there
        auto u = e.state();
        CHECK(u.effective(notice2));
        CHECK(u.status(later) == OpStatus::invalid);
        CHECK(u.is_member(A));
    }
}

TEST_CASE("burn notice: what a record it drops had dropped stands again") {
    SUBCASE("quorum 1: the burned admin's concurrent demotion of the notice's author") {
        for (bool with_notice : {true, false}) {
            CAPTURE(with_notice);
            auto d = group_with_x(1);
            auto before = d.state().heads();
            auto demotion = d.write(X, demote(A), 1000, before);
            auto notice = with_notice ? d.write(A, burn(X), 1000, before) : RecordId{};
            // A goes on from where she stands, not having seen the demotion.
            auto mine = with_notice ? std::vector<RecordId>{notice} : before;
            auto setting = d.write(A, retention(3600), 1000, mine);
            auto added = d.write(A, add(D, false), 1000, std::vector<RecordId>{setting});
            auto s = d.state();
            if (with_notice) {
                CHECK(s.status(demotion) == OpStatus::dropped);
                CHECK(s.status(setting) == OpStatus::valid);
                CHECK(s.status(added) == OpStatus::valid);
                CHECK(s.is_admin(A));
                CHECK(s.is_member(D));
                CHECK_FALSE(s.is_member(X));
                CHECK(s.retention_seconds() == 3600);
            } else {
                // Without the notice the demotion stands and drops what A wrote meanwhile.
                CHECK(s.status(demotion) == OpStatus::valid);
                CHECK(s.status(setting) == OpStatus::dropped);
                CHECK_FALSE(s.is_member(D));
                CHECK_FALSE(s.is_admin(A));
            }
        }
    }
    SUBCASE("quorum 2: the burned admin's approval completing another admin's demotion") {
        for (bool with_notice : {true, false}) {
            CAPTURE(with_notice);
            auto d = group_with_x(2);
            d.write(B, approve(d.write(A, add(D, true))));
            REQUIRE(d.state().is_admin(D));
            auto demotion = d.write(B, demote(D));
            auto settled = d.state().heads();
            auto setting = d.write(D, retention(3600), 1000, settled);  // not seeing the demotion
            auto notice = with_notice ? d.write(A, burn(X), 1000, settled) : RecordId{};
            auto approval = d.write(X, approve(demotion), 1000, settled);
            if (with_notice) d.write(B, approve(notice), 1000, std::vector<RecordId>{notice});
            auto s = d.state();
            if (with_notice) {
                CHECK(s.effective(notice));
                CHECK(s.status(approval) == OpStatus::dropped);
                CHECK(s.pending(demotion));
                CHECK(s.is_admin(D));
                CHECK(s.status(setting) == OpStatus::valid);
                CHECK(s.retention_seconds() == 3600);
            } else {
                CHECK(s.effective(demotion));
                CHECK_FALSE(s.is_admin(D));
                CHECK(s.status(setting) == OpStatus::dropped);
                CHECK(s.retention_seconds() == 0);
            }
        }
    }
    SUBCASE("mutual demotions concurrent with each other still void both") {
        auto d = group_with_x(1);
        auto before = d.state().heads();
        auto first = d.write(A, demote(B), 1000, before);
        auto second = d.write(B, demote(A), 1000, before);
        auto s = d.state();
        CHECK(s.status(first) == OpStatus::dropped);
        CHECK(s.status(second) == OpStatus::dropped);
        CHECK(s.is_admin(A));
        CHECK(s.is_admin(B));
    }
}

TEST_CASE("burn notice with two admins under a quorum of 2") {
    auto two = [] {
        Dag d;
        d.write(A, add(X, true));
        d.write(A, add(M, false));
        d.write(A, quorum(2));
        return d;
    };
    SUBCASE(
        "one admin's notice for the other waits, and the target's approval cannot complete it") {
        auto d = two();
        auto notice = d.write(A, burn(X));
        auto s = d.state();
        CHECK_FALSE(s.effective(notice));
        CHECK(s.pending(notice));
        CHECK(s.is_member(X));
        CHECK(s.is_admin(X));
        CHECK(s.is_admin(A));
        auto approval = d.write(X, approve(notice));
        s = d.state();
        CHECK(s.status(approval) != OpStatus::valid);
        CHECK_FALSE(s.effective(notice));
        CHECK(s.is_admin(X));
        // The seized device's notice for the honest admin waits the same way.
        auto theirs = d.write(X, burn(A));
        s = d.state();
        CHECK_FALSE(s.effective(theirs));
        CHECK(s.is_admin(A));
    }
    SUBCASE("a plain removal of the other admin still waits for both") {
        auto d = two();
        auto removal = d.write(A, remove(X));
        auto s = d.state();
        CHECK_FALSE(s.effective(removal));
        CHECK(s.pending(removal));
        CHECK(s.is_admin(X));
    }
    SUBCASE("a burn notice for a member still needs both admins") {
        auto d = two();
        auto notice = d.write(A, burn(M));
        CHECK_FALSE(d.state().effective(notice));
        CHECK(d.state().is_member(M));
    }
    SUBCASE("concurrent burn notices for each other both wait: nobody is removed") {
        auto d = two();
        auto before = d.state().heads();
        auto mine = d.write(A, burn(X), 1000, before);
        auto theirs = d.write(X, burn(A), 1000, before);
        auto s = d.state();
        CHECK_FALSE(s.effective(mine));
        CHECK_FALSE(s.effective(theirs));
        CHECK(s.is_admin(A));
        CHECK(s.is_admin(X));
        CHECK(s.is_member(M));
    }
}

TEST_CASE(
    "burn notice: an approval written in the epoch the burned admin rotated to completes it") {
    auto d = group_with_x(2);
    auto notice = d.write(A, burn(X));
    CHECK(d.state().pending(notice));
    // The seized device sees the notice and rotates; B, who takes that rotation's key, approves
    // the notice in its epoch. The notice drops the rotation: the approval must count anyway,
    // else the notice would void its own completion and the rounds alternate.
    pb::RecordBody rot;
    const auto members = d.state().members();
    for (const auto& [k, m] : members) {
        auto* g = rot.mutable_rotation()->add_grants();
        g->set_member_tag(std::string(as_chars(ByteView(k).first(8))));
        g->set_sealed_secret(std::string(80, 's'));
    }
    auto rotation = d.write(X, rot);
    REQUIRE(d.state().status(rotation) == OpStatus::valid);
    auto approval = d.write(B, approve(notice));
    d.ops.back().epoch = rotation;
    // A proposal that is not a burn notice, approved in that epoch, gets no such allowance.
    auto other = d.write(A, add(D, false), 1000, std::vector<RecordId>{notice});
    auto other_approval = d.write(B, approve(other));
    d.ops.back().epoch = rotation;
    auto s = d.state();
    CHECK(s.status(approval) == OpStatus::valid);
    CHECK(s.effective(notice));
    CHECK_FALSE(s.is_member(X));
    CHECK(s.status(rotation) != OpStatus::valid);
    CHECK(s.status(other_approval) != OpStatus::valid);
    CHECK_FALSE(s.is_member(D));
    CHECK(s.is_admin(A));
    CHECK(s.is_admin(B));
}

TEST_CASE("burn notice with three admins under a quorum of 3: the two others complete it") {
    auto d = group_with_x(3);
    // Under a quorum of 3 a plain removal of X waits for all three admins.
    CHECK_FALSE(d.state().effective(d.write(A, remove(X))));
    auto notice = d.write(A, burn(X));
    CHECK_FALSE(d.state().effective(notice));
    d.write(B, approve(notice));
    auto s = d.state();
    CHECK(s.effective(notice));
    CHECK_FALSE(s.is_member(X));
    CHECK(s.is_admin(A));
    CHECK(s.is_admin(B));
    CHECK(s.is_member(M));
}

TEST_CASE("burn notice on nodes: rotation, alert, and the seized copy's later posts refused") {
    TempDir dir;
    std::int64_t x_now = storage::wall_clock_ms();
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto m = make_node(dir.path() / "m", "Mila");
    auto x = make_node(dir.path() / "x", "Xenia");
    auto g = *a->create_group("G");
    for (auto [n, admin] :
         std::vector<std::pair<Node*, bool>>{{b.get(), true}, {m.get(), false}, {x.get(), true}}) {
        auto token = a->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    for (auto* from : {a.get(), b.get(), m.get(), x.get()})
        for (auto* to : {a.get(), b.get(), m.get(), x.get()})
            if (from != to) deliver(*from, *to);
    // The seized device runs on a clock of its own.
    x.reset();
    x = *Node::open(dir.path() / "x", as_bytes(kTestPassphrase), [&] { return x_now; });
    REQUIRE(x->post(g, "before the seizure").has_value());
    deliver(*x, *a);
    deliver(*x, *m);

    auto burned = a->burn_member(g, x->me(), 0, "Xenia's phone was taken");
    REQUIRE(burned.has_value());
    CHECK(burned->effective);
    auto alerts = a->alerts(g);
    REQUIRE(alerts.has_value());
    REQUIRE(alerts->size() == 1);
    CHECK(alerts->at(0).fields.at("text").value == "Xenia's phone was taken");
    CHECK(alerts->at(0).fields.at("urgency").value == "critical");
    CHECK(a->groups()[0].rotation_needed.empty());

    // The seized copy, not having heard of it, posts with a clock set back a day, and a
    // removal of Anna. Mila gets these first and shows the post; then the notice arrives.
    x_now -= 86'400'000;
    REQUIRE(x->post(g, "back-dated, after the seizure").has_value());
    REQUIRE(x->remove_member(g, a->me()).has_value());
    deliver(*x, *m);
    auto shown = texts(*m, g);
    CHECK(std::find(shown.begin(), shown.end(), "back-dated, after the seizure") != shown.end());
    deliver(*a, *m);
    deliver(*x, *b);
    deliver(*a, *b);
    for (auto* n : {a.get(), b.get(), m.get()}) {
        auto t = texts(*n, g);
        CHECK(std::find(t.begin(), t.end(), "before the seizure") != t.end());
        CHECK(std::find(t.begin(), t.end(), "back-dated, after the seizure") == t.end());
    }
    // Quorum 1: X's concurrent counter-removal removes Anna too (mutual removal); Boris stays
    // admin, and Mila and Boris agree.
    auto names = [&](Node& n) {
        std::vector<MemberKey> out;
        auto list = n.members(g);
        REQUIRE(list.has_value());
        for (const auto& v : *list) out.push_back(v.key);
        return out;
    };
    CHECK(names(*b) == names(*m));
    auto bm = names(*b);
    CHECK(std::find(bm.begin(), bm.end(), x->me()) == bm.end());
    CHECK(std::find(bm.begin(), bm.end(), b->me()) != bm.end());
}

TEST_CASE("burn notice on nodes under a quorum: waits, then the approval rotates and alerts") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto m = make_node(dir.path() / "m", "Mila");
    auto g = *a->create_group("G");
    for (auto [n, admin] :
         std::vector<std::pair<Node*, bool>>{{b.get(), true}, {c.get(), true}, {m.get(), false}}) {
        auto token = a->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    REQUIRE(a->set_quorum(g, 2).has_value());
    auto all = {a.get(), b.get(), c.get(), m.get()};
    for (auto* from : all)
        for (auto* to : all)
            if (from != to) deliver(*from, *to);
    auto self = a->burn_member(g, a->me());
    REQUIRE_FALSE(self.has_value());
    CHECK(self.error().code == CoreErrc::not_permitted);
    auto future = a->burn_member(g, c->me(), 4'000'000'000'000);
    REQUIRE_FALSE(future.has_value());
    CHECK(future.error().code == CoreErrc::bad_input);

    auto burned = a->burn_member(g, c->me());
    REQUIRE(burned.has_value());
    CHECK_FALSE(burned->effective);
    CHECK(burned->needed == 2);
    CHECK(burned->approvers == 1);
    CHECK(a->alerts(g)->empty());
    // Clara's device sees the notice waiting and proposes Anna's removal, then posts.
    deliver(*a, *c);
    REQUIRE(c->remove_member(g, a->me()).has_value());
    REQUIRE(c->post(g, "seen the notice, still posting").has_value());
    deliver(*c, *b);
    deliver(*a, *b);
    REQUIRE(b->approve(g, burned->notice).has_value());
    CHECK(b->alerts(g)->size() == 1);
    CHECK(b->pending(g)->empty());
    for (auto* from : all)
        for (auto* to : all)
            if (from != to) deliver(*from, *to);
    for (auto* n : {a.get(), b.get(), m.get()}) {
        auto members = n->members(g);
        REQUIRE(members.has_value());
        CHECK(members->size() == 3);
        for (const auto& v : *members) CHECK(v.key != c->me());
        auto t = texts(*n, g);
        CHECK(std::find(t.begin(), t.end(), "seen the notice, still posting") == t.end());
        CHECK(n->alerts(g)->size() == 1);
    }
}

TEST_CASE("burn notice with a detention time before the adds it was built among keeps them") {
    // X adds B (admin) and M after the detention time; B, having seen them, burns X with that
    // time. X's adds stand (the notice's own author rests on one), X's later setting does not.
    Dag d;
    d.genesis.creator = X;
    auto add_b = d.write(X, add(B, true), 5000);
    auto add_m = d.write(X, add(M, false), 5000);
    auto late = d.write(X, retention(60), 5000);
    auto notice = d.write(B, burn(X, 3, late, 4000), 9000);
    auto s = d.state();
    CHECK(s.effective(notice));
    CHECK(s.status(add_b) == OpStatus::valid);
    CHECK(s.status(add_m) == OpStatus::valid);
    CHECK(s.status(late) == OpStatus::dropped);
    CHECK(s.retention_seconds() == 0);
    CHECK_FALSE(s.is_member(X));
    CHECK(s.is_member(B));
    CHECK(s.is_admin(B));
    CHECK(s.is_member(M));
}

TEST_CASE("burn notice waiting under a quorum is listed as one, with its detention time") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto m = make_node(dir.path() / "m", "Mila");
    auto g = *a->create_group("G");
    for (auto [n, admin] :
         std::vector<std::pair<Node*, bool>>{{b.get(), true}, {c.get(), true}, {m.get(), false}}) {
        auto token = a->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    REQUIRE(a->set_quorum(g, 2).has_value());
    REQUIRE(a->burn_member(g, c->me()).has_value());
    REQUIRE(a->burn_member(g, m->me(), 978'307'200'000).has_value());
    REQUIRE(a->remove_member(g, m->me()).has_value());
    deliver(*a, *b);
    auto waiting = b->pending(g);
    REQUIRE(waiting.has_value());
    REQUIRE(waiting->size() == 3);
    for (const auto& p : *waiting) CHECK(p.kind == ProposalView::Kind::remove);
    CHECK(waiting->at(0).compromised);
    CHECK(waiting->at(0).compromised_at_ms == 0);
    CHECK(waiting->at(1).compromised);
    CHECK(waiting->at(1).compromised_at_ms == 978'307'200'000);
    CHECK_FALSE(waiting->at(2).compromised);
}

TEST_CASE("burn notice: records checked against one cutoff read each link of the chain once") {
    // X wrote a chain of 3,000 content records; the notice's cutoff is the last. Checking every
    // one of them (as ingest does for a flood, one record at a time) walks the chain back from
    // the cutoff once in all: 2,999 lookups, not one walk per record (about 4.5 million).
    constexpr std::uint64_t n = 3000;
    std::map<RecordId, ChainLink> chain;
    std::vector<RecordId> ids;
    for (std::uint64_t seq = 1; seq <= n; ++seq) {
        RecordId id{};
        id[0] = 0xc0;
        id[1] = static_cast<std::uint8_t>(seq >> 8);
        id[2] = static_cast<std::uint8_t>(seq);
        ChainLink link;
        link.author = X;
        link.seq = seq;
        if (!ids.empty()) link.prev = ids.back();
        chain[id] = link;
        ids.push_back(id);
    }
    std::size_t lookups = 0;
    ChainLookup lookup = [&](const RecordId& id) -> std::optional<ChainLink> {
        ++lookups;
        auto it = chain.find(id);
        if (it == chain.end()) return std::nullopt;
        return it->second;
    };
    auto d = group_with_x(1);
    auto before = d.state().heads();
    d.write(A, burn(X, n, ids.back()));
    auto s = GroupState::compute(d.genesis, d.ops, lookup);
    lookups = 0;
    // Latest first, as a flood arrives; each is covered by the cutoff, so none is dropped.
    for (std::uint64_t seq = n; seq >= 1; --seq)
        CHECK_FALSE(s.dropped(X, ids[seq - 1], seq, before));
    CHECK(lookups == n - 1);
    // A record at a covered seq that is not on the chain is dropped, and reads nothing more.
    RecordId forged{};
    forged[0] = 0xee;
    CHECK(s.dropped(X, forged, 17, before));
    CHECK(lookups == n - 1);
}
