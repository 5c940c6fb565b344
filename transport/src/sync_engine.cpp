#include <algorithm>
#include <cassert>

#include "sync.pb.h"
#include "sync_engine_impl.hpp"
#include "sync_wire.hpp"

namespace kolokol::transport {
using namespace detail;

namespace {
// Ids remembered per session as recently received, so live notifications of our own puts are
// not echoed back to the peer that sent them.
constexpr std::size_t kRecentIds = 8'192;
constexpr std::size_t kMaxDetailBytes = 200;
// Opens allowed beyond twice the mailbox cap (retries after refusals).
constexpr std::size_t kOpenSlack = 8;
}  // namespace

Status SyncEngine::Impl::fail_with(CloseReason reason, Error error) {
    if (!m_closed) {
        pb::SyncFrame f;
        auto* c = f.mutable_close();
        c->set_reason(static_cast<pb::Close::Reason>(reason));
        // The peer gets the English text: the detail is part of the protocol, not a display.
        c->set_detail(error.what().substr(0, kMaxDetailBytes));
        emit(f);
        m_closed = true;
    }
    return std::unexpected(std::move(error));
}

Status SyncEngine::Impl::fail_with(CloseReason reason, SyncErrc code, const char* literal) {
    return fail_with(reason, make_error(code, literal));
}

Status SyncEngine::Impl::fail_with(CloseReason reason, SyncErrc code, const Error& cause) {
    return fail_with(reason,
                     Error{make_error_code(code), cause.message, cause.pattern, cause.args});
}

void SyncEngine::Impl::emit(const pb::SyncFrame& frame) {
    Bytes out(frame.ByteSizeLong());
    frame.SerializeToArray(out.data(), static_cast<int>(out.size()));
    // Every frame is built under the cap; a bigger one is a bug here, not peer input.
    assert(out.size() <= kSyncFrameMaxBytes);
    m_report.bytes_sent += out.size();
    m_out.push_back(std::move(out));
}

void SyncEngine::Impl::ping() {
    if (m_closed) return;
    pb::SyncFrame f;
    f.mutable_ping();
    emit(f);
}

void SyncEngine::Impl::close(CloseReason reason, std::string detail) {
    if (m_closed) return;
    pb::SyncFrame f;
    auto* c = f.mutable_close();
    c->set_reason(static_cast<pb::Close::Reason>(reason));
    c->set_detail(detail.substr(0, kMaxDetailBytes));
    emit(f);
    m_closed = true;
}

std::size_t SyncEngine::Impl::memory_estimate() const {
    std::size_t total = m_batch_bytes + (m_next_envelope ? m_next_envelope->size() : 0);
    total += m_send_queue.size() * sizeof(Outgoing) + m_in_flight.size() * sizeof(InFlight);
    // A std::set or map node holds its value and about 32 bytes of links and colour; a deque
    // element its size.
    constexpr std::size_t kNode = 32;
    total += m_parked_bytes + m_parked.size() * sizeof(Parked);
    total += m_recent_order.size() * sizeof(m_recent_order.front());
    // Envelopes handed to the store and not yet stored are this session's too.
    for (const auto& p : m_pending_puts) total += sizeof(PendingPut) + p.bytes;
    total += m_batch.size() * sizeof(Incoming);
    for (const auto& [id, mb] : m_mailboxes) {
        total += sizeof(Mailbox) + kNode + sizeof(MailboxId);
        if (mb.reconciler) {
            // A shared set is charged where it is shared (reconcile_sets.hpp).
            total += mb.reconciler->own_memory_bytes();
            if (!mb.shared_set) total += ReconcileSet::memory_bytes_for(mb.reconciler->size());
        }
        total += mb.to_want.size() * sizeof(RecordId);
        total += (mb.wanted.size() + mb.recent.size() + mb.fetch_have.size()) *
                 (sizeof(RecordId) + kNode);
        total += mb.fetch_lacking.size() * sizeof(RecordId);
        total += mb.fetch_too_large.size() * sizeof(mb.fetch_too_large.front());
    }
    for (const auto& f : m_out) total += f.size();
    return total;
}

Status SyncEngine::Impl::start(std::vector<MailboxKey> keys) {
    if (m_started) return fail(SyncErrc::protocol_violation, "sync engine started twice");
    m_started = true;
    if (m_config.side == Side::client && m_config.frame_budget > 0) {
        // Short connections: nothing the server sends unasked (a window's worth of envelopes,
        // a whole fetch) may be larger than what one connection carries. The window is twice
        // the frame budget (L/4 under a freeze limit L): a connection that reconciles stops at
        // L/2 with at most a window more on its way, and a fetch is bounded by its own budget;
        // each window is a commit and an acknowledgement's round trip, so not smaller.
        if (!m_config.partials) m_config.partials = std::make_shared<PartialEnvelopes>();
        m_partials = m_config.partials;
        m_config.limits.window_bytes = std::max<std::uint64_t>(
            2 * std::uint64_t{m_config.frame_budget}, 2 * kSyncMinShortWindowBytes);
        m_config.fetch_all_below = 0;
        m_config.part_bytes = std::clamp<std::uint32_t>(
            m_config.part_bytes ? m_config.part_bytes : m_config.frame_budget, 256,
            kSyncMaxPartBytes);
    }
    pb::SyncFrame hello;
    hello.mutable_hello()->set_version(kSyncVersion);
    hello.mutable_hello()->set_window_bytes(m_config.limits.window_bytes);
    hello.mutable_hello()->set_max_reconciliations(static_cast<std::uint32_t>(std::max(
        m_config.limits.max_concurrent_reconciliations, kSyncMinConcurrentReconciliations)));
    hello.mutable_hello()->set_max_wants(static_cast<std::uint32_t>(
        std::max(m_config.limits.max_outstanding_wants, kSyncMinOutstandingWants)));
    m_offers_views = m_config.offer_views && m_replica.offers_views();
    hello.mutable_hello()->set_views(m_offers_views);
    emit(hello);
    if (m_config.side == Side::server) return {};

    for (auto& key : keys) {
        if (mailbox_id_of(key.public_key) != key.id ||
            key.secret_key.size() != crypto::kSignSecretBytes)
            return fail(SyncErrc::invalid_key, "a mailbox key does not match its mailbox id");
        if (m_mailboxes.contains(key.id)) continue;
        if (m_mailboxes.size() >= m_config.limits.max_mailboxes) {
            m_report.refused.push_back({key.id, "more mailboxes than one session may open"});
            continue;
        }
        pb::SyncFrame f;
        auto* open = f.mutable_open();
        open->set_mailbox(to_string(key.id));
        open->set_public_key(to_string(key.public_key));
        open->set_signature(to_string(sign_mailbox_open(key, m_config.handshake_hash)));
        open->set_live(m_config.live);
        // In short connections envelopes over the frame budget come in parts, up to the cap
        // the key had anyway.
        std::uint32_t cap = key.max_envelope_bytes;
        std::uint32_t part_cap = 0;
        if (m_partials) {
            part_cap = cap ? cap : static_cast<std::uint32_t>(envelope::kEnvelopeMaxBytes);
            cap = cap ? std::min(cap, m_config.frame_budget) : m_config.frame_budget;
            if (part_cap <= cap) part_cap = 0;
        }
        open->set_max_envelope_bytes(cap);
        emit(f);

        Mailbox mb;
        mb.live = m_config.live;
        mb.max_envelope_bytes = cap;
        mb.part_cap = part_cap;
        if (m_config.live && m_config.live_sink)
            mb.subscription = m_replica.watch(key.id, m_config.live_sink);
        // Envelopes still to fetch in parts go first, alone: their connections carry nothing
        // else, and the reconciliation follows in a session of its own.
        if (m_partials &&
            (m_config.parts_only || (m_config.parts_first && !m_partials->queue.empty())))
            mb.rec = Mailbox::Rec::done;
        else
            m_to_reconcile.push_back(key.id);
        MailboxId id = key.id;
        mb.key = std::move(key);
        m_mailboxes.emplace(id, std::move(mb));
    }
    return pump();
}

Status SyncEngine::Impl::handle(ByteView bytes) {
    if (m_closed) return fail(SyncErrc::protocol_violation, "frame after the session closed");
    m_report.bytes_received += bytes.size();
    auto frame = decode_frame(bytes);
    if (!frame)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         frame.error());
    if (!m_got_hello && !frame->has_hello())
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("the first frame was not a hello"));
    if (auto st = dispatch(*frame); !st) return st;
    if (m_closed) return {};
    return pump();
}

