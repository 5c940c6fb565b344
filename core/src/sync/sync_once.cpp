#include "kolokol/core/sync_once.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "kolokol/core/errors.hpp"
#include "kolokol/transport/session_error.hpp"

namespace kolokol::core {

namespace {

Result<bool> direct_route(Node& node, const GroupId& group, std::string_view,
                          transport::ConnectOptions&) {
    return !node.tor_only(group);
}

std::string canonical(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    return parsed ? parsed->to_string() : address;
}

// The member's replica, counting the envelopes it stored (committed) for "what was kept".
class CountingReplica final : public transport::Replica {
public:
    CountingReplica(transport::Replica& inner, SyncOnceObserver* observer)
        : m_inner(inner), m_observer(observer) {}
    std::size_t stored() const { return m_stored.load(); }

    Result<std::vector<RecordId>> ids(const MailboxId& m) override { return m_inner.ids(m); }
    Result<StoredIds> ids_in_stored_order(const MailboxId& m, std::uint64_t from,
                                          std::size_t limit) override {
        return m_inner.ids_in_stored_order(m, from, limit);
    }
    Status order_for_sending(const MailboxId& m, std::vector<RecordId>& ids) override {
        return m_inner.order_for_sending(m, ids);
    }
    std::optional<std::uint64_t> change_stamp(const MailboxId& m) override {
        return m_inner.change_stamp(m);
    }
    Result<std::optional<Bytes>> get(const RecordId& id) override { return m_inner.get(id); }
    Result<std::vector<bool>> put(const MailboxId& m, std::span<const Bytes> envelopes) override {
        auto r = m_inner.put(m, envelopes);
        if (r) count(*r);
        return r;
    }
    Result<std::vector<bool>> put_then(const MailboxId& m, std::span<const Bytes> envelopes,
                                       const std::function<void()>& also) override {
        auto r = m_inner.put_then(m, envelopes, also);
        if (r) count(*r);
        return r;
    }
    bool offers_views() const override { return m_inner.offers_views(); }
    Result<std::optional<Bytes>> view(const MailboxId& m, ByteView hh, bool server) override {
        return m_inner.view(m, hh, server);
    }
    Result<bool> peer_view(const MailboxId& m, ByteView hh, ByteView token, bool server) override {
        return m_inner.peer_view(m, hh, token, server);
    }

private:
    void count(const std::vector<bool>& held_flags) {
        std::size_t held = 0;
        for (bool h : held_flags) held += h ? 1 : 0;
        if (held > 0) {
            const auto total = m_stored.fetch_add(held) + held;
            if (m_observer) m_observer->on_stored(total);
        }
    }

