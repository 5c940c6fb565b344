// K-of-N admin quorum (docs/design.md §5.10), on the group state alone: control records are
// built by hand (the state is a pure function of them), so every case says exactly which
// record reaches which.

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "control_dag.hpp"
#include "group_state.hpp"
#include "kolokol/crypto/random.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"
#include "records.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;
using namespace kolokol::test::dag;

namespace {
// A group of admins A, B, C and member M, with quorum k (set while it was 1).
Dag admins_abc(std::uint32_t k) {
    Dag d;
    d.write(A, add(B, true));
    d.write(A, add(C, true));
    d.write(A, add(M, false));
    d.write(A, quorum(k));
    return d;
}
}  // namespace

TEST_CASE("quorum 1: membership ops take effect at once, as before") {
    Dag d;
    auto add_b = d.write(A, add(B, false));
    auto s = d.state();
    CHECK(s.quorum() == 1);
    CHECK(s.is_member(B));
    CHECK(s.effective(add_b));
    CHECK_FALSE(s.pending(add_b));
    CHECK(s.pending().empty());
    // An approval of an op that needed none is void: nothing waits.
    auto ap = d.write(A, approve(add_b));
    CHECK(d.state().status(ap) == OpStatus::invalid);
}

TEST_CASE("quorum 2: an add takes effect at the second admin's approval") {
    auto d = admins_abc(2);
    CHECK(d.state().quorum() == 2);
    auto add_d = d.write(A, add(D, false));
    auto s = d.state();
    CHECK_FALSE(s.is_member(D));
    CHECK(s.status(add_d) == OpStatus::valid);
    CHECK(s.pending(add_d));
    CHECK_FALSE(s.effective(add_d));
    auto p = s.pending();
    REQUIRE(p.size() == 1);
    CHECK(p[0].id == add_d);
    CHECK(p[0].kind == Proposal::Kind::add);
    CHECK(p[0].target == D);
    CHECK(p[0].proposer == A);
    CHECK(p[0].approvers == std::vector<MemberKey>{A});
    CHECK(p[0].needed == 2);
    // A refusal names the wait, and admission waits for it.
    CHECK(s.refuses_admission(add_d, D, A).value_or("") ==
          "the add record it names is still waiting for approvals");

    auto ap = d.write(B, approve(add_d));
    s = d.state();
    CHECK(s.status(ap) == OpStatus::valid);
    CHECK(s.is_member(D));
    CHECK(s.effective(add_d));
    CHECK_FALSE(s.pending(add_d));
    CHECK(s.pending().empty());
    CHECK_FALSE(s.refuses_admission(add_d, D, A).has_value());
    // The approval came after the add, so D's position there does not hold them yet; one
    // written after the approval does.
    const RecordId before_heads[] = {add_d};
    CHECK_FALSE(s.at(before_heads)->members.contains(D));
    const RecordId after_heads[] = {ap};
    CHECK(s.at(after_heads)->members.contains(D));
    // A third approval is void: nothing waits any more.
    auto late = d.write(C, approve(add_d));
    CHECK(d.state().status(late) == OpStatus::invalid);
}

TEST_CASE("quorum 2: one admin alone changes nothing") {
    auto d = admins_abc(2);
    auto add_d = d.write(A, add(D, true));
    auto rm_m = d.write(A, remove(M));
    auto promote_m = d.write(A, set_role(M, true));
    auto demote_b = d.write(A, set_role(B, false));
    auto lower = d.write(A, quorum(1));
    // The proposer approving again, a non-admin, and an approval of nothing held: all void.
    auto again = d.write(A, approve(add_d));
    auto by_member = d.write(M, approve(rm_m));
    auto of_nothing = d.write(B, approve(key(77)));
    auto s = d.state();
    CHECK(s.status(again) == OpStatus::invalid);
    CHECK(s.status(by_member) == OpStatus::invalid);
    CHECK(s.status(of_nothing) == OpStatus::invalid);
    CHECK_FALSE(s.is_member(D));
    CHECK(s.is_member(M));
    CHECK_FALSE(s.is_admin(M));
    CHECK(s.is_admin(B));
    CHECK(s.quorum() == 2);
    for (const auto& id : {add_d, rm_m, promote_m, demote_b, lower}) {
        CHECK(s.status(id) == OpStatus::valid);
        CHECK(s.pending(id));
        CHECK_FALSE(s.effective(id));
    }
    CHECK(s.pending().size() == 5);
}

TEST_CASE("quorum 2: the same admin's approvals count once, also concurrent ones") {
    auto d = admins_abc(3);
    auto add_d = d.write(A, add(D, false));
    auto b1 = d.write(B, approve(add_d), std::vector<RecordId>{add_d});
    auto b2 = d.write(B, approve(add_d), std::vector<RecordId>{add_d});
    auto s = d.state();
    CHECK(s.status(b1) == OpStatus::valid);
    CHECK(s.status(b2) == OpStatus::valid);
    CHECK_FALSE(s.is_member(D));
    REQUIRE(s.pending().size() == 1);
    CHECK(s.pending()[0].approvers.size() == 2);
    // And one B writes having seen its own approval is void.
    auto b3 = d.write(B, approve(add_d));
    CHECK(d.state().status(b3) == OpStatus::invalid);
    d.write(C, approve(add_d));
    CHECK(d.state().is_member(D));
}

TEST_CASE("quorum: removal, demotion, promotion and a quorum change by two admins") {
    auto d = admins_abc(2);
    auto promote_m = d.write(A, set_role(M, true));
    d.write(C, approve(promote_m));
    CHECK(d.state().is_admin(M));
    auto rm_c = d.write(A, remove(C));
    d.write(M, approve(rm_c));
    CHECK_FALSE(d.state().is_member(C));
    auto lower = d.write(B, quorum(1));
    CHECK(d.state().quorum() == 2);
    auto ap = d.write(A, approve(lower));
    auto s = d.state();
    CHECK(s.quorum() == 1);
    CHECK(s.effective(lower));
    CHECK(s.effective(ap));
    auto add_d = d.write(A, add(D, false));
    CHECK(d.state().effective(add_d));
    CHECK(d.state().is_member(D));
}

