// Convergence: three admins make concurrent adds, removes and rotations; a fresh member receives
// the union of everything in hundreds of random orders, with duplicates and random batching, and
// always ends with the same members, epochs and message order — the ones the rules say.

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

#include "kolokol/crypto/random.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {
void mesh(std::vector<Node*> nodes) {
    for (int round = 0; round < 2; ++round)
        for (auto* from : nodes)
            for (auto* to : nodes)
                if (from != to) deliver(*from, *to);
}

struct View {
    std::vector<MemberKey> members;
    std::set<EpochId> frontier;
    std::vector<RecordId> messages;
    std::string rotation_needed;
    bool operator==(const View&) const = default;
};

View view_of(Node& n, const GroupId& g) {
    View v;
    auto members = n.members(g);
    REQUIRE(members.has_value());
    for (const auto& m : *members) v.members.push_back(m.key);
    for (const auto* e : NodeTestAccess::impl(n).state(g).frontier()) v.frontier.insert(e->id);
    auto messages = n.messages(g, 100000);
    REQUIRE(messages.has_value());
    for (const auto& m : *messages) v.messages.push_back(m.id);
    v.rotation_needed = NodeTestAccess::impl(n).state(g).rotation_needed(n.me());
    return v;
}
}  // namespace

TEST_CASE("concurrent membership changes by three admins converge in any delivery order") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto x = make_node(dir.path() / "x", "Xenia");
    auto y = make_node(dir.path() / "y", "Yuri");
    auto z = make_node(dir.path() / "z", "Zoya");
    auto d = make_node(dir.path() / "d", "Dina");
    auto g = *a->create_group("G");
    std::vector<std::pair<Node*, bool>> joiners = {
        {b.get(), true}, {c.get(), true}, {x.get(), false}, {y.get(), false}, {d.get(), false}};
    for (auto [n, admin] : joiners) {
        auto token = a->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    mesh({a.get(), b.get(), c.get(), x.get(), y.get(), d.get()});
    REQUIRE(x->post(g, "x before").has_value());
    REQUIRE(a->post(g, "a before").has_value());
    mesh({a.get(), b.get(), c.get(), x.get(), y.get(), d.get()});
    REQUIRE(d->members(g)->size() == 6);

    // D's store as it is now: every trial starts from a copy of it.
    auto d_snapshot = dir.path() / "d_snapshot";
    d.reset();
    std::filesystem::copy(dir.path() / "d", d_snapshot, std::filesystem::copy_options::recursive);

    // Concurrent phase: nobody syncs.
    REQUIRE(a->remove_member(g, x->me()).has_value());  // A removes Xenia (and rotates)
    REQUIRE(a->post(g, "a during").has_value());
    REQUIRE(x->post(g, "x during (concurrent with her removal)").has_value());
    auto zt = b->add_member(g, card_to_text(z->card()), false, false);  // B adds Zoya (+ rotation)
    REQUIRE(zt.has_value());
    REQUIRE(b->remove_member(g, y->me()).has_value());  // B removes Yuri
    REQUIRE(b->post(g, "b during").has_value());
    REQUIRE(c->rotate(g).has_value());  // C rotates...
    REQUIRE(c->post(g, "c during").has_value());
    REQUIRE(c->remove_member(g, b->me()).has_value());  // ...and removes Boris

    std::map<RecordId, Bytes> everything;
    for (auto* n : {a.get(), b.get(), c.get(), x.get()})
        for (auto& e : all_envelopes(*n)) everything[storage::record_id_of(e)] = e;
    std::vector<Bytes> pool;
    for (auto& [id, e] : everything) pool.push_back(e);

    crypto::DeterministicRandom rng(20261122);
    std::optional<View> first;
    const int kTrials = 200;
    for (int trial = 0; trial < kTrials; ++trial) {
        auto home = dir.path() / ("trial" + std::to_string(trial));
        std::filesystem::copy(d_snapshot, home, std::filesystem::copy_options::recursive);
        auto replica = reopen(home);
        auto order = pool;
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.uniform(i)]);
        for (std::size_t i = 0, n = order.size() / 3; i < n; ++i)
            order.push_back(order[rng.uniform(order.size())]);
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.uniform(i)]);
        for (std::size_t at = 0; at < order.size();) {
            std::size_t n = std::min<std::size_t>(order.size() - at, 1 + rng.uniform(12));
            std::vector<Bytes> batch(order.begin() + static_cast<std::ptrdiff_t>(at),
                                     order.begin() + static_cast<std::ptrdiff_t>(at + n));
            auto r = replica->ingest(batch);
            REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().what()));
            at += n;
        }
        auto v = view_of(*replica, g);
        if (!first) first = v;
        REQUIRE_MESSAGE(v == *first, "trial " << trial << " diverged");
        replica.reset();
        std::filesystem::remove_all(home);
    }

    // And the result is the one the rules say: Clara's removal of Boris voids what he did
    // concurrently — adding Zoya, the rotation after it, and so also his removal of Yuri, which
    // he wrote in the epoch of that void rotation. Xenia is removed by Anna.
    auto replica = reopen(d_snapshot);
    REQUIRE(replica->ingest(pool).has_value());
    std::set<MemberKey> got;
    auto final_members = replica->members(g);
    REQUIRE(final_members.has_value());
    std::string names;
    for (const auto& m : *final_members) {
        got.insert(m.key);
        names += m.name + " ";
    }
    INFO("members: " << names);
    CHECK(got == std::set<MemberKey>{a->me(), c->me(), y->me(), replica->me()});
    auto msgs = texts(*replica, g);
    CHECK(std::find(msgs.begin(), msgs.end(), "x during (concurrent with her removal)") ==
          msgs.end());
    CHECK(std::find(msgs.begin(), msgs.end(), "b during") ==
          msgs.end());  // concurrent with his removal
    CHECK(std::find(msgs.begin(), msgs.end(), "x before") !=
          msgs.end());  // before the removal: kept
    CHECK(std::find(msgs.begin(), msgs.end(), "a during") != msgs.end());
    CHECK(std::find(msgs.begin(), msgs.end(), "c during") != msgs.end());
    // Every frontier epoch is held by someone removed: an admin must rotate, and does.
    mesh({a.get(), c.get()});
    for (auto& e : all_envelopes(*b)) a->ingest(std::vector<Bytes>{e});
    for (auto& e : all_envelopes(*x)) a->ingest(std::vector<Bytes>{e});
    auto actions = a->maintain();
    REQUIRE(actions.has_value());
    CHECK(actions->size() == 1);
    REQUIRE(a->post(g, "after repair").has_value());
    deliver(*a, *replica);
    CHECK(texts(*replica, g).back() == "after repair");
}