Status SyncEngine::Impl::dispatch(const pb::SyncFrame& f) {
    const bool server = m_config.side == Side::server;
    auto wrong_side = [&] {
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a frame this side never receives"));
    };
    switch (f.kind_case()) {
        case pb::SyncFrame::kHello:
            return on_hello(f);
        case pb::SyncFrame::kOpen:
            return server ? on_open(f) : wrong_side();
        case pb::SyncFrame::kOpenResult:
            return server ? wrong_side() : on_open_result(f);
        case pb::SyncFrame::kReconcile:
            return on_reconcile(f);
        case pb::SyncFrame::kReconciled:
            return server ? on_reconciled(f) : wrong_side();
        case pb::SyncFrame::kWant:
            return server ? on_want(f) : wrong_side();
        case pb::SyncFrame::kMissing:
            return server ? wrong_side() : on_missing(f);
        case pb::SyncFrame::kEnvelopes:
            return on_envelopes(f);
        case pb::SyncFrame::kAck:
            return on_ack(f);
        case pb::SyncFrame::kPing:
            return {};
        case pb::SyncFrame::kClose:
            return on_close(f);
        case pb::SyncFrame::kFetchAll:
            return server ? on_fetch_all(f) : wrong_side();
        case pb::SyncFrame::kFetched:
            return server ? wrong_side() : on_fetched(f);
        case pb::SyncFrame::kWantPart:
            return server ? on_want_part(f) : wrong_side();
        case pb::SyncFrame::kPart:
            return server ? wrong_side() : on_part(f);
        case pb::SyncFrame::kView:
            return on_view(f);
        case pb::SyncFrame::KIND_NOT_SET:
            break;
    }
    return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                     KOLOKOL_TEXT("a frame of unknown kind"));
}

