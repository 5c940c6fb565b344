#include "kolokol/transport/session.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <string>
#include <utility>

#ifdef __linux__
#include <sys/ioctl.h>
#endif

#include "session_core.hpp"

namespace kolokol::transport {

namespace detail {

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Frames handed to one gathered write.
constexpr std::size_t kWriteBatch = 16;

Error closed_error() {
    return make_error(TransportErrc::session_closed, "the session is closed");
}

// The writer: drains the queue in gathered writes; after our close frame, shuts down our
// direction. Holds the core alive until the session ends.
asio::awaitable<void> writer(std::shared_ptr<SessionCore> self) {
    auto& c = *self;
    std::vector<Bytes> batch;
    std::vector<asio::const_buffer> buffers;
    while (!c.aborted) {
        if (c.queue.empty()) {
            if (c.close_queued) {
                c.close_written = true;
                std::error_code ignored;
                c.socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                c.changed.cancel();
                // Both directions ended cleanly: nothing more can happen on this socket.
                if (c.peer_closed) c.abort(std::nullopt);
                co_return;
            }
            co_await c.writer_wake.async_wait(use_tuple);
            continue;
        }
        batch.clear();
        buffers.clear();
        while (!c.queue.empty() && batch.size() < kWriteBatch) {
            batch.push_back(std::move(c.queue.front()));
            c.queue.pop_front();
        }
        for (const auto& frame : batch) buffers.push_back(asio::buffer(frame));
        c.in_flight = batch.size();
        auto [ec, n] = co_await asio::async_write(c.socket, buffers, use_tuple);
        c.bytes_written += n;
        c.in_flight = 0;
        c.changed.cancel();  // room in the queue
        if (ec) {
            c.abort(make_error(ec == asio::error::eof || ec == asio::error::connection_reset ||
                                       ec == asio::error::broken_pipe
                                   ? TransportErrc::truncated
                                   : TransportErrc::io_error,
                               "could not send: {}", ec.message()));
            co_return;
        }
        // Writing does not count as activity: a peer that only ever receives (our pings, say)
        // must still reach the idle deadline.
    }
}

// Aborts the session when no complete frame has arrived for idle_timeout.
asio::awaitable<void> watchdog(std::shared_ptr<SessionCore> self) {
    auto& c = *self;
    while (!c.aborted) {
        auto due = c.last_received + c.options.idle_timeout;
        if (Clock::now() >= due) {
            c.abort(make_error(TransportErrc::idle_timeout, "nothing received for {} ms",
                               c.options.idle_timeout.count()));
            co_return;
        }
        c.idle_timer.expires_at(due);
        co_await c.idle_timer.async_wait(use_tuple);
    }
}

// Waits on `c.changed` until `ready()` or the session ends, for at most send_timeout.
// Returns false on timeout (the session is then aborted with send_timeout).
template <class Ready>
asio::awaitable<bool> wait_until(SessionCore& c, Ready ready) {
    if (ready() || c.aborted) co_return true;
    asio::steady_timer deadline(c.socket.get_executor());
    deadline.expires_after(c.options.send_timeout);
    while (!ready() && !c.aborted) {
        if (Clock::now() >= deadline.expiry()) {
            c.abort(make_error(TransportErrc::send_timeout,
                               "the peer did not take our data within {} ms",
                               c.options.send_timeout.count()));
            co_return false;
        }
        co_await (c.changed.async_wait(use_tuple) || deadline.async_wait(use_tuple));
    }
    co_return true;
}

Status enqueue(SessionCore& c, FrameKind kind, ByteView body) {
    Bytes plaintext;
    plaintext.reserve(1 + body.size());
    plaintext.push_back(static_cast<std::uint8_t>(kind));
    append(plaintext, body);
    auto sealed = c.send_cipher.encrypt_with_ad({}, plaintext);
    crypto::memzero(plaintext);
    if (!sealed) {
        c.abort(sealed.error());
        return std::unexpected(sealed.error());
    }
    c.queue.push_back(encode_frame(*sealed));
    c.writer_wake.cancel();
    return {};
}

bool is_end_of_stream(const std::error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}

// A read failed: the session is over. Report why.
Error read_failure(SessionCore& c, const std::error_code& ec) {
    if (c.peer_closed)
        return make_error(TransportErrc::closed_cleanly, "the peer closed the session");
    if (c.aborted) return c.failure.value_or(closed_error());
    Error e =
        is_end_of_stream(ec)
            ? make_error(TransportErrc::truncated, "the connection ended without a close frame")
            : make_error(TransportErrc::io_error, "could not receive: {}", ec.message());
    c.abort(e);
    return e;
}

}  // namespace

SessionCore::SessionCore(asio::ip::tcp::socket s, SessionOptions o)
    : socket(std::move(s)),
      options(std::move(o)),
      writer_wake(socket.get_executor()),
      changed(socket.get_executor()),
      idle_timer(socket.get_executor()) {
    writer_wake.expires_at(Clock::time_point::max());
    changed.expires_at(Clock::time_point::max());
    std::error_code ec;
    remote = socket.remote_endpoint(ec);
    // Frames are batched by the writer already; Nagle would only add latency to small ones.
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    touch();
}

void log_escaped(const LogSink& sink, std::string_view where, std::exception_ptr e) {
    transport::log_exception(sink, "transport: " + std::string(where), e);
}

void SessionCore::abort(std::optional<Error> why) {
    if (!failure && why) failure = std::move(why);
    if (aborted) return;
    aborted = true;
    std::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    queue.clear();
    writer_wake.cancel();
    changed.cancel();
    idle_timer.cancel();
}

void SessionCore::start() {
    established = true;
    touch();
    auto ex = socket.get_executor();
    asio::co_spawn(ex, writer(shared_from_this()), [log = options.log](std::exception_ptr e) {
        log_escaped(log, "session writer", e);
    });
    asio::co_spawn(ex, watchdog(shared_from_this()), [log = options.log](std::exception_ptr e) {
        log_escaped(log, "session watchdog", e);
    });
}

Error SessionCore::send_error() const {
    if (aborted) return failure.value_or(closed_error());
    return closed_error();
}

}  // namespace detail