TEST_CASE("mutual removals remove both") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto g = *a->create_group("G");
    for (auto* n : {b.get(), c.get()}) {
        auto token = a->add_member(g, card_to_text(n->card()), true, true);
        REQUIRE(n->join(*token).has_value());
    }
    mesh({a.get(), b.get(), c.get()});
    REQUIRE(a->remove_member(g, b->me()).has_value());
    REQUIRE(b->remove_member(g, a->me()).has_value());
    deliver(*a, *c);
    deliver(*b, *c);
    auto members = c->members(g);
    REQUIRE(members.has_value());
    REQUIRE(members->size() == 1);
    CHECK((*members)[0].key == c->me());
    // Both rotations were void (each was written by someone being removed): Clara must rotate.
    auto actions = c->maintain();
    REQUIRE(actions.has_value());
    CHECK(actions->size() == 1);
    CHECK(c->post(g, "alone now").has_value());
}

TEST_CASE("a removed admin's concurrent removal of someone else is dropped, in either order") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto i = make_node(dir.path() / "i", "Ivan");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto g = *a->create_group("G");
    for (auto [n, admin] :
         std::vector<std::pair<Node*, bool>>{{i.get(), true}, {b.get(), false}, {c.get(), false}}) {
        auto token = a->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    mesh({a.get(), i.get(), b.get(), c.get()});
    // Anna removes Ivan; Ivan, not having heard of it, removes Boris.
    REQUIRE(a->remove_member(g, i->me()).has_value());
    REQUIRE(i->remove_member(g, b->me()).has_value());
    deliver(*i, *b);  // Boris hears of his removal first
    deliver(*a, *b);
    deliver(*a, *c);  // Clara hears of Ivan's removal first
    deliver(*i, *c);
    for (auto* n : {b.get(), c.get()}) {
        auto members = n->members(g);
        REQUIRE(members.has_value());
        std::vector<std::string> names;
        for (const auto& m : *members) names.push_back(m.name);
        std::sort(names.begin(), names.end());
        CHECK(names == std::vector<std::string>{"Anna", "Boris", "Clara"});
    }
    // Boris still writes, and Clara reads him.
    REQUIRE(b->post(g, "still here").has_value());
    deliver(*b, *c);
    auto seen = texts(*c, g);
    CHECK(std::find(seen.begin(), seen.end(), "still here") != seen.end());
}

