#pragma once
// Carries a byte stream between a WebSocket connection (`outer`: TLS towards a web server on the
// client side, the web server's plain TCP on the relay's side) and a local TCP socket (`inner`)
// on which an ordinary Session runs. Three coroutines on the connection's executor: `down` reads
// frames and writes their payload to inner, answers ping and takes close as the end of the
// peer's stream (inner's sending side is shut down); `up` reads inner and queues binary frames,
// and a close frame at inner's end; `writer` sends the queue in order. A protocol error, a
// reset or a peer silent past the grace period after our close closes both sockets: the Session
// then sees its connection end, as it would on TCP. Over TLS, an end where both close frames
// passed is also said in TLS (close_notify, as a browser's is), waiting at most
// kTlsShutdownBound for the peer's.

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <deque>
#include <memory>

#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/log.hpp"
#include "kolokol/transport/websocket.hpp"

namespace kolokol::transport::detail {

// How long, after our close frame, the peer has to answer before both sockets are closed.
inline constexpr std::chrono::seconds kWsCloseGrace{10};
inline constexpr std::size_t kQueuedFrames = 8;
inline constexpr std::chrono::seconds kTlsShutdownBound{1};

template <class Stream>
struct WsTunnel : std::enable_shared_from_this<WsTunnel<Stream>> {
    WsTunnel(Stream o, asio::ip::tcp::socket i, ws::Role r)
        : outer(std::move(o)),
          inner(std::move(i)),
          role(r),
          decoder(r == ws::Role::client ? ws::Role::client : ws::Role::server),
          wake(inner.get_executor()),
          grace(inner.get_executor()),
          room(inner.get_executor()) {
        wake.expires_at(std::chrono::steady_clock::time_point::max());
    }

    Stream outer;
    asio::ip::tcp::socket inner;
    ws::Role role;  // the side this tunnel is on
    ws::FrameDecoder decoder;
    std::deque<Bytes> queue;
    Bytes pong;  // the payload of the pong to send next (pong_waiting), at most 125 bytes
    bool pong_waiting = false;
    asio::steady_timer wake;
    asio::steady_timer grace;
    asio::steady_timer room;  // wakes `up` when the writer has taken a frame
    bool close_queued = false;
    bool close_written = false;
    bool down_done = false;
    bool stopped = false;

    asio::ip::tcp::socket::lowest_layer_type& outer_socket() { return outer.lowest_layer(); }

    void stop() {
        if (stopped) return;
        stopped = true;
        std::error_code ignored;
        outer_socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        outer_socket().close(ignored);
        inner.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        inner.close(ignored);
        wake.cancel();
        grace.cancel();
        room.cancel();
    }

    Bytes encode(ws::Opcode op, ByteView payload) const {
        std::optional<std::uint32_t> mask;
        if (role == ws::Role::client) {
            std::array<std::uint8_t, 4> key{};
            crypto::system_random().fill(key);
            mask = (std::uint32_t{key[0]} << 24) | (std::uint32_t{key[1]} << 16) |
                   (std::uint32_t{key[2]} << 8) | key[3];
        }
        return ws::encode_frame(op, payload, mask);
    }

    void push(ws::Opcode op, ByteView payload) {
        queue.push_back(encode(op, payload));
        if (op == ws::Opcode::close) close_queued = true;
        wake.cancel();
    }

    // A ping is answered by one pong, sent before the next queued frame; pings that come
    // while a pong still waits replace its payload (RFC 6455 §5.5.3 allows answering only the
    // most recent), so a peer that pings and never reads costs at most one control frame.
    void answer_ping(ByteView payload) {
        if (close_queued) return;
        pong.assign(payload.begin(), payload.end());
        pong_waiting = true;
        wake.cancel();
    }

