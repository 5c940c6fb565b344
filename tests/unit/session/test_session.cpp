// Sessions and the server on loopback, each test on its own io_context. Hostile peers are
// raw sockets that write bytes by hand. No sleep is an assertion: waits are for conditions,
// with a limit that fails the test.

#include <doctest/doctest.h>

#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>
#include <string>
#include <thread>

#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/server.hpp"
#include "kolokol/transport/session.hpp"
#include "kolokol/transport/session_connect.hpp"
#include "session_test_util.hpp"

using namespace kolokol;
using namespace test;
using tr::TransportErrc;

namespace {

struct Fixture {
    asio::io_context io;
    crypto::BoxKeyPair client_key = crypto::box_keypair();
    std::unique_ptr<tr::Server> server;
    std::uint16_t port = 0;

    void start(tr::ServerOptions options = {}, tr::SessionHandler handler = echo_handler()) {
        server = std::make_unique<tr::Server>(io.get_executor(), crypto::box_keypair(),
                                              std::move(options), std::move(handler));
        auto listening = server->listen(loopback(0));
        REQUIRE_MESSAGE(listening.has_value(), (listening ? "" : listening.error().what()));
        auto started = server->start();
        REQUIRE(started.has_value());
        port = server->local_endpoint().port();
    }

    asio::awaitable<Result<tr::Session>> connect(tr::ConnectOptions options = {}) {
        return tr::connect("127.0.0.1", port, client_key, server->public_key(), std::move(options));
    }
};

asio::awaitable<void> expect_echo(tr::Session& s, const std::string& text) {
    auto awaited_1 = co_await s.send(to_bytes(text));
    REQUIRE(awaited_1);
    auto back = co_await s.receive();
    REQUIRE_MESSAGE(back.has_value(), (back ? "" : back.error().what()));
    CHECK(to_string(*back) == text);
}

}  // namespace

TEST_CASE("session: handshake, then echo both ways and a clean close") {
    Fixture f;
    std::optional<tr::noise::HandshakeHash> server_hash;
    std::optional<tr::StaticPublicKey> server_saw;
    std::uint16_t server_version = 0;
    f.start({}, [&](tr::Session& s) -> asio::awaitable<void> {
        server_hash = s.handshake_hash();
        server_saw = s.remote_static();
        server_version = s.version();
        // The server speaks first, then echoes.
        auto awaited_2 = co_await s.send(to_bytes("welcome"));
        CHECK(awaited_2);
        co_await echo_handler()(s);
    });
    run(f.io, [&]() -> asio::awaitable<void> {
        auto s = co_await f.connect();
        REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().what()));
        CHECK(s->is_open());
        CHECK(s->remote_static() == f.server->public_key());
        CHECK(s->version() == tr::kProtocolVersion);

        auto welcome = co_await s->receive();
        REQUIRE(welcome.has_value());
        CHECK(to_string(*welcome) == "welcome");
        // Both sides hold the same h and each other's static key.
        CHECK(server_hash == s->handshake_hash());
        CHECK(server_saw == f.client_key.public_key);
        CHECK(server_version == tr::kProtocolVersion);

        const std::vector<std::size_t> sizes = {0, 1, 1000, tr::kMaxMessageBytes};
        for (std::size_t size : sizes) {
            CAPTURE(size);
            Bytes m(size);
            for (std::size_t i = 0; i < size; ++i) m[i] = static_cast<std::uint8_t>(i * 31 + 7);
            auto awaited_3 = co_await s->send(m);
            REQUIRE(awaited_3);
            auto back = co_await s->receive();
            REQUIRE(back.has_value());
            CHECK(*back == m);
        }

        // Pipelined: more messages than the send queue holds, all back in order.
        for (int i = 0; i < 200; ++i) {
            auto queued = co_await s->send(to_bytes(std::to_string(i)));
            REQUIRE(queued);
        }
        for (int i = 0; i < 200; ++i) {
            auto back = co_await s->receive();
            REQUIRE(back.has_value());
            CHECK(to_string(*back) == std::to_string(i));
        }

        co_await s->close();
        auto end = co_await s->receive();
        REQUIRE_FALSE(end.has_value());
        CHECK(end.error().code == TransportErrc::closed_cleanly);
        auto again = co_await s->receive();
        CHECK(again.error().code == TransportErrc::closed_cleanly);
        CHECK_FALSE(s->is_open());
        auto late = co_await s->send(to_bytes("late"));
        REQUIRE_FALSE(late.has_value());
        CHECK(late.error().code == TransportErrc::session_closed);

        auto awaited_5 = co_await eventually([&] {
            auto st = f.server->stats();
            return st.sessions_finished == 1 && st.active == 0;
        });
        CHECK(awaited_5);
        auto st = f.server->stats();
        CHECK(st.sessions_established == 1);
        CHECK(st.handshakes_failed == 0);
    });
}