Status SyncEngine::Impl::on_hello(const pb::SyncFrame& f) {
    if (m_got_hello)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a second hello"));
    const auto& h = f.hello();
    if (h.version() != kSyncVersion)
        return fail_with(
            CloseReason::protocol_violation,
            make_error(SyncErrc::version_mismatch, "the peer speaks sync version {}", h.version()));
    // The floor itself is refused too: a client in short connections announces more (2 KiB
    // at least, core::sync_once), and the window frames of old keep failing at 1 KiB.
    if (h.window_bytes() <= kSyncMinShortWindowBytes || h.window_bytes() > kSyncMaxWindowBytes)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("the peer's window is out of bounds"));
    if (m_config.side == Side::client &&
        (h.max_reconciliations() < kSyncMinConcurrentReconciliations ||
         h.max_wants() < kSyncMinOutstandingWants))
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("the server's limits are below the protocol's floor"));
    m_peer_window = h.window_bytes();
    m_peer_max_reconciliations = h.max_reconciliations();
    m_peer_max_wants = h.max_wants();
    m_peer_views = h.views();
    m_got_hello = true;
    return {};
}

Status SyncEngine::Impl::on_open(const pb::SyncFrame& f) {
    const auto& o = f.open();
    // Each open costs a signature check: well past the mailbox cap, the peer is probing.
    if (++m_open_attempts > 2 * m_config.limits.max_mailboxes + kOpenSlack)
        return fail_with(CloseReason::limit, SyncErrc::limit_exceeded,
                         KOLOKOL_TEXT("too many open requests"));
    auto mailbox = parse_id(o.mailbox());
    if (!mailbox || o.public_key().size() != crypto::kSignPublicBytes ||
        o.signature().size() != crypto::kSignatureBytes)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("an open with fields of the wrong size"));

    pb::SyncFrame reply;
    auto* r = reply.mutable_open_result();
    r->set_mailbox(o.mailbox());
    auto refuse = [&](pb::OpenResult::Refusal why, std::string detail) {
        r->set_accepted(false);
        r->set_refusal(why);
        r->set_detail(detail.substr(0, kMaxDetailBytes));
        // Remember the refusal so reconciliation frames the client sent before it learned of
        // it are dropped rather than treated as a violation.
        auto [it, inserted] = m_mailboxes.try_emplace(*mailbox);
        if (inserted) it->second.state = Mailbox::State::refused;
        emit(reply);
        return Status{};
    };

    auto it = m_mailboxes.find(*mailbox);
    if (it != m_mailboxes.end() && it->second.state == Mailbox::State::open)
        return refuse(pb::OpenResult::ALREADY_OPEN, "the mailbox is already open");
    const auto pk = to_array<crypto::kSignPublicBytes>(as_bytes(o.public_key()));
    if (mailbox_id_of(pk) != *mailbox)
        return refuse(pb::OpenResult::BAD_KEY, "the key does not match the mailbox");
    if (!verify_mailbox_open(*mailbox, pk, m_config.handshake_hash, as_bytes(o.signature())))
        return refuse(pb::OpenResult::BAD_SIGNATURE,
                      "the open proof does not verify for this session");
    if (m_open_count >= m_config.limits.max_mailboxes)
        return refuse(pb::OpenResult::TOO_MANY_MAILBOXES, "too many mailboxes on one session");
    if (m_config.admit) {
        if (auto why = m_config.admit(*mailbox)) return refuse(pb::OpenResult::NOT_SERVED, *why);
    }

    Mailbox& mb = m_mailboxes[*mailbox];
    mb = Mailbox{};
    mb.state = Mailbox::State::open;
    mb.live = o.live() && m_config.live;
    mb.max_envelope_bytes = o.max_envelope_bytes();
    if (mb.live && m_config.live_sink)
        mb.subscription = m_replica.watch(*mailbox, m_config.live_sink);
    ++m_open_count;
    ++m_report.mailboxes_opened;
    r->set_accepted(true);
    emit(reply);
    return {};
}

Status SyncEngine::Impl::on_open_result(const pb::SyncFrame& f) {
    const auto& r = f.open_result();
    auto mailbox = parse_id(r.mailbox());
    auto it = mailbox ? m_mailboxes.find(*mailbox) : m_mailboxes.end();
    if (it == m_mailboxes.end() || it->second.state != Mailbox::State::opening)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("an open result for a mailbox not being opened"));
    Mailbox& mb = it->second;
    if (r.accepted()) {
        mb.state = Mailbox::State::open;
        ++m_report.mailboxes_opened;
        return {};
    }
    std::string reason = r.detail().empty() ? "refused" : r.detail();
    m_report.refused.push_back({*mailbox, reason});
    mb.state = Mailbox::State::refused;
    if (mb.rec == Mailbox::Rec::running) --m_active_reconciliations;
    mb.rec = Mailbox::Rec::done;
    mb.reconciler.reset();
    mb.subscription.reset();
    mb.to_want.clear();
    std::erase(m_to_reconcile, *mailbox);
    return {};
}

