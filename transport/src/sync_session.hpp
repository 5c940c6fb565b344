#pragma once
// Runs a SyncEngine over a Session: the loop shared by the client and the server sides.

#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "kolokol/transport/session.hpp"
#include "kolokol/transport/sync.hpp"
#include "kolokol/transport/sync_engine.hpp"

namespace kolokol::transport::detail {

struct DriveResult {
    Status status;  // the first failure: the engine's, the Replica's or the session's
    SyncReport report;
    bool finished = false;              // client: everything settled
    bool peer_closed_normally = false;  // server: the client said goodbye
};

// Runs one side until the engine closes or the session fails, then ends the session: our close
// frame goes out behind everything queued, and the peer gets a few seconds to close its side
// before the connection is aborted. Receives run in a second coroutine on the session's
// executor with a bounded inbox; live notifications are posted to the same executor, so the
// engine is only ever touched from there. `progress` (may be empty) sees the report after
// each handled frame. `handshake_hash` and `live_sink` of `config` are
// filled in here.
asio::awaitable<DriveResult> drive_engine(Session& session, SyncEngine::Config config,
                                          Replica& replica, std::vector<MailboxKey> keys,
                                          std::chrono::milliseconds ping_interval,
                                          std::shared_ptr<SyncStop::State> stop,
                                          std::function<void(const SyncReport&)> progress);

}  // namespace kolokol::transport::detail
