#pragma once
// The sync protocol (proto/sync.proto) as a state machine without I/O: frames in, frames out,
// the Replica called in between. The session drivers (kolokol/transport/sync.hpp) move frames
// between it and a Noise session; any other reliable, ordered, authenticated channel that
// offers a handshake hash can carry it the same way.
//
// Not thread-safe: an engine belongs to one thread (its session's) at a time.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kolokol/transport/reconcile_sets.hpp"
#include "kolokol/transport/sync_types.hpp"

namespace kolokol::transport {

class SyncEngine {
public:
    enum class Side { client, server };
    // Why a session ends (the Close frame's reason).
    enum class CloseReason {
        normal = 0,
        protocol_violation = 1,
        unopened_mailbox = 2,
        limit = 3,
        internal = 4,
        shutdown = 5,
    };
    // Server policy: nullopt admits the mailbox; a string refuses it with that reason.
    using Admit = std::function<std::optional<std::string>(const MailboxId&)>;

    struct Config {
        Side side = Side::client;
        SyncLimits limits;
        // The session's Noise handshake hash: what open proofs are bound to.
        Bytes handshake_hash;
        // Client: ask for live pushes. Server: allow them.
        bool live = false;
        Admit admit;             // server only; empty admits every verified mailbox
        LiveCallback live_sink;  // where Replica::watch notifications go (the driver re-posts
                                 // them to local_written on the session's thread)
        // Runs a closure later on the engine's thread, or never once the engine is gone; the
        // closure's failure ends the session like a failed handle(). With it, a Replica whose
        // put_is_async() stores without blocking this thread. Empty: puts are synchronous.
        std::function<void(std::function<Status()>)> defer;
        // Client: a mailbox of which this side holds fewer envelopes is fetched whole
        // (FetchAll, in the server's stored order) rather than reconciled. 0: always reconcile.
        std::size_t fetch_all_below = kSyncMaxFetchHave + 1;
        // Server: where reconciliation sets come from, shared with other sessions and charged
        // to a memory budget (reconcile_sets.hpp). When a set cannot be had yet, the message
        // waits (it needs `defer` to be woken). Empty: each reconciliation loads its own.
        std::optional<ReconcileSets> reconcile_sets;
        // Client, short connections (DESIGN §9.14). 0: off. Otherwise the server is asked for
        // nothing larger than about this: the window announced is twice this, the opens cap
        // envelopes at it (larger ones are answered Missing and fetched in parts of
        // part_bytes), reconciliation replies are capped at max(this, 4,096), and nothing is
        // fetched whole (FetchAll).
        std::uint32_t frame_budget = 0;
        // With frame_budget: the size of each part asked for (≤ kSyncMaxPartBytes), and the
        // sync bytes this session may receive: no part is asked for that would go past it,
        // and once none fits the engine wants a new connection (new_connection_wanted()).
        std::uint32_t part_bytes = 0;
        std::uint64_t byte_budget = 0;
        // With frame_budget: envelopes to fetch in parts and those begun, shared by the
        // sessions of one sync. Null: the engine keeps its own for this session. When it holds
        // envelopes still to fetch and `parts_first`, this session reconciles nothing and only
        // fetches those (it is finished when they are all stored).
        std::shared_ptr<PartialEnvelopes> partials;
        bool parts_first = false;
        // With partials: this session only fetches parts, whether or not any are queued when it
        // starts (one of several short connections at once, beside the one that fetches and
        // reconciles); it is finished when no envelope is left that another session is not
        // fetching.
        bool parts_only = false;
        // Views (DESIGN §5.12): offered in Hello when this is set and the Replica offers them.
        // A client sets it only towards a member's own peer, never a group's listed relay.
        bool offer_views = false;
    };

    // `replica` must outlive the engine.
    SyncEngine(Config config, Replica& replica);
    ~SyncEngine();
    SyncEngine(const SyncEngine&) = delete;
    SyncEngine& operator=(const SyncEngine&) = delete;

    // Queues Hello and, on a client, the opens and first reconciliations of `keys` (duplicates
    // dropped). Call once before anything else.
    Status start(std::vector<MailboxKey> keys = {});

    // Processes one frame from the peer. On failure a Close frame saying why is queued: send
    // the output, then end the session.
    Status handle(ByteView frame);

    // Live mode: envelopes written locally to `mailbox` (from Replica::watch). Fails (with a
    // Close queued) only when the Replica does while sending.
    Status local_written(const MailboxId& mailbox, std::vector<RecordId> ids);
    // Queues a Ping (keeps an idle live session open).
    void ping();
    // Hands the envelopes received and not yet stored (held until a batch fills or the sender
    // marks a flush) to the Replica now, before a session that stopped making progress is
    // dropped: what arrived whole is kept, and the next session does not fetch it again. Call
    // before close(); fails (with a Close queued) only when the Replica does.
    Status store_received();
    // Ends the session from this side: queues Close(reason). Later frames are not processed.
    void close(CloseReason reason, std::string detail = {});

    // Frames to send, in order. Empties the queue.
    std::vector<Bytes> take_output();
    bool has_output() const;

    // Client: every mailbox is settled (refused, or reconciled with all envelopes exchanged and
    // acknowledged) and Close(normal) has been queued. Never true in live mode until close().
    bool finished() const;
    // A Close was sent or received: no more frames will be processed.
    bool closed() const;
    bool peer_closed_normally() const;
    // Client with a byte budget: nothing more fits in this connection; the caller stores what
    // arrived (store_received), drops it and dials again.
    bool new_connection_wanted() const;

    const SyncReport& report() const;
    // Memory held for this session beyond fixed overhead, in bytes: what a server charges to
    // its memory budget (reconciliation sets from Config::reconcile_sets are charged there and
    // not counted here).
    std::size_t memory_estimate() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace kolokol::transport
