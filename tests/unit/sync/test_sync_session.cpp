// The sync protocol over real Noise sessions on loopback: SyncServer + sync_with().

#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <thread>

#include "kolokol/transport/sync.hpp"
#include "sync_fixtures.hpp"

using namespace sync_test;

namespace {

// A SyncServer on 127.0.0.1 with its own io_context thread.
class LoopbackServer {
public:
    LoopbackServer(Replica& replica, ServeOptions serve = {}, ServerOptions server = {})
        : m_work(asio::make_work_guard(m_io)) {
        m_server = std::make_unique<SyncServer>(m_io.get_executor(), crypto::box_keypair(), replica,
                                                server, std::move(serve));
        auto st = m_server->listen({asio::ip::make_address("127.0.0.1"), 0});
        REQUIRE(st.has_value());
        m_server->start();
        m_thread = std::thread([this] { m_io.run(); });
    }
    ~LoopbackServer() {
        m_server->stop();
        m_work.reset();
        m_thread.join();
    }
    std::string address() const { return m_server->address().to_string(); }
    SyncServer& server() { return *m_server; }

private:
    asio::io_context m_io;
    asio::executor_work_guard<asio::io_context::executor_type> m_work;
    std::unique_ptr<SyncServer> m_server;
    std::thread m_thread;
};

}  // namespace

TEST_CASE("two clients that are never online together exchange envelopes through a server") {
    crypto::DeterministicRandom rng(1);
    auto key = key_for(1);
    MemoryReplica relay, alice, bob;
    for (int i = 0; i < 20; ++i) alice.add(make_envelope(key.id, rng));
    for (int i = 0; i < 30; ++i) bob.add(make_envelope(key.id, rng));
    LoopbackServer server(relay);
    auto alice_static = crypto::box_keypair();
    auto bob_static = crypto::box_keypair();

    auto keys = [&] {
        std::vector<MailboxKey> k;
        k.push_back(copy_key(key));
        return k;
    };
    auto a1 = sync_with(server.address(), alice_static, keys(), alice);
    REQUIRE_MESSAGE(a1.has_value(), a1.error().what());
    CHECK(a1->sent == 20);
    CHECK(a1->received == 0);
    auto b1 = sync_with(server.address(), bob_static, keys(), bob);
    REQUIRE_MESSAGE(b1.has_value(), b1.error().what());
    CHECK(b1->sent == 30);
    CHECK(b1->received == 20);
    auto a2 = sync_with(server.address(), alice_static, keys(), alice);
    REQUIRE_MESSAGE(a2.has_value(), a2.error().what());
    CHECK(a2->received == 30);
    CHECK(a2->sent == 0);
    CHECK(alice.held(key.id) == bob.held(key.id));
    CHECK(relay.held(key.id).size() == 50);
    CHECK(settles([&] { return server.server().stats().syncs_ok == 3; }));
    CHECK(server.server().stats().syncs_ok == 3);
}

TEST_CASE("a wrong pinned key fails before anything is sent") {
    MemoryReplica relay, alice;
    LoopbackServer server(relay);
    auto addr = Address::parse(server.address());
    REQUIRE(addr.has_value());
    addr->key[0] ^= 1;
    std::vector<MailboxKey> keys;
    keys.push_back(key_for(2));
    auto r = sync_with(addr->to_string(), crypto::box_keypair(), std::move(keys), alice);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == TransportErrc::remote_key_mismatch);
}

TEST_CASE("a member server serves only the mailboxes it holds keys for") {
    crypto::DeterministicRandom rng(3);
    auto mine = key_for(31), theirs = key_for(32);
    MemoryReplica member, visitor;
    member.add(make_envelope(mine.id, rng));
    ServeOptions opts;
    opts.admit = admit_only({mine.id});
    LoopbackServer server(member, opts);
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(mine));
    keys.push_back(copy_key(theirs));
    auto r = sync_with(server.address(), crypto::box_keypair(), std::move(keys), visitor);
    REQUIRE_MESSAGE(r.has_value(), r.error().what());
    CHECK(r->received == 1);
    REQUIRE(r->refused.size() == 1);
    CHECK(r->refused[0].mailbox == theirs.id);
    CHECK(r->refused[0].reason == "not served here");
}