TEST_CASE("quorum proposals and approvals converge in any delivery order") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto y = make_node(dir.path() / "y", "Yuri");
    auto z = make_node(dir.path() / "z", "Zoya");
    auto d = make_node(dir.path() / "d", "Dina");
    auto g = *a->create_group("G");
    for (auto [n, admin] : std::vector<std::pair<Node*, bool>>{
             {b.get(), true}, {c.get(), true}, {y.get(), false}, {d.get(), false}}) {
        auto token = a->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    REQUIRE(a->set_quorum(g, 2).has_value());  // needs no approval while the quorum is 1
    mesh({a.get(), b.get(), c.get(), y.get(), d.get()});
    REQUIRE(d->members(g)->size() == 5);
    auto d_snapshot = dir.path() / "d_snapshot";
    d.reset();
    std::filesystem::copy(dir.path() / "d", d_snapshot, std::filesystem::copy_options::recursive);

    // Anna proposes to add Zoya and to remove Yuri; alone, neither takes effect.
    auto zt = a->add_member(g, card_to_text(z->card()), false, false);
    REQUIRE(zt.has_value());
    REQUIRE(a->remove_member(g, y->me()).has_value());
    REQUIRE(a->members(g)->size() == 5);
    auto proposals = a->pending(g);
    REQUIRE(proposals.has_value());
    REQUIRE(proposals->size() == 2);
    CHECK(proposals->at(0).kind == ProposalView::Kind::add);
    CHECK(proposals->at(1).kind == ProposalView::Kind::remove);
    auto again = a->approve(g, proposals->at(0).id);
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code == CoreErrc::exists);
    REQUIRE(y->post(g, "y while her removal waits").has_value());
    // Boris sees both and approves the add; Clara, concurrently, approves the removal and
    // proposes a quorum of 3, which Anna approves having seen only that.
    deliver(*a, *b);
    deliver(*a, *c);
    REQUIRE(b->approve(g, proposals->at(0).id).has_value());
    REQUIRE(c->approve(g, proposals->at(1).id).has_value());
    REQUIRE(c->set_quorum(g, 3).has_value());
    auto from_c = c->pending(g);
    REQUIRE(from_c.has_value());
    REQUIRE(from_c->size() == 2);  // the add (Clara has not seen Boris's approval) and the quorum
    deliver(*c, *a);
    REQUIRE(a->approve(g, from_c->at(1).id).has_value());
    REQUIRE(b->post(g, "b after approving").has_value());
    REQUIRE(y->post(g, "y concurrent with the approval removing her").has_value());

    std::map<RecordId, Bytes> everything;
    for (auto* n : {a.get(), b.get(), c.get(), y.get()})
        for (auto& e : all_envelopes(*n)) everything[storage::record_id_of(e)] = e;
    std::vector<Bytes> pool;
    for (auto& [id, e] : everything) pool.push_back(e);

    crypto::DeterministicRandom rng(20261207);
    std::optional<View> first;
    std::vector<RecordId> first_pending;
    for (int trial = 0; trial < 60; ++trial) {
        auto home = dir.path() / ("trial" + std::to_string(trial));
        std::filesystem::copy(d_snapshot, home, std::filesystem::copy_options::recursive);
        auto replica = reopen(home);
        auto order = pool;
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.uniform(i)]);
        for (std::size_t at = 0; at < order.size();) {
            std::size_t n = std::min<std::size_t>(order.size() - at, 1 + rng.uniform(6));
            std::vector<Bytes> batch(order.begin() + static_cast<std::ptrdiff_t>(at),
                                     order.begin() + static_cast<std::ptrdiff_t>(at + n));
            auto r = replica->ingest(batch);
            REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().what()));
            at += n;
        }
        auto v = view_of(*replica, g);
        std::vector<RecordId> waiting;
        auto proposals_now = replica->pending(g);
        REQUIRE(proposals_now.has_value());
        for (const auto& p : *proposals_now) waiting.push_back(p.id);
        if (!first) {
            first = v;
            first_pending = waiting;
        }
        REQUIRE_MESSAGE(v == *first, "trial " << trial << " diverged");
        REQUIRE_MESSAGE(waiting == first_pending, "trial " << trial << " diverged");
        replica.reset();
        std::filesystem::remove_all(home);
    }

    // The outcome the rules say: Zoya in, Yuri out, the quorum 3, nothing waiting; Yuri's
    // message written while her removal waited, concurrent with the approval that completed
    // it, is dropped with her.
    auto replica = reopen(d_snapshot);
    REQUIRE(replica->ingest(pool).has_value());
    std::set<MemberKey> got;
    auto final_members = replica->members(g);
    REQUIRE(final_members.has_value());
    for (const auto& m : *final_members) got.insert(m.key);
    CHECK(got == std::set<MemberKey>{a->me(), b->me(), c->me(), z->me(), replica->me()});
    CHECK(replica->pending(g)->empty());
    CHECK(NodeTestAccess::impl(*replica).state(g).quorum() == 3);
    auto msgs = texts(*replica, g);
    CHECK(std::find(msgs.begin(), msgs.end(), "y while her removal waits") == msgs.end());
    CHECK(std::find(msgs.begin(), msgs.end(), "b after approving") != msgs.end());
}