using detail::SessionCore;

Status SessionOptions::validate() const {
    using std::chrono::milliseconds;
    if (handshake_timeout <= milliseconds::zero() || idle_timeout <= milliseconds::zero() ||
        send_timeout <= milliseconds::zero())
        return fail(TransportErrc::bad_config, "session timeouts must be positive");
    if (send_queue_frames == 0 || send_queue_frames > 1u << 16)
        return fail(TransportErrc::bad_config, "the send queue holds 1 to 65,536 frames");
    if (max_frame_bytes < kMinFrameLimit || max_frame_bytes > kMaxFrameBytes)
        return fail(TransportErrc::bad_config, "the frame limit must be 256 to 65,535 bytes");
    if (auto ok = validate_versions(versions); !ok)
        return reclassify(TransportErrc::bad_config, ok.error());
    return {};
}

Session::Session(std::shared_ptr<SessionCore> core) : m_core(std::move(core)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&& other) noexcept {
    if (this != &other) {
        if (m_core) m_core->abort(std::nullopt);
        m_core = std::move(other.m_core);
    }
    return *this;
}
Session::~Session() {
    if (m_core) m_core->abort(std::nullopt);
}

asio::awaitable<Result<Session>> Session::accept(asio::ip::tcp::socket socket,
                                                 const crypto::BoxKeyPair& local_static,
                                                 SessionOptions options) {
    auto core = std::make_shared<SessionCore>(std::move(socket), std::move(options));
    auto done = co_await detail::run_responder(core, local_static);
    if (!done) co_return std::unexpected(done.error());
    co_return Session(std::move(core));
}

asio::awaitable<Result<Session>> Session::initiate(asio::ip::tcp::socket socket,
                                                   const crypto::BoxKeyPair& local_static,
                                                   std::optional<StaticPublicKey> expected_remote,
                                                   SessionOptions options) {
    auto core = std::make_shared<SessionCore>(std::move(socket), std::move(options));
    auto done = co_await detail::run_initiator(core, local_static, expected_remote);
    if (!done) co_return std::unexpected(done.error());
    co_return Session(std::move(core));
}

asio::awaitable<Status> Session::send(Bytes message) {
    auto core = m_core;  // `this` may be moved from while we wait
    if (!core) co_return std::unexpected(detail::closed_error());
    auto& c = *core;
    if (c.aborted || c.close_queued) co_return std::unexpected(c.send_error());
    if (message.size() > c.options.max_message_bytes())
        co_return fail(TransportErrc::message_too_large, "message of {} bytes (at most {})",
                       message.size(), c.options.max_message_bytes());
    bool room = co_await detail::wait_until(c, [&c] {
        return c.close_queued || c.queue.size() + c.in_flight < c.options.send_queue_frames;
    });
    if (!room || c.aborted || c.close_queued) co_return std::unexpected(c.send_error());
    co_return detail::enqueue(c, FrameKind::data, message);
}