TEST_CASE(
    "quorum above the number of admins: void where written; after a demotion the admins "
    "left are enough") {
    Dag d;
    d.write(A, add(B, true));
    // Two admins: a quorum of 3 is void, at every member.
    auto q3 = d.write(A, quorum(3));
    CHECK(d.state().status(q3) == OpStatus::invalid);
    CHECK(d.state().quorum() == 1);
    CHECK(d.state().void_quorum() == 3);  // what `sync` and `group quorum` warn of
    auto q2 = d.write(A, quorum(2));
    CHECK(d.state().effective(q2));
    CHECK(d.state().void_quorum() == 3);
    d.write(A, add(C, true));
    d.write(B, approve(d.state().pending().at(0).id));
    REQUIRE(d.state().is_admin(C));
    auto q = d.write(A, quorum(3));
    d.write(B, approve(q));
    REQUIRE(d.state().effective(q));
    CHECK(d.state().quorum() == 3);
    // All three demote C: that would leave two admins under a quorum of 3, so it does nothing,
    // and drops nothing of C's.
    auto demote = d.write(A, set_role(C, false));
    d.write(B, approve(demote));
    d.write(C, approve(demote));
    CHECK(d.state().is_admin(C));
    CHECK_FALSE(d.state().effective(demote));
    CHECK_FALSE(d.state().pending(demote));
    auto c_add = d.write(C, add(M, false));
    d.write(A, approve(c_add));
    d.write(B, approve(c_add));
    CHECK(d.state().is_member(M));
    // A burn notice is not held to it: A and B burn C, and the two admins left are enough.
    auto notice = d.write(A, burn(C));
    d.write(B, approve(notice));
    REQUIRE(d.state().effective(notice));
    REQUIRE_FALSE(d.state().is_member(C));
    auto add_d = d.write(A, add(D, false));
    auto s = d.state();
    REQUIRE(s.pending().size() == 1);
    CHECK(s.pending()[0].needed == 2);
    d.write(B, approve(add_d));
    CHECK(d.state().is_member(D));
}

TEST_CASE(
    "quorum: a removal or demotion that would leave fewer admins than the quorum does "
    "nothing") {
    // Quorum 2 with admins A and B: B steps down (both approve) — void in effect, so A is never
    // the only admin, and a copy of A's store cannot later write at a position where A alone
    // decides (tests/adversary/seized_admin_after_stepdown.sh). With C made an admin first, the
    // same demotion takes effect.
    Dag d;
    d.write(A, add(B, true));
    d.write(A, quorum(2));
    auto demote = d.write(A, set_role(B, false));
    d.write(B, approve(demote));
    auto s = d.state();
    CHECK(s.is_admin(B));
    CHECK_FALSE(s.effective(demote));
    auto rm = d.write(A, remove(B));
    d.write(B, approve(rm));
    CHECK(d.state().is_member(B));
    CHECK(d.state().is_admin(B));
    // A's add alone, at a position after the void demotion, waits for B.
    auto x = d.write(A, add(X, true));
    CHECK(d.state().pending(x));
    d.write(B, approve(x));
    REQUIRE(d.state().is_admin(X));
    auto again = d.write(A, set_role(B, false));
    d.write(X, approve(again));
    CHECK(d.state().effective(again));
    CHECK_FALSE(d.state().is_admin(B));
    CHECK(d.state().is_member(B));
}

TEST_CASE("quorum: the creator alone at the genesis position, the quorum record concurrent") {
    // A creates the group, makes B and C admins and M a member, and sets the quorum to 2. A
    // copy of A's store that drops every control record after the genesis writes there, where A
    // is the only admin: an add of X as an admin, an add of D, and a quorum of 1. The quorum
    // record is concurrent with them and held whole, not capped by the one admin there: each
    // waits for a second admin, in any order of arrival (SECURITY.md row 72).
    Dag d;
    d.write(A, add(B, true));
    d.write(A, add(C, true));
    d.write(A, add(M, false));
    auto q = d.write(A, quorum(2));
    const std::vector<RecordId> genesis{};
    auto add_x = d.write(A, add(X, true), genesis);
    auto add_d = d.write(A, add(D, false), genesis);
    auto lower = d.write(A, quorum(1), genesis);
    auto check = [&](const GroupState& s) {
        CHECK(s.effective(q));
        CHECK(s.quorum() == 2);
        for (const auto& id : {add_x, add_d, lower}) {
            CHECK(s.status(id) == OpStatus::valid);
            CHECK(s.pending(id));
            CHECK_FALSE(s.effective(id));
        }
        CHECK_FALSE(s.is_member(X));
        CHECK_FALSE(s.is_member(D));
        CHECK(s.is_admin(B));
        CHECK(s.is_admin(C));
    };
    check(d.state());
    crypto::DeterministicRandom rng(11);
    for (int trial = 0; trial < 20; ++trial) {
        auto ops = d.ops;
        for (std::size_t i = ops.size(); i > 1; --i) std::swap(ops[i - 1], ops[rng.uniform(i)]);
        check(GroupState::compute(d.genesis, ops, nullptr));
    }
}

TEST_CASE("quorum: an add and a removal re-checked where they take effect") {
    auto d = admins_abc(2);
    // Two concurrent adds of D: the one completed second finds D a member and does nothing.
    auto base = d.state().heads();
    auto add1 = d.write(A, add(D, false), base);
    auto add2 = d.write(B, add(D, true), base);
    d.write(C, approve(add1));
    auto s = d.state();
    CHECK(s.is_member(D));
    CHECK_FALSE(s.is_admin(D));
    CHECK(s.pending(add2));
    d.write(A, approve(add2));
    s = d.state();
    CHECK(s.effective(add2));
    CHECK_FALSE(s.is_admin(D));  // a no-op: the role stays the first add's
    // Two concurrent removals of M, both completed: M is gone, the second is a no-op.
    base = s.heads();
    auto rm1 = d.write(A, remove(M), base);
    auto rm2 = d.write(B, remove(M), base);
    d.write(C, approve(rm1));
    d.write(C, approve(rm2));
    s = d.state();
    CHECK(s.effective(rm1));
    CHECK(s.effective(rm2));
    CHECK_FALSE(s.is_member(M));
}

