#pragma once
// Runs a SyncEngine over a Session: the loop shared by the client and the server sides.

#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "kolokol/transport/session.hpp"
#include "kolokol/transport/sync.hpp"
#include "kolokol/transport/sync_engine.hpp"

namespace kolokol::transport::detail {

struct DriveResult {
    Status status;  // the first failure: the engine's, the Replica's or the session's
    SyncReport report;
    bool finished = false;               // client: everything settled
    bool peer_closed_normally = false;   // server: the client said goodbye
    bool first_request_timeout = false;  // server: closed, no mailbox opened in time
    bool memory_closed = false;          // server: closed for its memory
    bool stalled = false;                // client: nothing arrived for the progress timeout
    bool budget_spent = false;           // client: ended at its byte budget
};

// What only a client's side needs (SyncOptions has the meaning of each). Zero turns each off.
struct ClientDrive {
    std::chrono::milliseconds progress_timeout{};
    std::uint64_t byte_budget = 0;
    std::uint32_t progress_round_trips = 0;
    std::chrono::milliseconds progress_timeout_min{};
    // The hedge (SyncOptions::on_hedge): called at most once, when the connection that already
    // carried sync bytes went quiet for H and a ping did not come back acknowledged; the
    // session goes on. H = hedge_round_trips × the handshake's round trip, at least
    // hedge_after, at most half the progress timeout.
    std::chrono::milliseconds hedge_after{};
    std::uint32_t hedge_round_trips = 0;
    std::function<void(std::uint64_t)> on_hedge;
};

// What only a server's side needs (ServeOptions has the meaning of each).
struct ServerDrive {
    std::chrono::milliseconds first_request_timeout{};
    std::optional<MemoryBudget> session_budget;
    std::size_t max_session_bytes = 0;
};

// Runs one side until the engine closes or the session fails, then ends the session: our close
// frame goes out behind everything queued, and the peer gets a few seconds to close its side
// before the connection is aborted. Receives run in a second coroutine on the session's
// executor with a bounded inbox; live notifications are posted to the same executor, so the
// engine is only ever touched from there. `progress` (may be empty) sees the report after
// each handled frame. `handshake_hash` and `live_sink` of `config` are
// filled in here. `server` (a server's side only) adds the first-request deadline, marks the
// session authorized once a mailbox is open, and charges the session's memory. `client` (a
// client's side only) ends a session that receives nothing for its progress timeout, or whose
// received bytes reach its budget: what arrived is stored first, then the session is aborted
// at once (no close grace: a frozen connection would not carry the close).
asio::awaitable<DriveResult> drive_engine(Session& session, SyncEngine::Config config,
                                          Replica& replica, std::vector<MailboxKey> keys,
                                          std::chrono::milliseconds ping_interval,
                                          std::shared_ptr<SyncStop::State> stop,
                                          std::function<void(const SyncReport&)> progress,
                                          std::optional<ServerDrive> server, ClientDrive client);

}  // namespace kolokol::transport::detail
