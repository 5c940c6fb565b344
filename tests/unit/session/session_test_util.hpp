#pragma once
// Loopback helpers for the session tests: run a coroutine on a private io_context with a hard
// limit, raw sockets that speak (or mangle) the wire format by hand, and a hand-driven Noise
// initiator that records its bytes.

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <functional>
#include <optional>

#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/frame.hpp"
#include "kolokol/transport/noise.hpp"
#include "kolokol/transport/server.hpp"
#include "kolokol/transport/session.hpp"
#include "kolokol/transport/session_connect.hpp"

namespace test {

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using kolokol::Bytes;
using kolokol::ByteView;
namespace tr = kolokol::transport;

inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Runs the coroutine `make()` returns until it finishes, then stops the io_context. A test
// that has not finished within `limit` fails (it hung); an exception (including a failed
// REQUIRE) inside the coroutine is rethrown here.
template <class Make>
void run(asio::io_context& io, Make make, std::chrono::seconds limit = 30s) {
    bool finished = false;
    std::exception_ptr error;
    asio::co_spawn(io, make(), [&](std::exception_ptr e) {
        finished = true;
        error = e;
        io.stop();
    });
    io.run_for(limit);
    REQUIRE_MESSAGE(finished, "the test coroutine did not finish in time");
    if (error) std::rethrow_exception(error);
}

// Waits until `condition()` holds, checking every few milliseconds, for at most `limit`.
// The result is what the test asserts; the wait itself asserts nothing.
inline asio::awaitable<bool> eventually(std::function<bool()> condition,
                                        std::chrono::milliseconds limit = 10s) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto end = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= end) co_return false;
        timer.expires_after(2ms);
        co_await timer.async_wait(use_tuple);
    }
    co_return true;
}

inline tcp::endpoint loopback(std::uint16_t port) {
    return {asio::ip::make_address("127.0.0.1"), port};
}

inline asio::awaitable<tcp::socket> raw_connect(std::uint16_t port) {
    tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(loopback(port), asio::use_awaitable);
    co_return socket;
}

inline asio::awaitable<bool> write_all(tcp::socket& socket, ByteView bytes) {
    auto [ec, n] =
        co_await asio::async_write(socket, asio::buffer(bytes.data(), bytes.size()), use_tuple);
    co_return !ec;
}

// True when the peer ends the connection (EOF or reset) within `limit`; whatever it sends
// before that is discarded.
inline asio::awaitable<bool> closed_by_peer(tcp::socket& socket,
                                            std::chrono::milliseconds limit = 10s) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(limit);
    std::array<std::uint8_t, 4096> sink{};
    while (true) {
        auto r = co_await (socket.async_read_some(asio::buffer(sink), use_tuple) ||
                           timer.async_wait(use_tuple));
        if (r.index() == 1) co_return false;
        if (std::get<0>(std::get<0>(r))) co_return true;
    }
}

// One frame from the peer, or nullopt on EOF/error/timeout.
inline asio::awaitable<std::optional<Bytes>> read_raw_frame(tcp::socket& socket,
                                                            std::chrono::milliseconds limit = 10s) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(limit);
    std::array<std::uint8_t, 2> header{};
    auto h = co_await (asio::async_read(socket, asio::buffer(header), use_tuple) ||
                       timer.async_wait(use_tuple));
    if (h.index() == 1 || std::get<0>(std::get<0>(h))) co_return std::nullopt;
    Bytes body(tr::frame_length(header));
    auto b = co_await (asio::async_read(socket, asio::buffer(body), use_tuple) ||
                       timer.async_wait(use_tuple));
    if (b.index() == 1 || std::get<0>(std::get<0>(b))) co_return std::nullopt;
    co_return body;
}

// A Noise_XX initiator driven by hand over a raw socket, recording the frames it sent.
struct ManualInitiator {
    tr::noise::HandshakeState hs;
    Bytes msg1_frame, msg2, msg3_frame;
    tr::noise::TransportCiphers ciphers;

    static ManualInitiator create(const kolokol::crypto::BoxKeyPair& key) {
        tr::noise::HandshakeConfig c;
        c.protocol_name = std::string(tr::kNoiseProtocol);
        c.role = tr::noise::Role::initiator;
        c.prologue = kolokol::to_bytes(tr::kPrologue);
        c.local_static = key.secret_key.clone();
        auto hs = tr::noise::HandshakeState::create(std::move(c));
        REQUIRE(hs.has_value());
        return ManualInitiator{std::move(*hs), {}, {}, {}, {}};
    }

    // Sends msg 1, reads msg 2, sends msg 3. False when the server gave up on us.
    asio::awaitable<bool> handshake(tcp::socket& socket) {
        msg1_frame = tr::encode_frame(*hs.write_message(tr::encode_version_offer({1})));
        if (!co_await write_all(socket, msg1_frame)) co_return false;
        auto m2 = co_await read_raw_frame(socket);
        if (!m2) co_return false;
        msg2 = *m2;
        if (!hs.read_message(msg2)) co_return false;
        msg3_frame = tr::encode_frame(*hs.write_message({}));
        if (!co_await write_all(socket, msg3_frame)) co_return false;
        auto c = hs.split();
        REQUIRE(c.has_value());
        ciphers = std::move(*c);
        co_return true;
    }

    // A transport frame as a session would send it: kind byte, body, sealed, length prefix.
    Bytes data_frame(ByteView body) {
        Bytes plain{static_cast<std::uint8_t>(tr::FrameKind::data)};
        kolokol::append(plain, body);
        return tr::encode_frame(*ciphers.send.encrypt_with_ad({}, plain));
    }
};

// An echo server: every message comes back; the handler ends when the peer closes.
inline tr::SessionHandler echo_handler() {
    return [](tr::Session& s) -> asio::awaitable<void> {
        while (true) {
            auto m = co_await s.receive();
            if (!m) co_return;
            if (!co_await s.send(std::move(*m))) co_return;
        }
    };
}

}  // namespace test