TEST_CASE(
    "quorum: concurrent approvals complete at the first in (Lamport, id) order, in any "
    "input order") {
    auto d = admins_abc(2);
    auto add_d = d.write(A, add(D, false));
    auto ap_b = d.write(B, approve(add_d), std::vector<RecordId>{add_d});
    auto ap_c = d.write(C, approve(add_d), std::vector<RecordId>{add_d});
    // D, once in, is removed by A and B concurrently with C's approval.
    auto rm_d = d.write(A, remove(D), std::vector<RecordId>{ap_b});
    auto ap_rm = d.write(B, approve(rm_d));
    auto reference = d.state();
    CHECK(reference.status(ap_rm) == OpStatus::valid);
    CHECK(reference.status(ap_b) == OpStatus::valid);
    CHECK(reference.status(ap_c) == OpStatus::valid);
    CHECK(reference.effective(add_d));
    CHECK(reference.effective(rm_d));
    CHECK_FALSE(reference.is_member(D));
    crypto::DeterministicRandom rng(20261207);
    for (int trial = 0; trial < 50; ++trial) {
        auto ops = d.ops;
        for (std::size_t i = ops.size(); i > 1; --i) std::swap(ops[i - 1], ops[rng.uniform(i)]);
        auto s = GroupState::compute(d.genesis, ops, nullptr);
        CHECK(s.members().size() == reference.members().size());
        for (const auto& op : d.ops) {
            CHECK(s.status(op.id) == reference.status(op.id));
            CHECK(s.effective(op.id) == reference.effective(op.id));
        }
        CHECK(s.heads() == reference.heads());
    }
}

TEST_CASE("quorum and strong remove: counted from the completing approval") {
    // A, B, X admins; quorum 2. A proposes X's removal and B completes it. X, having seen the
    // proposal but not B's approval, proposes to add D and approves a demotion of B: both
    // concurrent with the point of effect, both dropped. X's counter-removal of A is exempt
    // (removals are) but needs a second admin, so it never takes effect.
    Dag d;
    d.write(A, add(B, true));
    d.write(A, add(X, true));
    auto early = d.write(X, add(M, false));  // before everything below: stays
    d.write(A, quorum(2));
    auto demote_b = d.write(A, set_role(B, false));
    auto rm_x = d.write(A, remove(X));
    auto seen = d.state().heads();
    auto completing = d.write(B, approve(rm_x), seen);
    auto x_add = d.write(X, add(D, false), seen);
    auto x_approves = d.write(X, approve(demote_b), seen);
    auto x_counter = d.write(X, remove(A), seen);
    auto s = d.state();
    CHECK(s.effective(early));
    CHECK(s.is_member(M));
    CHECK(s.effective(rm_x));
    CHECK(s.effective(completing));
    CHECK_FALSE(s.is_member(X));
    CHECK(s.status(x_add) == OpStatus::dropped);
    CHECK(s.status(x_approves) == OpStatus::dropped);
    CHECK(s.is_admin(B));  // the demotion's only approval was dropped
    CHECK(s.status(x_counter) == OpStatus::valid);
    CHECK(s.pending(x_counter));
    CHECK(s.is_member(A));
    // A record of X written at a position that has seen the proposal but not its completion
    // is dropped; one written before the proposal with the approval having seen it is not.
    const RecordId seen_heads[] = {rm_x};
    CHECK(s.dropped(X, key(90), 9, seen_heads));
    const RecordId after[] = {completing};
    CHECK_FALSE(s.dropped(X, key(91), 10, after));
}

TEST_CASE("quorum: a proposal at a position before the quorum record waits for it") {
    // A, B, C admins, M a member; A sets the quorum to 2. C (seized) writes at a position
    // that has not seen the quorum record, where the quorum is 1: an add of X as an admin and
    // removals of A and B. The quorum record is concurrent with them, so they need 2 admins,
    // and A's quorum record is not dropped by a removal of A that never took effect.
    Dag d;
    d.write(A, add(B, true));
    d.write(A, add(C, true));
    auto add_m = d.write(A, add(M, false));
    auto q = d.write(A, quorum(2));
    const std::vector<RecordId> old{add_m};
    auto add_x = d.write(C, add(X, true), old);
    auto rm_a = d.write(C, remove(A), old);
    auto rm_b = d.write(C, remove(B), old);
    auto s = d.state();
    CHECK(s.status(q) == OpStatus::valid);
    CHECK(s.quorum() == 2);
    for (const auto& id : {add_x, rm_a, rm_b}) {
        CHECK(s.status(id) == OpStatus::valid);
        CHECK(s.pending(id));
        CHECK_FALSE(s.effective(id));
    }
    for (const auto& p : s.pending()) CHECK(p.needed == 2);
    CHECK_FALSE(s.is_member(X));
    CHECK(s.is_admin(A));
    CHECK(s.is_admin(B));
    // The same in any input order.
    crypto::DeterministicRandom rng(7);
    for (int trial = 0; trial < 20; ++trial) {
        auto ops = d.ops;
        for (std::size_t i = ops.size(); i > 1; --i) std::swap(ops[i - 1], ops[rng.uniform(i)]);
        auto t = GroupState::compute(d.genesis, ops, nullptr);
        CHECK(t.quorum() == 2);
        CHECK_FALSE(t.is_member(X));
        CHECK(t.is_admin(A));
    }
    // A second admin's approval still completes one.
    d.write(B, approve(add_x));
    s = d.state();
    CHECK(s.effective(add_x));
    CHECK(s.is_admin(X));
}

