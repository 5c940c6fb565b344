// The sending half of the sync engine: starting reconciliations, asking for what is missing,
// streaming envelopes under the peer's window, and noticing when a client is done.

#include <algorithm>
#include <map>

#include "reconcile_wire.hpp"
#include "sync.pb.h"
#include "sync_engine_impl.hpp"
#include "sync_wire.hpp"

namespace kolokol::transport {
using namespace detail;

Status SyncEngine::Impl::pump() {
    if (m_closed) return {};
    if (m_config.side == Side::client) {
        if (auto st = start_reconciliations(); !st) return st;
        send_wants();
        send_part_want();
        // Parts of mailboxes not this session's were dropped: a fetch waiting on them may go.
        if (m_partials && !m_part_wanted) {
            if (auto st = start_reconciliations(); !st) return st;
        }
    }
    if (auto st = send_envelopes(); !st) return st;
    if (m_config.side == Side::client) check_finished();
    return {};
}

Status SyncEngine::Impl::start_reconciliations() {
    // Before the server's hello, only as many as every server accepts.
    const std::size_t cap =
        std::min(std::max(m_config.limits.max_concurrent_reconciliations, std::size_t{1}),
                 m_peer_max_reconciliations);
    while (!m_to_reconcile.empty() && m_active_reconciliations < cap) {
        const MailboxId id = m_to_reconcile.front();
        auto it = m_mailboxes.find(id);
        if (it == m_mailboxes.end() || it->second.state == Mailbox::State::refused) {
            m_to_reconcile.pop_front();
            continue;
        }
        Mailbox& mb = it->second;
        // Short connections: the mailbox is fetched from where the last connection stopped
        // until the fetch reaches the end (sync_engine_resume.cpp); envelopes to fetch in parts
        // go before, one thing at a time within the connection's budget.
        if (m_partials && !m_partials->caught_up.contains(id)) {
            // Parts that sessions running beside this one fetch do not hold the fetch back: the
            // saved cursor stays before them (advance_cursor) until they are stored.
            if (m_part_wanted || m_partials->unclaimed() || m_new_connection_wanted) break;
            if (std::any_of(m_mailboxes.begin(), m_mailboxes.end(), [](const auto& e) {
                    return e.second.rec == Mailbox::Rec::fetching && e.second.fetch_bounded;
                }))
                break;
            m_to_reconcile.pop_front();
            resumable_fetch(id, mb);
            continue;
        }
        m_to_reconcile.pop_front();
        auto ids = m_replica.ids(id);
        if (!ids)
            return fail_with(
                CloseReason::internal,
                make_error(SyncErrc::replica_failed, "the store failed: {}", ids.error()));
        if (ids->size() < std::min(m_config.fetch_all_below, kSyncMaxFetchHave + 1)) {
            // Holding (almost) nothing: everything comes, in the server's stored order, which
            // spares holding records back for parents that arrive later (DESIGN §5).
            pb::SyncFrame f;
            f.mutable_fetch_all()->set_mailbox(to_string(id));
            for (const auto& have : *ids) f.mutable_fetch_all()->add_have(to_string(have));
            emit(f);
            mb.fetch_have.insert(ids->begin(), ids->end());
            mb.rec = Mailbox::Rec::fetching;
            continue;
        }
        // In short connections both sides keep every message under the frame budget (or the
        // reconciler's minimum).
        const std::size_t cap =
            m_config.frame_budget
                ? std::min<std::size_t>(
                      std::max<std::size_t>(m_config.frame_budget, kReconcileMinMessageBytes),
                      kSyncReconcileMessageBytes)
                : kSyncReconcileMessageBytes;
        mb.reconciler.emplace(Reconciler::Role::initiator, std::move(*ids),
                              Reconciler::Options{cap});
        auto first = mb.reconciler->initiate();
        if (!first)
            return fail_with(CloseReason::internal, SyncErrc::replica_failed, first.error());
        pb::SyncFrame f;
        f.mutable_reconcile()->set_mailbox(to_string(id));
        f.mutable_reconcile()->set_message(to_string(*first));
        if (m_config.frame_budget)
            f.mutable_reconcile()->set_max_reply_bytes(static_cast<std::uint32_t>(cap));
        emit(f);
        mb.rec = Mailbox::Rec::running;
        ++m_active_reconciliations;
    }
    return {};
}

void SyncEngine::Impl::send_wants() {
    const std::size_t cap =
        std::min(std::max(m_config.limits.max_outstanding_wants, std::size_t{1}), m_peer_max_wants);
    for (auto& [id, mb] : m_mailboxes) {
        if (mb.state != Mailbox::State::open) continue;
        while (!mb.to_want.empty() && m_outstanding_wants < cap) {
            const std::size_t take =
                std::min({kSyncMaxIdsPerFrame, mb.to_want.size(), cap - m_outstanding_wants});
            pb::SyncFrame f;
            auto* w = f.mutable_want();
            w->set_mailbox(to_string(id));
            for (std::size_t i = 0; i < take; ++i) {
                const RecordId want = mb.to_want.front();
                mb.to_want.pop_front();
                // Already arrived (pushed live) or already asked for: nothing to ask.
                if (mb.recent.contains(want) || !mb.wanted.insert(want).second) continue;
                w->add_ids(to_string(want));
                ++m_outstanding_wants;
            }
            if (w->ids_size() > 0) emit(f);
        }
    }
}

void SyncEngine::Impl::drop_front() {
    const Outgoing& o = m_send_queue.front();
    if (o.origin == Outgoing::Origin::want) --m_outstanding_wants;
    if (o.origin == Outgoing::Origin::live) --m_live_queued;
    m_send_queue.pop_front();
    m_next_envelope.reset();
}

Status SyncEngine::Impl::send_envelopes() {
    if (m_peer_window == 0) return {};  // no hello yet: the peer's window is unknown
    std::optional<pb::SyncFrame> frame;
    MailboxId frame_mailbox{};
    std::size_t frame_bytes = 0;
    std::map<MailboxId, std::vector<RecordId>> missing;

    auto finish_frame = [&](bool flush) {
        frame->mutable_envelopes()->set_flush(flush);
        emit(*frame);
        frame.reset();
    };

    for (;;) {
        if (m_send_queue.size() < kFetchLowWater && !m_fetching.empty()) {
            if (auto st = refill_fetches(); !st) return st;
        }
        if (m_send_queue.empty()) break;
        const Outgoing o = m_send_queue.front();
        auto it = m_mailboxes.find(o.mailbox);
        if (it == m_mailboxes.end() || it->second.state != Mailbox::State::open) {
            drop_front();
            continue;
        }
        if (o.origin == Outgoing::Origin::fetch_done && it->second.fetch_bounded) {
            drop_front();
            if (frame) finish_frame(false);  // stored at Fetched (end_bounded_fetch)
            end_bounded_fetch(o.mailbox, it->second, o.after, false);
            continue;
        }
        if (o.origin == Outgoing::Origin::fetch_done) {
            // After the fetch's last envelope, which the client stores and acknowledges.
            if (frame) finish_frame(true);
            Mailbox& mb = it->second;
            pb::SyncFrame f;
            f.mutable_fetched()->set_mailbox(to_string(o.mailbox));
            f.mutable_fetched()->set_done(true);
            for (const auto& id : mb.fetch_lacking) f.mutable_fetched()->add_lacking(to_string(id));
            emit(f);
            mb.rec = Mailbox::Rec::done;
            mb.fetch_have.clear();
            mb.fetch_lacking.clear();
            drop_front();
            continue;
        }
        if (!m_next_envelope) {
            auto env = m_replica.get(o.id);
            if (!env)
                return fail_with(
                    CloseReason::internal,
                    make_error(SyncErrc::replica_failed, "the store failed: {}", env.error()));
            // Never send what would break the peer's checks: an envelope that does not parse
            // or that belongs to another mailbox is treated as not held. (The latter also keeps
            // a want from fetching another mailbox's envelope by id.)
            std::optional<envelope::EnvelopeView> view;
            if (env->has_value()) view = envelope::parse_envelope(**env);
            if (!view || view->mailbox != o.mailbox) {
                if (o.origin == Outgoing::Origin::want) missing[o.mailbox].push_back(o.id);
                drop_front();
                continue;
            }
            // The client asked for nothing larger from this mailbox (it holds only the epoch's
            // control key and cannot open the content, DESIGN §6.2). The relay already knows
            // every envelope's size, so honouring the cap tells it nothing about any envelope.
            const std::uint32_t size_cap = it->second.max_envelope_bytes;
            Mailbox& mb = it->second;
            const bool bounded = o.origin == Outgoing::Origin::fetch && mb.fetch_bounded;
            if (size_cap != 0 && (*env)->size() > size_cap) {
                if (o.origin == Outgoing::Origin::want) missing[o.mailbox].push_back(o.id);
                drop_front();
                if (bounded) {
                    // Listed, so the client can fetch it in parts. A listing costs the budget
                    // its bytes in Fetched, and there are at most as many as one frame holds.
                    mb.fetch_too_large.emplace_back(o.id, o.at);
                    mb.fetch_sent += kSkippedBytes;
                    if (mb.fetch_too_large.size() >= kSyncMaxIdsPerFrame ||
                        mb.fetch_sent >= mb.fetch_budget) {
                        if (frame) finish_frame(false);
                        end_bounded_fetch(o.mailbox, mb, o.after, true);
                    }
                }
                continue;
            }
            if (bounded) {
                // The budget is the client's: the next fetch resumes at this envelope. The
                // first always goes, so every fetch moves on.
                if (mb.fetch_sent > 0 && mb.fetch_sent + (*env)->size() > mb.fetch_budget) {
                    drop_front();
                    if (frame) finish_frame(false);
                    end_bounded_fetch(o.mailbox, mb, o.at, true);
                    continue;
                }
                mb.fetch_sent += (*env)->size();
            }
            m_next_envelope = std::move(**env);
        }
        const std::size_t size = m_next_envelope->size();
        // One envelope always goes when nothing is in flight, so a window smaller than an
        // envelope (a client in short connections) slows the session but never stalls it.
        if (!m_in_flight.empty() && m_in_flight_bytes + size > m_peer_window) break;
        const std::size_t cost = 1 + varint_size(size) + size;
        if (frame && (frame_mailbox != o.mailbox || frame_bytes + cost > kSyncFrameMaxBytes))
            finish_frame(false);
        if (!frame) {
            frame.emplace();
            frame->mutable_envelopes()->set_mailbox(to_string(o.mailbox));
            frame_mailbox = o.mailbox;
            frame_bytes = kEnvelopesFrameOverhead;
        }
        frame->mutable_envelopes()->add_envelopes(to_string(*m_next_envelope));
        frame_bytes += cost;
        m_in_flight.push_back({++m_send_seq, size});
        m_in_flight_bytes += size;
        drop_front();
    }
    // The last frame of a burst asks the peer to store and acknowledge: either the queue is
    // empty or the window is full, and nothing more goes out until an ack arrives.
    if (frame) finish_frame(true);

    for (auto& [mailbox, ids] : missing) {
        for (std::size_t at = 0; at < ids.size(); at += kSyncMaxIdsPerFrame) {
            pb::SyncFrame f;
            auto* m = f.mutable_missing();
            m->set_mailbox(to_string(mailbox));
            const std::size_t end = std::min(ids.size(), at + kSyncMaxIdsPerFrame);
            for (std::size_t i = at; i < end; ++i) m->add_ids(to_string(ids[i]));
            emit(f);
        }
    }
    return {};
}

void SyncEngine::Impl::queue_fetch_page(const MailboxId& mailbox, Mailbox& mb,
                                        Replica::StoredIds page) {
    // A bounded fetch reads one id at a time: `at` is where it was read, `after` past it.
    const std::uint64_t at = mb.fetch_next;
    for (const auto& id : page.ids)
        if (!mb.fetch_have.contains(id))
            m_send_queue.push_back({mailbox, id, Outgoing::Origin::fetch, at, page.next});
    mb.fetch_next = page.next;
    // A page that reads nothing ends the fetch, whatever it says, so a fetch always ends.
    mb.fetch_more = page.more && !page.ids.empty();
    if (!mb.fetch_more)
        m_send_queue.push_back(
            {mailbox, RecordId{}, Outgoing::Origin::fetch_done, page.next, page.next});
}

// The fetch's last Envelopes frame goes without a flush mark: the client stores its envelopes
// when Fetched arrives, together with the cursor that Fetched moves (one commit, not two).
void SyncEngine::Impl::end_bounded_fetch(const MailboxId& mailbox, Mailbox& mb, std::uint64_t next,
                                         bool more) {
    pb::SyncFrame f;
    auto* fd = f.mutable_fetched();
    fd->set_mailbox(to_string(mailbox));
    fd->set_done(true);
    fd->set_next(next);
    fd->set_more(more);
    for (const auto& [id, at] : mb.fetch_too_large) {
        auto* skipped = fd->add_too_large();
        skipped->set_id(to_string(id));
        skipped->set_at(at);
    }
    emit(f);
    // What this fetch still had queued is the next one's.
    std::erase_if(m_send_queue, [&](const Outgoing& o) {
        return o.mailbox == mailbox &&
               (o.origin == Outgoing::Origin::fetch || o.origin == Outgoing::Origin::fetch_done);
    });
    m_next_envelope.reset();
    // Another fetch, or the reconciliation, may follow on this session.
    mb.rec = Mailbox::Rec::pending;
    mb.fetch_bounded = false;
    mb.fetch_more = false;
    mb.fetch_budget = mb.fetch_sent = 0;
    mb.fetch_too_large.clear();
}

Status SyncEngine::Impl::refill_fetches() {
    while (m_send_queue.size() < kFetchLowWater && !m_fetching.empty()) {
        const MailboxId mailbox = m_fetching.front();
        auto it = m_mailboxes.find(mailbox);
        if (it == m_mailboxes.end() || it->second.state != Mailbox::State::open ||
            it->second.rec != Mailbox::Rec::fetching || !it->second.fetch_more) {
            m_fetching.pop_front();
            continue;
        }
        // A bounded fetch reads one id, and the next only once it is sent: the budget, not
        // the queue, decides how far it goes, and each envelope's position is known.
        const bool bounded = it->second.fetch_bounded;
        if (bounded && !m_send_queue.empty()) break;
        // Only the front fetch reads pages; the next starts once this one's end is queued.
        auto page = m_replica.ids_in_stored_order(mailbox, it->second.fetch_next,
                                                  bounded ? 1 : kFetchPageIds);
        if (!page)
            return fail_with(
                CloseReason::internal,
                make_error(SyncErrc::replica_failed, "the store failed: {}", page.error()));
        queue_fetch_page(mailbox, it->second, std::move(*page));
        if (!it->second.fetch_more) m_fetching.pop_front();
        if (bounded) break;
    }
    return {};
}

void SyncEngine::Impl::check_finished() {
    if (m_finished || m_closed || m_config.live) return;
    if (!m_to_reconcile.empty() || !m_send_queue.empty() || !m_in_flight.empty() ||
        !m_batch.empty() || !m_pending_puts.empty() || m_part_wanted)
        return;
    // Envelopes to fetch in parts of mailboxes this session opened (send_part_want drops the
    // others), unless sessions running beside this one fetch them.
    if (m_partials && m_partials->unclaimed()) return;
    for (const auto& [id, mb] : m_mailboxes)
        if (!mb.settled()) return;
    // Everything is exchanged: the two members' views of each group are compared now, before
    // the end (both stores hold what the other sent).
    auto awaiting = send_views();
    if (!awaiting) {
        (void)fail_with(
            CloseReason::internal,
            make_error(SyncErrc::replica_failed, "the store failed: {}", awaiting.error()));
        return;
    }
    if (*awaiting) return;
    m_finished = true;
    close(CloseReason::normal, {});
}

Result<bool> SyncEngine::Impl::send_views() {
    if (!m_views_sent) {
        m_views_sent = true;
        if (m_offers_views && m_peer_views)
            for (auto& [id, mb] : m_mailboxes) {
                if (mb.state != Mailbox::State::open) continue;
                auto token = m_replica.view(id, m_config.handshake_hash, false);
                if (!token) return std::unexpected(token.error());
                if (!*token || (*token)->size() > kSyncMaxViewBytes) continue;
                pb::SyncFrame f;
                f.mutable_view()->set_mailbox(to_string(id));
                f.mutable_view()->set_token(to_string(**token));
                emit(f);
                mb.view_pending = true;
                ++m_views_awaited;
            }
    }
    return m_views_awaited > 0;
}

}  // namespace kolokol::transport
