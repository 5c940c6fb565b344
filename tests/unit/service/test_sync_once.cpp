// sync_once and plan_sync: one member syncs, and ends, with the listeners of others in the same
// process (a SyncService's listen(), standing in for a relay), over loopback TCP.

#include <doctest/doctest.h>

#include <asio/ip/tcp.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kolokol/core/identity.hpp"
#include "kolokol/core/sync_once.hpp"
#include "kolokol/core/sync_service.hpp"
#include "kolokol/transport/session_error.hpp"
#include "service_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;
using namespace std::chrono_literals;

namespace {

// The address of `live` with a port nothing listens on (taken, then let go).
std::string dead_address(const std::string& live) {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    acceptor.close();
    auto at = *transport::Address::parse(live);
    return transport::Address(at.host, port, at.key).to_string();
}

// Counts what sync_once says as it goes; `on_start` runs as each session starts.
struct Counter final : SyncOnceObserver {
    std::size_t sessions = 0, ends = 0, addresses = 0, maintained = 0, retries = 0;
    std::function<void()> on_start;
    void on_session(const std::string&, const GroupId&) override {
        ++sessions;
        if (on_start) on_start();
    }
    void on_session_end(bool) override { ++ends; }
    void on_address(const SyncAddressReport&) override { ++addresses; }
    void on_maintained(const SyncOnceReport&) override { ++maintained; }
    void on_retry(const std::string&, const Error&, int, std::chrono::milliseconds) override {
        ++retries;
    }
};

SyncOnceOptions quick(Counter& counter) {
    SyncOnceOptions o;
    o.observer = &counter;
    o.sync.connect.connect_timeout = 5s;
    return o;
}

}  // namespace

TEST_CASE("sync_once syncs one member with another's listener, both ways, and maintains") {
    Pair p;
    SyncService bs(*p.b, nullptr);
    auto address = bs.listen(loopback());
    REQUIRE(address.has_value());
    REQUIRE(p.a->set_relays(p.g, {*address}).has_value());
    REQUIRE(p.a->post(p.g, "from Anna").has_value());
    REQUIRE(bs.with_node([&](Node& n) { return n.post(p.g, "from Boris"); }).has_value());

    auto plan = plan_sync(*p.a, {}, {}, {});
    REQUIRE(plan.has_value());
    REQUIRE(plan->sessions.size() == 1);
    CHECK(plan->sessions[0].address == *address);
    CHECK(plan->sessions[0].groups == std::vector<GroupId>{p.g});
    CHECK_FALSE(plan->excluded);

    Counter counter;
    auto report = sync_once(*p.a, *plan, quick(counter));
    CHECK_FALSE(report.stopped);
    CHECK_FALSE(report.maintain_error.has_value());
    REQUIRE(report.addresses.size() == 1);
    CHECK(report.addresses[0].errors.empty());
    CHECK(report.addresses[0].synced == 1);
    CHECK(report.addresses[0].report.sent >= 1);
    CHECK(report.addresses[0].report.received >= 1);
    CHECK(report.stored == report.addresses[0].report.received);
    CHECK(counter.addresses == 1);
    CHECK(counter.maintained == 1);
    // Nothing rotated: one round.
    CHECK(counter.sessions == 1);
    CHECK(counter.ends == 1);
    CHECK(has_text(bs, p.g, "from Anna"));
    auto mine = texts(*p.a, p.g);
    CHECK(std::find(mine.begin(), mine.end(), "from Boris") != mine.end());
}

TEST_CASE("sync_once syncs again while a round brings a new mailbox (a rotation)") {
    Pair p;
    // Anna rotates G and writes in the new epoch; Boris has heard of neither.
    REQUIRE(p.a->rotate(p.g).has_value());
    REQUIRE(p.a->post(p.g, "in the new epoch").has_value());
    const auto before = p.b->mailbox_keys(&p.g).size();
    SyncService as(*p.a, nullptr);
    auto address = as.listen(loopback());
    REQUIRE(address.has_value());

    const GroupId named[] = {p.g};
    const std::string targets[] = {*address};
    auto plan = plan_sync(*p.b, named, targets, {});
    REQUIRE(plan.has_value());
    REQUIRE(plan->sessions.size() == 1);
    Counter counter;
    auto report = sync_once(*p.b, *plan, quick(counter));
    REQUIRE(report.addresses.size() == 1);
    CHECK(report.addresses[0].errors.empty());
    // The first round brought the rotation, so Boris offered the new mailbox in a second one,
    // which brought the message; a third round would offer nothing new.
    CHECK(p.b->mailbox_keys(&p.g).size() > before);
    CHECK(counter.sessions == 2);
    auto held = texts(*p.b, p.g);
    CHECK(std::find(held.begin(), held.end(), "in the new epoch") != held.end());
}

