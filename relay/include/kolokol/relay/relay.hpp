#pragma once
// The relay (DESIGN §1, §3, §7): a store-and-forward node built from transport and storage
// alone, so it cannot open an envelope even by mistake: its target, kolokol_relay, links no core
// library, and the CTest build_relay_links fails if it ever does. Its types keep the namespace
// kolokol::transport they had when it was part of that target. It serves the sync protocol to any
// client that proves it holds a mailbox's key (the open proof bound to the session), keeps what
// it acknowledged in its RelayStore, enforces quotas, expires old envelopes, caps sessions in
// all, per source address and per address prefix (evicting sessions that opened nothing to
// make room: session_slots.hpp), closes sessions that open no mailbox in time, and keeps what
// grows with its clients — reconciliation sets and sessions' buffers and state — within a
// memory budget (memory_budget.hpp).
//
// Threading: run the io_context on as many threads as you like; sessions run on their own
// strands and the store is thread-safe. stop() may be called from any thread (a signal handler
// should post it).

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string_view>

#include "kolokol/crypto/error.hpp"
#include "kolokol/relay/relay_store.hpp"
#include "kolokol/transport/memory_budget.hpp"
#include "kolokol/transport/reconcile_sets.hpp"
#include "kolokol/transport/server.hpp"
#include "kolokol/transport/session.hpp"
#include "kolokol/transport/sync.hpp"

namespace kolokol::transport {

struct RelayOptions {
    std::size_t max_sessions = 1024;
    std::size_t per_address = 32;
    std::size_t per_prefix = 128;  // per /24 of IPv4, per /48 of IPv6
    // Behind a gateway (ws_gateway.hpp): the clients its connections carry, capped as above.
    std::shared_ptr<const ClientOrigins> origins;
    // Reconciliation sets held at once, shared between sessions (reconcile_sets.hpp): a new set
    // that does not fit waits for one to be let go.
    std::size_t reconcile_memory_bytes = std::size_t{64} << 20;
    // Sessions' received frames and protocol state, all together; when overdrawn, the session
    // holding the most is closed. And what one session may hold.
    std::size_t session_memory_bytes = std::size_t{128} << 20;
    std::size_t max_session_bytes = std::size_t{8} << 20;
    // A session must open a mailbox within this (ServeOptions::first_request_timeout).
    std::chrono::milliseconds first_request_timeout = std::chrono::seconds(10);
    SyncLimits limits;
    SessionOptions session;
    // How often expired envelopes are deleted (also once at start()).
    std::chrono::seconds expiry_interval = std::chrono::hours(1);
};

class Relay {
public:
    // `store` must outlive the Relay.
    Relay(asio::any_io_executor executor, RelayStore& store, RelayOptions options = {});
    // stop(), then waits for the store to answer every queued put: destroy the Relay before the
    // io_context it runs on, and after the io_context's threads have returned.
    ~Relay();
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    // Binds (port 0 picks a free port); listen_failed with the OS's reason.
    Status listen(const asio::ip::tcp::endpoint& endpoint);
    // Starts accepting and the expiry timer. Call once, after listen().
    void start();
    // Stops accepting, aborts every session and the expiry timer. Idempotent, any thread.
    // Everything acknowledged is already committed; unacknowledged envelopes are resent by
    // their senders on their next sync.
    void stop();

    // kolokol://HOST:PORT/KEY for the bound endpoint and the store's transport key.
    Address address() const;
    SyncServerStats stats() const;
    struct MemoryStats {
        std::size_t reconcile_used = 0, reconcile_peak = 0;
        std::size_t session_used = 0, session_peak = 0;
        ReconcileSets::Stats sets;
    };
    MemoryStats memory() const;

    struct Expiry;

private:
    RelayStore& m_store;
    RelayOptions m_options;
    MemoryBudget m_reconcile_budget;
    MemoryBudget m_session_budget;
    ReconcileSets m_sets;
    SyncServer m_server;
    std::shared_ptr<Expiry> m_expiry;
};

}  // namespace kolokol::transport
