// The client side of a sync: `kolokol sync ADDR` and the live session behind `kolokol chat`.

#include "kolokol/transport/sync.hpp"
#include "run_blocking.hpp"
#include "sync_session.hpp"

namespace kolokol::transport {

static_assert(kSyncFrameMaxBytes <= kMaxMessageBytes, "a sync frame must fit one session message");

// g++ 12 reports -Wmismatched-new-delete for this coroutine's frame, as for drive_engine in
// sync_session.cpp: a false positive of asio's frame allocator inlined into the ramp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<Result<SyncReport>> sync_on_session(Session& session, std::vector<MailboxKey> keys,
                                                    Replica& replica, SyncOptions options) {
    SyncEngine::Config config;
    config.side = SyncEngine::Side::client;
    config.limits = options.limits;
    config.live = options.live;
    config.offer_views = options.views;
    if (!options.fetch_all) config.fetch_all_below = 0;
    if (!options.live && options.frame_budget > 0) {
        config.frame_budget = options.frame_budget;
        config.part_bytes = options.part_bytes;
        config.byte_budget = options.byte_budget;
        config.partials = options.partials;
        config.parts_first = options.parts_first;
        config.parts_only = options.parts_only;
    }
    // Named: g++ 12 destroys a temporary in a co_await expression twice (its std::function).
    detail::ClientDrive client;
    if (!options.live)
        client = detail::ClientDrive{options.progress_timeout,     options.byte_budget,
                                     options.progress_round_trips, options.progress_timeout_min,
                                     options.hedge_after,          options.hedge_round_trips,
                                     std::move(options.on_hedge)};
    auto result = co_await detail::drive_engine(
        session, std::move(config), replica, std::move(keys), options.ping_interval,
        options.stop.state(), std::move(options.progress), std::nullopt, std::move(client));
    if (!result.status) co_return std::unexpected(result.status.error());
    if (!result.finished) {
        if (options.live && options.stop.requested()) co_return result.report;
        co_return fail(SyncErrc::peer_closed,
                       "the peer ended the session before the sync was done");
    }
    co_return result.report;
}
#pragma GCC diagnostic pop

asio::awaitable<Result<SyncReport>> async_sync_with(const Address& address,
                                                    const crypto::BoxKeyPair& local_static,
                                                    std::vector<MailboxKey> keys, Replica& replica,
                                                    SyncOptions options) {
    auto session = co_await connect(address, local_static, options.connect);
    if (!session) co_return std::unexpected(session.error());
    co_return co_await sync_on_session(*session, std::move(keys), replica, std::move(options));
}

asio::awaitable<Result<SyncReport>> async_sync_with(const Address& address,
                                                    std::vector<MailboxKey> keys, Replica& replica,
                                                    SyncOptions options) {
    // Lives in this coroutine's frame until the session is over.
    const auto session_key = crypto::box_keypair();
    co_return co_await async_sync_with(address, session_key, std::move(keys), replica,
                                       std::move(options));
}

namespace {
Result<SyncReport> run_blocking(asio::awaitable<Result<SyncReport>> sync) {
    return detail::run_blocking(std::move(sync), [](const std::string& what) -> Result<SyncReport> {
        return fail(SyncErrc::replica_failed, "the sync failed: {}", what);
    });
}
}  // namespace

Result<SyncReport> sync_with(std::string_view address, const crypto::BoxKeyPair& local_static,
                             std::vector<MailboxKey> keys, Replica& replica, SyncOptions options) {
    auto parsed = Address::parse(address);
    if (!parsed) return std::unexpected(parsed.error());
    return run_blocking(
        async_sync_with(*parsed, local_static, std::move(keys), replica, std::move(options)));
}

Result<SyncReport> sync_with(std::string_view address, std::vector<MailboxKey> keys,
                             Replica& replica, SyncOptions options) {
    auto parsed = Address::parse(address);
    if (!parsed) return std::unexpected(parsed.error());
    return run_blocking(async_sync_with(*parsed, std::move(keys), replica, std::move(options)));
}

}  // namespace kolokol::transport