TEST_CASE("live sync: a stop request ends it with a report") {
    crypto::DeterministicRandom rng(4);
    auto key = key_for(41);
    MemoryReplica relay, alice, bob;
    LoopbackServer server(relay);
    SyncOptions live;
    live.live = true;
    SyncStop stop = live.stop;
    std::optional<Result<SyncReport>> bob_result;
    std::thread bob_thread([&] {
        std::vector<MailboxKey> keys;
        keys.push_back(copy_key(key));
        bob_result = sync_with(server.address(), crypto::box_keypair(), std::move(keys), bob, live);
    });
    // Wait until Bob's live session is in place (the relay has a watcher... via the
    // MemoryReplica), then Alice syncs once.
    for (int i = 0; i < 500 && relay.watchers() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(relay.watchers() == 1);
    auto e = make_envelope(key.id, rng);
    alice.add(e);
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(key));
    auto a = sync_with(server.address(), crypto::box_keypair(), std::move(keys), alice);
    REQUIRE(a.has_value());
    CHECK(a->sent == 1);
    // The relay pushes it to Bob without Bob asking.
    for (int i = 0; i < 500 && bob.held(key.id).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(bob.held(key.id).contains(storage::record_id_of(e)));
    stop.request();
    bob_thread.join();
    REQUIRE(bob_result.has_value());
    REQUIRE_MESSAGE(bob_result->has_value(), bob_result->error().what());
    CHECK((*bob_result)->received == 1);
}

TEST_CASE("without a static key of its own each sync presents a new one, and still syncs") {
    crypto::DeterministicRandom rng(3);
    auto key = key_for(3);
    MemoryReplica relay, alice;
    for (int i = 0; i < 5; ++i) alice.add(make_envelope(key.id, rng));
    // A server that writes down each client's static key, then serves as a relay does.
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    std::mutex mutex;
    std::vector<StaticPublicKey> seen;
    Server server(io.get_executor(), crypto::box_keypair(), ServerOptions{},
                  [&](Session& session) -> asio::awaitable<void> {
                      {
                          std::lock_guard lock(mutex);
                          seen.push_back(session.remote_static());
                      }
                      ServeOptions options;
                      (void)co_await serve_on_session(session, relay, std::move(options));
                  });
    REQUIRE(server.listen({asio::ip::make_address("127.0.0.1"), 0}).has_value());
    REQUIRE(server.start().has_value());
    std::thread thread([&] { io.run(); });
    const auto ep = server.local_endpoint();
    const auto address = Address(ep.address().to_string(), ep.port(), server.public_key());
    auto keys = [&] {
        std::vector<MailboxKey> k;
        k.push_back(copy_key(key));
        return k;
    };
    auto first = sync_with(address.to_string(), keys(), alice);
    REQUIRE_MESSAGE(first.has_value(), first.error().what());
    CHECK(first->sent == 5);
    auto second = sync_with(address.to_string(), keys(), alice);
    REQUIRE_MESSAGE(second.has_value(), second.error().what());
    // The fixed-key form presents the key it is given, every time.
    auto fixed = crypto::box_keypair();
    REQUIRE(sync_with(address.to_string(), fixed, keys(), alice).has_value());
    REQUIRE(sync_with(address.to_string(), fixed, keys(), alice).has_value());
    server.stop();
    work.reset();
    thread.join();
    REQUIRE(seen.size() == 4);
    CHECK(seen[0] != seen[1]);
    CHECK(seen[0] != fixed.public_key);
    CHECK(seen[1] != fixed.public_key);
    CHECK(seen[2] == fixed.public_key);
    CHECK(seen[3] == fixed.public_key);
    CHECK(relay.held(key.id).size() == 5);
}

namespace {
// Holds back envelope number `served` (counted from 0) for `pause`: a server that stops
// sending for a while, though its side of the connection still acknowledges.
class FreezingReplica : public MemoryReplica {
public:
    FreezingReplica(std::size_t served, std::chrono::milliseconds pause)
        : m_served(served), m_pause(pause) {}
    Result<std::optional<Bytes>> get(const RecordId& id) override {
        if (m_gets++ == m_served) std::this_thread::sleep_for(m_pause);
        return MemoryReplica::get(id);
    }

private:
    std::size_t m_served;
    std::chrono::milliseconds m_pause;
    std::atomic<std::size_t> m_gets{0};
};
}  // namespace

TEST_CASE(
    "a peer that acknowledges but sends nothing for six progress timeouts is taken for "
    "frozen: the session fails as stalled, well before the idle timeout") {
    crypto::DeterministicRandom rng(51);
    auto key = key_for(51);
    FreezingReplica relay(0, std::chrono::milliseconds(4'000));
    MemoryReplica member;
    for (int i = 0; i < 5; ++i) relay.add(make_envelope(key.id, rng));
    LoopbackServer server(relay);
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(key));
    SyncOptions options;
    options.progress_timeout = std::chrono::milliseconds(200);
    const auto start = std::chrono::steady_clock::now();
    auto r = sync_with(server.address(), std::move(keys), member, options);
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == SyncErrc::stalled);
    // Loopback acknowledges at once: not after one timeout, but after six (1.2 s), and not
    // after the pause or the idle timeout.
    CHECK(took >= std::chrono::milliseconds(1'200));
    CHECK(took < std::chrono::milliseconds(3'000));
}

TEST_CASE(
    "with the progress timeout following the round trip, a peer that acknowledges but pauses "
    "for longer than six of the scaled timeout is still waited for: its quiet counts against "
    "the bound given") {
    crypto::DeterministicRandom rng(54);
    auto key = key_for(54);
    FreezingReplica relay(2, std::chrono::milliseconds(1'500));
    MemoryReplica member;
    for (int i = 0; i < 5; ++i) relay.add(make_envelope(key.id, rng));
    LoopbackServer server(relay);
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(key));
    SyncOptions options;
    options.progress_timeout = std::chrono::seconds(5);
    // One round trip on loopback: the timeout is the minimum, 200 ms; six of it (1.2 s) is
    // shorter than the pause.
    options.progress_round_trips = 1;
    options.progress_timeout_min = std::chrono::milliseconds(200);
    auto r = sync_with(server.address(), std::move(keys), member, options);
    REQUIRE(r.has_value());
    CHECK(member.held(key.id) == relay.held(key.id));
}

TEST_CASE(
    "a peer that pauses longer than the progress timeout but still acknowledges is waited "
    "for: the sync completes") {
    crypto::DeterministicRandom rng(53);
    auto key = key_for(53);
    FreezingReplica relay(2, std::chrono::milliseconds(700));
    MemoryReplica member;
    for (int i = 0; i < 5; ++i) relay.add(make_envelope(key.id, rng));
    LoopbackServer server(relay);
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(key));
    SyncOptions options;
    options.progress_timeout = std::chrono::milliseconds(200);
    auto r = sync_with(server.address(), std::move(keys), member, options);
    REQUIRE(r.has_value());
    CHECK(member.held(key.id) == relay.held(key.id));
}

TEST_CASE(
    "the hedge: a peer that pauses for many times the hedge's quiet but whose side acknowledges "
    "the ping is not reported as quiet, and the sync completes on its one connection") {
    crypto::DeterministicRandom rng(55);
    auto key = key_for(55);
    // The relay's store stalls for 700 ms after two envelopes: the member has sync bytes, then
    // nothing; the relay's kernel still acknowledges the ping sent at H/2.
    FreezingReplica relay(2, std::chrono::milliseconds(700));
    MemoryReplica member;
    for (int i = 0; i < 5; ++i) relay.add(make_envelope(key.id, rng));
    LoopbackServer server(relay);
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(key));
    SyncOptions options;
    options.progress_timeout = std::chrono::seconds(5);
    options.hedge_after = std::chrono::milliseconds(150);
    options.hedge_round_trips = 4;
    int hedges = 0;
    options.on_hedge = [&hedges](std::uint64_t) { ++hedges; };
    auto r = sync_with(server.address(), std::move(keys), member, options);
    REQUIRE(r.has_value());
    CHECK(hedges == 0);
    CHECK(member.held(key.id) == relay.held(key.id));
}

TEST_CASE("short connections end at their byte budget, keep what arrived, and add up to all") {
    crypto::DeterministicRandom rng(52);
    auto key = key_for(52);
    MemoryReplica relay, member;
    for (int i = 0; i < 200; ++i) relay.add(make_envelope(key.id, rng));
    LoopbackServer server(relay);
    auto partials = std::make_shared<PartialEnvelopes>();
    int connections = 0;
    for (; connections < 100; ++connections) {
        std::vector<MailboxKey> keys;
        keys.push_back(copy_key(key));
        SyncOptions options;
        options.progress_timeout = std::chrono::seconds(5);
        options.byte_budget = 8 << 10;
        options.frame_budget = 2 << 10;
        options.part_bytes = 8 << 10;
        options.partials = partials;
        const auto before = member.held(key.id).size();
        auto r = sync_with(server.address(), std::move(keys), member, options);
        if (r) break;
        REQUIRE(r.error().code == SyncErrc::budget_spent);
        CHECK(member.held(key.id).size() > before);  // every connection stores something
    }
    CHECK(connections > 3);  // 200 envelopes of ~260 bytes do not fit 8 KiB
    CHECK(member.held(key.id) == relay.held(key.id));
}