TEST_CASE("a burn notice and the seized device's records converge in any delivery order") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto d = make_node(dir.path() / "d", "Dina");
    auto g = *a->create_group("G");
    for (auto [n, admin] :
         std::vector<std::pair<Node*, bool>>{{b.get(), true}, {c.get(), true}, {d.get(), false}}) {
        auto token = a->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    REQUIRE(a->set_quorum(g, 2).has_value());
    mesh({a.get(), b.get(), c.get(), d.get()});
    REQUIRE(c->post(g, "c before the seizure").has_value());
    mesh({a.get(), b.get(), c.get(), d.get()});
    auto d_snapshot = dir.path() / "d_snapshot";
    d.reset();
    std::filesystem::copy(dir.path() / "d", d_snapshot, std::filesystem::copy_options::recursive);

    // Anna burns Clara; Clara's device, not having synced, posts and proposes Anna's removal;
    // then it sees the notice waiting, sets a retention and posts again. Boris
    // holds all of it when he approves the notice.
    auto notice = a->burn_member(g, c->me());
    REQUIRE(notice.has_value());
    REQUIRE_FALSE(notice->effective);
    REQUIRE(c->post(g, "c unaware of the notice").has_value());
    REQUIRE(c->remove_member(g, a->me()).has_value());
    deliver(*a, *c);
    REQUIRE(c->set_retention(g, 31'536'000).has_value());  // a year: deletes nothing here
    REQUIRE(c->post(g, "c having seen the notice").has_value());
    deliver(*a, *b);
    deliver(*c, *b);
    REQUIRE(b->approve(g, notice->notice).has_value());
    REQUIRE(b->post(g, "b after approving").has_value());

    std::map<RecordId, Bytes> everything;
    for (auto* n : {a.get(), b.get(), c.get()})
        for (auto& e : all_envelopes(*n)) everything[storage::record_id_of(e)] = e;
    std::vector<Bytes> pool;
    for (auto& [id, e] : everything) pool.push_back(e);

    crypto::DeterministicRandom rng(20261208);
    std::optional<View> first;
    for (int trial = 0; trial < 30; ++trial) {
        auto home = dir.path() / ("trial" + std::to_string(trial));
        std::filesystem::copy(d_snapshot, home, std::filesystem::copy_options::recursive);
        auto replica = reopen(home);
        auto order = pool;
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.uniform(i)]);
        order.push_back(order[rng.uniform(order.size())]);  // a duplicate
        for (std::size_t at = 0; at < order.size();) {
            std::size_t n = std::min<std::size_t>(order.size() - at, 1 + rng.uniform(6));
            std::vector<Bytes> batch(order.begin() + static_cast<std::ptrdiff_t>(at),
                                     order.begin() + static_cast<std::ptrdiff_t>(at + n));
            auto r = replica->ingest(batch);
            REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().what()));
            at += n;
        }
        auto v = view_of(*replica, g);
        if (!first) first = v;
        REQUIRE_MESSAGE(v == *first, "trial " << trial << " diverged");
        CHECK(NodeTestAccess::impl(*replica).state(g).retention_seconds() == 0);
        replica.reset();
        std::filesystem::remove_all(home);
    }

    // The outcome the rules say: Clara out, Anna in, nothing of Clara's after the notice.
    auto replica = reopen(d_snapshot);
    REQUIRE(replica->ingest(pool).has_value());
    std::set<MemberKey> got;
    auto final_members = replica->members(g);
    REQUIRE(final_members.has_value());
    for (const auto& m : *final_members) got.insert(m.key);
    CHECK(got == std::set<MemberKey>{a->me(), b->me(), replica->me()});
    CHECK(replica->pending(g)->empty());
    auto msgs = texts(*replica, g);
    CHECK(std::find(msgs.begin(), msgs.end(), "c before the seizure") != msgs.end());
    CHECK(std::find(msgs.begin(), msgs.end(), "c unaware of the notice") == msgs.end());
    CHECK(std::find(msgs.begin(), msgs.end(), "c having seen the notice") == msgs.end());
    CHECK(std::find(msgs.begin(), msgs.end(), "b after approving") != msgs.end());
    CHECK(replica->alerts(g)->size() == 1);
}

