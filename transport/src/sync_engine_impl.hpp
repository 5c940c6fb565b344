#pragma once
// The sync engine's state (kolokol/transport/sync_engine.hpp is the interface).

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kolokol/transport/reconcile.hpp"
#include "kolokol/transport/sync_engine.hpp"

namespace kolokol::pb {
class SyncFrame;
}

namespace kolokol::transport {

struct SyncEngine::Impl {
    Impl(Config config, Replica& replica) : m_config(std::move(config)), m_replica(replica) {}

    Status start(std::vector<MailboxKey> keys);
    Status handle(ByteView frame);
    Status local_written(const MailboxId& mailbox, std::vector<RecordId> ids);
    void ping();
    void close(CloseReason reason, std::string detail);
    std::size_t memory_estimate() const;

    struct Mailbox {
        enum class State { opening, open, refused };
        // fetching: a FetchAll is under way instead of a reconciliation. waiting (server): the
        // first reconciliation message is parked until its set can be had (m_parked).
        enum class Rec { pending, waiting, running, fetching, done };

        State state = State::opening;
        Rec rec = Rec::pending;
        bool live = false;
        std::uint32_t max_envelope_bytes = 0;  // the Open's cap, either side (0: none)
        // Client: larger envelopes come in parts, up to this size (0: none in parts).
        std::uint32_t part_cap = 0;
        // Server: the client's cap on reconciliation replies (0: ours).
        std::uint32_t reply_cap = 0;
        std::optional<MailboxKey> key;  // client
        std::optional<Reconciler> reconciler;
        bool shared_set = false;       // the reconciler's set came from Config::reconcile_sets
        std::deque<RecordId> to_want;  // client: learned, not yet asked for
        std::set<RecordId> wanted;     // client: asked for, not yet answered
        std::unique_ptr<LiveSubscription> subscription;
        std::set<RecordId> recent;  // live: recently received (m_recent_order keeps the order)
        // FetchAll. Client: the ids sent as `have`. Server: those of them it holds (not sent
        // back), the ones it lacks, and where the next page of stored ids starts.
        std::set<RecordId> fetch_have;
        std::vector<RecordId> fetch_lacking;
        std::uint64_t fetch_next = 0;
        bool fetch_more = false;
        bool fetch_started = false;  // client: the first Fetched arrived
        // A bounded fetch (FetchAll.max_bytes > 0). Server: its budget and the bytes sent, the
        // envelopes passed over for their size, and the position the next read starts at (each
        // read takes one id, so every envelope's position is known). Client: where it began.
        bool fetch_bounded = false;
        std::uint64_t fetch_budget = 0;
        std::uint64_t fetch_sent = 0;
        std::uint64_t fetch_after = 0;
        std::uint64_t fetch_received = 0;  // client: envelopes the bounded fetch brought
        std::vector<std::pair<RecordId, std::uint64_t>> fetch_too_large;
        // Views (DESIGN §5.12). Client: a View was sent and its answer is awaited. Server: the
        // client's View came and was answered (one a mailbox).
        bool view_pending = false;
        bool view_answered = false;

        bool settled() const {
            return state == State::refused ||
                   (rec == Rec::done && to_want.empty() && wanted.empty());
        }
    };
    struct Outgoing {
        enum class Origin : std::uint8_t {
            reconciled,  // the peer lacks it (client, from reconciliation)
            want,        // the peer asked for it: a Missing is owed if it cannot be sent
            live,        // written locally during a live session
            fetch,       // server: part of a FetchAll
            fetch_done,  // server: the FetchAll of this mailbox is sent; no id
        };
        MailboxId mailbox;
        RecordId id;
        Origin origin;
        // Server, a bounded fetch: the envelope's position, and the position after it.
        std::uint64_t at = 0;
        std::uint64_t after = 0;
    };
    struct InFlight {
        std::uint64_t seq;
        std::uint64_t bytes;
    };
    struct Incoming {
        std::uint64_t seq;
        MailboxId mailbox;
        Bytes envelope;
    };

    // Closes the session with `reason`, telling the peer the error's English text, and returns
    // the error. `literal` is a message literal.
    Status fail_with(CloseReason reason, Error error);
    Status fail_with(CloseReason reason, SyncErrc code, const char* literal);
    Status fail_with(CloseReason reason, SyncErrc code, const Error& cause);
    Status dispatch(const pb::SyncFrame& frame);
    Status on_hello(const pb::SyncFrame& frame);
    Status on_open(const pb::SyncFrame& frame);
    Status on_open_result(const pb::SyncFrame& frame);
    Status on_reconcile(const pb::SyncFrame& frame);
    Status on_reconciled(const pb::SyncFrame& frame);
    Status on_want(const pb::SyncFrame& frame);
    Status on_missing(const pb::SyncFrame& frame);
    Status on_envelopes(const pb::SyncFrame& frame);
    Status on_ack(const pb::SyncFrame& frame);
    Status on_close(const pb::SyncFrame& frame);
    Status on_fetch_all(const pb::SyncFrame& frame);
    Status on_fetched(const pb::SyncFrame& frame);
    Status on_want_part(const pb::SyncFrame& frame);
    Status on_part(const pb::SyncFrame& frame);
    Status on_view(const pb::SyncFrame& frame);
    // The peer's view to the Replica: whether it was a current member's.
    Result<bool> take_peer_view(const MailboxId& mailbox, ByteView token);
    // Client, everything settled: sends a View for each open mailbox the Replica has one for
    // (once). Returns whether answers are awaited.
    Result<bool> send_views();
    // Client: asks for the next part when none is outstanding and one fits the budget.
    void send_part_want();
    // Client, short connections: whether `mailbox` is fetched (bounded, resumable) rather than
    // reconciled now, and the fetch's first frame; new_connection_wanted when none fits.
    bool resumable_fetch(const MailboxId& mailbox, Mailbox& mb);
    // Client: the end of a bounded fetch.
    Status on_bounded_fetched(const MailboxId& mailbox, Mailbox& mb, const pb::SyncFrame& f);
    // Client: moves the cursor of `mailbox` to `position` (in this sync) and saves as much of
    // it as is safe (never past an envelope still to fetch in parts).
    void advance_cursor(const MailboxId& mailbox, std::uint64_t position);
    // Server: ends the bounded fetch of `mailbox` with Fetched(done), resuming at `next`.
    void end_bounded_fetch(const MailboxId& mailbox, Mailbox& mb, std::uint64_t next, bool more);