TEST_CASE("session: a pinned key that does not match fails with the relay's-key error") {
    Fixture f;
    f.start();
    auto wrong = crypto::box_keypair().public_key;
    run(f.io, [&]() -> asio::awaitable<void> {
        auto expected_message = "the relay's key does not match the address (expected " +
                                tr::key_to_text(wrong) + ", got " +
                                tr::key_to_text(f.server->public_key()) + ")";
        auto s = co_await tr::connect("127.0.0.1", f.port, f.client_key, wrong);
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == TransportErrc::remote_key_mismatch);
        CHECK(s.error().message == expected_message);

        // The same through an address, which always pins.
        tr::Address address{"127.0.0.1", f.port, wrong};
        auto via_address = co_await tr::connect(address, f.client_key);
        REQUIRE_FALSE(via_address.has_value());
        CHECK(via_address.error().message == expected_message);

        // The right key through an address works.
        tr::Address good{"127.0.0.1", f.port, f.server->public_key()};
        auto ok = co_await tr::connect(good, f.client_key);
        REQUIRE(ok.has_value());
        co_await expect_echo(*ok, "pinned");
        co_await ok->close();

        // We hung up before msg 3, so the server never saw our static key.
        auto awaited_6 =
            co_await eventually([&] { return f.server->stats().handshakes_failed == 2; });
        CHECK(awaited_6);
        CHECK(f.server->stats().sessions_established == 1);
    });
}

TEST_CASE("session: garbage before the handshake closes that connection only") {
    Fixture f;
    f.start();
    run(f.io, [&]() -> asio::awaitable<void> {
        auto honest = co_await f.connect();
        REQUIRE(honest.has_value());
        co_await expect_echo(*honest, "before");

        // An HTTP request: its first two bytes read as a 18,245-byte handshake frame.
        auto http = co_await raw_connect(f.port);
        auto awaited_7 =
            co_await write_all(http, as_bytes("GET / HTTP/1.1\r\nHost: relay\r\n\r\n"));
        REQUIRE(awaited_7);
        auto awaited_8 = co_await closed_by_peer(http);
        CHECK(awaited_8);

        // A well-sized frame of junk: the "ephemeral key" is accepted, the version offer not.
        auto junk = co_await raw_connect(f.port);
        auto awaited_9 = co_await write_all(junk, tr::encode_frame(Bytes(40, 0x41)));
        REQUIRE(awaited_9);
        auto awaited_10 = co_await closed_by_peer(junk);
        CHECK(awaited_10);

        // An empty frame.
        auto empty = co_await raw_connect(f.port);
        Bytes empty_frame(2, 0);
        auto awaited_11 = co_await write_all(empty, empty_frame);
        REQUIRE(awaited_11);
        auto awaited_12 = co_await closed_by_peer(empty);
        CHECK(awaited_12);

        co_await expect_echo(*honest, "after");
        auto awaited_13 =
            co_await eventually([&] { return f.server->stats().handshakes_failed == 3; });
        CHECK(awaited_13);
        CHECK(f.server->stats().sessions_established == 1);
        co_await honest->close();
    });
}

