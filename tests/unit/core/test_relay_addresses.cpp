// Several addresses of one relay (DESIGN §5.8): the settings record carries them, every member
// learns them, ingest refuses an address that would lead to another relay, and the address that
// worked last is tried first while the group still lists it.

#include <doctest/doctest.h>

#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/address.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"
#include "records.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {

// A 52-character key; the last character carries the 4 padding bits, which must be zero.
std::string key_of(char c) {
    return std::string(51, c) + "a";
}
std::string at(const std::string& host, int port, char key) {
    return "kolokol://" + host + ":" + std::to_string(port) + "/" + key_of(key);
}

// Anna's group "G", which Boris has joined (as an admin with `boris_admin`).
struct AnnaAndBoris {
    explicit AnnaAndBoris(bool boris_admin)
        : a(make_node(dir.path() / "a", "Anna")),
          b(make_node(dir.path() / "b", "Boris")),
          g(*a->create_group("G")) {
        auto token = a->add_member(g, card_to_text(b->card()), boris_admin, true);
        REQUIRE(b->join(*token).has_value());
    }
    TempDir dir;
    std::unique_ptr<Node> a, b;
    GroupId g;
};

}  // namespace

TEST_CASE("a relay's addresses travel in the settings record and reach every member") {
    AnnaAndBoris group(false);
    auto& a = group.a;
    auto& b = group.b;
    const auto g = group.g;
    const auto ip = at("127.0.0.1", 7000, 'a');
    const auto name = at("relay.example.org", 443, 'a');
    const auto other = at("127.0.0.2", 7000, 'b');
    REQUIRE(a->set_relays(g, {ip, other}, {name}).has_value());
    deliver(*a, *b);
    for (auto* n : {a.get(), b.get()}) {
        // Old readers' view: one address a relay.
        CHECK(n->relays(g) == std::vector<std::string>{ip, other});
        CHECK(n->relay_addresses(g) == std::vector<std::string>{ip, name, other});
        auto routes = n->relay_routes(g);
        REQUIRE(routes.size() == 2);
        CHECK(routes[0].key == key_of('a'));
        CHECK(routes[0].addresses == std::vector<std::string>{ip, name});
        CHECK(routes[1].addresses == std::vector<std::string>{other});
    }
    auto& settings = NodeTestAccess::impl(*b).state(g);
    CHECK(settings.relay_alternates() == std::vector<std::string>{name});

    // Retiring the first address: the next one becomes the relay's first, for everyone.
    REQUIRE(a->set_relays(g, {name, other}, {}).has_value());
    deliver(*a, *b);
    CHECK(b->relays(g) == std::vector<std::string>{name, other});
    CHECK(b->relay_routes(g)[0].addresses == std::vector<std::string>{name});
}

TEST_CASE("the address that worked is tried first, and a retired one is not revived") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto g = *a->create_group("G");
    const auto first = at("127.0.0.1", 7000, 'a');
    const auto second = at("127.0.0.1", 7001, 'a');
    const auto third = at("relay.example.org", 443, 'a');
    REQUIRE(a->set_relays(g, {first}, {second, third}).has_value());
    CHECK(a->relay_routes(g)[0].addresses == std::vector<std::string>{first, second, third});
    REQUIRE(a->relay_worked(third).has_value());
    CHECK(a->relay_routes(g)[0].addresses == std::vector<std::string>{third, first, second});
    // Kept in the store.
    a.reset();
    auto again = reopen(dir.path() / "a");
    CHECK(again->relay_routes(g)[0].addresses == std::vector<std::string>{third, first, second});
    // Per relay key: another key's address worked changes nothing here.
    REQUIRE(again->relay_worked(at("127.0.0.9", 1, 'c')).has_value());
    CHECK(again->relay_routes(g)[0].addresses.front() == third);
    // Retired: the memory of it does not bring it back.
    REQUIRE(again->set_relays(g, {first}, {second}).has_value());
    CHECK(again->relay_routes(g)[0].addresses == std::vector<std::string>{first, second});
    CHECK_FALSE(again->relay_worked("kolokol://nonsense").has_value());
}

