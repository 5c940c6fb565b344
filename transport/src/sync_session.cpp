#include "sync_session.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <deque>
#include <mutex>

namespace kolokol::transport {

struct SyncStop::State {
    std::mutex mutex;
    bool requested = false;
    std::function<void()> waker;  // set while a sync runs
};

SyncStop::SyncStop() : m_state(std::make_shared<State>()) {}

void SyncStop::request() const {
    std::function<void()> wake;
    {
        std::lock_guard lock(m_state->mutex);
        m_state->requested = true;
        wake = m_state->waker;
    }
    if (wake) wake();
}

bool SyncStop::requested() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->requested;
}

}  // namespace kolokol::transport

namespace kolokol::transport::detail {

namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Frames received but not yet handled, and their bytes. The reader waits when either is full,
// so a peer that floods (pings, say) is held back by TCP rather than by our memory.
constexpr std::size_t kInboxFrames = 32;
constexpr std::size_t kInboxBytes = 256 << 10;
// After our close, how long the peer has to close its side before we abort.
constexpr auto kCloseGrace = std::chrono::seconds(5);
// A client's connection whose peer acknowledges but sends nothing is taken for frozen after this
// many progress timeouts.
constexpr int kAckedQuiet = 6;

struct DriveState {
    explicit DriveState(const asio::any_io_executor& ex) : wake(ex), room(ex) {}
    asio::steady_timer wake;  // the main loop sleeps on it; cancel() wakes it
    asio::steady_timer room;  // the reader sleeps on it while the inbox is full
    std::deque<Result<Bytes>> inbox;
    std::size_t inbox_bytes = 0;
    // Server with a session budget: what this session holds (inbox and engine), and whether
    // the budget asked for it back.
    MemoryBudget::Lease lease;
    std::size_t engine_bytes = 0;
    bool reclaimed = false;
    std::deque<std::pair<MailboxId, std::vector<RecordId>>> live;
    std::deque<std::function<Status()>> deferred;  // work the engine asked to run later
    bool engine_alive = false;
    bool stop = false;
    bool stop_reading = false;
    bool reader_done = false;
    // Client with a progress timeout (see drive_engine): when a byte last came from the peer
    // (or we last finished work of our own), when the peer's side last acknowledged one of
    // ours, and the figures they are judged by.
    std::chrono::steady_clock::time_point last_byte = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_ack = last_byte;
    std::uint64_t last_wire = 0;
    std::uint64_t last_acknowledged = 0;
    bool probed = false;  // a ping went out for the peer's side to acknowledge, at probed_at
    std::chrono::steady_clock::time_point probed_at;

    void charge() { lease.resize(inbox_bytes + engine_bytes, true); }
};

asio::awaitable<void> read_loop(std::shared_ptr<DriveState> st, Session& session) {
    for (;;) {
        while ((st->inbox.size() >= kInboxFrames || st->inbox_bytes >= kInboxBytes) &&
               !st->stop_reading) {
            st->room.expires_at(asio::steady_timer::time_point::max());
            co_await st->room.async_wait(use_tuple);
        }
        if (st->stop_reading) break;
        auto msg = co_await session.receive();
        const bool end = !msg.has_value();
        st->last_byte = std::chrono::steady_clock::now();
        if (msg) {
            st->inbox_bytes += msg->size();
            st->charge();
        }
        st->inbox.push_back(std::move(msg));
        st->wake.cancel();
        if (end) break;
    }
    st->reader_done = true;
    st->wake.cancel();
}

// Arms the wake timer for `timeout` (forever when it is max()).
void arm(DriveState& st, std::chrono::steady_clock::duration timeout) {
    if (timeout == std::chrono::steady_clock::duration::max())
        st.wake.expires_at(asio::steady_timer::time_point::max());
    else
        st.wake.expires_after(timeout);
}

}  // namespace

