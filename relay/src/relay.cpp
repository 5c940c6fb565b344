#include "kolokol/relay/relay.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <string>

namespace kolokol::transport {

namespace {

crypto::BoxKeyPair copy_of(const crypto::BoxKeyPair& kp) {
    return crypto::BoxKeyPair{kp.public_key, kp.secret_key.clone()};
}

ServerOptions server_options(const RelayOptions& o) {
    ServerOptions s;
    s.max_sessions = o.max_sessions;
    s.max_sessions_per_address = o.per_address;
    s.max_sessions_per_prefix = o.per_prefix;
    s.session = o.session;
    s.origins = o.origins;
    return s;
}

ServeOptions serve_options(RelayStore& store, const RelayOptions& o, const MemoryBudget& sessions,
                           const ReconcileSets& sets) {
    ServeOptions s;
    s.limits = o.limits;
    s.allow_live = true;
    s.admit = store.admit();
    s.first_request_timeout = o.first_request_timeout;
    s.session_budget = sessions;
    s.max_session_bytes = o.max_session_bytes;
    s.reconcile_sets = sets;
    return s;
}

}  // namespace

// The expiry loop's state, shared with its coroutine so stop() and the destructor never race
// it.
struct Relay::Expiry {
    explicit Expiry(asio::any_io_executor ex) : timer(asio::make_strand(ex)) {}
    asio::steady_timer timer;
    std::atomic<bool> stopped{false};
};

Relay::Relay(asio::any_io_executor executor, RelayStore& store, RelayOptions options)
    : m_store(store),
      m_options(options),
      m_reconcile_budget(options.reconcile_memory_bytes),
      m_session_budget(options.session_memory_bytes),
      m_sets(m_reconcile_budget),
      m_server(executor, copy_of(store.transport_key()), store, server_options(options),
               serve_options(store, options, m_session_budget, m_sets)),
      m_expiry(std::make_shared<Expiry>(executor)) {}

Relay::~Relay() {
    stop();
    // Store answers are posted to the sessions' executor: let them all land while it exists.
    m_store.drain();
}

Status Relay::listen(const asio::ip::tcp::endpoint& endpoint) {
    return m_server.listen(endpoint);
}

void Relay::start() {
    m_server.start();
    auto expiry = m_expiry;
    RelayStore* store = &m_store;
    const auto interval = m_options.expiry_interval;
    const LogSink log = m_options.session.log;
    asio::co_spawn(
        expiry->timer.get_executor(),
        [expiry, store, interval, log]() -> asio::awaitable<void> {
            while (!expiry->stopped) {
                if (auto n = store->expire(); !n)
                    log_line(log, LogLevel::error,
                             std::string("relay: expiry failed: ") + n.error().what());
                expiry->timer.expires_after(interval);
                co_await expiry->timer.async_wait(
                    asio::experimental::as_tuple(asio::use_awaitable));
            }
        },
        [log](std::exception_ptr e) { log_exception(log, "relay: expiry loop failed", e); });
}

void Relay::stop() {
    m_server.stop();
    if (!m_expiry->stopped.exchange(true)) {
        auto expiry = m_expiry;
        asio::post(expiry->timer.get_executor(), [expiry] { expiry->timer.cancel(); });
    }
}

Address Relay::address() const {
    return m_server.address();
}
SyncServerStats Relay::stats() const {
    return m_server.stats();
}

Relay::MemoryStats Relay::memory() const {
    return {m_reconcile_budget.used(), m_reconcile_budget.peak(), m_session_budget.used(),
            m_session_budget.peak(), m_sets.stats()};
}

}  // namespace kolokol::transport