TEST_CASE("a burn notice and the burned admin's concurrent demotion converge in any order") {
    // Quorum 1. Clara's device, in other hands and not having synced, demotes Anna; Anna, not
    // having seen that, burns Clara (rotation and alert) and posts. The notice drops the
    // demotion, and with it everything the demotion had dropped of Anna's: whatever arrives first.
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto d = make_node(dir.path() / "d", "Dina");
    auto g = *a->create_group("G");
    for (auto [n, admin] :
         std::vector<std::pair<Node*, bool>>{{b.get(), true}, {c.get(), true}, {d.get(), false}}) {
        auto token = a->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    mesh({a.get(), b.get(), c.get(), d.get()});
    auto d_snapshot = dir.path() / "d_snapshot";
    d.reset();
    std::filesystem::copy(dir.path() / "d", d_snapshot, std::filesystem::copy_options::recursive);

    REQUIRE(c->set_role(g, a->me(), false).has_value());
    REQUIRE(c->post(g, "c after the demotion").has_value());
    auto notice = a->burn_member(g, c->me());
    REQUIRE(notice.has_value());
    REQUIRE(notice->effective);
    REQUIRE(a->post(g, "a after the notice").has_value());
    // Boris gets the demotion first, then Anna's records.
    deliver(*c, *b);
    deliver(*a, *b);
    REQUIRE(b->post(g, "b having both").has_value());

    std::map<RecordId, Bytes> everything;
    for (auto* n : {a.get(), b.get(), c.get()})
        for (auto& e : all_envelopes(*n)) everything[storage::record_id_of(e)] = e;
    std::vector<Bytes> pool;
    for (auto& [id, e] : everything) pool.push_back(e);

    crypto::DeterministicRandom rng(20261207);
    std::optional<View> first;
    for (int trial = 0; trial < 30; ++trial) {
        auto home = dir.path() / ("trial" + std::to_string(trial));
        std::filesystem::copy(d_snapshot, home, std::filesystem::copy_options::recursive);
        auto replica = reopen(home);
        auto order = pool;
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.uniform(i)]);
        order.push_back(order[rng.uniform(order.size())]);  // a duplicate
        for (std::size_t at = 0; at < order.size();) {
            std::size_t n = std::min<std::size_t>(order.size() - at, 1 + rng.uniform(6));
            std::vector<Bytes> batch(order.begin() + static_cast<std::ptrdiff_t>(at),
                                     order.begin() + static_cast<std::ptrdiff_t>(at + n));
            auto r = replica->ingest(batch);
            REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().what()));
            at += n;
        }
        auto v = view_of(*replica, g);
        if (!first) first = v;
        REQUIRE_MESSAGE(v == *first, "trial " << trial << " diverged");
        CHECK(NodeTestAccess::impl(*replica).state(g).is_admin(a->me()));
        replica.reset();
        std::filesystem::remove_all(home);
    }

    // The outcome the rules say, and the same at Anna and at Boris: Clara out, Anna still an
    // admin, her post and the alert kept, nothing of Clara's after the notice.
    auto replica = reopen(d_snapshot);
    REQUIRE(replica->ingest(pool).has_value());
    for (Node* n : {replica.get(), a.get(), b.get()}) {
        std::set<MemberKey> got;
        auto members = n->members(g);
        REQUIRE(members.has_value());
        for (const auto& m : *members) got.insert(m.key);
        CHECK(got == std::set<MemberKey>{a->me(), b->me(), replica->me()});
        CHECK(NodeTestAccess::impl(*n).state(g).is_admin(a->me()));
        auto msgs = texts(*n, g);
        CHECK(std::find(msgs.begin(), msgs.end(), "a after the notice") != msgs.end());
        CHECK(std::find(msgs.begin(), msgs.end(), "c after the demotion") == msgs.end());
        CHECK(n->alerts(g)->size() == 1);
    }
    CHECK(view_of(*a, g).frontier == view_of(*b, g).frontier);
    CHECK(view_of(*replica, g).frontier == view_of(*b, g).frontier);
}