    // Server: answers one reconciliation message of an open mailbox, building its responder
    // first (from Config::reconcile_sets when there is one). When the set cannot be had yet
    // the message is parked and retried, in order, once memory comes back.
    Status serve_reconcile(const MailboxId& mailbox, Mailbox& mb, const std::string& message);
    Status retry_parked();
    // Server: the responder of `mb`, or nothing when it must wait (with a retry armed).
    Result<bool> build_responder(const MailboxId& mailbox, Mailbox& mb);

    Status pump();
    Status start_reconciliations();
    void send_wants();
    Status send_envelopes();
    // Server: queues a page of a FetchAll's ids (and, after the last page, its end).
    void queue_fetch_page(const MailboxId& mailbox, Mailbox& mb, Replica::StoredIds page);
    // Server: keeps the send queue stocked from the FetchAlls under way.
    Status refill_fetches();
    // Stores what arrived. `also` (a synchronous store only) runs in the transaction of the
    // last put, or alone when nothing waits to be stored.
    Status flush_batch(const std::function<void()>& also = {});
    // A put finished (now, or later on the store's thread for an asynchronous Replica).
    Status put_done(std::uint64_t token, Result<std::vector<bool>> stored);
    void check_finished();
    void note_received(const MailboxId& mailbox, Mailbox& mb, const RecordId& id);
    void emit(const pb::SyncFrame& frame);
    void drop_front();

    Config m_config;
    Replica& m_replica;
    std::vector<Bytes> m_out;
    SyncReport m_report;

    std::map<MailboxId, Mailbox> m_mailboxes;
    std::deque<MailboxId> m_to_reconcile;  // client: waiting for a reconciliation slot
    std::size_t m_active_reconciliations = 0;
    std::size_t m_open_attempts = 0;   // server
    std::size_t m_open_count = 0;      // server: accepted mailboxes
    std::deque<MailboxId> m_fetching;  // server: FetchAlls with pages still to read, in order
    // Server: reconciliation messages waiting for memory, in arrival order.
    struct Parked {
        MailboxId mailbox;
        std::string message;
    };
    std::deque<Parked> m_parked;
    std::size_t m_parked_bytes = 0;
    // Live: recently received ids over all mailboxes, oldest first (each also in its mailbox's
    // `recent`), so the session holds a bounded number however many mailboxes it opens.
    std::deque<std::pair<MailboxId, RecordId>> m_recent_order;

    // Sending envelopes.
    std::uint64_t m_peer_window = 0;  // from the peer's Hello; 0 until then
    std::size_t m_peer_max_reconciliations = kSyncMinConcurrentReconciliations;
    std::size_t m_peer_max_wants = kSyncMinOutstandingWants;
    std::deque<Outgoing> m_send_queue;
    std::size_t m_live_queued = 0;
    std::optional<Bytes> m_next_envelope;  // fetched for the queue's front, waiting for window
    std::deque<InFlight> m_in_flight;
    std::uint64_t m_in_flight_bytes = 0;
    std::uint64_t m_send_seq = 0;
    std::uint64_t m_peer_acked = 0;
    std::size_t m_outstanding_wants = 0;  // client: asked, unanswered; server: queued answers

    // Receiving envelopes.
    std::uint64_t m_recv_seq = 0;
    std::uint64_t m_unacked_bytes = 0;
    std::vector<Incoming> m_batch;
    std::uint64_t m_batch_bytes = 0;
    // Puts handed to the Replica and not yet acknowledged, oldest first.
    struct PendingPut {
        std::uint64_t token = 0;
        std::vector<std::uint64_t> seqs;
        std::uint64_t bytes = 0;
        bool done = false;
        std::vector<bool> stored;
        // Client: cursors to move on once this put (and those before it) is done.
        std::vector<std::pair<MailboxId, std::uint64_t>> cursors;
    };
    std::deque<PendingPut> m_pending_puts;
    std::uint64_t m_put_tokens = 0;

    bool m_started = false;
    bool m_got_hello = false;
    bool m_closed = false;
    bool m_finished = false;
    bool m_peer_closed_normally = false;
    // Views: this side offered them in its Hello, the peer did; the client sent its Views
    // and awaits this many answers.
    bool m_offers_views = false;
    bool m_peer_views = false;
    bool m_views_sent = false;
    std::size_t m_views_awaited = 0;

    // Client, fetching in parts: what is asked (mailbox, id, offset, length).
    struct PartWanted {
        MailboxId mailbox;
        RecordId id;
        std::uint64_t offset = 0;
        std::uint32_t length = 0;
    };
    std::shared_ptr<PartialEnvelopes> m_partials;
    std::optional<PartWanted> m_part_wanted;
    bool m_new_connection_wanted = false;
};

}  // namespace kolokol::transport