TEST_CASE("session: an oversized frame or one that fails AEAD closes the session") {
    Fixture f;
    std::optional<Error> server_error;
    tr::ServerOptions options;
    options.session.max_frame_bytes = 1024;
    f.start(options, [&](tr::Session& s) -> asio::awaitable<void> {
        while (true) {
            auto m = co_await s.receive();
            if (!m) {
                server_error = m.error();
                co_return;
            }
            if (!co_await s.send(std::move(*m))) co_return;
        }
    });

    SUBCASE("a handshake frame length over the handshake limit") {
        run(f.io, [&]() -> asio::awaitable<void> {
            auto raw = co_await raw_connect(f.port);
            Bytes huge_header(2, 0xff);
            auto awaited_14 = co_await write_all(raw, huge_header);
            REQUIRE(awaited_14);
            // Closed at once, long before the 10 s handshake deadline.
            auto awaited_15 = co_await closed_by_peer(raw, 5s);
            CHECK(awaited_15);
            auto awaited_16 =
                co_await eventually([&] { return f.server->stats().handshakes_failed == 1; });
            CHECK(awaited_16);
            CHECK(f.server->stats().handshake_timeouts == 0);
        });
    }
    SUBCASE("a transport frame over the receiver's limit") {
        run(f.io, [&]() -> asio::awaitable<void> {
            auto s = co_await f.connect();
            REQUIRE(s.has_value());
            co_await expect_echo(*s, "small");
            auto awaited_17 = co_await s->send(Bytes(2000, 1));
            REQUIRE(awaited_17);  // fine for us, too big for the server
            auto r = co_await s->receive();
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == TransportErrc::truncated);  // aborted: no close frame
            auto awaited_18 = co_await eventually([&] { return server_error.has_value(); });
            REQUIRE(awaited_18);
            CHECK(server_error->code == TransportErrc::frame_too_large);
        });
    }
    SUBCASE("a forged, replayed or too short transport frame") {
        for (int variant = 0; variant < 3; ++variant) {
            CAPTURE(variant);
            server_error.reset();
            run(f.io, [&]() -> asio::awaitable<void> {
                auto raw = co_await raw_connect(f.port);
                auto client = ManualInitiator::create(f.client_key);
                auto awaited_19 = co_await client.handshake(raw);
                REQUIRE(awaited_19);
                // A genuine frame is echoed, so the hand-made session is sound.
                auto frame = client.data_frame(as_bytes("genuine"));
                auto awaited_20 = co_await write_all(raw, frame);
                REQUIRE(awaited_20);
                auto echoed = co_await read_raw_frame(raw);
                REQUIRE(echoed.has_value());
                auto plain = client.ciphers.receive.decrypt_with_ad({}, *echoed);
                REQUIRE(plain.has_value());
                CHECK(to_string(ByteView(*plain).subspan(1)) == "genuine");

                Bytes bad;
                TransportErrc expected = TransportErrc::decrypt_failed;
                if (variant == 0) {
                    bad = client.data_frame(as_bytes("forged"));
                    bad[5] ^= 0x01;
                } else if (variant == 1) {
                    bad = frame;  // the same frame again
                } else {
                    bad = tr::encode_frame(Bytes(5, 0));
                    expected = TransportErrc::malformed_frame;
                }
                auto awaited_21 = co_await write_all(raw, bad);
                REQUIRE(awaited_21);
                auto awaited_22 = co_await closed_by_peer(raw);
                CHECK(awaited_22);
                auto awaited_23 = co_await eventually([&] { return server_error.has_value(); });
                REQUIRE(awaited_23);
                CHECK(server_error->code == expected);
            });
            f.io.restart();
        }
    }
}

