// Key updates (docs/design.md §5.13): the fold on hand-built control records, then real Nodes
// with a copied store.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "control_dag.hpp"
#include "group_state.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;
using dag::A;
using dag::B;
using dag::key;
using dag::M;
using dag::remove;

namespace {
crypto::BoxPublicKey box(char c) {
    crypto::BoxPublicKey k{};
    k.fill(static_cast<std::uint8_t>(c));
    return k;
}

pb::RecordBody add(const MemberKey& who) {
    pb::RecordBody b;
    auto* m = b.mutable_membership();
    m->set_kind(pb::MembershipOp::ADD);
    m->set_member(to_string(who));
    m->set_member_box_key(to_string(box('a')));
    m->set_display_name("someone");
    return b;
}
pb::RecordBody key_update(char c) {
    pb::RecordBody b;
    b.mutable_key_update()->set_box_key(to_string(box(c)));
    return b;
}

ControlRecord op(std::uint8_t n, const MemberKey& author, std::uint64_t seq, std::uint64_t lamport,
                 std::vector<RecordId> heads, pb::RecordBody body) {
    ControlRecord o;
    o.id = key(static_cast<std::uint8_t>(100 + n));
    o.author = author;
    o.seq = seq;
    o.lamport = lamport;
    o.epoch = key(200);
    o.heads = std::move(heads);
    o.body = std::move(body);
    return o;
}

GenesisInfo genesis() {
    return GenesisInfo{key(200), A, box('g'), std::string(1, 'A')};
}
}  // namespace

TEST_CASE("key updates: the latest on the member's chain wins in any order, forks pick one") {
    // A adds M; M writes key updates 'c' (seq 1) then 'd' (seq 2); a fork at seq 2 writes 'e'.
    const auto a1 = op(1, A, 1, 1, {}, add(M));
    const auto m1 = op(2, M, 1, 2, {a1.id}, key_update('c'));
    const auto m2 = op(3, M, 2, 3, {m1.id}, key_update('d'));
    std::vector<ControlRecord> ops{a1, m1, m2};
    CHECK(GroupState::compute(genesis(), ops, nullptr).members().at(M).box == box('d'));
    std::reverse(ops.begin(), ops.end());
    CHECK(GroupState::compute(genesis(), ops, nullptr).members().at(M).box == box('d'));

    // A key update with a higher seq but an earlier Lamport clock still wins over 'd'.
    auto m3 = op(4, M, 3, 2, {a1.id}, key_update('f'));
    ops.push_back(m3);
    CHECK(GroupState::compute(genesis(), ops, nullptr).members().at(M).box == box('f'));
    ops.pop_back();

    // A fork: two key updates at seq 2; every order picks the one with the smaller id, and the
    // fold says the chain forked.
    const auto fork = op(0, M, 2, 3, {m1.id}, key_update('e'));
    REQUIRE(fork.id < m2.id);
    std::vector<ControlRecord> forked{a1, m1, m2, fork};
    for (int round = 0; round < 4; ++round) {
        std::rotate(forked.begin(), forked.begin() + 1, forked.end());
        auto s = GroupState::compute(genesis(), forked, nullptr);
        CHECK(s.members().at(M).box == box('e'));
        CHECK(s.key_forked(M));
        CHECK_FALSE(s.key_forked(A));
    }
    CHECK_FALSE(GroupState::compute(genesis(), ops, nullptr).key_forked(M));
}