Status SyncEngine::Impl::on_reconcile(const pb::SyncFrame& f) {
    const auto& rc = f.reconcile();
    auto mailbox = parse_id(rc.mailbox());
    auto it = mailbox ? m_mailboxes.find(*mailbox) : m_mailboxes.end();
    if (it == m_mailboxes.end())
        return fail_with(CloseReason::unopened_mailbox, SyncErrc::unopened_mailbox,
                         KOLOKOL_TEXT("reconciliation for a mailbox that was never opened"));
    Mailbox& mb = it->second;

    if (m_config.side == Side::server) {
        // The client sends its first message before it hears whether the open succeeded.
        if (mb.state == Mailbox::State::refused) return {};
        if (mb.rec == Mailbox::Rec::done || mb.rec == Mailbox::Rec::fetching)
            return fail_with(
                CloseReason::protocol_violation, SyncErrc::protocol_violation,
                KOLOKOL_TEXT("reconciliation after the mailbox was reconciled or fetched"));
        // The client's cap on our replies counts from its first message on.
        if (mb.rec == Mailbox::Rec::pending && rc.max_reply_bytes() > 0)
            mb.reply_cap = rc.max_reply_bytes();
        return serve_reconcile(*mailbox, mb, rc.message());
    }

    if (mb.state != Mailbox::State::open || mb.rec != Mailbox::Rec::running)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a reconciliation reply out of turn"));
    auto next = mb.reconciler->reconcile(as_bytes(rc.message()));
    if (!next)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         next.error());
    ++m_report.round_trips;
    auto haves = mb.reconciler->take_have();
    if (auto st = m_replica.order_for_sending(*mailbox, haves); !st)
        return fail_with(CloseReason::internal,
                         make_error(SyncErrc::replica_failed, "the store failed: {}", st.error()));
    for (auto& id : haves) {
        m_send_queue.push_back({*mailbox, id, Outgoing::Origin::reconciled});
        ++m_report.to_send;
    }
    for (auto& id : mb.reconciler->take_need()) {
        mb.to_want.push_back(id);
        ++m_report.to_receive;
    }
    pb::SyncFrame out;
    if (next->has_value()) {
        if (mb.reconciler->rounds() >= m_config.limits.max_reconcile_rounds)
            return fail_with(CloseReason::limit, SyncErrc::limit_exceeded,
                             KOLOKOL_TEXT("too many reconciliation rounds"));
        out.mutable_reconcile()->set_mailbox(rc.mailbox());
        out.mutable_reconcile()->set_message(to_string(**next));
    } else {
        out.mutable_reconciled()->set_mailbox(rc.mailbox());
        mb.rec = Mailbox::Rec::done;
        mb.reconciler.reset();
        --m_active_reconciliations;
    }
    emit(out);
    return {};
}

Status SyncEngine::Impl::on_reconciled(const pb::SyncFrame& f) {
    auto mailbox = parse_id(f.reconciled().mailbox());
    auto it = mailbox ? m_mailboxes.find(*mailbox) : m_mailboxes.end();
    if (it == m_mailboxes.end())
        return fail_with(CloseReason::unopened_mailbox, SyncErrc::unopened_mailbox,
                         KOLOKOL_TEXT("reconciled a mailbox that was never opened"));
    Mailbox& mb = it->second;
    if (mb.state == Mailbox::State::refused) return {};
    if (mb.rec != Mailbox::Rec::running)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("reconciled a mailbox that was not being reconciled"));
    mb.rec = Mailbox::Rec::done;
    mb.reconciler.reset();
    --m_active_reconciliations;
    return {};
}

Result<bool> SyncEngine::Impl::build_responder(const MailboxId& mailbox, Mailbox& mb) {
    // The Reconciler raises a cap below its minimum to that minimum.
    const Reconciler::Options options{
        mb.reply_cap ? std::min<std::size_t>(mb.reply_cap, kSyncReconcileMessageBytes)
                     : kSyncReconcileMessageBytes};
    if (!m_config.reconcile_sets) {
        auto ids = m_replica.ids(mailbox);
        if (!ids) return std::unexpected(ids.error());
        mb.reconciler.emplace(Reconciler::Role::responder, std::move(*ids), options);
        return true;
    }
    std::function<void()> wake;
    if (m_config.defer) {
        // Runs on the engine's thread, and only while the engine lives (Config::defer).
        wake = [defer = m_config.defer, this] { defer([this] { return retry_parked(); }); };
    }
    auto set = m_config.reconcile_sets->acquire(mailbox, m_replica, std::move(wake));
    if (!set) return std::unexpected(set.error());
    if (!*set) {
        // Without a way to be called back, waiting would be for ever: say so instead.
        if (!m_config.defer) return fail(SyncErrc::limit_exceeded, "the server is out of memory");
        return false;
    }
    mb.reconciler.emplace(Reconciler::Role::responder, std::move(*set), options);
    mb.shared_set = true;
    return true;
}

