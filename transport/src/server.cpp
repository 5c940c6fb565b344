#include "kolokol/transport/server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <mutex>
#include <string>
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
          handler(std::move(h)),
          slots(SlotLimits{options.max_sessions, options.max_sessions_per_address,
                           options.max_sessions_per_prefix, options.evict_authorized}) {}

    asio::any_io_executor executor;
    asio::strand<asio::any_io_executor> strand;
    asio::ip::tcp::acceptor acceptor;
    crypto::BoxKeyPair static_key;
    ServerOptions options;
    SessionHandler handler;

    std::atomic<bool> stopped{false};
    std::atomic<bool> started{false};
    std::atomic<std::uint64_t> accepted{0}, refused_capacity{0}, refused_per_address{0},
        refused_per_prefix{0}, handshakes_failed{0}, handshake_timeouts{0}, sessions_established{0},
        sessions_finished{0}, handler_errors{0}, accept_errors{0};

    // Connections run on their own strands, possibly on other threads: slots and the live set
    // are guarded by this mutex (held only for table updates).
    mutable std::mutex mutex;
    SessionSlots slots;
    std::unordered_map<SessionSlots::SlotId, std::weak_ptr<detail::SessionCore>> live;
    std::uint64_t evicted = 0;

    // Takes a slot (evicting another session when the slot policy says so), or says why not.
    SessionSlots::Admission admit(const asio::ip::address& addr) {
        std::shared_ptr<detail::SessionCore> victim;
        SessionSlots::Admission a;
        {
            std::lock_guard lock(mutex);
            a = slots.admit(addr);
            if (!a.evicted) return a;
            ++evicted;
            if (auto it = live.find(*a.evicted); it != live.end()) {
                victim = it->second.lock();
                live.erase(it);
            }
        }
        // Not yet tracked: its connection sees the slot gone when it starts (track()). Posted,
        // not dispatched: the accept loop must not run another connection's work.
        if (victim)
            asio::post(victim->socket.get_executor(), [victim] {
                victim->abort(make_error(TransportErrc::session_closed,
                                         "the server gave this connection's slot to a newcomer"));
            });
        return a;
    }
    void release(SessionSlots::SlotId slot) {
        std::lock_guard lock(mutex);
        slots.release(slot);
        live.erase(slot);
    }
    // Registers a connection so stop() and eviction can abort it; false when the server is
    // stopping or the slot was already given to someone else.
    bool track(SessionSlots::SlotId slot, const std::shared_ptr<detail::SessionCore>& core) {
        std::lock_guard lock(mutex);
        if (stopped || !slots.holds(slot)) return false;
        live.emplace(slot, core);
        return true;
    }
    void authorize(SessionSlots::SlotId slot) {
        std::lock_guard lock(mutex);
        slots.authorize(slot);
    }
};

namespace {

using State = Server::State;

asio::awaitable<void> run_connection(std::shared_ptr<State> server, asio::ip::tcp::socket socket,
                                     SessionSlots::SlotId slot_id) {
    auto core = std::make_shared<detail::SessionCore>(std::move(socket), server->options.session);
    struct Slot {
        State& server;
        SessionSlots::SlotId id;
        ~Slot() { server.release(id); }
    } slot{*server, slot_id};
    if (!server->track(slot_id, core)) {
        core->abort(std::nullopt);
        co_return;
    }
    core->on_authorized = [weak = std::weak_ptr<State>(server), slot_id] {
        if (auto s = weak.lock()) s->authorize(slot_id);
    };

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
        log_line(server->options.session.log, LogLevel::error,
                 std::string("server: session handler failed: ") + e.what());
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
            auto client = remote.address();
            if (s.options.origins)
                if (auto origin = s.options.origins->find(remote)) client = *origin;
            const auto admission = s.admit(client);
            switch (admission.outcome) {
                case SessionSlots::Outcome::refused_capacity:
                    ++s.refused_capacity;
                    continue;
                case SessionSlots::Outcome::refused_address:
                    ++s.refused_per_address;
                    continue;
                case SessionSlots::Outcome::refused_prefix:
                    ++s.refused_per_prefix;
                    continue;
                case SessionSlots::Outcome::admitted:
                    break;
            }
            // Posted: started from here, the connection would run its first handshake steps
            // (key allocations, a DH) inside the accept loop, and a flood of connections would
            // keep the next ones waiting in the backlog.
            auto ex = socket.get_executor();
            asio::post(ex, [self, ex, socket = std::move(socket), slot = admission.slot]() mutable {
                asio::co_spawn(ex, run_connection(self, std::move(socket), slot),
                               [log = self->options.session.log](std::exception_ptr e) {
                                   detail::log_escaped(log, "connection", e);
                               });
            });
        } catch (const std::exception& e) {
            // Allocation failure and the like: log, and keep accepting.
            ++s.accept_errors;
            log_line(s.options.session.log, LogLevel::error,
                     std::string("server: accept loop: ") + e.what());
        }
    }
}

}  // namespace

void ClientOrigins::add(const asio::ip::tcp::endpoint& local, const asio::ip::address& client) {
    std::lock_guard lock(m_mutex);
    m_clients[local] = client;
}

void ClientOrigins::remove(const asio::ip::tcp::endpoint& local) {
    std::lock_guard lock(m_mutex);
    m_clients.erase(local);
}

std::optional<asio::ip::address> ClientOrigins::find(const asio::ip::tcp::endpoint& remote) const {
    std::lock_guard lock(m_mutex);
    if (auto it = m_clients.find(remote); it != m_clients.end()) return it->second;
    return std::nullopt;
}

std::size_t ClientOrigins::size() const {
    std::lock_guard lock(m_mutex);
    return m_clients.size();
}

Server::Server(asio::any_io_executor executor, crypto::BoxKeyPair static_key, ServerOptions options,
               SessionHandler handler)
    : m_state(std::make_shared<State>(executor, std::move(static_key), std::move(options),
                                      std::move(handler))) {}

Server::~Server() {
    stop();
}

Status Server::listen(const asio::ip::tcp::endpoint& endpoint) {
    auto& s = *m_state;
    if (s.options.max_sessions == 0 || s.options.max_sessions_per_address == 0 ||
        s.options.max_sessions_per_prefix == 0)
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
                   [log = m_state->options.session.log](std::exception_ptr e) {
                       detail::log_escaped(log, "server accept loop", e);
                   });
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
    out.refused_per_prefix = s.refused_per_prefix;
    out.handshakes_failed = s.handshakes_failed;
    out.handshake_timeouts = s.handshake_timeouts;
    out.sessions_established = s.sessions_established;
    out.sessions_finished = s.sessions_finished;
    out.handler_errors = s.handler_errors;
    out.accept_errors = s.accept_errors;
    std::lock_guard lock(s.mutex);
    out.active = s.slots.active();
    out.unauthorized = s.slots.unauthorized();
    out.evicted = s.evicted;
    return out;
}

}  // namespace kolokol::transport
