// One identity writing from two devices at once (a restore from a backup on a second machine,
// both in use): the author's chain forks, and every reader's messages say which branch each
// message after the fork is on; a chain without a fork marks nothing.

#include <doctest/doctest.h>

#include <algorithm>

#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {

RestoreOptions restore_options() {
    RestoreOptions o;
    o.backup_passphrase = as_bytes(std::string_view("backup passphrase"));
    o.store_passphrase = as_bytes(kTestPassphrase);
    o.kdf = KdfProfile::fast;
    return o;
}

const MessageView& by_text(const std::vector<MessageView>& list, std::string_view text) {
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const MessageView& m) { return m.text == text; });
    REQUIRE(it != list.end());
    return *it;
}

}  // namespace

TEST_CASE("a chain forked by one identity on two devices is marked for every reader") {
    TempDir dir;
    auto anna = make_node(dir.path() / "anna", "Anna");
    auto boris = make_node(dir.path() / "boris", "Boris");
    auto group = *anna->create_group("Legal");
    REQUIRE(boris->join(*anna->add_member(group, card_to_text(boris->card()), false, true)));
    deliver(*anna, *boris);
    REQUIRE(anna->post(group, "before the backup"));
    REQUIRE(boris->post(group, "boris writes"));
    deliver(*boris, *anna);
    REQUIRE(anna->write_backup(dir.path() / "anna.age",
                               as_bytes(std::string_view("backup passphrase")), false));
    REQUIRE(Node::restore_backup(dir.path() / "phone", dir.path() / "anna.age", restore_options()));
    auto phone = reopen(dir.path() / "phone");
    deliver(*anna, *phone);

    // No fork yet: nothing is marked.
    auto before = boris->messages(group, 100);
    REQUIRE(before);
    for (const auto& m : *before) CHECK(m.devices == 0);
    REQUIRE(anna->post(group, "laptop 1"));
    REQUIRE(phone->post(group, "phone 1"));
    REQUIRE(phone->post(group, "phone 2"));
    REQUIRE(anna->post(group, "laptop 2"));
    deliver(*anna, *boris);
    deliver(*phone, *boris);
    auto seen = *boris->messages(group, 100);
    CHECK(by_text(seen, "before the backup").devices == 0);
    CHECK(by_text(seen, "boris writes").devices == 0);
    for (auto text : {"laptop 1", "laptop 2", "phone 1", "phone 2"}) {
        CAPTURE(text);
        CHECK(by_text(seen, text).devices == 2);
        CHECK(by_text(seen, text).device >= 1);
    }
    CHECK(by_text(seen, "laptop 1").device == by_text(seen, "laptop 2").device);
    CHECK(by_text(seen, "phone 1").device == by_text(seen, "phone 2").device);
    CHECK(by_text(seen, "laptop 1").device != by_text(seen, "phone 1").device);
    CHECK(by_text(seen, "laptop 1").seq == by_text(seen, "phone 1").seq);

    // Every reader numbers the branches the same way, whatever order they arrived in.
    deliver(*phone, *anna);
    deliver(*anna, *phone);
    for (auto* reader : {anna.get(), phone.get()}) {
        auto theirs = *reader->messages(group, 100);
        for (auto text : {"laptop 1", "laptop 2", "phone 1", "phone 2"})
            CHECK(by_text(theirs, text).device == by_text(seen, text).device);
    }
    // Boris's own chain has no fork.
    auto annas = anna->messages(group, 100);
    REQUIRE(annas);
    CHECK(by_text(*annas, "boris writes").devices == 0);
}