TEST_CASE("session: a silent peer is dropped at the handshake deadline") {
    Fixture f;
    tr::ServerOptions options;
    options.session.handshake_timeout = 200ms;
    f.start(options);
    run(f.io, [&]() -> asio::awaitable<void> {
        auto silent = co_await raw_connect(f.port);
        auto awaited_24 = co_await closed_by_peer(silent, 10s);
        CHECK(awaited_24);
        auto awaited_25 =
            co_await eventually([&] { return f.server->stats().handshake_timeouts == 1; });
        CHECK(awaited_25);
        CHECK(f.server->stats().active == 0);

        // A slow peer that sends msg 1 and then nothing is dropped the same way.
        auto slow = co_await raw_connect(f.port);
        auto client = ManualInitiator::create(f.client_key);
        auto msg1 = tr::encode_frame(*client.hs.write_message(tr::encode_version_offer({1})));
        auto awaited_26 = co_await write_all(slow, msg1);
        REQUIRE(awaited_26);
        auto awaited_27 = co_await closed_by_peer(slow, 10s);
        CHECK(awaited_27);
        auto awaited_28 =
            co_await eventually([&] { return f.server->stats().handshake_timeouts == 2; });
        CHECK(awaited_28);

        // And the client side: a "server" that accepts and never answers.
        tcp::acceptor mute(f.io, loopback(0));
        tcp::socket accepted(f.io);
        mute.async_accept(accepted, [](std::error_code) {});
        tr::ConnectOptions copts;
        copts.session.handshake_timeout = 200ms;
        auto s = co_await tr::connect("127.0.0.1", mute.local_endpoint().port(), f.client_key,
                                      std::nullopt, copts);
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == TransportErrc::handshake_timeout);
    });
}

TEST_CASE("session: 200 connections dropped mid-handshake while an honest client completes") {
    Fixture f;
    tr::ServerOptions options;
    options.max_sessions_per_address = 1024;  // every test connection comes from 127.0.0.1
    f.start(options);
    constexpr int kDropped = 200;
    int finished = 0;
    run(f.io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        for (int i = 0; i < kDropped; ++i) {
            asio::co_spawn(
                ex,
                [&f, i]() -> asio::awaitable<void> {
                    auto raw = co_await raw_connect(f.port);
                    if (i % 3 == 1) {
                        Bytes half_header(1, 0);
                        co_await write_all(raw, half_header);
                    } else if (i % 3 == 2) {
                        // msg 1, read msg 2, then vanish instead of sending msg 3
                        auto client = ManualInitiator::create(f.client_key);
                        auto offer = tr::encode_version_offer(std::vector<std::uint16_t>(1, 1));
                        auto msg1 = tr::encode_frame(*client.hs.write_message(offer));
                        co_await write_all(raw, msg1);
                        co_await read_raw_frame(raw);
                    }
                    std::error_code ignored;
                    raw.close(ignored);
                },
                [&finished](std::exception_ptr e) {
                    CHECK_FALSE(e);
                    ++finished;
                });
        }
        auto honest = co_await f.connect();
        REQUIRE_MESSAGE(honest.has_value(), (honest ? "" : honest.error().what()));
        for (int i = 0; i < 20; ++i)
            co_await expect_echo(*honest, "still here " + std::to_string(i));
        auto awaited_29 = co_await eventually([&] { return finished == kDropped; });
        CHECK(awaited_29);
        co_await honest->close();
        auto awaited_30 = co_await eventually([&] {
            auto st = f.server->stats();
            return st.handshakes_failed == kDropped && st.active == 0;
        });
        CHECK(awaited_30);
        auto st = f.server->stats();
        CHECK(st.sessions_established == 1);
        CHECK(st.accepted == kDropped + 1);
    });
}

TEST_CASE("session: the caps refuse extra connections") {
    Fixture f;
    SUBCASE("total") {
        tr::ServerOptions options;
        options.max_sessions = 2;
        f.start(options);
        run(f.io, [&]() -> asio::awaitable<void> {
            auto a = co_await f.connect();
            auto b = co_await f.connect();
            REQUIRE((a.has_value() && b.has_value()));
            co_await expect_echo(*a, "a");
            co_await expect_echo(*b, "b");
            auto c = co_await f.connect();
            REQUIRE_FALSE(c.has_value());
            CHECK(c.error().code == TransportErrc::truncated);
            CHECK(f.server->stats().refused_capacity == 1);

            // A slot comes back when a session ends.
            co_await a->close();
            auto awaited_31 = co_await eventually([&] { return f.server->stats().active == 1; });
            CHECK(awaited_31);
            auto d = co_await f.connect();
            REQUIRE(d.has_value());
            co_await expect_echo(*d, "d");
        });
    }
    SUBCASE("per address") {
        tr::ServerOptions options;
        options.max_sessions_per_address = 1;
        f.start(options);
        run(f.io, [&]() -> asio::awaitable<void> {
            auto a = co_await f.connect();
            REQUIRE(a.has_value());
            auto b = co_await f.connect();
            REQUIRE_FALSE(b.has_value());
            CHECK(f.server->stats().refused_per_address == 1);
            co_await expect_echo(*a, "a still works");
        });
    }
}

