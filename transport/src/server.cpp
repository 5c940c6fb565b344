#include "kolokol/transport/server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <unordered_map>

#include "session_core.hpp"

namespace kolokol::transport {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Pause after a failed accept (typically EMFILE) so the loop does not spin on it.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(50);
}  // namespace

struct Server::State : std::enable_shared_from_this<Server::State> {
    State(asio::any_io_executor ex, crypto::BoxKeyPair key, ServerOptions opts, SessionHandler h)
        : executor(ex),
          strand(asio::make_strand(ex)),
          acceptor(strand),
          static_key(std::move(key)),
          options(std::move(opts)),
          handler(std::move(h)) {}

    asio::any_io_executor executor;
    asio::strand<asio::any_io_executor> strand;
    asio::ip::tcp::acceptor acceptor;
    crypto::BoxKeyPair static_key;
    ServerOptions options;
    SessionHandler handler;

    std::atomic<bool> stopped{false};
    std::atomic<bool> started{false};
    std::atomic<std::uint64_t> accepted{0}, refused_capacity{0}, refused_per_address{0},
        handshakes_failed{0}, handshake_timeouts{0}, sessions_established{0}, sessions_finished{0},
        handler_errors{0}, accept_errors{0};

    // Connections run on their own strands, possibly on other threads: slots and the live set
    // are guarded by this mutex (held only for map updates).
    mutable std::mutex mutex;
    std::size_t active = 0;
    std::map<asio::ip::address, std::size_t> per_address;
    std::unordered_map<const detail::SessionCore*, std::weak_ptr<detail::SessionCore>> live;

    // Takes a slot, or says why not.
    enum class Admit { ok, capacity, address };
    Admit admit(const asio::ip::address& addr) {
        std::lock_guard lock(mutex);
        if (active >= options.max_sessions) return Admit::capacity;
        auto& count = per_address[addr];
        if (count >= options.max_sessions_per_address) {
            if (count == 0) per_address.erase(addr);
            return Admit::address;
        }
        ++count;
        ++active;
        return Admit::ok;
    }
    void release(const asio::ip::address& addr, const detail::SessionCore* core) {
        std::lock_guard lock(mutex);
        --active;
        if (auto it = per_address.find(addr); it != per_address.end() && --it->second == 0)
            per_address.erase(it);
        live.erase(core);
    }
    // Registers a connection so stop() can abort it; false when already stopping.
    bool track(const std::shared_ptr<detail::SessionCore>& core) {
        std::lock_guard lock(mutex);
        if (stopped) return false;
        live.emplace(core.get(), core);
        return true;
    }
};

namespace {

using State = Server::State;

asio::awaitable<void> run_connection(std::shared_ptr<State> server, asio::ip::tcp::socket socket,
                                     asio::ip::address addr) {
    auto core = std::make_shared<detail::SessionCore>(std::move(socket), server->options.session);
    struct Slot {
        State& server;
        const asio::ip::address& addr;
        const detail::SessionCore* core;
        ~Slot() { server.release(addr, core); }
    } slot{*server, addr, core.get()};
    if (!server->track(core)) {
        core->abort(std::nullopt);
        co_return;
    }

    auto handshake = co_await detail::run_responder(core, server->static_key);
    if (!handshake) {
        ++server->handshakes_failed;
        if (handshake.error().code == TransportErrc::handshake_timeout)
            ++server->handshake_timeouts;
        co_return;
    }
    ++server->sessions_established;
    auto session = detail::SessionAccess::make(core);
    try {
        co_await server->handler(session);
    } catch (const std::exception& e) {
        // A handler's bug ends its own session, never the server.
        ++server->handler_errors;
        std::cerr << "kolokol: server: session handler failed: " << e.what() << "\n";
    }
    co_await session.close();
    ++server->sessions_finished;
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> self) {
    auto& s = *self;
    asio::steady_timer backoff(s.strand);
    while (!s.stopped) {
        try {
            auto [ec, socket] = co_await s.acceptor.async_accept(
                asio::any_io_executor(asio::make_strand(s.executor)), use_tuple);
            if (s.stopped || ec == asio::error::operation_aborted || !s.acceptor.is_open()) break;
            if (ec) {
                ++s.accept_errors;
                backoff.expires_after(kAcceptBackoff);
                co_await backoff.async_wait(use_tuple);
                continue;
            }
            ++s.accepted;
            std::error_code rec;
            auto remote = socket.remote_endpoint(rec);
            if (rec) continue;  // already gone; the socket closes as it goes out of scope
            switch (s.admit(remote.address())) {
                case State::Admit::capacity:
                    ++s.refused_capacity;
                    continue;
                case State::Admit::address:
                    ++s.refused_per_address;
                    continue;
                case State::Admit::ok:
                    break;
            }
            auto ex = socket.get_executor();
            asio::co_spawn(ex, run_connection(self, std::move(socket), remote.address()),
                           [](std::exception_ptr e) { detail::log_exception("connection", e); });
        } catch (const std::exception& e) {
            // Allocation failure and the like: log, and keep accepting.
            ++s.accept_errors;
            std::cerr << "kolokol: server: accept loop: " << e.what() << "\n";
        }
    }
}

}  // namespace

