// A relay's slots against sessions that prove nothing: the deadline for a first open, and who
// gets the slot when the relay is full (session_slots.hpp), with real sessions on loopback from
// chosen source addresses.

#include <doctest/doctest.h>

#include <asio/connect.hpp>

#include "relay_fixtures.hpp"

using namespace sync_test;

namespace {

// A session to `address` from `source` (any address of 127/8 is loopback), on `io`.
asio::awaitable<Result<Session>> connect_from(const Address& address, const char* source,
                                              const crypto::BoxKeyPair& local) {
    ConnectOptions options;
    options.session.idle_timeout = std::chrono::minutes(5);
    options.dialer =
        [source](asio::any_io_executor ex, std::string host, std::uint16_t port,
                 std::chrono::milliseconds) -> asio::awaitable<Result<asio::ip::tcp::socket>> {
        asio::ip::tcp::socket s(ex);
        std::error_code ec;
        s.open(asio::ip::tcp::v4(), ec);
        if (!ec) s.bind({asio::ip::make_address(source), 0}, ec);
        if (!ec) s.connect({asio::ip::make_address(host), port}, ec);
        if (ec) co_return fail(TransportErrc::connect_failed, ec.message());
        co_return std::move(s);
    };
    co_return co_await connect(address, local, options);
}

// Reads frames until the session ends; true when the relay said LIMIT before it did.
asio::awaitable<bool> closed_with_limit(Session& s) {
    bool limit = false;
    for (;;) {
        auto r = co_await s.receive();
        if (!r) co_return limit;
        auto f = parse_frame(*r);
        if (f.has_close()) limit = f.close().reason() == kolokol::pb::Close::LIMIT;
    }
}

}  // namespace

// g++ 12 reports -Wmismatched-new-delete on coroutine frames here (asio's frame allocator
// inlined into the ramp); see transport/src/sync_session.cpp. A false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

TEST_CASE("relay: a session that opens no mailbox in time is closed; one that does stays") {
    TempDir dir;
    auto store = open_store(dir.path);
    RelayOptions options;
    options.first_request_timeout = std::chrono::milliseconds(300);
    RunningRelay relay(*store, options);
    const auto key = key_for(51);

    // Silent: only the relay's Hello, then its LIMIT and the end.
    raw_client(relay.address(), [&](Session& s) -> asio::awaitable<void> {
        const bool limited = co_await closed_with_limit(s);
        CHECK(limited);
    });
    // A Hello and requests that open nothing count as silence too.
    raw_client(relay.address(), [&](Session& s) -> asio::awaitable<void> {
        auto h = co_await s.send(hello_frame());
        REQUIRE(h.has_value());
        auto o = co_await s.send(open_frame(key, Bytes(64, 0x11)));  // a proof for another session
        REQUIRE(o.has_value());
        const bool limited = co_await closed_with_limit(s);
        CHECK(limited);
    });
    CHECK(settles([&] { return relay.relay().stats().first_request_timeouts == 2; }));

    // A live client opens its mailbox at once and outlives the deadline many times over.
    MemoryReplica bob;
    SyncOptions live;
    live.live = true;
    live.ping_interval = std::chrono::milliseconds(100);
    SyncStop stop = live.stop;
    std::thread bob_thread([&] {
        auto r = sync_with(relay.address(), crypto::box_keypair(), one_key(key), bob, live);
        CHECK_MESSAGE(r.has_value(), (r ? "" : r.error().what()));
    });
    CHECK(settles([&] { return relay.relay().stats().transport.sessions_established == 3; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(1'500));
    CHECK(relay.relay().stats().transport.active == 1);
    stop.request();
    bob_thread.join();
    CHECK(relay.relay().stats().first_request_timeouts == 2);
}

TEST_CASE(
    "relay: full of silent sessions, it gives a newcomer of another /24 the slot of the "
    "/24 that holds the most, and never an open session's") {
    TempDir dir;
    auto store = open_store(dir.path);
    RelayOptions options;
    options.max_sessions = 4;
    RunningRelay relay(*store, options);
    auto address = Address::parse(relay.address());
    REQUIRE(address.has_value());
    const auto key = key_for(52);
    const auto local = crypto::box_keypair();

    asio::io_context io;
    int silent_cut = 0;
    bool newcomer_synced = false, open_one_cut = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            // One session that opened a mailbox, from 127.0.7.1 …
            auto open_one = co_await connect_from(*address, "127.0.7.1", local);
            REQUIRE(open_one.has_value());
            auto h = co_await open_one->send(hello_frame());
            REQUIRE(h.has_value());
            auto o = co_await open_one->send(open_frame(key, open_one->handshake_hash()));
            REQUIRE(o.has_value());
            for (;;) {
                auto r = co_await open_one->receive();
                REQUIRE(r.has_value());
                if (parse_frame(*r).has_open_result()) break;
            }
            // … and three silent ones from 127.0.8.0/24: the relay is full.
            std::vector<Session> silent;
            for (const char* from : {"127.0.8.1", "127.0.8.1", "127.0.8.2"}) {
                auto s = co_await connect_from(*address, from, local);
                REQUIRE(s.has_value());
                silent.push_back(std::move(*s));
            }
            REQUIRE(settles([&] { return relay.relay().stats().transport.active == 4; }));
            // A newcomer from 127.0.9.1 gets in and syncs; 127.0.8.1's oldest session pays.
            auto newcomer = co_await connect_from(*address, "127.0.9.1", local);
            REQUIRE_MESSAGE(newcomer.has_value(), (newcomer ? "" : newcomer.error().what()));
            MemoryReplica carol;
            SyncOptions once;
            auto r = co_await sync_on_session(*newcomer, one_key(key), carol, once);
            newcomer_synced = r.has_value();
            auto first = co_await silent[0].receive();  // the relay's Hello, then the cut
            if (first) first = co_await silent[0].receive();
            silent_cut += first ? 0 : 1;
            // The open session is still served: a ping goes through.
            kolokol::pb::SyncFrame ping;
            ping.mutable_ping();
            auto p = co_await open_one->send(frame_bytes(ping));
            open_one_cut = !p.has_value();
            for (auto& s : silent) s.abort();
            open_one->abort();
        },
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    io.run();
    CHECK(newcomer_synced);
    CHECK(silent_cut == 1);
    CHECK_FALSE(open_one_cut);
    CHECK(relay.relay().stats().transport.evicted == 1);
}

#pragma GCC diagnostic pop