Status SyncEngine::Impl::serve_reconcile(const MailboxId& mailbox, Mailbox& mb,
                                         const std::string& message) {
    auto park = [&]() -> Status {
        // At most one message per reconciliation slot waits: a client sends the next round of a
        // mailbox only after the reply to the last.
        if (m_parked.size() >= std::max(m_config.limits.max_concurrent_reconciliations,
                                        kSyncMinConcurrentReconciliations))
            return fail_with(CloseReason::limit, SyncErrc::limit_exceeded,
                             KOLOKOL_TEXT("too many reconciliation messages waiting"));
        m_parked.push_back({mailbox, message});
        m_parked_bytes += message.size();
        return {};
    };
    // Messages answer in order: behind a parked one of the same mailbox, wait too.
    if (mb.rec == Mailbox::Rec::waiting) return park();
    if (!mb.reconciler) {
        if (m_active_reconciliations >= std::max(m_config.limits.max_concurrent_reconciliations,
                                                 kSyncMinConcurrentReconciliations))
            return fail_with(CloseReason::limit, SyncErrc::limit_exceeded,
                             KOLOKOL_TEXT("too many reconciliations at once"));
        auto built = build_responder(mailbox, mb);
        if (!built) {
            const bool busy = built.error().code == SyncErrc::limit_exceeded;
            if (busy) return fail_with(CloseReason::limit, SyncErrc::limit_exceeded, built.error());
            return fail_with(
                CloseReason::internal,
                make_error(SyncErrc::replica_failed, "the store failed: {}", built.error()));
        }
        ++m_active_reconciliations;
        if (!*built) {
            mb.rec = Mailbox::Rec::waiting;
            return park();
        }
        mb.rec = Mailbox::Rec::running;
    }
    if (mb.reconciler->rounds() >= m_config.limits.max_reconcile_rounds)
        return fail_with(CloseReason::limit, SyncErrc::limit_exceeded,
                         KOLOKOL_TEXT("too many reconciliation rounds"));
    auto reply = mb.reconciler->reconcile(as_bytes(message));
    if (!reply)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         reply.error());
    pb::SyncFrame out;
    out.mutable_reconcile()->set_mailbox(to_string(mailbox));
    out.mutable_reconcile()->set_message(to_string(**reply));
    emit(out);
    return {};
}

Status SyncEngine::Impl::retry_parked() {
    if (m_closed) return {};
    while (!m_parked.empty()) {
        auto it = m_mailboxes.find(m_parked.front().mailbox);
        if (it != m_mailboxes.end() && it->second.state == Mailbox::State::open &&
            it->second.rec == Mailbox::Rec::waiting) {
            Mailbox& mb = it->second;
            auto built = build_responder(it->first, mb);
            if (!built)
                return fail_with(
                    CloseReason::internal,
                    make_error(SyncErrc::replica_failed, "the store failed: {}", built.error()));
            if (!*built) return {};  // still waiting; woken again later
            mb.rec = Mailbox::Rec::running;
        }
        Parked p = std::move(m_parked.front());
        m_parked.pop_front();
        m_parked_bytes -= p.message.size();
        if (it == m_mailboxes.end() || it->second.state != Mailbox::State::open) continue;
        if (auto st = serve_reconcile(p.mailbox, it->second, p.message); !st) return st;
    }
    return pump();
}

Status SyncEngine::Impl::on_want(const pb::SyncFrame& f) {
    const auto& w = f.want();
    auto mailbox = parse_id(w.mailbox());
    auto it = mailbox ? m_mailboxes.find(*mailbox) : m_mailboxes.end();
    if (it == m_mailboxes.end() || it->second.state != Mailbox::State::open)
        return fail_with(CloseReason::unopened_mailbox, SyncErrc::unopened_mailbox,
                         KOLOKOL_TEXT("a want for a mailbox that is not open"));
    if (m_outstanding_wants + static_cast<std::size_t>(w.ids_size()) >
        std::max(m_config.limits.max_outstanding_wants, kSyncMinOutstandingWants))
        return fail_with(CloseReason::limit, SyncErrc::limit_exceeded,
                         KOLOKOL_TEXT("too many wanted ids"));
    for (const auto& raw : w.ids()) {
        auto id = parse_id(raw);
        if (!id)
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("a wanted id of the wrong size"));
        m_send_queue.push_back({*mailbox, *id, Outgoing::Origin::want});
        ++m_outstanding_wants;
        ++m_report.to_send;
    }
    return {};
}

Status SyncEngine::Impl::on_missing(const pb::SyncFrame& f) {
    const auto& m = f.missing();
    auto mailbox = parse_id(m.mailbox());
    auto it = mailbox ? m_mailboxes.find(*mailbox) : m_mailboxes.end();
    if (it == m_mailboxes.end())
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("missing ids for an unknown mailbox"));
    for (const auto& raw : m.ids()) {
        auto id = parse_id(raw);
        if (!id || it->second.wanted.erase(*id) == 0)
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("missing ids that were never wanted"));
        --m_outstanding_wants;
        // Over the cap this mailbox was opened with, or not held: parts tell which.
        if (it->second.part_cap != 0 && m_partials->queue.size() < kSyncMaxPartQueue &&
            std::find(m_partials->queue.begin(), m_partials->queue.end(),
                      std::pair{*mailbox, *id}) == m_partials->queue.end())
            m_partials->queue.emplace_back(*mailbox, *id);
    }
    return {};
}