Server::Server(asio::any_io_executor executor, crypto::BoxKeyPair static_key, ServerOptions options,
               SessionHandler handler)
    : m_state(std::make_shared<State>(executor, std::move(static_key), std::move(options),
                                      std::move(handler))) {}

Server::~Server() {
    stop();
}

Status Server::listen(const asio::ip::tcp::endpoint& endpoint) {
    auto& s = *m_state;
    if (s.options.max_sessions == 0 || s.options.max_sessions_per_address == 0)
        return fail(TransportErrc::bad_config, "session caps must be at least 1");
    if (auto ok = s.options.session.validate(); !ok) return ok;
    if (!s.handler) return fail(TransportErrc::bad_config, "the server needs a session handler");
    std::error_code ec;
    auto failed = [&](const char* step) {
        std::error_code ignored;
        s.acceptor.close(ignored);
        return fail(TransportErrc::listen_failed, "could not listen on {}:{} ({}): {}",
                    endpoint.address().to_string(), endpoint.port(), step, ec.message());
    };
    if (s.acceptor.open(endpoint.protocol(), ec); ec) return failed("open");
    if (s.acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec)
        return failed("reuse address");
    if (s.acceptor.bind(endpoint, ec); ec) return failed("bind");
    if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
        return failed("listen");
    return {};
}

Status Server::start() {
    if (!m_state->acceptor.is_open() || m_state->started.exchange(true))
        return fail(TransportErrc::listen_failed, "start() needs one successful listen() first");
    asio::co_spawn(m_state->strand, accept_loop(m_state),
                   [](std::exception_ptr e) { detail::log_exception("server accept loop", e); });
    return {};
}

void Server::stop() {
    if (m_state->stopped.exchange(true)) return;
    asio::dispatch(m_state->strand, [state = m_state] {
        std::error_code ignored;
        state->acceptor.close(ignored);
        std::lock_guard lock(state->mutex);
        for (auto& [ptr, weak] : state->live) {
            if (auto core = weak.lock())
                asio::dispatch(core->socket.get_executor(), [core] {
                    core->abort(
                        make_error(TransportErrc::session_closed, "the server is stopping"));
                });
        }
    });
}

asio::ip::tcp::endpoint Server::local_endpoint() const {
    std::error_code ec;
    return m_state->acceptor.local_endpoint(ec);
}

const StaticPublicKey& Server::public_key() const {
    return m_state->static_key.public_key;
}

ServerStats Server::stats() const {
    auto& s = *m_state;
    ServerStats out;
    out.accepted = s.accepted;
    out.refused_capacity = s.refused_capacity;
    out.refused_per_address = s.refused_per_address;
    out.handshakes_failed = s.handshakes_failed;
    out.handshake_timeouts = s.handshake_timeouts;
    out.sessions_established = s.sessions_established;
    out.sessions_finished = s.sessions_finished;
    out.handler_errors = s.handler_errors;
    out.accept_errors = s.accept_errors;
    std::lock_guard lock(s.mutex);
    out.active = s.active;
    return out;
}

}  // namespace kolokol::transport