    transport::Replica& m_inner;
    SyncOnceObserver* m_observer;
    std::atomic<std::size_t> m_stored{0};
};

void add_up(transport::SyncReport& into, const transport::SyncReport& more) {
    into.sent += more.sent;
    into.received += more.received;
    into.rejected += more.rejected;
    into.peer_rejected += more.peer_rejected;
    into.bytes_sent += more.bytes_sent;
    into.bytes_received += more.bytes_received;
    into.round_trips += more.round_trips;
    into.mailboxes_opened += more.mailboxes_opened;
    into.refused.insert(into.refused.end(), more.refused.begin(), more.refused.end());
}

// Whether `address` is a peer of this member's rather than one of the group's relays (an
// address the group lists, each address of a relay included): only a peer is offered views
// (§5.12), so that a relay is never sent one.
bool peer_not_relay(Node& node, const GroupId& group, const transport::Address& address) {
    const auto canonical = address.to_string();
    for (const auto& r : node.relays(group))
        if (auto listed = transport::Address::parse(r); listed && listed->to_string() == canonical)
            return false;
    // A relay the list no longer names but still dialled (held_relays) is a relay too.
    const auto held = node.held_relays(group);
    return std::find(held.begin(), held.end(), canonical) == held.end();
}

// Whether `group` still dials the relay of `address` (Node::relay_routes): a relay a round
// planned may be gone by its turn, when an earlier session brought the record that voids the
// change that listed it (a removed admin's, §5.8).
bool still_dialled(Node& node, const GroupId& group, const std::string& address) {
    for (const auto& route : node.relay_routes(group))
        if (std::find(route.addresses.begin(), route.addresses.end(), address) !=
            route.addresses.end())
            return true;
    return false;
}

// One session with `address` carrying `group`'s mailboxes, routed and stoppable.
Result<transport::SyncReport> one_session(Node& node, transport::Replica& replica,
                                          const SyncOnceOptions& o, const SyncRoute& route,
                                          const std::string& address, const GroupId& group,
                                          std::vector<transport::MailboxKey> keys, bool observed) {
    transport::SyncOptions options = o.sync;
    options.live = false;
    options.stop = o.stop;
    if (auto parsed = transport::Address::parse(address))
        options.views = peer_not_relay(node, group, *parsed);
    auto allowed = route(node, group, address, options.connect);
    if (!allowed) return std::unexpected(allowed.error());
    // The plan left such groups out; a route that changed its mind meanwhile still holds.
    if (!*allowed) return fail(CoreErrc::bad_input, "the group is Tor only and no proxy is set");
    if (!observed) options.progress = {};
    return transport::sync_with(address, std::move(keys), replica, std::move(options));
}

// Short connections end at this share of the freeze limit seen: the relay's side sends ahead
// of what arrives, and Noise and TCP add their bytes to the sync bytes counted.
constexpr std::uint64_t budget_for(std::uint64_t limit) {
    return std::max<std::uint64_t>(limit / 2, 2 << 10);
}
// A freeze after fewer sync bytes than this is a dead link, not a filter's byte limit.
constexpr std::uint64_t kMinFreezeBytes = 2 << 10;
constexpr int kMaxDials = 20'000;

// A connection that failed for a reason the network gives rather than the peer's answer: the
// relay restarting, a filter that drops a flow's first packets for a while, a reset. Once a
// sync with the address has carried something, such a failure is tried again after a pause
// (SyncOnceOptions::max_connect_retries) rather than ending the sync.
bool network_failure(const Error& e) {
    return e.code == transport::TransportErrc::connect_failed ||
           e.code == transport::TransportErrc::handshake_timeout ||
           e.code == transport::TransportErrc::truncated ||
           e.code == transport::TransportErrc::io_error;
}

// The pause before the n-th retry in a row (n >= 1): 250 ms, doubled each time, at most 4 s.
std::chrono::milliseconds retry_pause(int n) {
    return std::chrono::milliseconds(250) * (1 << std::clamp(n - 1, 0, 4));
}

// The options of one short connection (or of the first session, before any freeze is known).
void short_options(transport::SyncOptions& s, std::optional<std::uint64_t> limit, bool whole,
                   bool parts_only) {
    // A connection that only fetches parts, or that fetches a mailbox from its cursor, asks
    // for exactly what fits; one that reconciles leaves room for the replies and envelopes
    // in flight when it stops. One that only fetches parts receives nothing it did not ask
    // for, each part sized to what is left: it keeps an eighth for Noise, TCP and its pings, and
    // for the close: a connection whose close goes past the filter's limit leaves the filter's
    // state of that flow frozen, and a later connection from the same port is then dropped
    // from its first packet (15/16 did that to a few connections of each sync).
    s.byte_budget = !limit       ? 0
                    : parts_only ? std::max<std::uint64_t>(*limit * 7 / 8, 2 << 10)
                    : whole      ? std::max<std::uint64_t>(*limit * 3 / 4, 2 << 10)
                                 : budget_for(*limit);
    s.frame_budget =
        limit ? static_cast<std::uint32_t>(std::max<std::uint64_t>(*limit / 8, 2 << 10)) : 0;
    // A connection that only fetches parts asks for what is left of its budget in one part
    // (one round trip rather than two); the others for parts of L/2.
    s.part_bytes =
        limit ? static_cast<std::uint32_t>(std::clamp<std::uint64_t>(
                    parts_only ? s.byte_budget : *limit / 2, 1 << 10, transport::kSyncMaxPartBytes))
              : 0;
}

// g++ 12 reports -Wmismatched-new-delete for the coroutine frames below, as for drive_engine in
// transport/src/sync_session.cpp: asio's frame allocator's ::operator new inlined into the ramp
// and paired with awaitable_frame_base::operator delete, its matching deallocation — a false
// positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// One session with `address` for `group`, redialled while sessions freeze or spend their byte
// budget and still store something: each next session reconciles, so what was stored is not
// fetched again. A freeze seen is remembered for the address and later sessions go in short
// connections under it. While envelopes wait for their parts, up to
// `short_connections_at_once` - 1 more short connections fetch parts beside it, each of a
// different envelope (PartialEnvelopes::claimed); all run as coroutines on one io_context on
// this thread, so the state they share changes only between awaits.
Result<transport::SyncReport> redialling_session(Node& node, CountingReplica& replica,
                                                 const SyncOnceOptions& o, const SyncRoute& route,
                                                 const std::string& address, const GroupId& group) {
    auto limit = node.freeze_limit(address);
    auto parsed = transport::Address::parse(address);
    if (!parsed) return std::unexpected(parsed.error());
    const bool views = peer_not_relay(node, group, *parsed);
    // Envelopes fetched in parts, and where each mailbox's fetch goes on, kept from one short
    // connection to the next; the fetch cursors also from one sync to the next, per relay key.
    auto partials = std::make_shared<transport::PartialEnvelopes>();
    {
        const std::string key = transport::key_to_text(parsed->key);
        partials->load_cursor = [&node, key](const MailboxId& mailbox) {
            return node.fetch_cursor(key, mailbox);
        };
        // A cursor not saved costs only a fetch done again. One that did not move is not
        // written again (a commit, and its fdatasync, for nothing).
        auto saved = std::make_shared<std::map<MailboxId, std::uint64_t>>();
        partials->save_cursor = [&node, key, saved](const MailboxId& mailbox,
                                                    std::uint64_t position) {
            auto [at, fresh] = saved->try_emplace(mailbox, position);
            if (!fresh && at->second == position) return;
            if (node.set_fetch_cursor(key, mailbox, position))
                at->second = position;
            else
                saved->erase(at);
        };
    }
    // The group's mailbox keys, derived once for all of this call's connections rather than
    // for each (a query and a key derivation per epoch): a connection whose records change
    // them (a new epoch, a cap lifted) makes sync_rounds run another round, which derives
    // them again.
    const auto group_keys = node.mailbox_keys(&group);
    auto keys_for_session = [&group_keys] {
        std::vector<transport::MailboxKey> out;
        out.reserve(group_keys.size());
        for (const auto& k : group_keys) {
            transport::MailboxKey copy;
            copy.id = k.id;
            copy.public_key = k.public_key;
            copy.secret_key = k.secret_key.clone();
            copy.max_envelope_bytes = k.max_envelope_bytes;
            out.push_back(std::move(copy));
        }
        return out;
    };
    auto fetching = [&partials, &group_keys] {
        for (const auto& k : group_keys)
            if (!partials->caught_up.contains(k.id)) return true;
        return false;
    };
    int connections = 0;
    auto partial_bytes = [&partials] {
        std::size_t n = 0;
        for (const auto& [id, p] : partials->held) n += p.bytes.size();
        return n;
    };
    if (limit && o.observer) o.observer->on_short_connections(address, *limit, budget_for(*limit));
    transport::SyncReport total;
    const auto stored_at_start = replica.stored();
    auto tell = [&] {
        if (o.observer && limit)
            o.observer->on_connections(address, connections, total.bytes_received,
                                       partials->fetches);
    };

    asio::io_context io;
    // Sessions under way that may be fetching parts; the helpers end once `lead_done`.
    int running = 0;
    bool lead_done = false;
    std::optional<Result<transport::SyncReport>> outcome;
    auto pause = [&io]() -> asio::awaitable<void> {
        asio::steady_timer t(io, std::chrono::milliseconds(2));
        co_await t.async_wait(asio::use_awaitable);
    };
    // Waits `d`, in steps that notice a stop request.
    auto wait_for = [&io, &o](std::chrono::milliseconds d) -> asio::awaitable<void> {
        const auto until = std::chrono::steady_clock::now() + d;
        while (!o.stop.requested() && std::chrono::steady_clock::now() < until) {
            asio::steady_timer t(
                io, std::min<std::chrono::steady_clock::duration>(
                        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
            co_await t.async_wait(asio::use_awaitable);
        }
    };
    // Some session of this call carried something: a network failure after that is retried.
    bool reached = false;

    // One session: its options, the dial, and what it did. Returns the session's result; on a
    // freeze or a spent budget, `progress` says whether it stored or learned anything.
    struct Step {
        Result<transport::SyncReport> result;
        bool progress = false;
    };
    // The hedge (DESIGN §9.14): a session without a limit whose connection went quiet after
    // carrying sync bytes makes the lead go on at once in short connections under what it
    // carried (`provisional`, not remembered), while the quiet one runs on to its verdict: a
    // freeze at the progress timeout remembers the limit; anything else was no freeze and
    // drops the provisional limit.
    const bool hedging = o.sync.hedge_after.count() > 0 && o.sync.progress_timeout.count() > 0;
    bool provisional = false;
    bool hedge_pending = false;
    std::uint64_t hedge_bytes = 0;
    asio::steady_timer hedge_signal(io);
    auto step = [&](bool parts_only, bool helper, bool hedged) -> asio::awaitable<Step> {
        SyncOnceOptions per = o;
        short_options(per.sync, limit, parts_only || fetching(), helper);
        per.sync.partials = partials;
        per.sync.parts_first = true;
        per.sync.parts_only = helper;
        per.sync.live = false;
        per.sync.stop = o.stop;
        per.sync.views = views;
        if (hedged)
            per.sync.on_hedge = [&](std::uint64_t carried) {
                hedge_bytes = carried;
                hedge_pending = true;
                hedge_signal.cancel();
            };
        const auto partial_before = partial_bytes();
        auto last = std::make_shared<transport::SyncReport>();
        auto observer_progress = o.observer;
        per.sync.progress = [last, observer_progress](const transport::SyncReport& r) {
            *last = r;
            if (observer_progress) observer_progress->on_progress(r);
        };
        const auto stored_before = replica.stored();
        const auto advances_before = partials->advances;
        const auto queued_before = partials->queue.size();
        ++connections;
        auto allowed = route(node, group, address, per.sync.connect);
        if (!allowed) co_return Step{std::unexpected(allowed.error())};
        // The plan left such groups out; a route that changed its mind meanwhile still holds.
        if (!*allowed)
            co_return Step{fail(CoreErrc::bad_input, "the group is Tor only and no proxy is set")};
        // Counted while it runs, even when it throws: the lead waits for the count to fall.
        struct Running {
            int& n;
            explicit Running(int& count) : n(count) { ++n; }
            ~Running() { --n; }
            Running(const Running&) = delete;
            Running& operator=(const Running&) = delete;
        };
        // A hedged session fetches no parts: the lead does not wait on it.
        std::optional<Running> counted;
        if (!hedged) counted.emplace(running);
        auto one = co_await transport::async_sync_with(*parsed, keys_for_session(), replica,
                                                       std::move(per.sync));
        counted.reset();
        if (one) {
            add_up(total, *one);
            reached = true;
            co_return Step{std::move(one), true};
        }
        // A session cut after carrying sync bytes (a long one reset by a relay restarting)
        // reached the address too: its network failure is tried again.
        if (last->wire_bytes_received > 0) reached = true;
        const auto code = one.error().code;
        const bool stalled = code == transport::SyncErrc::stalled;
        if ((!stalled && code != transport::SyncErrc::budget_spent) || o.stop.requested())
            co_return Step{std::move(one)};
        add_up(total, *last);
        // The limit is what the connection let through, frames cut short included.
        const auto through = last->wire_bytes_received;
        if (stalled && through >= kMinFreezeBytes && (!limit || provisional || through < *limit)) {
            limit = through;
            provisional = false;
            (void)node.set_freeze_limit(address, *limit);
        }
        if (stalled && o.observer)
            o.observer->on_freeze(address, through, limit ? budget_for(*limit) : 0);
        // Progress: envelopes stored, parts gathered, a fetch cursor moved on, or envelopes
        // learned of that are to come in parts (by this session or one beside it).
        const bool progress =
            replica.stored() > stored_before || partial_bytes() > partial_before ||
            partials->advances != advances_before || partials->queue.size() > queued_before;
        reached = reached || progress || last->wire_bytes_received > 0;
        co_return Step{std::move(one), progress};
    };

    // A session run in a coroutine of its own, for the hedge: the lead waits for it to end
    // (`done`) or for its connection to go quiet (hedge_pending). In the second case the lead
    // sets `verdict` and goes on, and the session's end is its verdict: a freeze remembered the
    // limit in step(); anything else was no freeze. (The closure lives in this function, the
    // arguments in the coroutine's frame.)
    auto hedged_step = [&](bool parts_only, std::shared_ptr<std::optional<Step>> done,
                           std::shared_ptr<bool> verdict) -> asio::awaitable<void> {
        auto r = co_await step(parts_only, false, true);
        if (*verdict) {
            hedge_pending = false;
            const bool frozen = !r.result && r.result.error().code == transport::SyncErrc::stalled;
            if (!frozen && provisional) {
                limit.reset();
                provisional = false;
            }
            co_return;
        }
        *done = std::move(r);
        hedge_signal.cancel();
    };
    // Set below, once the helpers are defined.
    std::function<void()> start_helpers;
    // The lead: the first session, the fetches and the reconciliation, and parts too.
    auto lead = [&]() -> asio::awaitable<Result<transport::SyncReport>> {
        int fruitless = 0;
        int retries = 0;
        // However much progress each makes, a sync with one address ends: 5 MiB in connections
        // of 8 KiB is some 700.
        for (int dial = 0; dial < kMaxDials; ++dial) {
            const bool parts_only = !partials->queue.empty();
            // Every envelope queued is being fetched by a helper: wait for one to end.
            if (parts_only && running > 0 && partials->queue.size() <= std::size_t(running)) {
                co_await pause();
                --dial;
                continue;
            }
            std::optional<Step> s;
            if (!limit && !hedge_pending && hedging) {
                // Run in a coroutine of its own: the lead goes on once it ends, or at once when
                // its connection goes quiet (the hedge).
                auto done = std::make_shared<std::optional<Step>>();
                auto verdict = std::make_shared<bool>(false);
                hedge_signal.expires_at(asio::steady_timer::time_point::max());
                asio::co_spawn(io, hedged_step(parts_only, done, verdict),
                               [](std::exception_ptr) {});
                while (!*done && !hedge_pending)
                    co_await hedge_signal.async_wait(
                        asio::experimental::as_tuple(asio::use_awaitable));
                if (!*done) {
                    // Quiet: go on in short connections under what it carried.
                    *verdict = true;
                    if (hedge_bytes >= kMinFreezeBytes && !limit) {
                        limit = hedge_bytes;
                        provisional = true;
                        if (o.observer) o.observer->on_hedge(address, *limit, budget_for(*limit));
                    }
                    start_helpers();
                    --dial;
                    continue;
                }
                s = std::move(**done);
            } else {
                s = co_await step(parts_only, false, false);
            }
            start_helpers();
            if (!s->result && network_failure(s->result.error()) && reached &&
                !o.stop.requested() && retries < o.max_connect_retries) {
                ++retries;
                const auto wait = retry_pause(retries);
                if (o.observer) o.observer->on_retry(address, s->result.error(), retries, wait);
                co_await wait_for(wait);
                continue;
            }
            retries = 0;
            if (s->result) {
                fruitless = 0;
                // A session that fetched only parts is followed by one that reconciles; one
                // that reconciled ends the sync once the helpers' parts are stored too.
                if (parts_only) continue;
                while (running > 0) co_await pause();
                if (!partials->queue.empty()) continue;
                co_return std::move(s->result);
            }
            const auto code = s->result.error().code;
            if ((code != transport::SyncErrc::stalled &&
                 code != transport::SyncErrc::budget_spent) ||
                o.stop.requested())
                co_return std::move(s->result);
            if (!s->progress) {
                if (++fruitless >= std::max(o.max_fruitless_redials, 1))
                    co_return std::move(s->result);
            } else {
                fruitless = 0;
            }
        }
        co_return fail(transport::SyncErrc::stalled, "too many short connections for one sync");
    };
    // A helper: parts of envelopes no other session is fetching, while there are such.
    auto helper = [&]() -> asio::awaitable<void> {
        int fruitless = 0;
        while (!lead_done && !o.stop.requested() && connections < kMaxDials) {
            if (!limit || partials->queue.size() <= std::size_t(running)) {
                co_await pause();
                continue;
            }
            auto s = co_await step(true, true, false);
            if (s.result || s.progress) {
                fruitless = 0;
                continue;
            }
            const auto code = s.result.error().code;
            // A network failure is retried as the lead does (and counted as fruitless, so a
            // helper gives up where the lead would); anything else than a freeze or a spent
            // budget is the lead's to see and report.
            if (network_failure(s.result.error()) && reached) {
                if (++fruitless > o.max_connect_retries) co_return;
                co_await wait_for(retry_pause(fruitless));
                continue;
            }
            if (code != transport::SyncErrc::stalled && code != transport::SyncErrc::budget_spent)
                co_return;
            if (++fruitless >= std::max(o.max_fruitless_redials, 1)) co_return;
        }
    };
    // The helpers start once the address is known to freeze (at once when a limit is
    // remembered, else after the first freeze): a link that does not freeze never polls.
    bool helpers_started = false;
    start_helpers = [&] {
        if (helpers_started || !limit) return;
        helpers_started = true;
        for (int i = 1; i < std::max(o.short_connections_at_once, 1); ++i)
            asio::co_spawn(io, helper(), [](std::exception_ptr) {});
    };
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { outcome = co_await lead(); },
        [&](std::exception_ptr e) {
            lead_done = true;
            if (e && !outcome)
                outcome = fail(transport::SyncErrc::replica_failed, "the sync failed");
        });
    start_helpers();
    io.run();
    if (!outcome) return fail(transport::SyncErrc::stalled, "the sync did not run");
    total.received = replica.stored() - stored_at_start;
    tell();
    if (!*outcome) return std::move(*outcome);
    return total;
}
#pragma GCC diagnostic pop

// One group's sessions with one address: again while a round changes the group's offer.
Result<transport::SyncReport> sync_rounds(Node& node, CountingReplica& replica,
                                          const SyncOnceOptions& o, const SyncRoute& route,
                                          const std::string& address, const GroupId& group) {
    // What a round offers: the mailboxes, and which of them take only small envelopes.
    auto offer_of = [](const std::vector<transport::MailboxKey>& keys) {
        std::set<std::pair<MailboxId, std::uint32_t>> offer;
        for (const auto& k : keys) offer.emplace(k.id, k.max_envelope_bytes);
        return offer;
    };
    std::set<std::pair<MailboxId, std::uint32_t>> known;
    Result<transport::SyncReport> r = fail(transport::SyncErrc::stopped);
    for (int round = 0; round < std::max(o.max_rounds, 1); ++round) {
        auto keys = node.mailbox_keys(&group);
        // Again while a round changes the offer: a rotation brought a new mailbox, or a record
        // waits for one of a capped mailbox's larger envelopes.
        auto offer = offer_of(keys);
        if (round > 0 && offer == known) break;
        known = std::move(offer);
        if (o.observer) o.observer->on_session(address, group);
        (void)keys;
        auto one = redialling_session(node, replica, o, route, address, group);
        if (o.observer) o.observer->on_session_end(one.has_value());
        if (!one) return one;
        if (round == 0)
            r = std::move(one);
        else
            add_up(*r, *one);
    }
    return r;
}

}  // namespace

transport::SyncOptions SyncOnceOptions::freeze_tolerant() {
    transport::SyncOptions options;
    // Well under the session's idle timeout (120 s), above a slow link's gap between frames;
    // on a link whose handshake took R, 10 R but at least 1 s (T/2 of quiet sends a ping,
    // which the peer's TCP acknowledges within a round trip; a lost segment is sent again
    // within about 200 ms plus a round trip).
    options.progress_timeout = std::chrono::seconds(5);
    options.progress_round_trips = 10;
    options.progress_timeout_min = std::chrono::seconds(1);
    // The hedge: a connection that carried sync bytes and then went quiet for 4 R, at least
    // 150 ms, with its ping unacknowledged for half of that, lets the sync go on over short
    // connections at once while the progress timeout decides whether it froze.
    options.hedge_after = std::chrono::milliseconds(150);
    options.hedge_round_trips = 4;
    return options;
}

Result<SyncPlan> plan_sync(Node& node, std::span<const GroupId> groups,
                           std::span<const std::string> targets, const SyncRoute& given) {
    const SyncRoute route = given ? given : SyncRoute(&direct_route);
    std::vector<GroupId> chosen;
    if (groups.empty()) {
        for (const auto& g : node.groups()) chosen.push_back(g.id);
    } else {
        for (const auto& id : groups)
            if (std::find(chosen.begin(), chosen.end(), id) == chosen.end()) chosen.push_back(id);
    }
    SyncPlan plan;
    auto add = [&](const std::string& address, const GroupId& group,
                   const std::vector<std::string>& fallbacks = {}) -> Status {
        transport::ConnectOptions probe;
        auto allowed = route(node, group, address, probe);
        if (!allowed) return std::unexpected(allowed.error());
        if (!*allowed) {
            plan.excluded = true;
            return {};
        }
        auto it = std::find_if(plan.sessions.begin(), plan.sessions.end(), [&](const auto& s) {
            return s.address == address && s.fallbacks == fallbacks;
        });
        if (it == plan.sessions.end())
            it = plan.sessions.insert(plan.sessions.end(),
                                      SyncPlan::Session{address, {}, fallbacks, targets.empty()});
        if (std::find(it->groups.begin(), it->groups.end(), group) == it->groups.end())
            it->groups.push_back(group);
        return {};
    };
    if (targets.empty()) {
        for (const auto& g : chosen)
            for (const auto& r : node.relay_routes(g)) {
                const std::vector<std::string> rest(r.addresses.begin() + 1, r.addresses.end());
                if (auto ok = add(r.addresses.front(), g, rest); !ok)
                    return std::unexpected(ok.error());
            }
        return plan;
    }
    for (const auto& target : targets) {
        auto parsed = transport::Address::parse(target);
        if (!parsed) return std::unexpected(parsed.error());
        const auto address = parsed->to_string();
        std::vector<GroupId> listing;
        if (!groups.empty()) {
            listing = chosen;
        } else {
            for (const auto& g : chosen)
                for (const auto& r : node.relay_addresses(g))
                    if (canonical(r) == address) listing.push_back(g);
        }
        if (listing.empty()) plan.unlisted.push_back(address);
        for (const auto& g : listing)
            if (auto ok = add(address, g); !ok) return std::unexpected(ok.error());
    }
    return plan;
}

SyncOnceReport sync_once(Node& node, const SyncPlan& plan, const SyncOnceOptions& o) {
    const SyncRoute route = o.route ? o.route : SyncRoute(&direct_route);
    auto inner = node.replica();
    CountingReplica replica(*inner, o.observer);
    SyncOnceReport out;
    std::map<std::pair<std::string, GroupId>, std::string> worked;  // where each session went
    // What the sessions store is durable at the end, in one flush, not commit by commit
    // (DESIGN §9.14, §12.7): it can all be fetched again, a power loss keeps a prefix of the
    // commits (envelopes before the cursor that covers them, or with it), and nobody acts on
    // this member's acknowledgements. The member's own records are written only after it
    // (maintain), under full durability again; it is restored whatever way this returns.
    struct Deferred {
        Node& node;
        bool on;
        Status end() {
            if (!std::exchange(on, false)) return {};
            return node.end_deferred_durability();
        }
        ~Deferred() { (void)end(); }
    } deferred{node, node.defer_durability().has_value()};
    for (const auto& session : plan.sessions) {
        if (o.stop.requested()) break;
        SyncAddressReport here;
        here.address = session.address;
        std::size_t passed = 0;  // groups that no longer dial it
        for (const auto& group : session.groups) {
            if (session.listed && !still_dialled(node, group, session.address)) {
                ++passed;
                continue;
            }
            std::string address = session.address;
            auto r = sync_rounds(node, replica, o, route, address, group);
            std::optional<Error> first_error;
            // Another address of the same relay, in order, while the last one failed.
            for (const auto& next : session.fallbacks) {
                if (r || o.stop.requested()) break;
                if (o.observer) o.observer->on_fallback(address, r.error(), next);
                here.passed_over.emplace_back(address, r.error());
                if (!first_error) first_error = r.error();
                address = next;
                r = sync_rounds(node, replica, o, route, address, group);
            }
            // A session that the stop ended failed because of it, not of the address.
            if (o.stop.requested()) break;
            if (!r) {
                // Reported under the session's address: its own error.
                if (!session.fallbacks.empty()) here.passed_over.emplace_back(address, r.error());
                here.errors.push_back(first_error ? *first_error : r.error());
                continue;
            }
            // Tried first next time; a failure to note it costs only the order.
            if (!session.fallbacks.empty()) (void)node.relay_worked(address);
            if (address != session.address) here.used = address;
            worked[{session.address, group}] = address;
            ++here.synced;
            add_up(here.report, *r);
        }
        if (passed == session.groups.size()) continue;  // not dialled, nothing to say
        if (o.observer) o.observer->on_address(here);
        out.addresses.push_back(std::move(here));
    }
    out.stored = replica.stored();
    const auto durable = deferred.end();
    if (o.stop.requested()) {
        // What arrived is in the store; the owed rotations wait for a sync that ends.
        out.stopped = true;
        return out;
    }
    if (!durable) {
        // Nothing of the member's own goes on top of what may not be on the disk.
        out.maintain_error = durable.error();
        return out;
    }
    if (!o.maintain) return out;
    auto done = node.maintain();
    if (!done) {
        out.maintain_error = done.error();
        return out;
    }
    out.maintained = std::move(*done);
    if (o.observer) o.observer->on_maintained(out);
    // Anything done locally (a rotation) goes out on the next sync; do it now if we can.
    if (!out.maintained.empty())
        for (const auto& session : plan.sessions)
            for (const auto& group : session.groups) {
                if (o.stop.requested()) break;
                const auto it = worked.find({session.address, group});
                (void)one_session(node, replica, o, route,
                                  it != worked.end() ? it->second : session.address, group,
                                  node.mailbox_keys(&group), false);
            }
    out.stored = replica.stored();
    return out;
}

}  // namespace kolokol::core