TEST_CASE("set_relays bounds the addresses and refuses non-admins") {
    AnnaAndBoris group(false);
    auto& a = group.a;
    auto& b = group.b;
    const auto g = group.g;
    deliver(*a, *b);
    const auto relay = at("127.0.0.1", 7000, 'a');
    std::vector<std::string> eight;
    for (int i = 1; i < 9; ++i) eight.push_back(at("127.0.0.1", 7000 + i, 'a'));
    CHECK_FALSE(a->set_relays(g, {relay}, eight).has_value());  // 9 addresses of one relay
    eight.pop_back();
    CHECK(a->set_relays(g, {relay}, eight).has_value());
    // An added address with a key no relay listed has: it would lead to another relay.
    auto stray = a->set_relays(g, {relay}, {at("127.0.0.1", 7100, 'b')});
    REQUIRE_FALSE(stray.has_value());
    CHECK(stray.error().code == CoreErrc::bad_input);
    // 10 relays with 3 added addresses each and a 4th for three of them: 33 added.
    std::vector<std::string> relays, many;
    for (int r = 0; r < 10; ++r) {
        const auto host = "10.0.0." + std::to_string(r + 1);
        relays.push_back(at(host, 7000, char('c' + r)));
        for (int i = 1; i < (r < 3 ? 5 : 4); ++i) many.push_back(at(host, 7000 + i, char('c' + r)));
    }
    REQUIRE(many.size() == 33);
    CHECK_FALSE(a->set_relays(g, relays, many).has_value());
    many.pop_back();
    CHECK(a->set_relays(g, relays, many).has_value());
    CHECK(a->relay_addresses(g).size() == 42);
    auto fine = b->set_relays(g, {at("127.0.0.1", 7000, 'a')});
    REQUIRE_FALSE(fine.has_value());
    CHECK(fine.error().code == CoreErrc::not_permitted);
}

TEST_CASE("a settings record's added address must have a listed relay's key") {
    pb::GroupSettings s;
    s.set_set_relays(true);
    s.add_relays(at("127.0.0.1", 7000, 'a'));
    CHECK_FALSE(relay_list_problem(s).has_value());
    s.add_relay_alternates(at("relay.example.org", 443, 'a'));
    CHECK_FALSE(relay_list_problem(s).has_value());
    SUBCASE("another key") {
        s.add_relay_alternates(at("127.0.0.6", 7000, 'b'));
        CHECK(relay_list_problem(s) == "relay address for a relay not listed");
    }
    SUBCASE("twice") {
        s.add_relay_alternates(at("relay.example.org", 443, 'a'));
        CHECK(relay_list_problem(s) == "relay address listed twice");
        s.clear_relay_alternates();
        s.add_relay_alternates(at("127.0.0.1", 7000, 'a'));
        CHECK(relay_list_problem(s) == "relay address listed twice");
    }
    SUBCASE("not canonical, malformed, too long") {
        s.add_relay_alternates("kolokol://RELAY.example.org:443/" + key_of('a'));
        CHECK(relay_list_problem(s) == "relay address does not parse");
        s.clear_relay_alternates();
        s.add_relay_alternates("kolokol://relay.example.org:443/");
        CHECK(relay_list_problem(s) == "relay address does not parse");
        s.clear_relay_alternates();
        s.add_relay_alternates(std::string(300, 'x'));
        CHECK(relay_list_problem(s) == "relay address too long");
    }
    SUBCASE("without a relay list") {
        s.set_set_relays(false);
        CHECK(relay_list_problem(s) == "relay addresses without a relay list");
    }
    SUBCASE("more than 8 a relay") {
        for (int i = 1; i < 8; ++i) s.add_relay_alternates(at("127.0.0.1", 7000 + i, 'a'));
        CHECK(relay_list_problem(s) == "too many addresses for one relay");
    }
    SUBCASE("more than 32 in all") {
        s.clear_relays();
        s.clear_relay_alternates();
        for (int r = 0; r < 6; ++r) {
            s.add_relays(at("10.0.0." + std::to_string(r + 1), 1, char('a' + r)));
            for (int i = 2; i < 8; ++i)
                s.add_relay_alternates(at("10.0.0." + std::to_string(r + 1), i, char('a' + r)));
        }
        CHECK(s.relay_alternates_size() == 36);
        CHECK(relay_list_problem(s) == "too many relay addresses");
    }
}