TEST_CASE("sync_once reports an unreachable address and still syncs the next") {
    Pair p;
    SyncService bs(*p.b, nullptr);
    auto address = bs.listen(loopback());
    REQUIRE(address.has_value());
    const auto dead = dead_address(*address);
    REQUIRE(p.a->set_relays(p.g, {dead, *address}).has_value());
    REQUIRE(p.a->post(p.g, "past the dead one").has_value());

    auto plan = plan_sync(*p.a, {}, {}, {});
    REQUIRE(plan.has_value());
    REQUIRE(plan->sessions.size() == 2);
    Counter counter;
    auto report = sync_once(*p.a, *plan, quick(counter));
    CHECK_FALSE(report.stopped);
    REQUIRE(report.addresses.size() == 2);
    CHECK(report.addresses[0].address == dead);
    REQUIRE(report.addresses[0].errors.size() == 1);
    CHECK(report.addresses[0].errors[0].code == transport::TransportErrc::connect_failed);
    CHECK(report.addresses[0].synced == 0);
    // An address that never carried anything in this sync is not tried again: its failure
    // goes straight to the next address (or fallback).
    CHECK(counter.retries == 0);
    CHECK(report.addresses[1].errors.empty());
    CHECK(report.addresses[1].synced == 1);
    CHECK(has_text(bs, p.g, "past the dead one"));
}

TEST_CASE("sync_once stops: no further session, no maintain") {
    Pair p;
    SyncService bs(*p.b, nullptr);
    auto address = bs.listen(loopback());
    REQUIRE(address.has_value());
    REQUIRE(p.a->set_relays(p.g, {*address, dead_address(*address)}).has_value());
    auto plan = plan_sync(*p.a, {}, {}, {});
    REQUIRE(plan.has_value());
    REQUIRE(plan->sessions.size() == 2);

    Counter counter;
    auto options = quick(counter);
    counter.on_start = [stop = options.stop] { stop.request(); };
    auto report = sync_once(*p.a, *plan, options);
    CHECK(report.stopped);
    CHECK(counter.sessions == 1);
    CHECK(counter.maintained == 0);
    CHECK(report.maintained.empty());
    REQUIRE(report.addresses.size() == 1);
    // A session the stop ended is not the address's failure.
    CHECK(report.addresses[0].errors.empty());
    CHECK(report.addresses[0].synced == 0);
}

TEST_CASE("plan_sync: named targets, groups, and what the route refuses") {
    Pair p;
    const auto key = p.b->transport_key().public_key;
    const auto relay = transport::Address("127.0.0.1", 7000, key).to_string();
    const auto other = transport::Address("127.0.0.1", 7001, key).to_string();
    REQUIRE(p.a->set_relays(p.g, {relay}).has_value());

    // A target no group lists is not asked for anything unless groups are named.
    const std::string targets[] = {other};
    auto unlisted = plan_sync(*p.a, {}, targets, {});
    REQUIRE(unlisted.has_value());
    CHECK(unlisted->sessions.empty());
    CHECK(unlisted->unlisted == std::vector<std::string>{other});
    const GroupId named[] = {p.g};
    auto asked = plan_sync(*p.a, named, targets, {});
    REQUIRE(asked.has_value());
    REQUIRE(asked->sessions.size() == 1);
    CHECK(asked->sessions[0].groups == std::vector<GroupId>{p.g});

    // A malformed target fails with its parse error.
    const std::string bad[] = {"kolokol://nowhere"};
    CHECK_FALSE(plan_sync(*p.a, {}, bad, {}).has_value());

    // Tor only, and the default route (no proxy): left out, and said.
    REQUIRE(p.a->set_tor_only(p.g, true).has_value());
    auto tor = plan_sync(*p.a, {}, {}, {});
    REQUIRE(tor.has_value());
    CHECK(tor->sessions.empty());
    CHECK(tor->excluded);
    // A route that fails fails the plan.
    SyncRoute broken = [](Node&, const GroupId&, std::string_view,
                          transport::ConnectOptions&) -> Result<bool> {
        return fail(CoreErrc::bad_input, "a malformed proxy");
    };
    CHECK_FALSE(plan_sync(*p.a, {}, {}, broken).has_value());
}