TEST_CASE("quorum: concurrent lowering is taken conservatively, sequential lowering applies") {
    // Quorum 3 with A, B, C. A proposes lowering to 2; B and C approve: in effect. An add B
    // proposed concurrently with the lowering still needs 3; one proposed after needs 2.
    auto d = admins_abc(3);
    auto base = d.state().heads();
    auto lower = d.write(A, quorum(2), base);
    auto concurrent = d.write(B, add(D, false), base);
    d.write(B, approve(lower), std::vector<RecordId>{lower});
    d.write(C, approve(lower));
    auto s = d.state();
    CHECK(s.effective(lower));
    CHECK(s.quorum() == 2);
    auto after = d.write(A, add(X, false));
    s = d.state();
    std::map<RecordId, std::uint32_t> needed;
    for (const auto& p : s.pending()) needed[p.id] = p.needed;
    CHECK(needed[concurrent] == 3);
    CHECK(needed[after] == 2);
    d.write(C, approve(after));
    CHECK(d.state().is_member(X));
}

TEST_CASE("quorum 2 on nodes: a proposed add admits the newcomer once approved") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto z = make_node(dir.path() / "z", "Zoya");
    auto g = *a->create_group("G");
    auto tb = a->add_member(g, card_to_text(b->card()), true, true);
    REQUIRE(tb.has_value());
    REQUIRE(b->join(*tb).has_value());
    REQUIRE(a->set_quorum(g, 2).has_value());
    deliver(*a, *b);
    REQUIRE(b->groups()[0].admission.empty());
    auto zero = b->set_quorum(g, 0);
    REQUIRE_FALSE(zero.has_value());
    CHECK(zero.error().code == CoreErrc::bad_input);

    // Anna's add only proposes: no rotation, and the token's add waits for Boris.
    auto tz = a->add_member(g, card_to_text(z->card()), false, false);
    REQUIRE(tz.has_value());
    CHECK(a->members(g)->size() == 2);
    CHECK(a->groups()[0].rotation_needed.empty());
    auto waiting = a->pending(g);
    REQUIRE(waiting.has_value());
    REQUIRE(waiting->size() == 1);
    CHECK(waiting->at(0).target == z->me());
    CHECK(waiting->at(0).needed == 2);
    REQUIRE(z->join(*tz).has_value());
    deliver(*a, *z);
    CHECK(z->groups()[0].admission.find("waiting") != std::string::npos);
    auto early = z->post(g, "too early");
    REQUIRE_FALSE(early.has_value());

    // Boris approves: Zoya is in, Boris's device rotates to give her a key of her own, and her
    // admission is confirmed once she has the records.
    deliver(*a, *b);
    auto not_waiting = b->approve(g, key(9));
    REQUIRE_FALSE(not_waiting.has_value());
    CHECK(not_waiting.error().code == CoreErrc::not_found);
    REQUIRE(b->approve(g, waiting->at(0).id).has_value());
    CHECK(b->members(g)->size() == 3);
    CHECK(b->groups()[0].rotation_needed.empty());
    CHECK(b->pending(g)->empty());
    deliver(*b, *z);
    CHECK(z->groups()[0].admission.empty());
    REQUIRE(z->post(g, "hello").has_value());
    deliver(*z, *a);
    CHECK(texts(*a, g).back() == "hello");
}

TEST_CASE("quorum 3 on nodes: an add completed by concurrent approvals carries objects") {
    // Boris and Carol approve Anna's add without seeing each other's approval: neither sees it
    // complete, so neither rotates. Anna's maintain, once she holds both, rotates for Zoya and
    // must copy the carried contact into the new epoch, as an approval that completes does.
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Carol");
    auto z = make_node(dir.path() / "z", "Zoya");
    auto g = *a->create_group("G");
    for (auto* n : {b.get(), c.get()}) {
        auto t = a->add_member(g, card_to_text(n->card()), true, true);
        REQUIRE(t.has_value());
        REQUIRE(n->join(*t).has_value());
    }
    REQUIRE(a->set_quorum(g, 3).has_value());
    ObjectEdit contact;
    contact.type = "contact";
    contact.set = {{"name", "Lawyer Ivanova"}};
    contact.carry = true;
    REQUIRE(a->object_change(g, contact).has_value());
    ObjectEdit other;
    other.type = "contact";
    other.set = {{"name", "Journalist Petrov"}};
    REQUIRE(a->object_change(g, other).has_value());

    auto tz = a->add_member(g, card_to_text(z->card()), false, false);
    REQUIRE(tz.has_value());
    auto waiting = a->pending(g);
    REQUIRE(waiting.has_value());
    REQUIRE(waiting->size() == 1);
    CHECK(waiting->at(0).needed == 3);
    deliver(*a, *b);
    deliver(*a, *c);
    REQUIRE(b->approve(g, waiting->at(0).id).has_value());
    REQUIRE(c->approve(g, waiting->at(0).id).has_value());
    CHECK(b->members(g)->size() == 3);
    CHECK(c->members(g)->size() == 3);
    deliver(*b, *a);
    deliver(*c, *a);
    CHECK(a->members(g)->size() == 4);
    CHECK(a->pending(g)->empty());
    REQUIRE_FALSE(a->groups()[0].rotation_needed.empty());
    auto done = a->maintain();
    REQUIRE(done.has_value());
    CHECK(done->size() == 1);
    CHECK(a->groups()[0].rotation_needed.empty());

    REQUIRE(z->join(*tz).has_value());
    deliver(*a, *z);
    CHECK(z->groups()[0].admission.empty());
    auto seen = z->objects(g, "contact");
    REQUIRE(seen.has_value());
    REQUIRE(seen->size() == 1);
    CHECK(seen->at(0).get("name") == "Lawyer Ivanova");
    // Existing members see the same contacts as before: the copy is no duplicate.
    deliver(*a, *b);
    CHECK(b->objects(g, "contact")->size() == 2);
}