Status SyncEngine::Impl::on_envelopes(const pb::SyncFrame& f) {
    const auto& e = f.envelopes();
    auto mailbox = parse_id(e.mailbox());
    auto it = mailbox ? m_mailboxes.find(*mailbox) : m_mailboxes.end();
    if (it == m_mailboxes.end() || it->second.state != Mailbox::State::open)
        return fail_with(CloseReason::unopened_mailbox, SyncErrc::unopened_mailbox,
                         KOLOKOL_TEXT("envelopes for a mailbox this session did not open"));
    Mailbox& mb = it->second;
    for (const auto& raw : e.envelopes()) {
        auto bytes = as_bytes(raw);
        auto view = envelope::parse_envelope(bytes);
        if (!view || view->mailbox != *mailbox)
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("an envelope that does not parse or belongs elsewhere"));
        // The cap this client opened the mailbox with is kept here too: a relay that ignores it
        // (hostile, or older) ends the session before anything over it is stored.
        if (m_config.side == Side::client && mb.max_envelope_bytes != 0 &&
            bytes.size() > mb.max_envelope_bytes)
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("an envelope larger than the mailbox was opened for"));
        m_unacked_bytes += bytes.size();
        if (m_unacked_bytes > m_config.limits.window_bytes)
            return fail_with(CloseReason::limit, SyncErrc::limit_exceeded,
                             KOLOKOL_TEXT("the peer overran the window"));
        const RecordId id = envelope::record_id_of(bytes);
        if (m_config.side == Side::client && mb.wanted.erase(id) > 0) {
            --m_outstanding_wants;
        } else if (m_config.side == Side::client && !mb.live && mb.rec != Mailbox::Rec::fetching) {
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("an envelope that was not asked for"));
        }
        if (mb.rec == Mailbox::Rec::fetching) ++mb.fetch_received;
        note_received(*mailbox, mb, id);
        m_batch.push_back({++m_recv_seq, *mailbox, Bytes(bytes.begin(), bytes.end())});
        m_batch_bytes += bytes.size();
    }
    if (e.flush() || m_batch_bytes >= m_config.limits.batch_bytes) return flush_batch();
    return {};
}

Status SyncEngine::Impl::on_fetch_all(const pb::SyncFrame& f) {
    const auto& fa = f.fetch_all();
    auto mailbox = parse_id(fa.mailbox());
    auto it = mailbox ? m_mailboxes.find(*mailbox) : m_mailboxes.end();
    if (it == m_mailboxes.end())
        return fail_with(CloseReason::unopened_mailbox, SyncErrc::unopened_mailbox,
                         KOLOKOL_TEXT("a fetch for a mailbox that was never opened"));
    Mailbox& mb = it->second;
    // Sent before the client heard of the refusal.
    if (mb.state == Mailbox::State::refused) return {};
    if (mb.rec != Mailbox::Rec::pending)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a fetch after the mailbox was reconciled or fetched"));
    const bool bounded = fa.max_bytes() > 0;
    // A bounded fetch resumes at a position; which ids the client holds is not its question.
    if (bounded && fa.have_size() > 0)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a bounded fetch that lists ids"));
    for (const auto& raw : fa.have()) {
        auto id = parse_id(raw);
        if (!id)
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("a fetch's id of the wrong size"));
        if (mb.fetch_have.contains(*id)) continue;
        auto env = m_replica.get(*id);
        if (!env)
            return fail_with(
                CloseReason::internal,
                make_error(SyncErrc::replica_failed, "the store failed: {}", env.error()));
        std::optional<envelope::EnvelopeView> view;
        if (env->has_value()) view = envelope::parse_envelope(**env);
        if (view && view->mailbox == *mailbox)
            mb.fetch_have.insert(*id);
        else if (std::find(mb.fetch_lacking.begin(), mb.fetch_lacking.end(), *id) ==
                 mb.fetch_lacking.end())
            mb.fetch_lacking.push_back(*id);
    }
    // Only the count now: pages are read as the send queue drains, one fetch after another,
    // so a session holds about one page however many mailboxes it fetches.
    auto count = m_replica.ids_in_stored_order(*mailbox, 0, 0);
    if (!count)
        return fail_with(CloseReason::internal, make_error(SyncErrc::replica_failed,
                                                           "the store failed: {}", count.error()));
    pb::SyncFrame out;
    out.mutable_fetched()->set_mailbox(fa.mailbox());
    out.mutable_fetched()->set_total(count->total);
    emit(out);
    mb.rec = Mailbox::Rec::fetching;
    mb.fetch_next = bounded ? fa.after() : 0;
    mb.fetch_more = true;
    mb.fetch_bounded = bounded;
    mb.fetch_budget = fa.max_bytes();
    mb.fetch_sent = 0;
    mb.fetch_too_large.clear();
    m_fetching.push_back(*mailbox);
    return {};
}