TEST_CASE("a member refuses a settings record that points a relay's address at another key") {
    AnnaAndBoris group(false);
    auto& a = group.a;
    auto& b = group.b;
    const auto g = group.g;
    const auto relay = at("127.0.0.1", 7000, 'a');
    REQUIRE(a->set_relays(g, {relay}).has_value());
    deliver(*a, *b);
    // Written past set_relays's checks, as a modified client would.
    pb::RecordBody body;
    body.mutable_settings()->set_set_relays(true);
    body.mutable_settings()->add_relays(relay);
    body.mutable_settings()->add_relay_alternates(at("203.0.113.9", 7000, 'q'));
    auto& ai = NodeTestAccess::impl(*a);
    auto epoch = ai.prepare(g, body, std::nullopt);
    REQUIRE(epoch.has_value());
    const auto report = b->ingest(std::vector<Bytes>{ai.seal(body, *epoch)});
    REQUIRE(report.has_value());
    CHECK(report->rejected == 1);
    CHECK(b->relay_addresses(g) == std::vector<std::string>{relay});
}

TEST_CASE("a retired address stays retired against a concurrent change that has not seen it") {
    AnnaAndBoris group(true);
    auto& a = group.a;
    auto& b = group.b;
    const auto g = group.g;
    const auto first = at("127.0.0.1", 7000, 'a');
    const auto second = at("127.0.0.2", 7000, 'a');
    const auto third = at("127.0.0.3", 7000, 'a');
    REQUIRE(a->set_relays(g, {first}, {second}).has_value());
    deliver(*a, *b);
    REQUIRE(b->relay_addresses(g) == std::vector<std::string>{first, second});

    SUBCASE("an address added concurrently does not bring back the retired first address") {
        // Anna retires the first address; Boris, not having seen it, writes more and adds a
        // third: his record comes later in (Lamport, id) order and lists the first again.
        REQUIRE(a->set_relays(g, {second}, {}, {first}).has_value());
        for (int i = 0; i < 3; ++i) REQUIRE(b->post(g, "note").has_value());
        REQUIRE(b->set_relays(g, {first}, {second, third}).has_value());
        deliver(*a, *b);
        deliver(*b, *a);
        for (auto* n : {a.get(), b.get()}) {
            CHECK(n->relays(g) == std::vector<std::string>{second});
            CHECK(n->relay_addresses(g) == std::vector<std::string>{second, third});
        }
        // An admin who has seen the retirement may list the address again.
        REQUIRE(b->set_relays(g, {second}, {third, first}).has_value());
        deliver(*b, *a);
        CHECK(a->relay_addresses(g) == std::vector<std::string>{second, third, first});
    }
    SUBCASE("a relay removed concurrently with an address added to it stays removed") {
        const auto other = at("10.0.0.1", 7000, 'b');
        REQUIRE(a->set_relays(g, {other}, {}, {first, second}).has_value());
        REQUIRE(b->set_relays(g, {first}, {second, third}).has_value());
        deliver(*a, *b);
        deliver(*b, *a);
        for (auto* n : {a.get(), b.get()}) {
            // Boris's list wins; what Anna retired goes from it, and his added third address
            // leads the relay now.
            auto both = n->relay_addresses(g);
            CHECK(std::find(both.begin(), both.end(), first) == both.end());
            CHECK(std::find(both.begin(), both.end(), second) == both.end());
        }
        CHECK(a->relay_addresses(g) == b->relay_addresses(g));
    }
    SUBCASE("two admins retiring each address of one relay: the relay goes") {
        REQUIRE(a->set_relays(g, {second}, {}, {first}).has_value());
        REQUIRE(b->set_relays(g, {first}, {}, {second}).has_value());
        deliver(*a, *b);
        deliver(*b, *a);
        CHECK(a->relay_addresses(g).empty());
        CHECK(b->relay_addresses(g).empty());
    }
    SUBCASE("bounds: a retired address cannot be listed, at most 16") {
        CHECK_FALSE(a->set_relays(g, {first}, {second}, {second}).has_value());
        std::vector<std::string> many;
        for (int i = 0; i < 17; ++i) many.push_back(at("10.1.0.1", 8000 + i, 'c'));
        CHECK_FALSE(a->set_relays(g, {first}, {}, many).has_value());
        many.pop_back();
        CHECK(a->set_relays(g, {first}, {}, many).has_value());
        pb::GroupSettings s;
        s.set_set_relays(true);
        s.add_relays(first);
        s.add_relay_retired(first);
        CHECK(relay_list_problem(s) == "relay address listed and retired");
        s.clear_relay_retired();
        s.add_relay_retired("kolokol://127.0.0.9:1/");
        CHECK(relay_list_problem(s) == "relay address does not parse");
        s.clear_relay_retired();
        s.add_relay_retired(second);
        s.set_set_relays(false);
        CHECK(relay_list_problem(s) == "retired relay addresses without a relay list");
    }
}