TEST_CASE("key updates: one naming a key the member named before is void, in any order") {
    // M's key updates 'c' (seq 1) and 'd' (seq 2); a copy that holds the secrets of 'a' (the
    // add's key) or 'c' names one of them again further along M's chain.
    const auto a1 = op(1, A, 1, 1, {}, add(M));
    const auto m1 = op(2, M, 1, 2, {a1.id}, key_update('c'));
    const auto m2 = op(3, M, 2, 3, {m1.id}, key_update('d'));
    for (char old : {'a', 'c'}) {
        CAPTURE(old);
        const auto again = op(4, M, 3, 4, {m2.id}, key_update(old));
        std::vector<ControlRecord> ops{a1, m1, m2, again};
        for (int round = 0; round < 4; ++round) {
            std::rotate(ops.begin(), ops.begin() + 1, ops.end());
            auto s = GroupState::compute(genesis(), ops, nullptr);
            CHECK(s.members().at(M).box == box('d'));
            CHECK(s.members().at(M).box_record == m2.id);
        }
    }
    // A new key further along the chain still wins.
    const auto fresh = op(5, M, 3, 4, {m2.id}, key_update('n'));
    CHECK(GroupState::compute(genesis(), {a1, m1, m2, fresh}, nullptr).members().at(M).box ==
          box('n'));
}

TEST_CASE("key updates: a member writes them for itself; a non-member's or removed one's is void") {
    const auto a1 = op(1, A, 1, 1, {}, add(M));
    // B was never added: its key update is void.
    const auto b1 = op(2, B, 1, 2, {a1.id}, key_update('x'));
    // M is removed; a key update M writes after learning of it is void.
    const auto r = op(3, A, 2, 2, {a1.id}, remove(M));
    const auto m1 = op(4, M, 1, 3, {r.id}, key_update('y'));
    auto s = GroupState::compute(genesis(), {a1, b1, r, m1}, nullptr);
    CHECK(s.status(b1.id) == OpStatus::invalid);
    CHECK(s.status(m1.id) == OpStatus::invalid);
    CHECK_FALSE(s.is_member(B));
    // The creator's own key update replaces the genesis key.
    const auto g1 = op(5, A, 3, 4, {r.id, b1.id, m1.id}, key_update('z'));
    auto s2 = GroupState::compute(genesis(), {a1, b1, r, m1, g1}, nullptr);
    CHECK(s2.status(g1.id) == OpStatus::valid);
    CHECK(s2.members().at(A).box == box('z'));
}

TEST_CASE("key updates: an admin rotates when a member replaced their key since the rotation") {
    const auto a1 = op(1, A, 1, 1, {}, add(M));
    auto s = GroupState::compute(genesis(), {a1}, nullptr);
    // M lacks the genesis key (added without history): a rotation is owed anyway.
    CHECK_FALSE(s.rotation_needed(A).empty());
    pb::RecordBody rot;
    for (const auto& k : {A, M}) {
        auto* g = rot.mutable_rotation()->add_grants();
        g->set_member_tag(std::string(as_chars(ByteView(k).first(8))));
        g->set_sealed_secret(std::string(80, 's'));
    }
    const auto r1 = op(2, A, 2, 2, {a1.id}, rot);
    auto s1 = GroupState::compute(genesis(), {a1, r1}, nullptr);
    CHECK(s1.rotation_needed(A).empty());
    auto m1 = op(3, M, 1, 3, {r1.id}, key_update('n'));
    m1.epoch = r1.id;
    auto s2 = GroupState::compute(genesis(), {a1, r1, m1}, nullptr);
    REQUIRE(s2.status(m1.id) == OpStatus::valid);
    CHECK(s2.rotation_needed(A) == "a member replaced their key");
    CHECK(s2.rotation_needed(M).empty());  // not an admin
}