Status SyncEngine::Impl::on_fetched(const pb::SyncFrame& f) {
    const auto& fd = f.fetched();
    auto mailbox = parse_id(fd.mailbox());
    auto it = mailbox ? m_mailboxes.find(*mailbox) : m_mailboxes.end();
    if (it == m_mailboxes.end() || it->second.state != Mailbox::State::open ||
        it->second.rec != Mailbox::Rec::fetching)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a fetch reply for a mailbox not being fetched"));
    Mailbox& mb = it->second;
    if (!fd.done()) {
        if (mb.fetch_started || fd.lacking_size() > 0 || fd.too_large_size() > 0)
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("a fetch reply out of turn"));
        mb.fetch_started = true;
        // A resumed fetch's total counts what earlier sessions already brought.
        if (!mb.fetch_bounded || mb.fetch_after == 0) m_report.to_receive += fd.total();
        return {};
    }
    if (!mb.fetch_started)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a fetch ended before it began"));
    if (mb.fetch_bounded) return on_bounded_fetched(*mailbox, mb, f);
    if (fd.too_large_size() > 0)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a fetch reply out of turn"));
    for (const auto& raw : fd.lacking()) {
        auto id = parse_id(raw);
        if (!id || !mb.fetch_have.erase(*id))
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("the peer lacks an id that was never offered"));
        m_send_queue.push_back({*mailbox, *id, Outgoing::Origin::reconciled});
        ++m_report.to_send;
    }
    ++m_report.round_trips;
    mb.fetch_have.clear();
    mb.rec = Mailbox::Rec::done;
    return {};
}

void SyncEngine::Impl::note_received(const MailboxId& mailbox, Mailbox& mb, const RecordId& id) {
    if (!mb.live || !mb.recent.insert(id).second) return;
    m_recent_order.emplace_back(mailbox, id);
    if (m_recent_order.size() > kRecentIds) {
        const auto& [oldest_mailbox, oldest] = m_recent_order.front();
        if (auto it = m_mailboxes.find(oldest_mailbox); it != m_mailboxes.end())
            it->second.recent.erase(oldest);
        m_recent_order.pop_front();
    }
}

Status SyncEngine::Impl::flush_batch(const std::function<void()>& also) {
    if (m_batch.empty()) {
        if (also) also();
        return {};
    }
    // One put (one transaction) per run of envelopes for the same mailbox, in arrival order.
    std::size_t start = 0;
    while (start < m_batch.size()) {
        std::size_t end = start + 1;
        while (end < m_batch.size() && m_batch[end].mailbox == m_batch[start].mailbox) ++end;
        PendingPut put;
        put.token = ++m_put_tokens;
        std::vector<Bytes> envs;
        envs.reserve(end - start);
        for (std::size_t i = start; i < end; ++i) {
            put.seqs.push_back(m_batch[i].seq);
            put.bytes += m_batch[i].envelope.size();
            envs.push_back(std::move(m_batch[i].envelope));
        }
        const MailboxId mailbox = m_batch[start].mailbox;
        const std::uint64_t token = put.token;
        m_pending_puts.push_back(std::move(put));
        if (m_config.defer && m_replica.put_is_async()) {
            // The store answers from its own thread; the answer is handled on ours, in order.
            auto defer = m_config.defer;
            m_replica.put_async(mailbox, std::move(envs),
                                [this, defer, token](Result<std::vector<bool>> stored) mutable {
                                    defer([this, token, stored = std::move(stored)]() mutable {
                                        return put_done(token, std::move(stored));
                                    });
                                });
        } else if (auto st = put_done(token, end == m_batch.size() && also
                                                 ? m_replica.put_then(mailbox, envs, also)
                                                 : m_replica.put(mailbox, envs));
                   !st) {
            return st;
        }
        start = end;
    }
    m_batch.clear();
    m_batch_bytes = 0;
    return {};
}

Status SyncEngine::Impl::put_done(std::uint64_t token, Result<std::vector<bool>> stored) {
    if (m_closed) return {};
    auto it = std::find_if(m_pending_puts.begin(), m_pending_puts.end(),
                           [&](const PendingPut& p) { return p.token == token; });
    if (it == m_pending_puts.end()) return {};
    if (!stored)
        return fail_with(CloseReason::internal, make_error(SyncErrc::replica_failed,
                                                           "the store failed: {}", stored.error()));
    if (stored->size() != it->seqs.size())
        return fail_with(CloseReason::internal, SyncErrc::replica_failed,
                         KOLOKOL_TEXT("the store answered for the wrong number of envelopes"));
    it->stored = std::move(*stored);
    it->done = true;

    // Acknowledge the stored prefix: acks are cumulative, so a put that finished early waits
    // for the ones before it.
    std::vector<std::uint64_t> rejected;
    std::uint64_t through = 0;
    std::vector<std::pair<MailboxId, std::uint64_t>> cursors;
    while (!m_pending_puts.empty() && m_pending_puts.front().done) {
        const PendingPut& p = m_pending_puts.front();
        cursors.insert(cursors.end(), p.cursors.begin(), p.cursors.end());
        for (std::size_t i = 0; i < p.seqs.size(); ++i) {
            if (p.stored[i]) {
                ++m_report.received;
            } else {
                ++m_report.rejected;
                rejected.push_back(p.seqs[i]);
            }
        }
        through = p.seqs.back();
        m_unacked_bytes -= p.bytes;
        m_pending_puts.pop_front();
    }
    // Every envelope of those fetches is stored now: their cursors move on.
    for (const auto& [mailbox, position] : cursors) advance_cursor(mailbox, position);
    if (through == 0) return {};
    // Long rejection lists are split over several acks, each cumulative up to its last entry.
    std::size_t next = 0;
    do {
        pb::SyncFrame out;
        auto* ack = out.mutable_ack();
        const std::size_t take = std::min(kSyncMaxIdsPerFrame, rejected.size() - next);
        for (std::size_t i = next; i < next + take; ++i) {
            auto* r = ack->add_rejected();
            r->set_seq(rejected[i]);
            r->set_reason(pb::Ack::NOT_STORED);
        }
        next += take;
        ack->set_through(next < rejected.size() ? rejected[next - 1] : through);
        emit(out);
    } while (next < rejected.size());
    return pump();
}

