// The Noise_XX handshake over frames, with the version negotiation of frame.hpp and one
// deadline for the whole handshake.

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <string>

#include "session_core.hpp"

namespace kolokol::transport::detail {

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string list_text(const std::vector<std::uint16_t>& versions) {
    std::string out;
    for (auto v : versions) out += (out.empty() ? "" : ", ") + std::to_string(v);
    return out;
}

Error network_error(const SessionCore& core, const std::error_code& ec) {
    if (core.aborted)
        return core.failure.value_or(
            make_error(TransportErrc::session_closed, "the session was closed"));
    if (ec == asio::error::eof || ec == asio::error::connection_reset)
        return make_error(TransportErrc::truncated, "the peer hung up during the handshake");
    return make_error(TransportErrc::io_error, "network error during the handshake: {}",
                      ec.message());
}

Error timeout_error(const SessionCore& core) {
    return make_error(TransportErrc::handshake_timeout, "the handshake did not finish within {} ms",
                      core.options.handshake_timeout.count());
}

asio::awaitable<Result<Bytes>> read_frame(SessionCore& core, asio::steady_timer& deadline) {
    ByteArray<kFrameHeaderBytes> header{};
    auto got = co_await (asio::async_read(core.socket, asio::buffer(header), use_tuple) ||
                         deadline.async_wait(use_tuple));
    if (got.index() == 1) co_return std::unexpected(timeout_error(core));
    if (auto [ec, n] = std::get<0>(got); ec) co_return std::unexpected(network_error(core, ec));

    // Refused before reading on: an unauthenticated peer gets no large buffer from us.
    auto length = frame_length(header);
    if (length > kMaxHandshakeFrameBytes)
        co_return fail(TransportErrc::frame_too_large, "handshake frame of {} bytes (at most {})",
                       length, kMaxHandshakeFrameBytes);
    if (length == 0) co_return fail(TransportErrc::malformed_frame, "empty handshake frame");

    Bytes body(length);
    auto got_body = co_await (asio::async_read(core.socket, asio::buffer(body), use_tuple) ||
                              deadline.async_wait(use_tuple));
    if (got_body.index() == 1) co_return std::unexpected(timeout_error(core));
    if (auto [ec, n] = std::get<0>(got_body); ec)
        co_return std::unexpected(network_error(core, ec));
    co_return body;
}

asio::awaitable<Status> write_frame(SessionCore& core, asio::steady_timer& deadline,
                                    ByteView message) {
    auto frame = encode_frame(message);
    auto sent = co_await (asio::async_write(core.socket, asio::buffer(frame), use_tuple) ||
                          deadline.async_wait(use_tuple));
    if (sent.index() == 1) co_return std::unexpected(timeout_error(core));
    if (auto [ec, n] = std::get<0>(sent); ec) co_return std::unexpected(network_error(core, ec));
    co_return Status{};
}

Result<noise::HandshakeState> new_handshake(noise::Role role,
                                            const crypto::BoxKeyPair& local_static) {
    noise::HandshakeConfig config;
    config.protocol_name = std::string(kNoiseProtocol);
    config.role = role;
    config.prologue = to_bytes(kPrologue);
    config.local_static = local_static.secret_key.clone();
    return noise::HandshakeState::create(std::move(config));
}

Status finish(SessionCore& core, noise::HandshakeState& hs, std::uint16_t version) {
    auto ciphers = hs.split();
    if (!ciphers) return std::unexpected(ciphers.error());
    core.send_cipher = std::move(ciphers->send);
    core.receive_cipher = std::move(ciphers->receive);
    core.remote_static = *hs.remote_static();
    core.hash = hs.handshake_hash();
    core.version = version;
    return {};
}

asio::awaitable<Status> responder_steps(SessionCore& core, noise::HandshakeState& hs,
                                        asio::steady_timer& deadline) {
    auto msg1 = co_await read_frame(core, deadline);
    if (!msg1) co_return std::unexpected(msg1.error());
    auto payload1 = hs.read_message(*msg1);
    if (!payload1) co_return std::unexpected(payload1.error());
    auto offer = parse_version_offer(*payload1);
    if (!offer) co_return std::unexpected(offer.error());

    auto chosen = choose_version(core.options.versions, *offer);
    auto msg2 = hs.write_message(encode_version_answer({chosen, core.options.versions}));
    if (!msg2) co_return std::unexpected(msg2.error());
    if (auto sent = co_await write_frame(core, deadline, *msg2); !sent) co_return sent;
    // The answer told the peer why; now we stop.
    if (chosen == 0)
        co_return fail(TransportErrc::version_mismatch,
                       "no protocol version in common (we speak {}, the peer {})",
                       list_text(core.options.versions), list_text(*offer));

    auto msg3 = co_await read_frame(core, deadline);
    if (!msg3) co_return std::unexpected(msg3.error());
    auto payload3 = hs.read_message(*msg3);
    if (!payload3) co_return std::unexpected(payload3.error());
    if (!payload3->empty())
        co_return fail(TransportErrc::malformed_frame, "unexpected payload in handshake message 3");
    co_return finish(core, hs, chosen);
}

asio::awaitable<Status> initiator_steps(SessionCore& core, noise::HandshakeState& hs,
                                        asio::steady_timer& deadline,
                                        const std::optional<StaticPublicKey>& expected) {
    auto msg1 = hs.write_message(encode_version_offer(core.options.versions));
    if (!msg1) co_return std::unexpected(msg1.error());
    const auto sent_at = std::chrono::steady_clock::now();
    if (auto sent = co_await write_frame(core, deadline, *msg1); !sent) co_return sent;

    auto msg2 = co_await read_frame(core, deadline);
    if (!msg2) co_return std::unexpected(msg2.error());
    core.handshake_round_trip = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - sent_at);
    auto payload2 = hs.read_message(*msg2);
    if (!payload2) co_return std::unexpected(payload2.error());
    // Checked before msg 3, which would reveal our static key to the wrong responder.
    auto remote = *hs.remote_static();
    if (expected && remote != *expected)
        co_return fail(TransportErrc::remote_key_mismatch,
                       "the relay's key does not match the address (expected {}, got {})",
                       key_to_text(*expected), key_to_text(remote));
    auto answer = parse_version_answer(*payload2);
    if (!answer) co_return std::unexpected(answer.error());
    if (answer->chosen == 0)
        co_return fail(TransportErrc::version_mismatch,
                       "no protocol version in common (we speak {}, the peer {})",
                       list_text(core.options.versions), list_text(answer->supported));
    if (choose_version(core.options.versions, {answer->chosen}) == 0)
        co_return fail(TransportErrc::version_mismatch,
                       "the peer chose version {}, which we did not offer", answer->chosen);

