// The group's heads (records no applied record names as a parent or as `prev`) are changed in
// memory during an ingest batch and written once at its end: a reader that takes a chain in one
// batch ends with the heads its writer has, and a batch rolled back leaves none of its own.

#include <doctest/doctest.h>

#include <algorithm>

#include "node_access.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {

// The heads table as stored, read past RecordStore (whose heads() writes pending changes first).
std::vector<RecordId> stored_heads(Node& node, const GroupId& group) {
    auto& m = NodeTestAccess::impl(node);
    auto st = m.db.prepare("SELECT id FROM heads WHERE group_id = ? ORDER BY id");
    REQUIRE(st);
    st->bind(1, ByteView(group));
    std::vector<RecordId> out;
    for (;;) {
        auto r = st->step();
        REQUIRE(r);
        if (!*r) break;
        out.push_back(to_array<32>(st->column_blob(0)));
    }
    return out;
}

std::vector<RecordId> heads(Node& node, const GroupId& group) {
    std::uint64_t lamport = 0;
    auto out = NodeTestAccess::impl(node).records.heads(group, 32, &lamport);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("a batch holding a chain leaves the heads its writer has") {
    TempDir dir;
    auto anna = make_node(dir.path() / "anna", "Anna");
    auto boris = make_node(dir.path() / "boris", "Boris");
    auto group = *anna->create_group("Legal");
    REQUIRE(boris->join(*anna->add_member(group, card_to_text(boris->card()), false, true)));
    deliver(*anna, *boris);
    RecordId last{};
    for (int i = 0; i < 5; ++i) last = *anna->post(group, "message " + std::to_string(i));
    auto report = deliver(*anna, *boris);
    CHECK(report.added == 5);
    CHECK(stored_heads(*anna, group) == std::vector<RecordId>{last});
    CHECK(stored_heads(*boris, group) == std::vector<RecordId>{last});
    CHECK(heads(*boris, group) == std::vector<RecordId>{last});

    // Boris's reply names Anna's last message as its one parent; then it is the one head.
    auto reply = boris->post(group, "reply");
    REQUIRE(reply);
    CHECK(stored_heads(*boris, group) == std::vector<RecordId>{*reply});
    deliver(*boris, *anna);
    CHECK(stored_heads(*anna, group) == std::vector<RecordId>{*reply});
}

TEST_CASE("the heads of a batch rolled back are not kept") {
    TempDir dir;
    auto anna = make_node(dir.path() / "anna", "Anna");
    auto boris = make_node(dir.path() / "boris", "Boris");
    auto group = *anna->create_group("Legal");
    REQUIRE(boris->join(*anna->add_member(group, card_to_text(boris->card()), false, true)));
    deliver(*anna, *boris);
    const auto before = stored_heads(*boris, group);
    REQUIRE(!before.empty());
    RecordId last{};
    for (int i = 0; i < 3; ++i) last = *anna->post(group, "message " + std::to_string(i));
    {
        auto scope = WriteScope::open(NodeTestAccess::impl(*boris));
        REQUIRE(scope);
        CHECK(deliver(*anna, *boris).added == 3);
        CHECK(stored_heads(*boris, group) == std::vector<RecordId>{last});
        // Left without a commit: the scope rolls back.
    }
    CHECK(stored_heads(*boris, group) == before);
    CHECK(heads(*boris, group) == before);
    CHECK(deliver(*anna, *boris).added == 3);
    CHECK(stored_heads(*boris, group) == std::vector<RecordId>{last});
}