TEST_CASE("once the settings set the relay list, a welcome token's relays are not used") {
    TempDir dir;
    std::int64_t now = 1'900'000'000'000;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    for (auto* n : {a.get(), b.get()}) n->set_clock([&] { return now; });
    auto g = *a->create_group("G");
    const auto relay = at("127.0.0.1", 7000, 'a');
    REQUIRE(a->set_relays(g, {relay}).has_value());
    auto token = a->add_member(g, card_to_text(b->card()), false, true);
    REQUIRE(b->join(*token).has_value());
    // Before Boris has the group's records, the token's relay is his way in.
    CHECK(b->relays(g) == std::vector<std::string>{relay});
    deliver(*a, *b);
    CHECK(b->relays(g) == std::vector<std::string>{relay});
    // Anna removes the relay (its address retired): Boris lists none, and dials none once the
    // change is settled (for a day he still dials the relay it dropped, §5.8).
    REQUIRE(a->set_relays(g, {}, {}, {relay}).has_value());
    deliver(*a, *b);
    CHECK(b->relays(g).empty());
    CHECK(b->held_relays(g) == std::vector<std::string>{relay});
    now += 24 * 3600 * 1000LL;
    CHECK(b->relay_routes(g).empty());
}

TEST_CASE("a relay dropped by someone else's unsettled change is still dialled for a day") {
    // A removed admin's old copy moves the group to his relay: the member keeps dialling the
    // relay the change dropped until the change is settled, hears of the removal there, and the
    // removal voids the change (docs/design.md §5.8).
    TempDir dir;
    std::int64_t now = 1'900'000'000'000;
    auto clock = [&] { return now; };
    auto anna = make_node(dir.path() / "a", "Anna");
    auto ivan = make_node(dir.path() / "i", "Ivan");
    auto boris = make_node(dir.path() / "b", "Boris");
    for (auto* n : {anna.get(), ivan.get(), boris.get()}) n->set_clock(clock);
    auto g = *anna->create_group("G");
    const auto relay = at("127.0.0.1", 7000, 'a');
    const auto ivans = at("127.0.0.9", 7000, 'i');
    REQUIRE(anna->set_relays(g, {relay}).has_value());
    for (auto* n : {ivan.get(), boris.get()}) {
        auto token = anna->add_member(g, card_to_text(n->card()), n == ivan.get(), true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    auto everyone = {anna.get(), ivan.get(), boris.get()};
    for (int round = 0; round < 2; ++round)
        for (auto* from : everyone)
            for (auto* to : everyone)
                if (from != to) deliver(*from, *to);
    // The list Boris was added under is settled at once: nothing held.
    CHECK(boris->held_relays(g).empty());
    now += 3600 * 1000;

    REQUIRE(anna->remove_member(g, ivan->me()).has_value());
    REQUIRE(ivan->set_relays(g, {ivans}, {}, {relay}).has_value());
    deliver(*ivan, *boris);
    CHECK(boris->relays(g) == std::vector<std::string>{ivans});
    CHECK(boris->relay_addresses(g) == std::vector<std::string>{ivans});  // what `list` shows
    CHECK(boris->held_relays(g) == std::vector<std::string>{relay});
    auto routes = boris->relay_routes(g);
    REQUIRE(routes.size() == 2);
    CHECK(routes[0].addresses == std::vector<std::string>{relay});  // synced first
    CHECK(routes[1].addresses == std::vector<std::string>{ivans});
    // Ivan's own store wrote the change: it holds nothing back.
    CHECK(ivan->held_relays(g).empty());
    // Hours later Boris still dials the old relay; there the removal voids the change.
    now += 23 * 3600 * 1000LL;
    CHECK(boris->held_relays(g) == std::vector<std::string>{relay});
    deliver(*anna, *boris);
    CHECK(boris->relays(g) == std::vector<std::string>{relay});
    CHECK(boris->held_relays(g).empty());
    REQUIRE(boris->relay_routes(g).size() == 1);

    // An admin who stays moves the group to another relay: the old one is dialled for a day
    // after Boris received the change, and no longer once it is settled.
    const auto next = at("127.0.0.2", 7000, 'n');
    REQUIRE(anna->set_relays(g, {next}, {}, {relay}).has_value());
    CHECK(anna->held_relays(g).empty());  // her own change
    CHECK(anna->relay_routes(g).size() == 1);
    deliver(*anna, *boris);
    CHECK(boris->held_relays(g) == std::vector<std::string>{relay});
    now += 24 * 3600 * 1000LL - 1;
    CHECK(boris->held_relays(g) == std::vector<std::string>{relay});
    now += 1;  // a day (the settle period of retention, §13.8)
    CHECK(boris->held_relays(g).empty());
    routes = boris->relay_routes(g);
    REQUIRE(routes.size() == 1);
    CHECK(routes[0].addresses == std::vector<std::string>{next});

    // A change among the relays the group has (an address retired, another of the same relay
    // added) brings in no relay, but the retired address is still tried for a day, after the
    // relay's listed one (row 68): the new one may be dead.
    const auto other = at("relay.example.org", 443, 'n');
    REQUIRE(anna->set_relays(g, {other}, {}, {next}).has_value());
    deliver(*anna, *boris);
    CHECK(boris->held_relays(g) == std::vector<std::string>{next});
    routes = boris->relay_routes(g);
    REQUIRE(routes.size() == 1);
    CHECK(routes[0].addresses == std::vector<std::string>{other, next});
    now += 24 * 3600 * 1000LL;
    CHECK(boris->held_relays(g).empty());
    routes = boris->relay_routes(g);
    REQUIRE(routes.size() == 1);
    CHECK(routes[0].addresses == std::vector<std::string>{other});

    // A change that keeps the group's relay and lists a new one first drops nothing; while it
    // is not settled the relay the group had is still synced first.
    now += 24 * 3600 * 1000LL;
    const auto fresh = at("127.0.0.3", 7000, 'f');
    REQUIRE(anna->set_relays(g, {fresh, other}).has_value());
    CHECK(anna->relay_routes(g)[0].addresses == std::vector<std::string>{fresh});
    deliver(*anna, *boris);
    CHECK(boris->held_relays(g).empty());
    routes = boris->relay_routes(g);
    REQUIRE(routes.size() == 2);
    CHECK(routes[0].addresses == std::vector<std::string>{other});
    CHECK(routes[1].addresses == std::vector<std::string>{fresh});
    now += 24 * 3600 * 1000LL;
    CHECK(boris->relay_routes(g)[0].addresses == std::vector<std::string>{fresh});
}

namespace {

// Anna's group on `relay`, with Ivan an admin who added his own relay long ago (settled at
// Boris), and Boris a member; Anna then removes Ivan, which Boris has not heard of yet.
struct StaleAdmin {
    StaleAdmin()
        : anna(make_node(dir.path() / "a", "Anna")),
          ivan(make_node(dir.path() / "i", "Ivan")),
          boris(make_node(dir.path() / "b", "Boris")) {
        for (auto* n : {anna.get(), ivan.get(), boris.get()}) n->set_clock([this] { return now; });
        g = *anna->create_group("G");
        REQUIRE(anna->set_relays(g, {relay}).has_value());
        for (auto* n : {ivan.get(), boris.get()}) {
            auto token = anna->add_member(g, card_to_text(n->card()), n == ivan.get(), true);
            REQUIRE(token.has_value());
            REQUIRE(n->join(*token).has_value());
        }
        everyone_syncs();
        REQUIRE(ivan->set_relays(g, {relay, ivans}).has_value());
        everyone_syncs();
        now += 2 * 24 * 3600 * 1000LL;  // Ivan's relay is settled at Boris
        CHECK(boris->held_relays(g).empty());
        CHECK(boris->relays(g) == std::vector<std::string>{relay, ivans});
        REQUIRE(anna->remove_member(g, ivan->me()).has_value());
    }
    void everyone_syncs() {
        auto all = {anna.get(), ivan.get(), boris.get()};
        for (int round = 0; round < 2; ++round)
            for (auto* from : all)
                for (auto* to : all)
                    if (from != to) deliver(*from, *to);
    }
    TempDir dir;
    std::int64_t now = 1'900'000'000'000;
    std::unique_ptr<Node> anna, ivan, boris;
    GroupId g{};
    const std::string relay = at("127.0.0.1", 7000, 'a');
    const std::string ivans = at("127.0.0.9", 7000, 'i');
};

}  // namespace

TEST_CASE(
    "relays dropped by someone else's unsettled change are dialled whether or not it adds "
    "one") {
    // A removed admin's old copy of his home drops every relay but his own, long settled: it
    // brings in no new relay key, yet the member keeps dialling the dropped relay until the
    // change is settled, and there hears of the removal (docs/design.md §5.8, rows 1, 3).
    SUBCASE("all but the admin's own relay") {
        StaleAdmin s;
        REQUIRE(s.ivan->set_relays(s.g, {s.ivans}, {}, {s.relay}).has_value());
        deliver(*s.ivan, *s.boris);
        CHECK(s.boris->relays(s.g) == std::vector<std::string>{s.ivans});
        CHECK(s.boris->held_relays(s.g) == std::vector<std::string>{s.relay});
        auto routes = s.boris->relay_routes(s.g);
        REQUIRE(routes.size() == 2);
        CHECK(routes[0].addresses == std::vector<std::string>{s.relay});
        CHECK(routes[1].addresses == std::vector<std::string>{s.ivans});
        // Marked held: a follow (relays_per_group) reads from the listed relay, not from one
        // that may be gone for good after an honest removal.
        CHECK(routes[0].held);
        CHECK_FALSE(routes[1].held);
        s.now += 24 * 3600 * 1000LL - 1;
        CHECK(s.boris->held_relays(s.g) == std::vector<std::string>{s.relay});
        // Through the held relay the removal arrives and voids the change.
        deliver(*s.anna, *s.boris);
        CHECK(s.boris->relays(s.g) == std::vector<std::string>{s.relay, s.ivans});
        CHECK(s.boris->held_relays(s.g).empty());
    }
    SUBCASE("every relay") {
        StaleAdmin s;
        REQUIRE(s.ivan->set_relays(s.g, {}, {}, {s.relay, s.ivans}).has_value());
        deliver(*s.ivan, *s.boris);
        CHECK(s.boris->relays(s.g).empty());
        CHECK(s.boris->held_relays(s.g) == std::vector<std::string>{s.relay, s.ivans});
        CHECK(s.boris->relay_routes(s.g).size() == 2);
        s.now += 24 * 3600 * 1000LL;  // settled: only then is the group left without relays
        CHECK(s.boris->held_relays(s.g).empty());
        CHECK(s.boris->relay_routes(s.g).empty());
    }
    SUBCASE("a relay given only dead addresses of its own key") {
        StaleAdmin s;
        const auto dead = at("127.0.0.66", 1, 'a');
        REQUIRE(s.ivan->set_relays(s.g, {dead, s.ivans}, {}, {s.relay}).has_value());
        deliver(*s.ivan, *s.boris);
        CHECK(s.boris->held_relays(s.g) == std::vector<std::string>{s.relay});
        auto routes = s.boris->relay_routes(s.g);
        REQUIRE(routes.size() == 2);
        // The held address is tried when the listed one of its key fails.
        CHECK(routes[0].addresses == std::vector<std::string>{dead, s.relay});
        CHECK(routes[1].addresses == std::vector<std::string>{s.ivans});
    }
}

TEST_CASE("a restore keeps when relay changes were received") {
    // A change settled before the backup stays settled after a restore (with or without the
    // history); one that was not waits only for the rest of its day, counted from the restore:
    // the time between the backup and the restore does not count (docs/design.md §5.8, row 68).
    for (const bool history : {false, true}) {
        CAPTURE(history);
        TempDir dir;
        std::int64_t now = 1'900'000'000'000;
        auto clock = [&] { return now; };
        auto anna = make_node(dir.path() / "a", "Anna");
        auto boris = make_node(dir.path() / "b", "Boris");
        for (auto* n : {anna.get(), boris.get()}) n->set_clock(clock);
        auto g = *anna->create_group("G");
        const auto first = at("127.0.0.1", 7000, 'a');
        const auto second = at("127.0.0.2", 7000, 'b');
        const auto third = at("127.0.0.3", 7000, 'c');
        REQUIRE(anna->set_relays(g, {first}).has_value());
        auto token = anna->add_member(g, card_to_text(boris->card()), false, true);
        REQUIRE(boris->join(*token).has_value());
        deliver(*anna, *boris);
        REQUIRE(anna->set_relays(g, {second}, {}, {first}).has_value());
        deliver(*anna, *boris);
        CHECK(boris->held_relays(g) == std::vector<std::string>{first});
        now += 25 * 3600 * 1000LL;
        CHECK(boris->held_relays(g).empty());

        int n = 0;
        auto restore = [&]() {
            const auto backup = dir.path() / ("b" + std::to_string(++n) + ".bak");
            REQUIRE(boris->write_backup(backup, as_bytes(std::string_view("backup pass")), history)
                        .has_value());
            now += 10 * 24 * 3600 * 1000LL;  // restored ten days later
            RestoreOptions o;
            o.backup_passphrase = as_bytes(std::string_view("backup pass"));
            o.store_passphrase = as_bytes(std::string_view(kTestPassphrase));
            o.kdf = KdfProfile::fast;
            o.clock = clock;
            const auto home = dir.path() / ("r" + std::to_string(n));
            REQUIRE(Node::restore_backup(home, backup, o).has_value());
            auto restored = Node::open(home, as_bytes(std::string_view(kTestPassphrase)), clock);
            REQUIRE(restored.has_value());
            deliver(*anna, **restored);
            return std::move(*restored);
        };
        auto r1 = restore();
        CHECK(r1->relays(g) == std::vector<std::string>{second});
        CHECK(r1->held_relays(g).empty());

        // Received an hour before the backup: unsettled there, so held 23 hours after the restore.
        REQUIRE(anna->set_relays(g, {third}, {}, {second}).has_value());
        deliver(*anna, *boris);
        now += 3600 * 1000LL;
        auto r2 = restore();
        CHECK(r2->relays(g) == std::vector<std::string>{third});
        CHECK(r2->held_relays(g) == std::vector<std::string>{second});
        now += 23 * 3600 * 1000LL - 1;
        CHECK(r2->held_relays(g) == std::vector<std::string>{second});
        now += 1;
        CHECK(r2->held_relays(g).empty());
        // A backup of the restored store carries the times on.
        const auto backup = dir.path() / "again.bak";
        REQUIRE(r2->write_backup(backup, as_bytes(std::string_view("backup pass")), history)
                    .has_value());
        RestoreOptions o;
        o.backup_passphrase = as_bytes(std::string_view("backup pass"));
        o.store_passphrase = as_bytes(std::string_view(kTestPassphrase));
        o.kdf = KdfProfile::fast;
        o.clock = clock;
        REQUIRE(Node::restore_backup(dir.path() / "again", backup, o).has_value());
        auto r3 =
            Node::open(dir.path() / "again", as_bytes(std::string_view(kTestPassphrase)), clock);
        REQUIRE(r3.has_value());
        deliver(*anna, **r3);
        CHECK((*r3)->relays(g) == std::vector<std::string>{third});
        CHECK((*r3)->held_relays(g).empty());
    }
}