TEST_CASE("session: a replayed handshake gives the replayer no session") {
    Fixture f;
    f.start();
    run(f.io, [&]() -> asio::awaitable<void> {
        // Record a genuine initiator's bytes.
        auto raw1 = co_await raw_connect(f.port);
        auto original = ManualInitiator::create(f.client_key);
        auto awaited_32 = co_await original.handshake(raw1);
        REQUIRE(awaited_32);
        auto transport_frame = original.data_frame(as_bytes("recorded"));
        auto awaited_33 = co_await write_all(raw1, transport_frame);
        REQUIRE(awaited_33);
        REQUIRE((co_await read_raw_frame(raw1)).has_value());
        auto awaited_34 =
            co_await eventually([&] { return f.server->stats().sessions_established == 1; });
        CHECK(awaited_34);

        // Replay them to a new connection: the responder answers with a fresh ephemeral, so
        // the recorded msg 3 (sealed under the old ee/se keys) cannot authenticate.
        auto raw2 = co_await raw_connect(f.port);
        auto awaited_35 = co_await write_all(raw2, original.msg1_frame);
        REQUIRE(awaited_35);
        auto msg2 = co_await read_raw_frame(raw2);
        REQUIRE(msg2.has_value());
        CHECK(*msg2 != original.msg2);
        CHECK(Bytes(msg2->begin(), msg2->begin() + 32) !=
              Bytes(original.msg2.begin(), original.msg2.begin() + 32));
        auto awaited_36 = co_await write_all(raw2, original.msg3_frame);
        REQUIRE(awaited_36);
        co_await write_all(raw2, transport_frame);
        auto awaited_37 = co_await closed_by_peer(raw2);
        CHECK(awaited_37);
        auto awaited_38 =
            co_await eventually([&] { return f.server->stats().handshakes_failed == 1; });
        CHECK(awaited_38);
        CHECK(f.server->stats().sessions_established == 1);
    });
}

TEST_CASE("session: versions are negotiated inside the authenticated handshake") {
    Fixture f;
    std::uint16_t server_saw = 0;
    tr::ServerOptions options;
    options.session.versions = {1, 2, 3};
    f.start(options, [&](tr::Session& s) -> asio::awaitable<void> {
        server_saw = s.version();
        co_await echo_handler()(s);
    });
    run(f.io, [&]() -> asio::awaitable<void> {
        tr::ConnectOptions two;
        two.session.versions = {1, 2};
        auto s = co_await f.connect(two);
        REQUIRE(s.has_value());
        CHECK(s->version() == 2);
        co_await expect_echo(*s, "v2");
        CHECK(server_saw == 2);

        tr::ConnectOptions future;
        future.session.versions = {7, 9};
        auto none = co_await f.connect(future);
        REQUIRE_FALSE(none.has_value());
        CHECK(none.error().code == TransportErrc::version_mismatch);
        CHECK(none.error().message ==
              "no protocol version in common (we speak 7, 9, the peer 1, 2, 3)");

        // A man in the middle rewriting the offer {3} to {1} (a downgrade) breaks msg 2.
        auto raw = co_await raw_connect(f.port);
        auto client = ManualInitiator::create(f.client_key);
        auto msg1 = *client.hs.write_message(tr::encode_version_offer({3}));
        msg1.back() = 1;
        auto awaited_39 = co_await write_all(raw, tr::encode_frame(msg1));
        REQUIRE(awaited_39);
        auto msg2 = co_await read_raw_frame(raw);
        REQUIRE(msg2.has_value());
        auto read = client.hs.read_message(*msg2);
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().code == TransportErrc::decrypt_failed);
    });
}

