// One view of the group (docs/design.md §5.12): the digest of the valid control records, and the
// control records other members' records name that this member has not received.

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>

#include "kolokol/storage/envelope.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {
RecordId id_of(std::uint8_t b) {
    RecordId id{};
    id.fill(b);
    id[0] = static_cast<std::uint8_t>(b * 7);
    return id;
}

// The newest add record of `who` in `node`'s audit of `group`.
RecordId add_of(Node& node, const GroupId& group, const MemberKey& who) {
    auto audit = node.audit(group);
    REQUIRE(audit.has_value());
    std::optional<RecordId> found;
    for (const auto& e : audit->records)
        if (e.kind == ControlEntry::Kind::add && e.target == who) found = e.id;
    REQUIRE(found.has_value());
    return *found;
}

ByteArray<32> digest_of(Node& node, const GroupId& group) {
    auto audit = node.audit(group);
    REQUIRE(audit.has_value());
    return audit->digest;
}
}  // namespace

TEST_CASE("the control digest is of the set: any order gives the same, one missing another") {
    GroupId g{};
    g.fill(3);
    std::vector<RecordId> ids = {id_of(1), id_of(2), id_of(3), id_of(4)};
    const auto d = control_digest(g, ids);
    std::vector<RecordId> reversed(ids.rbegin(), ids.rend());
    CHECK(control_digest(g, reversed) == d);
    std::vector<RecordId> shuffled = {ids[2], ids[0], ids[3], ids[1], ids[0]};
    CHECK(control_digest(g, shuffled) == d);  // a record named twice is one record
    std::vector<RecordId> fewer = {ids[0], ids[1], ids[3]};
    CHECK(control_digest(g, fewer) != d);
    std::vector<RecordId> other = {ids[0], ids[1], ids[2], id_of(5)};
    CHECK(control_digest(g, other) != d);
    GroupId h = g;
    h[31] ^= 1;
    CHECK(control_digest(h, ids) != d);  // another group's same records
    CHECK(control_digest(g, {}) != control_digest(h, {}));

    const auto text = control_digest_text(d);
    REQUIRE(text.size() == 17);
    CHECK(text[5] == ' ');
    CHECK(text[11] == ' ');
    for (std::size_t i : {0u, 1u, 2u, 3u, 4u, 6u, 7u, 8u, 9u, 10u, 12u, 13u, 14u, 15u, 16u})
        CHECK(std::isdigit(static_cast<unsigned char>(text[i])));
    CHECK(control_digest_text(control_digest(g, fewer)) != text);
}

TEST_CASE(
    "a control record withheld from one member: missing_control names it and who wrote on it") {
    TempDir dir;
    auto anna = make_node(dir.path() / "anna", "Anna");
    auto bob = make_node(dir.path() / "bob", "Bob");
    auto dan = make_node(dir.path() / "dan", "Dan");
    auto g = *anna->create_group("G");
    auto token = anna->add_member(g, card_to_text(bob->card()), false, true);
    REQUIRE(token.has_value());
    REQUIRE(bob->join(*token).has_value());
    deliver(*anna, *bob);
    REQUIRE(bob->missing_control(g).has_value());
    CHECK(bob->missing_control(g)->empty());
    CHECK(digest_of(*bob, g) == digest_of(*anna, g));
    CHECK(bob->audit(g)->valid == anna->audit(g)->valid);

    // Anna adds Dan with history (no rotation) and writes: her message names the add.
    REQUIRE(anna->add_member(g, card_to_text(dan->card()), false, true).has_value());
    const auto add = add_of(*anna, g, dan->me());
    REQUIRE(anna->post(g, "after the add").has_value());
    std::vector<Bytes> without_add;
    for (auto& e : all_envelopes(*anna))
        if (storage::record_id_of(e) != add) without_add.push_back(std::move(e));
    REQUIRE(bob->ingest(without_add).has_value());

    auto missing = bob->missing_control(g);
    REQUIRE(missing.has_value());
    REQUIRE(missing->size() == 1);
    CHECK(missing->front().id == add);
    REQUIRE(missing->front().referrers.size() == 1);
    CHECK(missing->front().referrers.front() == anna->me());
    CHECK(missing->front().since_ms > 0);
    auto audit = bob->audit(g);
    REQUIRE(audit.has_value());
    CHECK(audit->missing.size() == 1);
    CHECK(audit->digest != digest_of(*anna, g));
    CHECK(audit->valid + 1 == anna->audit(g)->valid);
    const auto before = texts(*bob, g);
    CHECK(std::find(before.begin(), before.end(), "after the add") == before.end());
    // Anna has everything: nothing is missing for her.
    CHECK(anna->missing_control(g)->empty());

    // The add arrives (another carrier): what waited is applied, nothing is missing, the
    // digests agree.
    deliver(*anna, *bob);
    CHECK(bob->missing_control(g)->empty());
    CHECK(digest_of(*bob, g) == digest_of(*anna, g));
    const auto t = texts(*bob, g);
    CHECK(std::find(t.begin(), t.end(), "after the add") != t.end());
}

TEST_CASE("a missing content parent is not a missing control record") {
    TempDir dir;
    auto anna = make_node(dir.path() / "anna", "Anna");
    auto bob = make_node(dir.path() / "bob", "Bob");
    auto g = *anna->create_group("G");
    auto token = anna->add_member(g, card_to_text(bob->card()), false, true);
    REQUIRE(token.has_value());
    REQUIRE(bob->join(*token).has_value());
    deliver(*anna, *bob);
    auto first = anna->post(g, "first");
    REQUIRE(first.has_value());
    REQUIRE(anna->post(g, "second").has_value());
    std::vector<Bytes> without_first;
    for (auto& e : all_envelopes(*anna))
        if (storage::record_id_of(e) != *first) without_first.push_back(std::move(e));
    auto report = bob->ingest(without_first);
    REQUIRE(report.has_value());
    CHECK(report->pending == 1);  // "second" waits for "first"
    REQUIRE(bob->missing_control(g).has_value());
    CHECK(bob->missing_control(g)->empty());
    CHECK(bob->audit(g)->digest == digest_of(*anna, g));
    GroupId unknown = g;
    unknown[0] ^= 1;
    CHECK_FALSE(bob->missing_control(unknown).has_value());
    CHECK_FALSE(bob->audit(unknown).has_value());
}