Status SyncEngine::Impl::on_ack(const pb::SyncFrame& f) {
    const auto& a = f.ack();
    if (a.through() <= m_peer_acked || a.through() > m_send_seq)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("an acknowledgement of envelopes never sent"));
    std::uint64_t prev = m_peer_acked;
    std::set<std::uint64_t> rejected;
    for (const auto& r : a.rejected()) {
        if (r.seq() <= prev || r.seq() > a.through())
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("a rejection out of order or out of range"));
        prev = r.seq();
        rejected.insert(r.seq());
    }
    while (!m_in_flight.empty() && m_in_flight.front().seq <= a.through()) {
        const auto& sent = m_in_flight.front();
        if (rejected.contains(sent.seq))
            ++m_report.peer_rejected;
        else
            ++m_report.sent;
        m_in_flight_bytes -= sent.bytes;
        m_in_flight.pop_front();
    }
    m_peer_acked = a.through();
    return {};
}

Status SyncEngine::Impl::on_close(const pb::SyncFrame& f) {
    m_closed = true;
    const auto& c = f.close();
    if (c.reason() == pb::Close::NORMAL) {
        m_peer_closed_normally = true;
        return {};
    }
    std::string detail = c.detail().substr(0, kMaxDetailBytes);
    // The peer's detail is its own English text, shown as it came.
    if (detail.empty()) return fail(SyncErrc::peer_closed, "the peer closed the session");
    return fail(SyncErrc::peer_closed, "the peer closed the session: {}", detail);
}

Status SyncEngine::Impl::local_written(const MailboxId& mailbox, std::vector<RecordId> ids) {
    if (m_closed) return {};
    auto it = m_mailboxes.find(mailbox);
    if (it == m_mailboxes.end() || it->second.state == Mailbox::State::refused || !it->second.live)
        return {};
    Mailbox& mb = it->second;
    for (const auto& id : ids) {
        if (mb.recent.contains(id)) continue;
        // A slow peer does not get an unbounded queue: what does not fit waits for the next
        // sync, where reconciliation finds it.
        if (m_live_queued >= m_config.limits.max_live_queue) break;
        m_send_queue.push_back({mailbox, id, Outgoing::Origin::live});
        ++m_live_queued;
    }
    return pump();
}

// The public face forwards to the state above.

SyncEngine::SyncEngine(Config config, Replica& replica)
    : m_impl(std::make_unique<Impl>(std::move(config), replica)) {}
SyncEngine::~SyncEngine() {
    // A part asked for and never received: another session may fetch its envelope now.
    if (m_impl && m_impl->m_partials && m_impl->m_part_wanted)
        m_impl->m_partials->claimed.erase(m_impl->m_part_wanted->id);
}
Status SyncEngine::start(std::vector<MailboxKey> keys) {
    return m_impl->start(std::move(keys));
}
Status SyncEngine::handle(ByteView frame) {
    return m_impl->handle(frame);
}
Status SyncEngine::local_written(const MailboxId& mailbox, std::vector<RecordId> ids) {
    return m_impl->local_written(mailbox, std::move(ids));
}
void SyncEngine::ping() {
    m_impl->ping();
}
Status SyncEngine::store_received() {
    if (m_impl->m_closed) return {};
    return m_impl->flush_batch();
}
void SyncEngine::close(CloseReason reason, std::string detail) {
    m_impl->close(reason, std::move(detail));
}
std::vector<Bytes> SyncEngine::take_output() {
    return std::exchange(m_impl->m_out, {});
}
bool SyncEngine::has_output() const {
    return !m_impl->m_out.empty();
}
bool SyncEngine::finished() const {
    return m_impl->m_finished;
}
bool SyncEngine::closed() const {
    return m_impl->m_closed;
}
bool SyncEngine::new_connection_wanted() const {
    return m_impl->m_new_connection_wanted;
}
bool SyncEngine::peer_closed_normally() const {
    return m_impl->m_peer_closed_normally;
}
const SyncReport& SyncEngine::report() const {
    return m_impl->m_report;
}
std::size_t SyncEngine::memory_estimate() const {
    return m_impl->memory_estimate();
}

}  // namespace kolokol::transport