TEST_CASE("session: the idle deadline closes a quiet session") {
    Fixture f;
    std::optional<Error> server_error;
    tr::ServerOptions options;
    options.session.idle_timeout = 200ms;
    f.start(options, [&](tr::Session& s) -> asio::awaitable<void> {
        auto m = co_await s.receive();
        if (!m) server_error = m.error();
    });
    run(f.io, [&]() -> asio::awaitable<void> {
        auto s = co_await f.connect();
        REQUIRE(s.has_value());
        auto r = co_await s->receive();  // we never send; the server gives up on us
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == TransportErrc::truncated);
        auto awaited_40 = co_await eventually([&] { return server_error.has_value(); });
        REQUIRE(awaited_40);
        CHECK(server_error->code == TransportErrc::idle_timeout);
    });
}

TEST_CASE("session: the idle deadline counts what arrives, not what we send") {
    // A server that keeps talking to a peer that never answers (its pings, say) must still
    // reach the deadline: otherwise a silent peer holds its slot for ever.
    Fixture f;
    std::optional<Error> server_error;
    int sent = 0;
    tr::ServerOptions options;
    options.session.idle_timeout = 300ms;
    f.start(options, [&](tr::Session& s) -> asio::awaitable<void> {
        asio::steady_timer tick(co_await asio::this_coro::executor);
        for (int i = 0; i < 200; ++i) {
            auto ok = co_await s.send(to_bytes("ping"));
            if (!ok) {
                server_error = ok.error();
                co_return;
            }
            ++sent;
            tick.expires_after(50ms);
            co_await tick.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        }
    });
    run(f.io, [&]() -> asio::awaitable<void> {
        auto s = co_await f.connect();
        REQUIRE(s.has_value());
        // We read everything and never send.
        for (;;) {
            auto r = co_await s->receive();
            if (!r) break;
        }
        auto awaited = co_await eventually([&] { return server_error.has_value(); });
        REQUIRE(awaited);
        CHECK(server_error->code == TransportErrc::idle_timeout);
        CHECK(sent >= 2);
        CHECK(sent < 200);
    });
}

TEST_CASE("session: a peer that stops reading makes send() time out") {
    Fixture f;
    std::optional<Error> server_error;
    int sent = 0;
    tr::ServerOptions options;
    options.session.send_queue_frames = 2;
    options.session.send_timeout = 300ms;
    f.start(options, [&](tr::Session& s) -> asio::awaitable<void> {
        Bytes chunk(60000, 0x5a);
        // Bounded so a broken queue cannot loop forever: socket buffers fill long before.
        for (int i = 0; i < 5000; ++i) {
            auto ok = co_await s.send(chunk);
            if (!ok) {
                server_error = ok.error();
                co_return;
            }
            ++sent;
        }
    });
    run(f.io, [&]() -> asio::awaitable<void> {
        auto s = co_await f.connect();
        REQUIRE(s.has_value());
        // Never receive.
        auto awaited_41 = co_await eventually([&] { return server_error.has_value(); }, 20s);
        REQUIRE(awaited_41);
        CHECK(server_error->code == TransportErrc::send_timeout);
        CHECK(sent > 0);
        CHECK(sent < 5000);
    });
}

TEST_CASE("session: misuse and local ends are reported, not fatal") {
    Fixture f;
    f.start();
    run(f.io, [&]() -> asio::awaitable<void> {
        auto s = co_await f.connect();
        REQUIRE(s.has_value());
        auto big = co_await s->send(Bytes(tr::kMaxMessageBytes + 1, 0));
        REQUIRE_FALSE(big.has_value());
        CHECK(big.error().code == TransportErrc::message_too_large);
        co_await expect_echo(*s, "still open");

        // Two receives at once: the second is refused, the first still gets its message.
        std::optional<Result<Bytes>> first;
        asio::co_spawn(
            co_await asio::this_coro::executor,
            [&]() -> asio::awaitable<void> { first = co_await s->receive(); }, asio::detached);
        auto second = co_await s->receive();
        REQUIRE_FALSE(second.has_value());
        CHECK(second.error().code == TransportErrc::busy);
        auto awaited_42 = co_await s->send(to_bytes("for the first"));
        REQUIRE(awaited_42);
        auto awaited_43 = co_await eventually([&] { return first.has_value(); });
        REQUIRE(awaited_43);
        REQUIRE(first->has_value());
        CHECK(to_string(**first) == "for the first");

        // abort(): our side reports session_closed, the peer sees a truncated stream.
        auto t = co_await f.connect();
        REQUIRE(t.has_value());
        s->abort();
        auto after = co_await s->receive();
        REQUIRE_FALSE(after.has_value());
        CHECK(after.error().code == TransportErrc::session_closed);
        auto send_after = co_await s->send(to_bytes("x"));
        CHECK(send_after.error().code == TransportErrc::session_closed);
        co_await expect_echo(*t, "the other session is unaffected");
    });
}