TEST_CASE("rekey: grants go to the newest key; a copy of the old store opens nothing new") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto g = *a->create_group("G");
    REQUIRE(b->join(*a->add_member(g, card_to_text(b->card()), false, false)).has_value());
    deliver(*a, *b);
    REQUIRE(a->post(g, "before").has_value());
    deliver(*a, *b);
    REQUIRE(texts(*b, g) == std::vector<std::string>{"before"});

    // The seized copy: Boris's whole home as it is now.
    b.reset();
    std::filesystem::copy(dir.path() / "b", dir.path() / "copy",
                          std::filesystem::copy_options::recursive);
    b = reopen(dir.path() / "b");
    auto copy = reopen(dir.path() / "copy");

    REQUIRE(b->rekey(g).has_value());
    CHECK(b->box_keys(g)->held == 1);
    deliver(*b, *a);
    // Anna's maintain rotates: Boris replaced his key.
    auto done = a->maintain();
    REQUIRE(done.has_value());
    REQUIRE(done->size() == 1);
    CHECK((*done)[0].find("a member replaced their key") != std::string::npos);
    REQUIRE(a->post(g, "after the rekey").has_value());

    deliver(*a, *b);
    deliver(*a, *copy);
    CHECK(texts(*b, g) == std::vector<std::string>{"before", "after the rekey"});
    CHECK(texts(*copy, g) == std::vector<std::string>{"before"});

    // A second rekey and rotation: the first new key is erased once the grant sealed to the
    // second is opened.
    REQUIRE(b->rekey(g).has_value());
    CHECK(b->box_keys(g)->held == 2);
    deliver(*b, *a);
    REQUIRE(a->maintain().has_value());
    deliver(*a, *b);
    CHECK(b->box_keys(g)->held == 1);
    CHECK(b->box_keys(g)->erased == 1);
    REQUIRE(a->post(g, "third").has_value());
    deliver(*a, *b);
    CHECK(texts(*b, g).back() == "third");
    CHECK(b->foreign_key_updates()->empty());
}

TEST_CASE("rekey: a key update made with a copied signing key is noticed by the real member") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto g = *a->create_group("G");
    REQUIRE(b->join(*a->add_member(g, card_to_text(b->card()), false, false)).has_value());
    deliver(*a, *b);
    REQUIRE(a->maintain().has_value());  // Boris lacks the key: Anna rotates
    deliver(*a, *b);
    b.reset();
    std::filesystem::copy(dir.path() / "b", dir.path() / "copy",
                          std::filesystem::copy_options::recursive);
    b = reopen(dir.path() / "b");
    auto copy = reopen(dir.path() / "copy");

    REQUIRE(copy->rekey(g).has_value());
    deliver(*copy, *a);
    deliver(*a, *b);
    auto foreign = b->foreign_key_updates();
    REQUIRE(foreign.has_value());
    REQUIRE(foreign->size() == 1);
    CHECK((*foreign)[0].group == g);
    CHECK((*foreign)[0].current);
    // The copy's own key update is its own there.
    CHECK(copy->foreign_key_updates()->empty());
}

TEST_CASE("rekey: a grant sealed to a key update withheld from the real member is noticed") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto g = *a->create_group("G");
    REQUIRE(b->join(*a->add_member(g, card_to_text(b->card()), false, false)).has_value());
    deliver(*a, *b);
    REQUIRE(a->maintain().has_value());
    deliver(*a, *b);
    b.reset();
    std::filesystem::copy(dir.path() / "b", dir.path() / "copy",
                          std::filesystem::copy_options::recursive);
    b = reopen(dir.path() / "b");
    auto copy = reopen(dir.path() / "copy");
    CHECK(b->foreign_key_updates()->empty());

    // The copy's key update reaches Anna, whose next rotation seals Boris's grant to its key...
    auto ku = copy->rekey(g);
    REQUIRE(ku.has_value());
    deliver(*copy, *a);
    REQUIRE(a->maintain().has_value());
    // ...and everything of Anna's reaches Boris but that key update.
    auto envs = all_envelopes(*a);
    auto withheld = a->envelope(*ku);
    REQUIRE(withheld.has_value());
    REQUIRE(withheld->has_value());
    std::erase(envs, **withheld);
    REQUIRE(b->ingest(envs).has_value());
    auto foreign = b->foreign_key_updates();
    REQUIRE(foreign.has_value());
    REQUIRE(foreign->size() == 1);
    CHECK((*foreign)[0].withheld);
    CHECK((*foreign)[0].group == g);
    // Once the key update itself arrives it is reported as such, once.
    deliver(*a, *b);
    foreign = b->foreign_key_updates();
    REQUIRE(foreign->size() == 1);
    CHECK_FALSE((*foreign)[0].withheld);
    CHECK((*foreign)[0].record == *ku);
}