// g++ 12 reports -Wmismatched-new-delete for this coroutine's frame: it inlines the ::operator
// new inside asio's recycling frame allocator (awaitable_frame_base::operator new) into the
// ramp, then pairs it with awaitable_frame_base::operator delete, which is the matching
// deallocation — a false positive that depends on inlining decisions, not on this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<DriveResult> drive_engine(Session& session, SyncEngine::Config config,
                                          Replica& replica, std::vector<MailboxKey> keys,
                                          std::chrono::milliseconds ping_interval,
                                          std::shared_ptr<SyncStop::State> stop,
                                          std::function<void(const SyncReport&)> progress,
                                          std::optional<ServerDrive> server, ClientDrive client) {
    using clock = std::chrono::steady_clock;
    auto ex = session.get_executor();
    auto st = std::make_shared<DriveState>(ex);
    std::weak_ptr<DriveState> weak = st;
    if (server && server->session_budget) {
        // The budget, overdrawn, asks the biggest session to let go: this one ends with LIMIT.
        st->lease = server->session_budget->reclaimable_lease([weak, ex] {
            asio::post(ex, [weak] {
                if (auto s = weak.lock()) {
                    s->reclaimed = true;
                    s->wake.cancel();
                }
            });
        });
    }
    // A server waits this long for the first accepted open; never on a client.
    const auto open_deadline =
        server ? clock::now() + server->first_request_timeout : clock::time_point::max();
    bool authorized = false;
    bool cut_off = false;  // ended by a server policy: abort without the close grace

    const auto& h = session.handshake_hash();
    config.handshake_hash.assign(h.begin(), h.end());
    // The progress timeout in round trips of this connection, within the bounds given: a
    // freeze on a near link is seen in about the minimum. A loaded peer or machine that makes
    // it fire anyway costs a redial (and a freeze limit remembered too low), nothing lost. A
    // peer that acknowledges but sends nothing is still given kAckedQuiet times the bound
    // given, not the scaled timeout: a slow relay is not a filter, and a filter stops the
    // acknowledgements too.
    const auto quiet_limit = kAckedQuiet * client.progress_timeout;
    if (client.progress_timeout.count() > 0 && client.progress_round_trips > 0 &&
        session.handshake_round_trip().count() > 0) {
        const auto scaled = std::chrono::ceil<std::chrono::milliseconds>(
            session.handshake_round_trip() * client.progress_round_trips);
        client.progress_timeout =
            std::clamp(scaled, std::min(client.progress_timeout_min, client.progress_timeout),
                       client.progress_timeout);
    }
    // The hedge's quiet H: a few round trips, above a delayed acknowledgement (40 ms on Linux)
    // and a round trip, so that a live peer's side answers the ping sent at H/2 in time.
    std::chrono::milliseconds hedge{};
    if (client.on_hedge && client.progress_timeout.count() > 0) {
        hedge = std::max(client.hedge_after,
                         std::chrono::ceil<std::chrono::milliseconds>(
                             session.handshake_round_trip() * client.hedge_round_trips));
        hedge = std::min(hedge, client.progress_timeout / 2);
    }
    bool hedged = false;
    // Replica::watch may call from any thread: hop onto the session's executor, and do
    // nothing once this sync has ended.
    config.live_sink = [weak, ex](const MailboxId& mailbox, std::vector<RecordId> ids) {
        asio::post(ex, [weak, mailbox, ids = std::move(ids)]() mutable {
            if (auto s = weak.lock()) {
                s->live.emplace_back(mailbox, std::move(ids));
                s->wake.cancel();
            }
        });
    };
    config.defer = [weak, ex](std::function<Status()> fn) {
        asio::post(ex, [weak, fn = std::move(fn)]() mutable {
            if (auto s = weak.lock(); s && s->engine_alive) {
                s->deferred.push_back(std::move(fn));
                s->wake.cancel();
            }
        });
    };
    if (stop) {
        std::lock_guard lock(stop->mutex);
        st->stop = stop->requested;
        stop->waker = [weak, ex] {
            asio::post(ex, [weak] {
                if (auto s = weak.lock()) {
                    s->stop = true;
                    s->wake.cancel();
                }
            });
        };
    }

    DriveResult result;
    auto note = [&](const Status& s) {
        if (!s && result.status) result.status = s;
    };
    SyncEngine engine(std::move(config), replica);
    st->engine_alive = true;
    note(engine.start(std::move(keys)));

    asio::co_spawn(ex, read_loop(st, session), [log = session.options().log](std::exception_ptr e) {
        log_exception(log, "sync: reader failed", e);
    });

    bool session_failed = false;
    auto last_send = clock::now();
    auto report_now = [&] {
        SyncReport r = engine.report();
        r.wire_bytes_received = session.bytes_received();
        return r;
    };
    auto report_progress = [&] {
        if (progress) progress(report_now());
    };
    // After each step: the server's view of the session (authorized? its memory).
    auto account = [&] {
        if (!server) return;
        if (!authorized && engine.report().mailboxes_opened > 0) {
            session.mark_authorized();
            authorized = true;
        }
        st->engine_bytes = engine.memory_estimate();
        st->charge();
        if (server->max_session_bytes && st->lease.bytes() > server->max_session_bytes &&
            !engine.closed()) {
            engine.close(SyncEngine::CloseReason::limit, "the session holds too much memory");
            note(fail(SyncErrc::limit_exceeded, "the session passed its memory cap"));
            result.memory_closed = cut_off = true;
        }
    };
    while (result.status) {
        for (auto& frame : engine.take_output()) {
            auto sent = co_await session.send(std::move(frame));
            if (!sent) {
                note(sent);
                session_failed = true;
                break;
            }
            last_send = clock::now();
        }
        if (session_failed || engine.closed()) break;
        if (st->stop) {
            engine.close(SyncEngine::CloseReason::normal);
            continue;
        }
        if (st->reclaimed) {
            engine.close(SyncEngine::CloseReason::limit, "the server is short of memory");
            note(fail(SyncErrc::limit_exceeded, "closed to give its memory back"));
            result.memory_closed = cut_off = true;
            continue;
        }
        if (server && !authorized && clock::now() >= open_deadline) {
            // Silence, or requests that open nothing: the slot goes back.
            engine.close(SyncEngine::CloseReason::limit, "no mailbox opened in time");
            note(fail(SyncErrc::limit_exceeded, "the client opened no mailbox in time"));
            result.first_request_timeout = cut_off = true;
            continue;
        }
        // A client with a progress timeout T takes its connection for frozen when, for T while
        // it waited on the peer, nothing moved: no byte arrived (also inside a frame not yet
        // complete), none waits unread in the kernel, and the peer's side acknowledged none of
        // ours. A busy or slow peer still acknowledges, and its bytes already sent are still
        // seen arriving; a filter that stops the flow stops the acknowledgements with it. A
        // peer whose side acknowledges but that sends nothing for kAckedQuiet × T (or a
        // middlebox that acknowledges for it and passes nothing on) is taken for frozen too.
        // Time spent on our own work (storing, say) is never counted against the peer.
        bool stalled = false;
        if (client.progress_timeout.count() > 0) {
            const auto now = clock::now();
            const auto wire = session.bytes_received();
            const auto acknowledged = session.bytes_acknowledged();
            if (wire != st->last_wire || session.bytes_readable() > 0 || !st->inbox.empty())
                st->last_byte = now;
            if (acknowledged > st->last_acknowledged) st->last_ack = now;
            st->last_wire = wire;
            st->last_acknowledged = std::max(st->last_acknowledged, acknowledged);
            const auto alive = std::max(st->last_byte, st->last_ack);
            if (alive > st->probed_at) st->probed = false;
            // The hedge, once sync bytes came: the ping goes at H/2 rather than T/2, and when
            // it is not acknowledged by H the caller is told, once; this session goes on.
            const bool hedging = hedge.count() > 0 && !hedged && engine.report().bytes_received > 0;
            // Halfway, a ping gives the peer's side something to acknowledge.
            if (!st->probed &&
                now - alive >= (hedging ? clock::duration(hedge / 2)
                                        : clock::duration(client.progress_timeout / 2))) {
                st->probed = true;
                st->probed_at = now;
                engine.ping();
                last_send = now;
                continue;
            }
            if (hedging && st->probed && now - alive >= hedge && now - st->probed_at >= hedge / 2) {
                hedged = true;
                client.on_hedge(wire);
            }
            stalled = now - alive >= client.progress_timeout || now - st->last_byte >= quiet_limit;
        }
        // A client whose connection stopped carrying data, or that spent its byte budget, keeps
        // what arrived whole and drops the session; the caller redials.
        const bool spent =
            !engine.finished() &&
            (engine.new_connection_wanted() ||
             (client.byte_budget > 0 && engine.report().bytes_received >= client.byte_budget));
        if (stalled || spent) {
            note(engine.store_received());
            report_progress();
            engine.close(SyncEngine::CloseReason::normal);
            const auto got = engine.report().bytes_received;
            note(std::unexpected(
                stalled ? make_error(SyncErrc::stalled, "nothing arrived for {} ms after {} bytes",
                                     client.progress_timeout.count(), got)
                        : make_error(SyncErrc::budget_spent, "{} bytes received", got)));
            result.stalled = stalled;
            result.budget_spent = spent && !stalled;
            // A frozen connection carries nothing more: abort. A spent one still carries our
            // close, so the peer ends its side now rather than at its idle timeout; no grace.
            if (stalled)
                session_failed = true;
            else
                cut_off = true;
            break;
        }
        if (!st->inbox.empty()) {
            auto msg = std::move(st->inbox.front());
            st->inbox.pop_front();
            st->room.cancel();
            if (!msg) {
                // The session ended before the protocol did.
                note(std::unexpected(msg.error()));
                session_failed = true;
                break;
            }
            st->inbox_bytes -= msg->size();
            note(engine.handle(*msg));
            account();
            report_progress();
            st->last_byte = clock::now();  // our own work's time is not the peer's
            continue;
        }
        if (!st->deferred.empty()) {
            auto fn = std::move(st->deferred.front());
            st->deferred.pop_front();
            note(fn());
            account();
            report_progress();
            st->last_byte = clock::now();
            continue;
        }
        if (!st->live.empty()) {
            auto [mailbox, ids] = std::move(st->live.front());
            st->live.pop_front();
            note(engine.local_written(mailbox, std::move(ids)));
            account();
            continue;
        }
        const auto now = clock::now();
        const auto idle = now - last_send;
        if (idle >= ping_interval) {
            engine.ping();
            continue;
        }
        auto sleep = std::chrono::duration_cast<clock::duration>(ping_interval - idle);
        if (server && !authorized) sleep = std::min(sleep, open_deadline - now);
        // Look at the connection often: a freeze is then seen within a twentieth of the
        // timeout after it is due (50 ms at the 1 s floor; a look is a few ioctls).
        if (client.progress_timeout.count() > 0)
            sleep = std::min<clock::duration>(
                sleep, std::max<clock::duration>(
                           hedge.count() > 0 && !hedged
                               ? std::min<clock::duration>(client.progress_timeout / 20, hedge / 4)
                               : client.progress_timeout / 20,
                           clock::duration{1}));
        arm(*st, sleep);
        co_await st->wake.async_wait(use_tuple);
    }
    // A failure may have queued a Close that says why: send it if the session still works.
    if (!session_failed) {
        for (auto& frame : engine.take_output())
            if (!co_await session.send(std::move(frame))) break;
    }
    if (stop) {
        std::lock_guard lock(stop->mutex);
        stop->waker = nullptr;
    }
    // Answers that arrive from now on find no engine to run on.
    st->engine_alive = false;
    st->deferred.clear();

    result.report = report_now();
    result.finished = engine.finished();
    result.peer_closed_normally = engine.peer_closed_normally();

    // End the session and wait for the reader, which holds a reference to it.
    if (session_failed)
        session.abort();
    else
        co_await session.close();
    st->stop_reading = true;
    st->room.cancel();
    // A client cut off by a server policy gets no grace: its slot and memory go back now.
    const auto deadline = clock::now() + (cut_off ? clock::duration::zero() : kCloseGrace);
    while (!st->reader_done && clock::now() < deadline) {
        arm(*st, deadline - clock::now());
        co_await st->wake.async_wait(use_tuple);
    }
    if (!st->reader_done) {
        session.abort();
        while (!st->reader_done) {
            arm(*st, clock::duration::max());
            co_await st->wake.async_wait(use_tuple);
        }
    }
    co_return result;
}
#pragma GCC diagnostic pop

}  // namespace kolokol::transport::detail