namespace {
bool admin_at(Node& n, const GroupId& g, const MemberKey& who) {
    auto list = n.members(g);
    REQUIRE(list.has_value());
    for (const auto& mv : *list)
        if (mv.key == who) return mv.admin;
    return false;
}
bool member_at(Node& n, const GroupId& g, const MemberKey& who) {
    auto list = n.members(g);
    REQUIRE(list.has_value());
    return std::any_of(list->begin(), list->end(), [&](const auto& mv) { return mv.key == who; });
}
// Anna's group "G" with each of `others` added (admin or not) and joined, all records delivered.
GroupId group_of(Node& anna, std::initializer_list<std::pair<Node*, bool>> others) {
    auto g = anna.create_group("G");
    REQUIRE(g.has_value());
    for (auto [n, admin] : others) {
        auto t = anna.add_member(*g, card_to_text(n->card()), admin, true);
        REQUIRE(t.has_value());
        REQUIRE(n->join(*t).has_value());
    }
    for (auto [n, admin] : others) deliver(anna, *n);
    return *g;
}
}  // namespace

TEST_CASE("set_role at quorum 1: a promotion and a demotion take effect at once") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Carol");
    auto g = group_of(*a, {{b.get(), true}, {c.get(), false}});
    REQUIRE_FALSE(admin_at(*a, g, c->me()));

    // Carol, no admin, cannot change roles.
    auto refused = c->set_role(g, c->me(), true);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == CoreErrc::not_permitted);

    REQUIRE(a->set_role(g, c->me(), true).has_value());
    CHECK(admin_at(*a, g, c->me()));
    CHECK(a->pending(g)->empty());
    CHECK(a->groups()[0].rotation_needed.empty());
    auto again = a->set_role(g, c->me(), true);
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code == CoreErrc::exists);
    auto stranger = a->set_role(g, key(77), true);
    REQUIRE_FALSE(stranger.has_value());
    CHECK(stranger.error().code == CoreErrc::not_found);

    REQUIRE(a->set_role(g, b->me(), false).has_value());
    CHECK_FALSE(admin_at(*a, g, b->me()));
    CHECK(member_at(*a, g, b->me()));
    CHECK(a->groups()[0].rotation_needed.empty());
    auto twice = a->set_role(g, b->me(), false);
    REQUIRE_FALSE(twice.has_value());
    CHECK(twice.error().code == CoreErrc::exists);

    for (auto* n : {b.get(), c.get()}) {
        deliver(*a, *n);
        CHECK(admin_at(*n, g, c->me()));
        CHECK_FALSE(admin_at(*n, g, b->me()));
    }
    // Carol, now an admin, acts as one; Boris no longer does; Boris still writes messages.
    auto boris = b->set_role(g, b->me(), true);
    REQUIRE_FALSE(boris.has_value());
    CHECK(boris.error().code == CoreErrc::not_permitted);
    REQUIRE(b->post(g, "still here").has_value());
    REQUIRE(c->set_role(g, a->me(), false).has_value());
    deliver(*c, *a);
    CHECK_FALSE(admin_at(*a, g, a->me()));
    // The last admin cannot demote herself.
    auto last = c->set_role(g, c->me(), false);
    REQUIRE_FALSE(last.has_value());
    CHECK(last.error().code == CoreErrc::not_permitted);
    deliver(*b, *c);
    CHECK(texts(*c, g).back() == "still here");
}

TEST_CASE("set_role at quorum 2: a promotion waits for the second admin, in any arrival order") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Carol");
    auto d = make_node(dir.path() / "d", "Dmitri");
    auto g = group_of(*a, {{b.get(), true}, {c.get(), false}, {d.get(), false}});
    REQUIRE(a->set_quorum(g, 2).has_value());

    REQUIRE(a->set_role(g, c->me(), true).has_value());
    CHECK_FALSE(admin_at(*a, g, c->me()));
    auto waiting = a->pending(g);
    REQUIRE(waiting.has_value());
    REQUIRE(waiting->size() == 1);
    CHECK(waiting->at(0).kind == ProposalView::Kind::set_role);
    CHECK(waiting->at(0).target == c->me());
    CHECK(waiting->at(0).admin);
    CHECK(waiting->at(0).needed == 2);
    // Proposed once is enough: the same admin cannot approve their own proposal.
    auto own = a->approve(g, waiting->at(0).id);
    REQUIRE_FALSE(own.has_value());
    CHECK(own.error().code == CoreErrc::exists);

    deliver(*a, *b);
    deliver(*a, *c);
    CHECK_FALSE(admin_at(*b, g, c->me()));
    CHECK_FALSE(admin_at(*c, g, c->me()));
    REQUIRE(b->approve(g, waiting->at(0).id).has_value());
    CHECK(admin_at(*b, g, c->me()));
    CHECK(b->pending(g)->empty());

    // Carol gets Boris's records in order, Dmitri one at a time newest first, Anna in a batch.
    deliver(*b, *c);
    auto envs = all_envelopes(*b);
    std::reverse(envs.begin(), envs.end());
    for (auto& e : envs) {
        std::vector<Bytes> one{e};
        REQUIRE(d->ingest(one).has_value());
    }
    deliver(*b, *a);
    for (auto* n : {a.get(), b.get(), c.get(), d.get()}) {
        CHECK(admin_at(*n, g, c->me()));
        CHECK(n->pending(g)->empty());
    }
    // Carol now counts as an admin: her proposal waits for one more.
    REQUIRE(c->set_role(g, d->me(), true).has_value());
    CHECK_FALSE(admin_at(*c, g, d->me()));
    CHECK(c->pending(g)->size() == 1);
}

