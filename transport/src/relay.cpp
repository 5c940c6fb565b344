#include "kolokol/transport/relay.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <charconv>
#include <iostream>

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
    asio::co_spawn(
        expiry->timer.get_executor(),
        [expiry, store, interval]() -> asio::awaitable<void> {
            while (!expiry->stopped) {
                if (auto n = store->expire(); !n)
                    std::cerr << "kolokol: relay: expiry failed: " << n.error().what() << "\n";
                expiry->timer.expires_after(interval);
                co_await expiry->timer.async_wait(
                    asio::experimental::as_tuple(asio::use_awaitable));
            }
        },
        [](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::cerr << "kolokol: relay: expiry loop failed: " << x.what() << "\n";
            }
        });
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

Result<asio::ip::tcp::endpoint> parse_listen_address(std::string_view text) {
    auto bad = [&](std::string why) {
        return fail(TransportErrc::invalid_address, "invalid listen address \"{}\": {}",
                    text.substr(0, 80), why);
    };
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return bad("expected [IPv6]:PORT");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return bad("expected HOST:PORT");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return bad("put an IPv6 host in brackets");
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535 ||
        (port.size() > 1 && port.front() == '0'))
        return bad("the port must be a number from 0 to 65535");
    std::error_code aec;
    auto address = asio::ip::make_address(std::string(host), aec);
    if (aec) return bad("the host must be an IP address");
    return asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(value));
}

}  // namespace kolokol::transport