asio::awaitable<Result<Bytes>> Session::receive() {
    auto core = m_core;
    if (!core) co_return std::unexpected(detail::closed_error());
    auto& c = *core;
    if (c.peer_closed) co_return fail(TransportErrc::closed_cleanly, "the peer closed the session");
    if (c.aborted) co_return std::unexpected(c.failure.value_or(detail::closed_error()));
    if (c.receiving) co_return fail(TransportErrc::busy, "a receive is already pending");
    c.receiving = true;
    struct Done {
        SessionCore& c;
        ~Done() { c.receiving = false; }
    } done{c};

    ByteArray<kFrameHeaderBytes> header{};
    auto [ec, n] = co_await asio::async_read(c.socket, asio::buffer(header), detail::use_tuple);
    c.bytes_received += n;
    if (ec) co_return std::unexpected(detail::read_failure(c, ec));
    // The length is checked before the body is read: a peer cannot make us buffer more than
    // our own limit, and a short frame cannot even hold the AEAD tag.
    auto length = frame_length(header);
    if (length > c.options.max_frame_bytes) {
        Error e = make_error(TransportErrc::frame_too_large, "frame of {} bytes (at most {})",
                             length, c.options.max_frame_bytes);
        c.abort(e);
        co_return std::unexpected(e);
    }
    if (length < kMinTransportFrameBytes) {
        Error e{TransportErrc::malformed_frame, "frame too short to hold a message"};
        c.abort(e);
        co_return std::unexpected(e);
    }
    Bytes body(length);
    // Read by pieces, counting each, so that progress inside a large frame is seen
    // (bytes_received()).
    for (std::size_t got = 0; got < body.size();) {
        auto [ec2, n2] = co_await c.socket.async_read_some(
            asio::buffer(body.data() + got, body.size() - got), detail::use_tuple);
        c.bytes_received += n2;
        got += n2;
        if (ec2) co_return std::unexpected(detail::read_failure(c, ec2));
    }
    if (c.aborted) co_return std::unexpected(c.failure.value_or(detail::closed_error()));

    auto plaintext = c.receive_cipher.decrypt_with_ad({}, body);
    if (!plaintext) {
        // Nonces are implicit, so a lost, replayed, reordered or forged frame all land here;
        // none can be skipped over, and the stream is finished.
        Error e{TransportErrc::decrypt_failed, "a frame failed authentication"};
        c.abort(e);
        co_return std::unexpected(e);
    }
    c.touch();
    auto kind = (*plaintext)[0];
    if (kind == static_cast<std::uint8_t>(FrameKind::data))
        co_return Bytes(plaintext->begin() + 1, plaintext->end());
    if (kind == static_cast<std::uint8_t>(FrameKind::close) && plaintext->size() == 1) {
        c.peer_closed = true;
        if (c.close_written) c.abort(std::nullopt);
        co_return fail(TransportErrc::closed_cleanly, "the peer closed the session");
    }
    Error e{TransportErrc::malformed_frame, "unknown frame kind or a close frame with a body"};
    c.abort(e);
    co_return std::unexpected(e);
}

asio::awaitable<void> Session::close() {
    auto core = m_core;
    if (!core || core->aborted) co_return;
    auto& c = *core;
    if (!c.close_queued) {
        if (!detail::enqueue(c, FrameKind::close, {})) co_return;
        c.close_queued = true;
    }
    co_await detail::wait_until(c, [&c] { return c.close_written; });
}

void Session::abort() {
    if (m_core) m_core->abort(std::nullopt);
}

void Session::mark_authorized() {
    if (!m_core || m_core->authorized) return;
    m_core->authorized = true;
    if (m_core->on_authorized) std::exchange(m_core->on_authorized, nullptr)();
}

bool Session::authorized() const {
    return m_core && m_core->authorized;
}

bool Session::is_open() const {
    return m_core && !m_core->aborted && !(m_core->close_written && m_core->peer_closed);
}
const StaticPublicKey& Session::remote_static() const {
    return m_core->remote_static;
}
const noise::HandshakeHash& Session::handshake_hash() const {
    return m_core->hash;
}
std::uint16_t Session::version() const {
    return m_core->version;
}
const asio::ip::tcp::endpoint& Session::remote_endpoint() const {
    return m_core->remote;
}
std::uint64_t Session::bytes_received() const {
    return m_core->bytes_received;
}
std::uint64_t Session::bytes_readable() const {
    if (!m_core || m_core->aborted) return 0;
    std::error_code ec;
    const auto n = m_core->socket.available(ec);
    return ec ? 0 : n;
}
std::uint64_t Session::bytes_acknowledged() const {
#ifdef __linux__
    if (!m_core || m_core->aborted) return 0;
    // SIOCOUTQ (TIOCOUTQ on a TCP socket): bytes in the send queue not yet acknowledged. A
    // write under way is in the queue but not yet in bytes_written: the difference is then
    // low, never high.
    int queued = 0;
    if (::ioctl(m_core->socket.native_handle(), TIOCOUTQ, &queued) != 0 || queued < 0) return 0;
    const auto q = static_cast<std::uint64_t>(queued);
    return m_core->bytes_written > q ? m_core->bytes_written - q : 0;
#else
    return 0;
#endif
}
std::chrono::microseconds Session::handshake_round_trip() const {
    return m_core->handshake_round_trip;
}
const SessionOptions& Session::options() const {
    return m_core->options;
}
asio::any_io_executor Session::get_executor() const {
    return m_core->socket.get_executor();
}

}  // namespace kolokol::transport