TEST_CASE("set_role at quorum 2: one admin alone cannot demote another") {
    // Three admins (Anna, Boris, Dora): a demotion leaving two stands once approved; with two
    // admins it would do nothing (test "a removal or demotion that would leave fewer admins …").
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Carol");
    auto d = make_node(dir.path() / "d", "Dora");
    auto g = group_of(*a, {{b.get(), true}, {c.get(), false}, {d.get(), true}});
    REQUIRE(a->set_quorum(g, 2).has_value());
    REQUIRE(a->set_role(g, b->me(), false).has_value());
    CHECK(admin_at(*a, g, b->me()));
    REQUIRE(a->pending(g)->size() == 1);
    for (auto* n : {b.get(), c.get()}) {
        deliver(*a, *n);
        CHECK(admin_at(*n, g, b->me()));
        CHECK(n->pending(g)->size() == 1);
    }
    // Boris is still an admin: his own proposal is valid and waits, as Anna's does.
    REQUIRE(b->set_role(g, c->me(), true).has_value());
    CHECK(b->pending(g)->size() == 2);
    deliver(*b, *c);
    CHECK(admin_at(*c, g, b->me()));
    CHECK_FALSE(admin_at(*c, g, c->me()));
}

TEST_CASE("set_role and remove at quorum 2: refused when they would leave one admin") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Carol");
    auto g = group_of(*a, {{b.get(), true}, {c.get(), false}});
    REQUIRE(a->set_quorum(g, 2).has_value());
    auto demote = a->set_role(g, b->me(), false);
    REQUIRE_FALSE(demote.has_value());
    CHECK(demote.error().code == CoreErrc::not_permitted);
    auto remove = a->remove_member(g, b->me());
    REQUIRE_FALSE(remove.has_value());
    CHECK(remove.error().code == CoreErrc::not_permitted);
    CHECK(a->pending(g)->empty());
    // A member who is no admin can still be removed: the admins stay two.
    REQUIRE(a->remove_member(g, c->me()).has_value());
    CHECK(a->pending(g)->size() == 1);
}

TEST_CASE("set_role: a demoted admin's concurrent add is void at every member") {
    // Anna demotes Boris while Boris, not having seen it, adds Zoya: strong remove (§5.4) drops
    // Boris's add wherever both records are held, and Zoya's token is refused.
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Carol");
    auto z = make_node(dir.path() / "z", "Zoya");
    auto g = group_of(*a, {{b.get(), true}, {c.get(), false}});
    deliver(*b, *a);

    REQUIRE(a->set_role(g, b->me(), false).has_value());
    auto tz = b->add_member(g, card_to_text(z->card()), false, false);
    REQUIRE(tz.has_value());
    CHECK(member_at(*b, g, z->me()));
    REQUIRE(z->join(*tz).has_value());

    deliver(*a, *b);
    deliver(*b, *a);
    deliver(*a, *c);
    for (auto* n : {a.get(), b.get(), c.get()}) {
        CHECK_FALSE(member_at(*n, g, z->me()));
        CHECK_FALSE(admin_at(*n, g, b->me()));
        CHECK(member_at(*n, g, b->me()));
        CHECK(n->members(g)->size() == 3);
    }
    deliver(*b, *z);
    CHECK_FALSE(z->groups()[0].admission.empty());
    CHECK_FALSE(z->post(g, "let me in").has_value());
}

namespace {
// The newest rotation `n` holds in `g` (records are in (Lamport, id) order).
const ControlRecord* last_rotation(Node& n, const GroupId& g) {
    const auto& ops = NodeTestAccess::impl(n).state(g).records();
    for (auto it = ops.rbegin(); it != ops.rend(); ++it)
        if (it->body.has_rotation()) return &*it;
    return nullptr;
}
bool reads(Node& n, const GroupId& g, const std::string& text) {
    auto seen = texts(n, g);
    return std::find(seen.begin(), seen.end(), text) != seen.end();
}
}  // namespace

TEST_CASE("quorum 2 on nodes: a rotation while an add waits gives the newcomer control access") {
    // Anna proposes Zoya and hands her the token at once; Boris rotates before he approves. The
    // approval and the rotation that grants Zoya her key are written in the new epoch, which
    // the token never named: the rotation carries its control access for her (no secret).
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto z = make_node(dir.path() / "z", "Zoya");
    auto g = *a->create_group("G");
    auto tb = a->add_member(g, card_to_text(b->card()), true, true);
    REQUIRE(tb.has_value());
    REQUIRE(b->join(*tb).has_value());
    REQUIRE(a->set_quorum(g, 2).has_value());
    deliver(*a, *b);

    REQUIRE(b->rotate(g).has_value());  // nothing waits: no control grant
    const auto* plain = last_rotation(*b, g);
    REQUIRE(plain != nullptr);
    CHECK(plain->body.rotation().control_grants_size() == 0);
    deliver(*b, *a);

    auto tz = a->add_member(g, card_to_text(z->card()), false, false);
    REQUIRE(tz.has_value());
    REQUIRE(z->join(*tz).has_value());
    deliver(*a, *z);
    deliver(*a, *b);
    REQUIRE(b->rotate(g).has_value());
    const auto* across = last_rotation(*b, g);
    REQUIRE(across != nullptr);
    const EpochId later = across->id;
    REQUIRE(across->body.rotation().control_grants_size() == 1);
    CHECK(across->body.rotation().control_grants(0).member_tag() ==
          std::string(as_chars(ByteView(z->me()).first(8))));
    CHECK(across->body.rotation().grants_size() == 2);  // Anna and Boris: Zoya has no secret
    REQUIRE(b->post(g, "written while Zoya waits").has_value());

    // Zoya takes control access to the new epoch, and reads nothing written in it.
    deliver(*b, *z);
    CHECK(z->groups()[0].admission.find("waiting") != std::string::npos);
    const auto* held = NodeTestAccess::impl(*z).keys_for_epoch(later);
    REQUIRE(held != nullptr);
    CHECK_FALSE(held->secret.has_value());
    CHECK(held->source == KeySource::waiting_token);
    CHECK_FALSE(reads(*z, g, "written while Zoya waits"));

    // Boris approves in the new epoch and rotates for her: she is admitted and writes.
    auto waiting = b->pending(g);
    REQUIRE(waiting.has_value());
    REQUIRE(waiting->size() == 1);
    REQUIRE(b->approve(g, waiting->at(0).id).has_value());
    deliver(*b, *z);
    CHECK(z->groups()[0].admission.empty());
    CHECK_FALSE(reads(*z, g, "written while Zoya waits"));
    REQUIRE(z->post(g, "Zoya writes").has_value());
    deliver(*z, *a);
    deliver(*b, *a);
    CHECK(reads(*a, g, "Zoya writes"));
    for (auto* n : {a.get(), b.get(), z.get()}) CHECK(n->members(g)->size() == 3);
}