TEST_CASE("session: connect failures are clear, and the dialer is a seam") {
    Fixture f;
    f.start();
    run(f.io, [&]() -> asio::awaitable<void> {
        std::uint16_t closed_port = 0;
        {
            tcp::acceptor probe(f.io, loopback(0));
            closed_port = probe.local_endpoint().port();
        }
        auto refused = co_await tr::connect("127.0.0.1", closed_port, f.client_key, std::nullopt);
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error().code == TransportErrc::connect_failed);
        CHECK(refused.error().message.find("127.0.0.1:" + std::to_string(closed_port)) !=
              std::string::npos);

        // A dialer that refuses (as a SOCKS5 proxy might): its error is what connect reports.
        tr::ConnectOptions blocked;
        blocked.dialer = [](asio::any_io_executor, std::string host, std::uint16_t,
                            std::chrono::milliseconds) -> asio::awaitable<Result<tcp::socket>> {
            co_return fail(TransportErrc::connect_failed, "proxy refused " + host);
        };
        auto r = co_await f.connect(blocked);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().message == "proxy refused 127.0.0.1");

        // A dialer that hands over its own socket: the session runs over it.
        static int dialed = 0;
        tr::ConnectOptions custom;
        custom.dialer =
            [](asio::any_io_executor ex, std::string host, std::uint16_t port,
               std::chrono::milliseconds timeout) -> asio::awaitable<Result<tcp::socket>> {
            ++dialed;
            co_return co_await tr::direct_dialer()(ex, host, port, timeout);
        };
        auto s = co_await f.connect(custom);
        REQUIRE(s.has_value());
        CHECK(dialed == 1);
        co_await expect_echo(*s, "dialed");
    });
}

TEST_CASE("session: an onion name is never resolved without a proxy") {
    CHECK(tr::is_onion_host("vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion"));
    CHECK(tr::is_onion_host("Relay.ONION."));
    CHECK_FALSE(tr::is_onion_host("onion"));
    CHECK_FALSE(tr::is_onion_host("example.onion.org"));
    CHECK_FALSE(tr::is_onion_host("relay.example"));
    asio::io_context io;
    run(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        // The direct dialer refuses at once, saying why: no lookup is made (an onion name cannot
        // resolve, so asking the resolver could only leak it; the netns test watches the DNS).
        auto r = co_await tr::direct_dialer()(ex, "abcdefghijklmnop.onion", 443,
                                              std::chrono::milliseconds(5000));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == TransportErrc::connect_failed);
        CHECK(r.error().message.find("only through Tor") != std::string::npos);
    });
}

TEST_CASE("session: stopping the server ends its sessions") {
    Fixture f;
    f.start();
    run(f.io, [&]() -> asio::awaitable<void> {
        auto s = co_await f.connect();
        REQUIRE(s.has_value());
        co_await expect_echo(*s, "before stop");
        f.server->stop();
        auto r = co_await s->receive();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == TransportErrc::truncated);
        auto again = co_await f.connect();
        REQUIRE_FALSE(again.has_value());
    });
}

TEST_CASE("session: bad options are refused before any network work") {
    Fixture f;
    f.start();
    run(f.io, [&]() -> asio::awaitable<void> {
        tr::ConnectOptions bad;
        bad.session.max_frame_bytes = 100;
        auto s = co_await f.connect(bad);
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == TransportErrc::bad_config);
        bad.session = {};
        bad.session.versions = {2, 1};
        auto t = co_await f.connect(bad);
        REQUIRE_FALSE(t.has_value());
        CHECK(t.error().code == TransportErrc::bad_config);
        CHECK(f.server->stats().accepted == 0);
    });
    tr::ServerOptions zero;
    zero.max_sessions = 0;
    tr::Server bad_server(f.io.get_executor(), crypto::box_keypair(), zero, echo_handler());
    auto listening = bad_server.listen(loopback(0));
    REQUIRE_FALSE(listening.has_value());
    CHECK(listening.error().code == TransportErrc::bad_config);
    auto started = bad_server.start();
    REQUIRE_FALSE(started.has_value());
    CHECK(started.error().code == TransportErrc::listen_failed);
    // Starting twice is refused too.
    auto twice = f.server->start();
    REQUIRE_FALSE(twice.has_value());
}