TEST_CASE("without redial, a service limited to one group reports an unreachable relay once") {
    Pair p;
    auto other = *p.a->create_group("H");
    SyncService bs(*p.b, nullptr);
    auto address = bs.listen(loopback());
    REQUIRE(address.has_value());
    const auto dead = dead_address(*address);
    REQUIRE(p.a->set_relays(p.g, {dead, *address}).has_value());
    REQUIRE(p.a->set_relays(other, {*address}).has_value());

    struct Events final : SyncObserver {
        std::mutex mutex;
        std::condition_variable changed;
        std::vector<SyncEvent> seen;
        void on_event(const SyncEvent& e) override {
            {
                std::lock_guard lock(mutex);
                seen.push_back(e);
            }
            changed.notify_all();
        }
    } events;
    SyncServiceOptions options;
    options.only_groups = {p.g};
    options.relays_per_group = 1;
    options.redial = false;
    options.backoff_min = 1s;
    SyncService as(*p.a, &events, options);
    as.update();
    {
        std::unique_lock lock(events.mutex);
        REQUIRE(events.changed.wait_for(lock, 30s, [&] { return !events.seen.empty(); }));
    }
    // Past the first backoff: nothing was dialled again, and neither H nor G's second relay.
    std::this_thread::sleep_for(1500ms);
    std::vector<SyncEvent> seen;
    {
        std::lock_guard lock(events.mutex);
        seen = events.seen;
    }
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].kind == SyncEvent::Kind::unreachable);
    CHECK(seen[0].retry_in.count() == 0);
    CHECK(seen[0].error.has_value());
    CHECK(as.sessions().empty());
    CHECK(bs.incoming() == 0);
}

TEST_CASE("sync_once tries a relay's next address when the first fails, and remembers it") {
    Pair p;
    SyncService bs(*p.b, nullptr);
    auto live = bs.listen(loopback());
    REQUIRE(live.has_value());
    const auto dead = dead_address(*live);
    // The same key at a closed port, listed first.
    REQUIRE(p.a->set_relays(p.g, {dead}, {*live}).has_value());
    REQUIRE(p.a->post(p.g, "from Anna").has_value());

    auto plan = plan_sync(*p.a, {}, {}, {});
    REQUIRE(plan.has_value());
    REQUIRE(plan->sessions.size() == 1);
    CHECK(plan->sessions[0].address == dead);
    CHECK(plan->sessions[0].fallbacks == std::vector<std::string>{*live});

    struct Fallbacks final : SyncOnceObserver {
        std::vector<std::string> tried, passed;
        void on_session(const std::string& address, const GroupId&) override {
            tried.push_back(address);
        }
        void on_fallback(const std::string& address, const Error&,
                         const std::string& next) override {
            passed.push_back(address + " > " + next);
        }
    } seen;
    SyncOnceOptions o;
    o.observer = &seen;
    o.sync.connect.connect_timeout = 5s;
    auto report = sync_once(*p.a, *plan, o);
    REQUIRE(report.addresses.size() == 1);
    CHECK(report.addresses[0].errors.empty());
    CHECK(report.addresses[0].synced == 1);
    CHECK(report.addresses[0].used == *live);
    REQUIRE(report.addresses[0].passed_over.size() == 1);
    CHECK(report.addresses[0].passed_over[0].first == dead);
    CHECK(seen.passed == std::vector<std::string>{dead + " > " + *live});
    REQUIRE(seen.tried.size() >= 2);
    CHECK(seen.tried[0] == dead);
    CHECK(seen.tried[1] == *live);
    CHECK(bs.with_node([&](Node& n) { return texts(n, p.g); }) ==
          std::vector<std::string>{"from Anna"});

    // The next plan starts with the address that worked; the dead one is still tried after it.
    auto next = plan_sync(*p.a, {}, {}, {});
    REQUIRE(next.has_value());
    REQUIRE(next->sessions.size() == 1);
    CHECK(next->sessions[0].address == *live);
    CHECK(next->sessions[0].fallbacks == std::vector<std::string>{dead});
    seen.tried.clear();
    seen.passed.clear();
    auto again = sync_once(*p.a, *next, o);
    REQUIRE(again.addresses.size() == 1);
    CHECK(again.addresses[0].errors.empty());
    CHECK(again.addresses[0].passed_over.empty());
    CHECK(again.addresses[0].used.empty());
    REQUIRE_FALSE(seen.tried.empty());
    CHECK(seen.tried[0] == *live);
    CHECK(seen.passed.empty());

    // Every address dead: the group's error is reported once, after trying each.
    REQUIRE(p.a->set_relays(p.g, {dead}, {dead_address(*live)}).has_value());
    auto none = plan_sync(*p.a, {}, {}, {});
    REQUIRE(none.has_value());
    auto failed = sync_once(*p.a, *none, o);
    REQUIRE(failed.addresses.size() == 1);
    REQUIRE(failed.addresses[0].errors.size() == 1);
    CHECK(failed.addresses[0].errors[0].code == transport::TransportErrc::connect_failed);
    CHECK(failed.addresses[0].passed_over.size() == 2);
    CHECK(failed.addresses[0].synced == 0);
}
