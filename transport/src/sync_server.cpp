// The serving side of a sync: one session (serve_on_session) and a listening SyncServer.

#include <algorithm>
#include <atomic>
#include <set>

#include "kolokol/transport/sync.hpp"
#include "sync_session.hpp"

namespace kolokol::transport {

SyncEngine::Admit admit_only(std::vector<MailboxId> mailboxes) {
    auto served = std::make_shared<const std::set<MailboxId>>(mailboxes.begin(), mailboxes.end());
    return [served](const MailboxId& mailbox) -> std::optional<std::string> {
        if (served->contains(mailbox)) return std::nullopt;
        return "not served here";
    };
}

namespace {

asio::awaitable<detail::DriveResult> serve(Session& session, Replica& replica,
                                           const ServeOptions& options) {
    SyncEngine::Config config;
    config.side = SyncEngine::Side::server;
    config.limits = options.limits;
    config.live = options.allow_live;
    config.offer_views = options.views;
    config.admit = options.admit;
    config.reconcile_sets = options.reconcile_sets;
    detail::ServerDrive server;
    server.first_request_timeout = options.first_request_timeout;
    server.session_budget = options.session_budget;
    server.max_session_bytes = options.max_session_bytes;
    std::function<void(const SyncReport&)> no_progress;
    // Named, not defaulted: g++ 12 destroys a defaulted argument of a co_await expression twice.
    detail::ClientDrive no_client;
    co_return co_await detail::drive_engine(session, std::move(config), replica, {},
                                            options.ping_interval, nullptr, std::move(no_progress),
                                            std::move(server), std::move(no_client));
}

}  // namespace

asio::awaitable<Result<SyncReport>> serve_on_session(Session& session, Replica& replica,
                                                     ServeOptions options) {
    auto result = co_await serve(session, replica, options);
    if (!result.status) co_return std::unexpected(result.status.error());
    if (!result.peer_closed_normally)
        co_return fail(SyncErrc::peer_closed, "the client left without closing");
    co_return result.report;
}

struct SyncServer::Counters {
    std::atomic<std::uint64_t> ok{0}, failed{0}, received{0}, sent{0}, first_request_timeouts{0},
        memory_closes{0};
};

SyncServer::SyncServer(asio::any_io_executor executor, crypto::BoxKeyPair static_key,
                       Replica& replica, ServerOptions server_options, ServeOptions serve_options)
    : m_counters(std::make_shared<Counters>()) {
    auto counters = m_counters;
    auto opts = std::make_shared<const ServeOptions>(std::move(serve_options));
    Replica* r = &replica;
    m_server =
        std::make_unique<Server>(executor, std::move(static_key), std::move(server_options),
                                 [counters, opts, r](Session& session) -> asio::awaitable<void> {
                                     auto result = co_await serve(session, *r, *opts);
                                     if (result.status && result.peer_closed_normally) {
                                         ++counters->ok;
                                         counters->received += result.report.received;
                                         counters->sent += result.report.sent;
                                     } else {
                                         ++counters->failed;
                                     }
                                     if (result.first_request_timeout)
                                         ++counters->first_request_timeouts;
                                     if (result.memory_closed) ++counters->memory_closes;
                                 });
}

SyncServer::~SyncServer() {
    stop();
}

Status SyncServer::listen(const asio::ip::tcp::endpoint& endpoint) {
    return m_server->listen(endpoint);
}
void SyncServer::start() {
    m_server->start();
}
void SyncServer::stop() {
    m_server->stop();
}
asio::ip::tcp::endpoint SyncServer::local_endpoint() const {
    return m_server->local_endpoint();
}
const StaticPublicKey& SyncServer::public_key() const {
    return m_server->public_key();
}

Address SyncServer::address() const {
    Address a;
    const auto ep = local_endpoint();
    a.host = ep.address().to_string();
    a.port = ep.port();
    a.key = public_key();
    return a;
}

SyncServerStats SyncServer::stats() const {
    SyncServerStats s;
    s.transport = m_server->stats();
    s.syncs_ok = m_counters->ok;
    s.syncs_failed = m_counters->failed;
    s.envelopes_received = m_counters->received;
    s.envelopes_sent = m_counters->sent;
    s.first_request_timeouts = m_counters->first_request_timeouts;
    s.memory_closes = m_counters->memory_closes;
    return s;
}

}  // namespace kolokol::transport