TEST_CASE("session: Session::accept and Session::initiate on plain sockets") {
    asio::io_context io;
    auto server_key = crypto::box_keypair();
    auto client_key = crypto::box_keypair();
    run(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        tcp::acceptor acceptor(ex, loopback(0));
        std::optional<Result<tr::Session>> accepted;
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
                auto socket = co_await acceptor.async_accept(asio::use_awaitable);
                accepted = co_await tr::Session::accept(std::move(socket), server_key);
            },
            asio::detached);
        tcp::socket socket(ex);
        co_await socket.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
        auto client =
            co_await tr::Session::initiate(std::move(socket), client_key, server_key.public_key);
        REQUIRE_MESSAGE(client.has_value(), (client ? "" : client.error().what()));
        auto ready = co_await eventually([&] { return accepted.has_value(); });
        REQUIRE(ready);
        REQUIRE(accepted->has_value());
        auto& server = **accepted;
        CHECK(server.remote_static() == client_key.public_key);
        CHECK(server.handshake_hash() == client->handshake_hash());
        CHECK(server.remote_endpoint().address().is_loopback());

        auto sent = co_await client->send(to_bytes("to the server"));
        REQUIRE(sent);
        auto got = co_await server.receive();
        REQUIRE(got.has_value());
        CHECK(to_string(*got) == "to the server");
        co_await server.close();
        auto end = co_await client->receive();
        CHECK(end.error().code == TransportErrc::closed_cleanly);
        co_await client->close();
        auto end2 = co_await server.receive();
        CHECK(end2.error().code == TransportErrc::closed_cleanly);
        CHECK_FALSE(server.is_open());
        CHECK_FALSE(client->is_open());
    });
}

TEST_CASE("session: a server on two threads serves concurrent clients") {
    // The server's io_context runs on two threads (each connection on its own strand); the
    // clients run on this thread's io_context.
    asio::io_context server_io;
    auto work = asio::make_work_guard(server_io);
    tr::ServerOptions options;
    options.max_sessions_per_address = 256;
    tr::Server server(server_io.get_executor(), crypto::box_keypair(), options, echo_handler());
    REQUIRE(server.listen(loopback(0)).has_value());
    REQUIRE(server.start().has_value());
    std::thread t1([&] { server_io.run(); });
    std::thread t2([&] { server_io.run(); });

    asio::io_context io;
    auto client_key = crypto::box_keypair();
    constexpr int kClients = 40;
    constexpr int kMessages = 50;
    int ok = 0;
    run(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        auto port = server.local_endpoint().port();
        for (int c = 0; c < kClients; ++c) {
            asio::co_spawn(
                ex,
                [&, c]() -> asio::awaitable<void> {
                    auto s =
                        co_await tr::connect("127.0.0.1", port, client_key, server.public_key());
                    if (!s) co_return;
                    for (int m = 0; m < kMessages; ++m) {
                        auto text = std::to_string(c) + "/" + std::to_string(m);
                        if (!co_await s->send(to_bytes(text))) co_return;
                        auto back = co_await s->receive();
                        if (!back || to_string(*back) != text) co_return;
                    }
                    co_await s->close();
                    ++ok;
                },
                asio::detached);
        }
        auto all = co_await eventually([&] { return ok == kClients; }, 30s);
        CHECK(all);
        auto drained = co_await eventually(
            [&] {
                auto st = server.stats();
                return st.sessions_finished == kClients && st.active == 0;
            },
            10s);
        CHECK(drained);
    });
    server.stop();
    work.reset();
    t1.join();
    t2.join();
    CHECK(ok == kClients);
}