TEST_CASE("quorum 2 on nodes: a voided add gets no control grant, and a bad one is refused") {
    // Anna proposes Zoya while Boris and Carol demote Anna without seeing it: the add is void
    // (strong remove), so Boris's later rotation gives Zoya nothing, and her token is refused.
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Carol");
    auto z = make_node(dir.path() / "z", "Zoya");
    auto g = *a->create_group("G");
    for (auto* n : {b.get(), c.get()}) {
        auto t = a->add_member(g, card_to_text(n->card()), true, true);
        REQUIRE(t.has_value());
        REQUIRE(n->join(*t).has_value());
    }
    REQUIRE(a->set_quorum(g, 2).has_value());
    deliver(*a, *b);
    deliver(*a, *c);

    auto tz = a->add_member(g, card_to_text(z->card()), false, false);
    REQUIRE(tz.has_value());
    REQUIRE(z->join(*tz).has_value());
    deliver(*a, *z);
    REQUIRE(b->set_role(g, a->me(), false).has_value());
    auto demotion = b->pending(g);
    REQUIRE(demotion.has_value());
    REQUIRE(demotion->size() == 1);
    deliver(*b, *c);
    REQUIRE(c->approve(g, demotion->at(0).id).has_value());
    deliver(*c, *b);
    deliver(*a, *b);
    CHECK(b->pending(g)->empty());
    CHECK_FALSE(admin_at(*b, g, a->me()));
    REQUIRE(b->rotate(g).has_value());
    const auto* rotation = last_rotation(*b, g);
    REQUIRE(rotation != nullptr);
    CHECK(rotation->body.rotation().control_grants_size() == 0);
    deliver(*b, *z);
    CHECK(z->groups()[0].admission.find("waiting") == std::string::npos);
    CHECK_FALSE(z->groups()[0].admission.empty());
    CHECK(NodeTestAccess::impl(*z).keys_for_epoch(rotation->id) == nullptr);

    // A rotation whose control grant is not whole is refused at ingest, with the reason.
    auto& bi = NodeTestAccess::impl(*b);
    pb::RecordBody body;
    for (const auto& [key, member] : bi.state(g).members()) {
        auto* grant = body.mutable_rotation()->add_grants();
        grant->set_member_tag(std::string(as_chars(ByteView(key).first(8))));
        grant->set_sealed_secret(std::string(80, 's'));
    }
    auto* bad = body.mutable_rotation()->add_control_grants();
    bad->set_member_tag(std::string(as_chars(ByteView(z->me()).first(8))));
    bad->set_sealed_keys(std::string(100, 'k'));
    auto epoch = bi.prepare(g, body, bi.rotation_epoch(g));
    REQUIRE(epoch.has_value());
    auto env = bi.seal(body, *epoch);
    deliver(*b, *c);
    auto r = c->ingest(std::vector<Bytes>{env});
    REQUIRE(r.has_value());
    CHECK(r->rejected == 1);
    bool named = false;
    for (const auto& x : c->rejections(1000))
        if (x.id == storage::record_id_of(env))
            named = x.reason == RejectReason::malformed_record &&
                    x.detail.find("bad control grant") != std::string::npos;
    CHECK(named);
}

TEST_CASE("quorum 2 on nodes: a rotation concurrent with a waiting add; a new token admits") {
    // Boris rotates without having seen Anna's add of Zoya, then approves it: the approval and
    // Zoya's grant are in an epoch she holds no key of. Not covered by control grants (Boris's
    // rotation could not name an add he did not hold); `group token` gets her in.
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto z = make_node(dir.path() / "z", "Zoya");
    auto g = *a->create_group("G");
    auto tb = a->add_member(g, card_to_text(b->card()), true, true);
    REQUIRE(tb.has_value());
    REQUIRE(b->join(*tb).has_value());
    REQUIRE(a->set_quorum(g, 2).has_value());
    deliver(*a, *b);

    auto tz = a->add_member(g, card_to_text(z->card()), false, false);
    REQUIRE(tz.has_value());
    REQUIRE(z->join(*tz).has_value());
    REQUIRE(b->rotate(g).has_value());
    const auto* concurrent = last_rotation(*b, g);
    REQUIRE(concurrent != nullptr);
    CHECK(concurrent->body.rotation().control_grants_size() == 0);
    deliver(*a, *b);
    auto waiting = b->pending(g);
    REQUIRE(waiting.has_value());
    REQUIRE(waiting->size() == 1);
    REQUIRE(b->approve(g, waiting->at(0).id).has_value());
    deliver(*a, *z);
    deliver(*b, *z);
    CHECK(z->groups()[0].admission.find("waiting") != std::string::npos);

    auto again = b->welcome_again(g, z->me());
    REQUIRE(again.has_value());
    REQUIRE(z->join(*again).has_value());
    deliver(*b, *z);
    CHECK(z->groups()[0].admission.empty());
    REQUIRE(z->post(g, "Zoya writes").has_value());
    deliver(*z, *a);
    deliver(*b, *a);
    CHECK(reads(*a, g, "Zoya writes"));
}

