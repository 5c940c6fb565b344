// Resumable fetches (DESIGN §9.14): a client in short connections fetches each mailbox in the
// server's stored order, a byte budget at a time, from where the last connection stopped,
// instead of starting a reconciliation over in every connection. Only once the fetch has
// reached the end does it reconcile, and then the sets are (nearly) equal and the
// reconciliation is short. The positions are the server's: a server that lies about them can
// only make this client fetch more, or leave a gap that the reconciliation fills; every
// envelope is checked as any other on the way into the store.

#include <algorithm>

#include "sync.pb.h"
#include "sync_engine_impl.hpp"
#include "sync_wire.hpp"

namespace kolokol::transport {
using namespace detail;

namespace {
// Of the connection's budget, what is kept back from a fetch for the frames around its
// envelopes: the Fetched frames, the Envelopes frames' own fields, the pings and acks.
constexpr std::uint64_t kFetchReserve = 512;
// A fetch that could carry less than this is not worth its round trip: the next connection.
constexpr std::uint64_t kMinFetchBytes = 1 << 10;
// Without a connection budget, a fetch asks for this much at a time.
constexpr std::uint64_t kFetchBytesUnbudgeted = 256 << 10;
}  // namespace

bool SyncEngine::Impl::resumable_fetch(const MailboxId& mailbox, Mailbox& mb) {
    if (!m_partials || m_partials->caught_up.contains(mailbox)) return false;
    auto [from, fresh] = m_partials->fetch_from.try_emplace(mailbox, 0);
    if (fresh && m_partials->load_cursor)
        from->second = m_partials->load_cursor(mailbox).value_or(0);
    std::uint64_t room = kFetchBytesUnbudgeted;
    if (m_config.byte_budget > 0) {
        const auto used = m_report.bytes_received + kFetchReserve;
        room = used < m_config.byte_budget ? (m_config.byte_budget - used) * 7 / 8 : 0;
        if (room < kMinFetchBytes) {
            m_new_connection_wanted = true;
            return true;
        }
    }
    pb::SyncFrame f;
    auto* fa = f.mutable_fetch_all();
    fa->set_mailbox(to_string(mailbox));
    fa->set_after(from->second);
    fa->set_max_bytes(static_cast<std::uint32_t>(std::min<std::uint64_t>(room, UINT32_MAX)));
    emit(f);
    mb.rec = Mailbox::Rec::fetching;
    mb.fetch_bounded = true;
    mb.fetch_started = false;
    mb.fetch_after = from->second;
    mb.fetch_received = 0;
    ++m_partials->fetches;
    return true;
}

Status SyncEngine::Impl::on_bounded_fetched(const MailboxId& mailbox, Mailbox& mb,
                                            const pb::SyncFrame& f) {
    const auto& fd = f.fetched();
    if (fd.lacking_size() > 0)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("the peer lacks an id that was never offered"));
    ++m_report.round_trips;
    const std::uint64_t after = mb.fetch_after;
    const bool brought = mb.fetch_received > 0 || fd.too_large_size() > 0;
    mb.rec = Mailbox::Rec::pending;
    mb.fetch_bounded = false;
    mb.fetch_started = false;
    mb.fetch_received = 0;

    // Envelopes too large for this connection's frames: fetched in parts, and the cursor held
    // before each until it is stored. The decoder capped their number.
    std::uint64_t hold = UINT64_MAX;
    for (const auto& skipped : fd.too_large()) {
        auto id = parse_id(skipped.id());
        if (!id)
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("a fetch's id of the wrong size"));
        // A mailbox opened without parts (a control key's cap) does not want it at all.
        if (mb.part_cap == 0 || m_partials->positions.contains(*id)) continue;
        auto held = m_replica.get(*id);
        if (!held)
            return fail_with(
                CloseReason::internal,
                make_error(SyncErrc::replica_failed, "the store failed: {}", held.error()));
        if (held->has_value()) continue;
        if (m_partials->queue.size() >= kSyncMaxPartQueue) {
            // No room to remember it: the next fetch starts at it again.
            hold = std::min<std::uint64_t>(hold, skipped.at());
            continue;
        }
        m_partials->queue.emplace_back(mailbox, *id);
        m_partials->positions[*id] = {mailbox, skipped.at()};
    }
    // A fetch that brought nothing, or whose end is not past its start (the server's positions
    // went back, or it says there is more but sends none), ends the fetching: the
    // reconciliation that follows finds whatever it did not bring.
    std::uint64_t next = std::min(fd.next(), hold);
    if (!fd.more() || !brought || next <= after) m_partials->caught_up.insert(mailbox);
    if (next > after) {
        // Moved on once every envelope of the fetch is stored: in the same transaction as the
        // last of them where the store answers at once, so a kill between the two cannot
        // happen (nor a commit spent on the cursor alone); else once its put is done.
        if (!(m_config.defer && m_replica.put_is_async())) {
            if (auto st = flush_batch([&] { advance_cursor(mailbox, next); }); !st) return st;
        } else {
            if (auto st = flush_batch(); !st) return st;
            if (m_pending_puts.empty())
                advance_cursor(mailbox, next);
            else
                m_pending_puts.back().cursors.emplace_back(mailbox, next);
        }
    } else if (auto st = flush_batch(); !st) {
        // The fetch's last frame asked for no flush: its envelopes are stored here whatever.
        return st;
    }
    // Next: another fetch, or the reconciliation.
    m_to_reconcile.push_back(mailbox);
    return {};
}

void SyncEngine::Impl::advance_cursor(const MailboxId& mailbox, std::uint64_t position) {
    if (!m_partials) return;
    auto& from = m_partials->fetch_from[mailbox];
    if (position > from) {
        from = position;
        ++m_partials->advances;
    }
    std::uint64_t safe = from;
    for (const auto& [id, where] : m_partials->positions)
        if (where.first == mailbox) safe = std::min(safe, where.second);
    if (m_partials->save_cursor) m_partials->save_cursor(mailbox, safe);
}

}  // namespace kolokol::transport
