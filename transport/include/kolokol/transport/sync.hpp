#pragma once
// Syncing mailboxes over Noise sessions (DESIGN §5): the client entry points (`kolokol sync`,
// `kolokol chat`) and the serving side (`kolokol serve`, `kolokol relay`). The protocol is in
// proto/sync.proto and runs in a SyncEngine (sync_engine.hpp); this layer moves its frames over
// a Session.
//
// Threading: each sync runs on its session's executor. The Replica is called from that
// executor's thread; a SyncServer on a multi-threaded io_context calls one Replica from several
// sessions at once, so that Replica must be thread-safe.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/memory_budget.hpp"
#include "kolokol/transport/reconcile_sets.hpp"
#include "kolokol/transport/server.hpp"
#include "kolokol/transport/session.hpp"
#include "kolokol/transport/session_connect.hpp"
#include "kolokol/transport/sync_engine.hpp"
#include "kolokol/transport/sync_types.hpp"

namespace kolokol::transport {

// Ends a live sync from any thread: the session sends Close(normal) and the sync returns its
// report. Copies share one state. Requesting before the sync starts makes it end at once after
// the handshake.
class SyncStop {
public:
    SyncStop();
    void request() const;  // thread-safe, idempotent
    bool requested() const;

    struct State;
    const std::shared_ptr<State>& state() const { return m_state; }

private:
    std::shared_ptr<State> m_state;
};

struct SyncOptions {
    SyncLimits limits;
    // Stay open after reconciling and push envelopes written on either side until `stop` is
    // requested (or the session fails). Without it the sync ends once everything is exchanged
    // and acknowledged.
    bool live = false;
    SyncStop stop;
    // Live mode: a Ping goes out when nothing was sent for this long, under the session's idle
    // timeout (120 s by default).
    std::chrono::milliseconds ping_interval = std::chrono::seconds(30);
    // Offer views (DESIGN §5.12): for a session with another member (a peer given to `sync`,
    // the LAN), never with a group's listed relay, which is then never sent one.
    bool views = false;
    ConnectOptions connect;
    // Called on the session's thread after each frame is handled, with the report so far (its
    // to_receive/to_send grow as reconciliation finds differences). For progress display: keep
    // it quick. May be empty.
    std::function<void(const SyncReport&)> progress;
    // Fetch a mailbox of which this side holds almost nothing whole, in the server's stored
    // order (FetchAll), rather than reconcile it. Off only to compare the two (benchmarks).
    bool fetch_all = true;
    // Not live: when nothing arrives for this long while the sync waits for the peer, the
    // connection is taken as frozen (a filter that stops a flow after so many bytes, without a
    // reset): what arrived whole is stored and the sync fails with SyncErrc::stalled at once,
    // rather than after the session's idle timeout. Zero: off.
    std::chrono::milliseconds progress_timeout{0};
    // Not live, with a progress timeout: once the handshake's round trip R is known, the
    // timeout is progress_round_trips × R, kept between progress_timeout_min and
    // progress_timeout (a near link sees a freeze in about progress_timeout_min, a far one
    // waits in proportion). Zero: the timeout is progress_timeout throughout.
    std::uint32_t progress_round_trips = 0;
    std::chrono::milliseconds progress_timeout_min{0};
    // Not live, with a progress timeout: the hedge (DESIGN §9.14). When a connection that has
    // carried sync bytes goes quiet for H (hedge_round_trips × the handshake's round trip R, at
    // least hedge_after, at most half the progress timeout) and a ping sent at H/2 is not
    // acknowledged by the peer's side, on_hedge is called once with the bytes the connection
    // carried (Session::bytes_received), so that the caller can go on over another connection
    // at once; this session goes on until it moves again or the progress timeout takes it for
    // frozen. Empty: no hedge.
    std::chrono::milliseconds hedge_after{0};
    std::uint32_t hedge_round_trips = 0;
    std::function<void(std::uint64_t)> on_hedge;
    // Not live: a short connection. Once this many sync bytes have arrived, what arrived whole
    // is stored and the sync fails with SyncErrc::budget_spent, for the caller to redial
    // before a filter's limit freezes the connection. Zero: no budget.
    std::uint64_t byte_budget = 0;
    // Not live: short connections (SyncEngine::Config::frame_budget, part_bytes, partials,
    // parts_first, parts_only have the meaning of each). 0: off.
    std::uint32_t frame_budget = 0;
    std::uint32_t part_bytes = 0;
    std::shared_ptr<PartialEnvelopes> partials;
    bool parts_first = false;
    bool parts_only = false;
};

// The client side on an established session: opens `keys` (duplicates dropped), reconciles,
// exchanges envelopes, and ends with Close(normal) and a clean session close. Succeeds when
// every mailbox is settled — refused ones are listed in the report, not errors. Fails with a
// SyncErrc (protocol_violation, limit_exceeded, replica_failed, peer_closed, invalid_key, …)
// or the session's TransportErrc. `replica` must outlive the returned awaitable.
//
// The coroutine entry points take their options without defaults, on purpose: g++ 12 destroys
// a defaulted argument of a co_await expression twice. Pass a named SyncOptions/ServeOptions.
asio::awaitable<Result<SyncReport>> sync_on_session(Session& session, std::vector<MailboxKey> keys,
                                                    Replica& replica, SyncOptions options);

// Connects to `address` (pinning its key) with this installation's transport key, then
// sync_on_session(). `local_static` must outlive the awaitable.
asio::awaitable<Result<SyncReport>> async_sync_with(const Address& address,
                                                    const crypto::BoxKeyPair& local_static,
                                                    std::vector<MailboxKey> keys, Replica& replica,
                                                    SyncOptions options);

// Blocking form for the CLI: parses `address` ("kolokol://host:port/key"; invalid_address),
// runs its own io_context on the calling thread until the sync ends.
Result<SyncReport> sync_with(std::string_view address, const crypto::BoxKeyPair& local_static,
                             std::vector<MailboxKey> keys, Replica& replica,
                             SyncOptions options = {});

// The same two with a Noise static key made for this session alone and dropped after it: what
// every client uses. Nothing authenticates a client by its static key — a mailbox opens with
// its own key, bound to the handshake, and a server never looks at the client's — so a fixed
// one would only let relays and peers link one installation's sessions across groups, relays
// and time.
asio::awaitable<Result<SyncReport>> async_sync_with(const Address& address,
                                                    std::vector<MailboxKey> keys, Replica& replica,
                                                    SyncOptions options);
Result<SyncReport> sync_with(std::string_view address, std::vector<MailboxKey> keys,
                             Replica& replica, SyncOptions options = {});

struct ServeOptions {
    SyncLimits limits;
    // Accept clients' requests for live pushes.
    bool allow_live = true;
    // Answer views (DESIGN §5.12) when the Replica offers them: a member's `serve` (a relay's
    // store offers none).
    bool views = true;
    // Which verified mailboxes to serve: nullopt admits, a string refuses with that reason.
    // Empty admits all (a relay). A member's `kolokol serve` admits only mailboxes whose keys
    // it holds itself: see admit_only().
    SyncEngine::Admit admit;
    std::chrono::milliseconds ping_interval = std::chrono::seconds(30);
    // The client's Hello and an accepted Open must arrive within this after the handshake, or
    // the session is closed (Close LIMIT, then aborted at once): a connection that proves
    // nothing holds its slot for no longer. An accepted open also marks the session authorized
    // (Session::mark_authorized), so that the server no longer counts it among those it evicts.
    std::chrono::milliseconds first_request_timeout = std::chrono::seconds(10);
    // Server-wide memory (memory_budget.hpp). With `session_budget`, each session's received
    // frames and protocol state (SyncEngine::memory_estimate) are charged to it, a session past
    // `max_session_bytes` is closed with LIMIT, and when the budget is overdrawn the session
    // holding the most is closed the same way. With `reconcile_sets` (which should charge a
    // budget of its own), reconciliation sets are shared between sessions and wait for memory
    // rather than pass it. Without either: no server-wide bound (a member's `kolokol serve`).
    std::optional<MemoryBudget> session_budget;
    std::size_t max_session_bytes = 8 << 20;
    std::optional<ReconcileSets> reconcile_sets;
};

// An Admit that serves exactly `mailboxes` and refuses others with "not served here".
SyncEngine::Admit admit_only(std::vector<MailboxId> mailboxes);

// The server side on one established session, until the client closes or the session fails.
// Succeeds when the client ended with Close(normal). The report counts this side's traffic.
asio::awaitable<Result<SyncReport>> serve_on_session(Session& session, Replica& replica,
                                                     ServeOptions options);

// Statistics of a SyncServer beyond the transport Server's.
struct SyncServerStats {
    ServerStats transport;
    std::uint64_t first_request_timeouts = 0;  // closed: no mailbox opened in time
    std::uint64_t memory_closes = 0;           // closed: over its own cap, or the biggest when
                                               // the session budget was overdrawn
    std::uint64_t syncs_ok = 0;                // sessions the client closed normally
    std::uint64_t syncs_failed = 0;            // protocol errors, truncations, timeouts
    std::uint64_t envelopes_received = 0;
    std::uint64_t envelopes_sent = 0;
};

// Listens for sessions and serves each with serve_on_session() on `replica`: the engine of
// `kolokol serve` and of the relay. `replica` must outlive the SyncServer.
class SyncServer {
public:
    SyncServer(asio::any_io_executor executor, crypto::BoxKeyPair static_key, Replica& replica,
               ServerOptions server_options, ServeOptions serve_options);
    ~SyncServer();
    SyncServer(const SyncServer&) = delete;
    SyncServer& operator=(const SyncServer&) = delete;

    Status listen(const asio::ip::tcp::endpoint& endpoint);
    void start();
    // Stops accepting and aborts every session (unacknowledged envelopes are resent by their
    // senders next time). Safe from any thread.
    void stop();

    asio::ip::tcp::endpoint local_endpoint() const;
    const StaticPublicKey& public_key() const;
    // "kolokol://127.0.0.1:PORT/KEY" for the bound endpoint.
    Address address() const;
    SyncServerStats stats() const;

    struct Counters;

private:
    std::shared_ptr<Counters> m_counters;
    std::unique_ptr<Server> m_server;
};

}  // namespace kolokol::transport