    auto msg3 = hs.write_message({});
    if (!msg3) co_return std::unexpected(msg3.error());
    if (auto sent = co_await write_frame(core, deadline, *msg3); !sent) co_return sent;
    co_return finish(core, hs, answer->chosen);
}

template <class Steps>
asio::awaitable<Status> run(std::shared_ptr<SessionCore> core, noise::Role role,
                            const crypto::BoxKeyPair& local_static, Steps steps) {
    auto result = [&]() -> Result<noise::HandshakeState> {
        if (auto valid = core->options.validate(); !valid) return std::unexpected(valid.error());
        return new_handshake(role, local_static);
    }();
    if (!result) {
        core->abort(result.error());
        co_return std::unexpected(result.error());
    }
    asio::steady_timer deadline(core->socket.get_executor());
    deadline.expires_after(core->options.handshake_timeout);
    auto done = co_await steps(*core, *result, deadline);
    if (!done) {
        core->abort(done.error());
        co_return done;
    }
    if (core->aborted)  // stopped by the owner while the last step completed
        co_return std::unexpected(core->failure.value_or(
            make_error(TransportErrc::session_closed, "the session was closed")));
    core->start();
    co_return Status{};
}

}  // namespace

asio::awaitable<Status> run_responder(std::shared_ptr<SessionCore> core,
                                      const crypto::BoxKeyPair& local_static) {
    return run(std::move(core), noise::Role::responder, local_static,
               [](SessionCore& c, noise::HandshakeState& hs, asio::steady_timer& d) {
                   return responder_steps(c, hs, d);
               });
}

asio::awaitable<Status> run_initiator(std::shared_ptr<SessionCore> core,
                                      const crypto::BoxKeyPair& local_static,
                                      std::optional<StaticPublicKey> expected_remote) {
    return run(std::move(core), noise::Role::initiator, local_static,
               [expected_remote](SessionCore& c, noise::HandshakeState& hs, asio::steady_timer& d) {
                   return initiator_steps(c, hs, d, expected_remote);
               });
}

}  // namespace kolokol::transport::detail