    asio::awaitable<void> writer() {
        constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
        while (!stopped) {
            if (pong_waiting) {
                pong_waiting = false;
                Bytes frame = encode(ws::Opcode::pong, pong);
                auto [ec, n] = co_await asio::async_write(outer, asio::buffer(frame), use_tuple);
                if (ec) {
                    stop();
                    co_return;
                }
                continue;
            }
            if (queue.empty()) {
                if (close_written) co_return;
                wake.expires_at(std::chrono::steady_clock::time_point::max());
                co_await wake.async_wait(use_tuple);
                continue;
            }
            Bytes frame = std::move(queue.front());
            queue.pop_front();
            room.cancel();
            const bool is_close = close_queued && queue.empty();
            auto [ec, n] = co_await asio::async_write(outer, asio::buffer(frame), use_tuple);
            if (ec) {
                stop();
                co_return;
            }
            if (is_close) {
                close_written = true;
                // The peer has kWsCloseGrace to end its side too.
                if (!down_done) {
                    grace.expires_after(kWsCloseGrace);
                    co_await grace.async_wait(use_tuple);
                    if (!down_done) stop();
                }
                co_return;
            }
        }
    }

    asio::awaitable<void> down(Bytes initial) {
        constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
        Bytes buffer(ws::kMaxSendPayload);
        decoder.feed(initial);
        while (!stopped) {
            for (;;) {
                auto frame = decoder.next();
                if (!frame) {
                    stop();
                    co_return;
                }
                if (!*frame) break;
                auto& f = **frame;
                if (f.opcode == ws::Opcode::ping) {
                    answer_ping(f.payload);
                } else if (f.opcode == ws::Opcode::close) {
                    // The end of the peer's stream, as a TCP FIN: ours ends with our own close
                    // frame once the Session has ended its side (its last bytes still go).
                    std::error_code ignored;
                    inner.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                    down_done = true;
                    grace.cancel();
                    co_return;
                } else if (f.opcode != ws::Opcode::pong && !f.payload.empty()) {
                    auto [ec, n] =
                        co_await asio::async_write(inner, asio::buffer(f.payload), use_tuple);
                    if (ec) {
                        stop();
                        co_return;
                    }
                }
            }
            auto [ec, n] = co_await outer.async_read_some(asio::buffer(buffer), use_tuple);
            if (ec) {  // end of stream without a close frame, a reset or a TLS failure
                stop();
                co_return;
            }
            decoder.feed(ByteView(buffer.data(), n));
        }
    }

    asio::awaitable<void> up() {
        constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
        Bytes buffer(ws::kMaxSendPayload);
        while (!stopped) {
            // At most kQueuedFrames frames wait for a slow peer: the Session feels the pressure.
            while (queue.size() >= kQueuedFrames && !stopped) {
                room.expires_at(std::chrono::steady_clock::time_point::max());
                co_await room.async_wait(use_tuple);
            }
            if (stopped) break;
            auto [ec, n] = co_await inner.async_read_some(asio::buffer(buffer), use_tuple);
            if (ec) break;  // the Session ended its side (cleanly or not)
            push(ws::Opcode::binary, ByteView(buffer.data(), n));
        }
        if (stopped) co_return;
        static constexpr std::uint8_t kNormal[2] = {0x03, 0xe8};  // 1000
        push(ws::Opcode::close, ByteView(kNormal, 2));
    }

    // After a clean end over TLS: close_notify, and the peer's within the bound (a peer that
    // just closes is no failure: the stream has already ended).
    asio::awaitable<void> end_tls() {
        if constexpr (requires(Stream & s) { s.async_shutdown(asio::use_awaitable); }) {
            if (stopped || !close_written || !down_done) co_return;
            using namespace asio::experimental::awaitable_operators;
            constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
            grace.expires_after(kTlsShutdownBound);
            co_await (outer.async_shutdown(use_tuple) || grace.async_wait(use_tuple));
        }
        co_return;
    }

    // Runs the three until the connection ends; both sockets are closed afterwards.
    // `keep` (a TLS context) lives as long as the tunnel.
    static void start(std::shared_ptr<WsTunnel> self, Bytes initial, LogSink log,
                      std::shared_ptr<void> keep = {}) {
        using namespace asio::experimental::awaitable_operators;
        auto executor = self->inner.get_executor();
        asio::co_spawn(
            executor,
            [self, initial = std::move(initial)]() mutable -> asio::awaitable<void> {
                co_await (self->down(std::move(initial)) && self->up() && self->writer());
                co_await self->end_tls();
                self->stop();
            },
            [log = std::move(log), keep = std::move(keep)](std::exception_ptr e) {
                log_exception(log, "transport: websocket tunnel", e);
            });
    }
};

}  // namespace kolokol::transport::detail
