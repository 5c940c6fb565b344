// Node's network policy: Tor-only groups, the proxy setting in the store, beacon keys.
#include <doctest/doctest.h>

#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/lan_beacon.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using kolokol::test::make_node;
using kolokol::test::reopen;
using kolokol::test::TempDir;

TEST_CASE("Tor only is a group setting that admins set and members learn") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto g = a->create_group("Omega").value();
    auto token = a->add_member(g, card_to_text(b->card()), false, false).value();
    REQUIRE(b->join(token).has_value());
    kolokol::test::deliver(*a, *b);
    CHECK_FALSE(a->tor_only(g));
    REQUIRE(a->set_tor_only(g, true).has_value());
    CHECK(a->tor_only(g));
    CHECK_FALSE(b->tor_only(g));
    kolokol::test::deliver(*a, *b);
    CHECK(b->tor_only(g));
    // A member who is not an admin cannot change it.
    auto refused = b->set_tor_only(g, false);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == CoreErrc::not_permitted);
    CHECK(b->tor_only(g));
    REQUIRE(a->set_tor_only(g, false).has_value());
    kolokol::test::deliver(*a, *b);
    CHECK_FALSE(b->tor_only(g));
    GroupId unknown{};
    CHECK_FALSE(a->tor_only(unknown));
    CHECK(a->set_tor_only(unknown, true).error().code == CoreErrc::not_found);
}

TEST_CASE("the proxy is kept in the store, validated and canonical") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    CHECK_FALSE(a->proxy().has_value());
    auto bad = a->set_proxy(std::string("socks5://tor.example:9050"));
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == CoreErrc::bad_input);
    CHECK(bad.error().message.find("IP address") != std::string::npos);
    REQUIRE(a->set_proxy(std::string("socks5h://127.0.0.1:9050")).has_value());
    CHECK(a->proxy() == std::optional<std::string>("socks5://127.0.0.1:9050"));
    a.reset();
    auto again = reopen(dir.path() / "a");
    CHECK(again->proxy() == std::optional<std::string>("socks5://127.0.0.1:9050"));
    REQUIRE(again->set_proxy(std::nullopt).has_value());
    CHECK_FALSE(again->proxy().has_value());
    // Not in any plain file of the home: only the encrypted database holds it.
    REQUIRE(again->set_proxy(std::string("socks5://127.0.0.1:9150")).has_value());
    again.reset();
    CHECK(kolokol::test::files_containing(dir.path() / "a", "127.0.0.1:9150").empty());
}

TEST_CASE("members of a group share a beacon key; Tor-only groups have none") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto g = a->create_group("Omega").value();
    auto token = a->add_member(g, card_to_text(b->card()), false, false).value();
    REQUIRE(b->join(token).has_value());
    c->create_group("Other").value();

    auto send_key = [](Node& n) -> std::optional<Bytes> {
        for (const auto& k : n.beacon_keys())
            if (k.send) return Bytes(k.key.view().begin(), k.key.view().end());
        return std::nullopt;
    };
    // Before Boris has synced his admission he already sends under the newest epoch he holds.
    auto kb = send_key(*b);
    REQUIRE(kb.has_value());
    kolokol::test::deliver(*a, *b);
    auto ka = send_key(*a);
    REQUIRE(ka.has_value());
    CHECK(ka->size() == 32);
    CHECK(*ka == *send_key(*b));
    CHECK(*ka != *send_key(*c));

    // A beacon Anna sends is recognised by Boris's keys, not by Clara's.
    auto listen = [](Node& n) {
        std::vector<crypto::SecretBytes> out;
        for (auto& k : n.beacon_keys()) out.push_back(std::move(k.key));
        return out;
    };
    crypto::DeterministicRandom rng(1);
    transport::lan::BeaconInfo info;
    info.port = 1234;
    info.key = a->transport_key().public_key;
    auto beacon = transport::lan::make_beacon(*ka, 100, info, rng).value();
    transport::lan::BeaconRecogniser rb(listen(*b), transport::lan::RecogniserOptions{});
    transport::lan::BeaconRecogniser rc(listen(*c), transport::lan::RecogniserOptions{});
    CHECK(rb.recognise(beacon, 100 * 60'000).verdict == transport::lan::Verdict::recognised);
    CHECK(rc.recognise(beacon, 100 * 60'000).verdict == transport::lan::Verdict::unknown);

    // After a rotation the old key is still heard (a member who has not synced sends it).
    REQUIRE(a->rotate(g).has_value());
    auto after = send_key(*a);
    REQUIRE(after.has_value());
    CHECK(*after != *ka);
    bool old_heard = false;
    for (const auto& k : a->beacon_keys())
        old_heard =
            old_heard || (!k.send && Bytes(k.key.view().begin(), k.key.view().end()) == *ka);
    CHECK(old_heard);

    REQUIRE(a->set_tor_only(g, true).has_value());
    CHECK(a->beacon_keys().empty());
}

TEST_CASE("a removed member's epoch is neither announced nor heard on the LAN") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto m = make_node(dir.path() / "m", "Mallory");
    auto g = a->create_group("Omega").value();
    REQUIRE(b->join(a->add_member(g, card_to_text(b->card()), false, false).value()));
    REQUIRE(m->join(a->add_member(g, card_to_text(m->card()), false, false).value()));
    kolokol::test::deliver(*a, *b);
    kolokol::test::deliver(*a, *m);
    auto keys_of = [](Node& n) {
        std::vector<Bytes> out;
        for (const auto& k : n.beacon_keys())
            out.emplace_back(k.key.view().begin(), k.key.view().end());
        return out;
    };
    auto sent_by = [](Node& n) {
        for (const auto& k : n.beacon_keys())
            if (k.send) return Bytes(k.key.view().begin(), k.key.view().end());
        return Bytes{};
    };
    // Before the removal Mallory's beacon key is everyone's.
    const auto mallory = sent_by(*m);
    REQUIRE_FALSE(mallory.empty());
    CHECK(sent_by(*a) == mallory);
    auto has = [](const std::vector<Bytes>& keys, const Bytes& k) {
        return std::find(keys.begin(), keys.end(), k) != keys.end();
    };
    CHECK(has(keys_of(*b), mallory));

    REQUIRE(a->remove_member(g, m->card().sign_key).has_value());
    kolokol::test::deliver(*a, *b);
    // Mallory, who has not heard of it, still beacons under the epoch she holds; the members
    // neither send nor listen on it (the one Anna and Boris now share is new).
    CHECK(sent_by(*m) == mallory);
    for (Node* member : {a.get(), b.get()}) {
        CHECK_FALSE(has(keys_of(*member), mallory));
        CHECK_FALSE(sent_by(*member).empty());
    }
    CHECK(sent_by(*a) == sent_by(*b));
    crypto::DeterministicRandom rng(2);
    transport::lan::BeaconInfo info;
    info.port = 1234;
    info.key = m->transport_key().public_key;
    auto beacon = transport::lan::make_beacon(mallory, 100, info, rng).value();
    std::vector<crypto::SecretBytes> listen;
    for (auto& k : a->beacon_keys()) listen.push_back(std::move(k.key));
    transport::lan::BeaconRecogniser ra(listen, transport::lan::RecogniserOptions{});
    CHECK(ra.recognise(beacon, 100 * 60'000).verdict == transport::lan::Verdict::unknown);

    // Once Mallory hears of her removal she holds no untainted epoch: she beacons nothing.
    kolokol::test::deliver(*a, *m);
    CHECK(m->beacon_keys().empty());
}