TEST_CASE(
    "quorum 2 on nodes: an add proposed by an admin who was then removed gets no control "
    "grant") {
    // Carol (a seized admin) proposes Xena and hands her the token; Anna and Boris remove Carol.
    // Her proposal still waits (a removal voids nothing of hers), but no honest rotation after
    // the removal hands Xena the new epoch's control access.
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Carol");
    auto x = make_node(dir.path() / "x", "Xena");
    auto g = *a->create_group("G");
    for (auto* n : {b.get(), c.get()}) {
        auto t = a->add_member(g, card_to_text(n->card()), true, true);
        REQUIRE(t.has_value());
        REQUIRE(n->join(*t).has_value());
    }
    REQUIRE(a->set_quorum(g, 2).has_value());
    deliver(*a, *b);
    deliver(*a, *c);
    auto tx = c->add_member(g, card_to_text(x->card()), false, false);
    REQUIRE(tx.has_value());
    REQUIRE(x->join(*tx).has_value());
    deliver(*c, *a);
    deliver(*c, *b);
    // While Carol is an admin, a rotation carries Xena's grant.
    REQUIRE(a->rotate(g).has_value());
    const auto* before = last_rotation(*a, g);
    REQUIRE(before != nullptr);
    CHECK(before->body.rotation().control_grants_size() == 1);
    const RecordId before_id = before->id;  // `before` points into a state the next steps drop
    deliver(*a, *b);
    // Anna proposes removing Carol; Boris approves: Carol is out.
    REQUIRE(a->remove_member(g, c->me()).has_value());
    deliver(*a, *b);
    auto waiting = b->pending(g);
    REQUIRE(waiting.has_value());
    std::optional<RecordId> removal;
    for (const auto& p : *waiting)
        if (p.kind == ProposalView::Kind::remove) removal = p.id;
    REQUIRE(removal.has_value());
    REQUIRE(b->approve(g, *removal).has_value());
    deliver(*b, *a);
    auto members = a->members(g);
    REQUIRE(members.has_value());
    REQUIRE(members->size() == 2);
    for (const auto& m : *members) CHECK(m.key != c->me());
    REQUIRE(a->rotate(g).has_value());
    const auto* after = last_rotation(*a, g);
    REQUIRE(after != nullptr);
    CHECK(after->id != before_id);
    CHECK(after->body.rotation().control_grants_size() == 0);
}

TEST_CASE(
    "quorum: a withdrawn proposal counts no approval written after the withdrawal; a "
    "concurrent one still completes it") {
    // A proposes adding D and withdraws it; B approves it after seeing the withdrawal: it does
    // not count. A proposes adding E and withdraws it while B, not having seen that, approves:
    // the completion stands — otherwise a seized proposer's copy could void, from a stale
    // position, changes the other admins had completed. The same in any order.
    const MemberKey E = key(7);
    auto d = admins_abc(2);
    auto add_d = d.write(A, add(D, false));
    auto w_d = d.write(A, withdraw(add_d));
    d.write(B, approve(add_d));
    auto add_e = d.write(A, add(E, false));
    const auto seen = d.state().heads();
    auto w_e = d.write(A, withdraw(add_e));
    auto b_concurrent = d.write(B, approve(add_e), seen);
    auto check = [&](const GroupState& s) {
        CHECK(s.status(w_d) == OpStatus::valid);
        CHECK(s.status(w_e) == OpStatus::valid);
        CHECK(s.withdrawn(add_d));
        CHECK_FALSE(s.effective(add_d));
        CHECK_FALSE(s.pending(add_d));
        CHECK_FALSE(s.is_member(D));
        CHECK(s.status(b_concurrent) == OpStatus::valid);
        CHECK(s.effective(add_e));
        CHECK(s.is_member(E));
        CHECK(s.pending().empty());
    };
    check(d.state());
    crypto::DeterministicRandom rng(13);
    for (int trial = 0; trial < 20; ++trial) {
        auto ops = d.ops;
        for (std::size_t i = ops.size(); i > 1; --i) std::swap(ops[i - 1], ops[rng.uniform(i)]);
        check(GroupState::compute(d.genesis, ops, nullptr));
    }
    // Only the proposer withdraws, and only what still waits where the withdrawal stands.
    auto add_x = d.write(A, add(X, false));
    auto by_b = d.write(B, withdraw(add_x));
    CHECK(d.state().status(by_b) == OpStatus::invalid);
    d.write(B, approve(add_x));
    REQUIRE(d.state().effective(add_x));
    auto too_late = d.write(A, withdraw(add_x));
    CHECK(d.state().status(too_late) == OpStatus::invalid);
    CHECK(d.state().is_member(X));
}

TEST_CASE(
    "quorum: a seized admin's approval of a withdrawn proposal is dropped by its burn "
    "notice, also once seen") {
    // A proposes making M an admin and withdraws it; S (seized), not having seen the
    // withdrawal, approves: the concurrent approval completes it. A and B then burn S, having
    // seen the approval: the notice drops it all the same, and M is no admin, in any order.
    const MemberKey S = key(8);
    Dag d;
    d.write(A, add(B, true));
    d.write(A, add(S, true));
    d.write(A, add(M, false));
    d.write(A, quorum(2));
    auto promote = d.write(A, set_role(M, true));
    const auto seen = d.state().heads();
    d.write(A, withdraw(promote));
    auto s_approves = d.write(S, approve(promote), seen);
    REQUIRE(d.state().is_admin(M));  // before the notice: completed
    auto notice = d.write(A, burn(S));
    d.write(B, approve(notice));
    auto check = [&](const GroupState& s) {
        CHECK(s.effective(notice));
        CHECK_FALSE(s.is_member(S));
        CHECK(s.status(s_approves) == OpStatus::dropped);
        CHECK_FALSE(s.effective(promote));
        CHECK_FALSE(s.is_admin(M));
        CHECK(s.is_member(M));
    };
    check(d.state());
    crypto::DeterministicRandom rng(17);
    for (int trial = 0; trial < 20; ++trial) {
        auto ops = d.ops;
        for (std::size_t i = ops.size(); i > 1; --i) std::swap(ops[i - 1], ops[rng.uniform(i)]);
        check(GroupState::compute(d.genesis, ops, nullptr));
    }
}
