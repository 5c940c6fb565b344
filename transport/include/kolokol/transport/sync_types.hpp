#pragma once
// The vocabulary of the sync protocol (DESIGN §5): mailbox keys and their open proof
// (mailbox_key.hpp), its errors (sync_error.hpp), the Replica interface that the local side
// implements, limits, and the report of a sync. The protocol itself: proto/sync.proto; the sessions
// that run it: kolokol/transport/sync.hpp.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/envelope/envelope.hpp"
#include "kolokol/transport/mailbox_key.hpp"
#include "kolokol/transport/sync_error.hpp"

namespace kolokol::transport {

using envelope::MailboxId;
using envelope::RecordId;

// 2: FetchAll / Fetched.
inline constexpr std::uint32_t kSyncVersion = 2;
// Largest sync frame either side sends or accepts. A Noise transport message is at most
// 65,535 bytes with a 16-byte tag; the session adds its own small header.
inline constexpr std::size_t kSyncFrameMaxBytes = 65'000;
// Ids in one Want or Missing frame, and rejections in one Ack.
inline constexpr std::size_t kSyncMaxIdsPerFrame = 1'024;
// A client holding at most this many envelopes of a mailbox fetches all of it (FetchAll)
// rather than reconciling; they travel as the FetchAll's `have` list.
inline constexpr std::size_t kSyncMaxFetchHave = 64;

// A live-mode registration; destroying it ends the notifications (see Replica::watch).
class LiveSubscription {
public:
    virtual ~LiveSubscription() = default;
};
// Receives the ids of envelopes newly stored in a mailbox. May be called from any thread.
using LiveCallback = std::function<void(const MailboxId&, std::vector<RecordId>)>;

// The local side of a sync: core implements it for members, the relay over its store.
// All calls come from the session's thread, one at a time; they may block briefly on the store.
class Replica {
public:
    virtual ~Replica() = default;
    // The ids held for `mailbox`, sorted ascending.
    virtual Result<std::vector<RecordId>> ids(const MailboxId& mailbox) = 0;
    // Up to `limit` ids held for `mailbox`, in the order this side stored them, starting at
    // position `from` (0: the first); `next` is where the following page starts, `more` false
    // once the end was reached. `total` (asked for with from == 0) counts the mailbox's ids;
    // limit 0 asks for the count alone.
    // Used to answer FetchAll. The default pages through ids() (id order); stores that keep
    // arrival order override it.
    struct StoredIds {
        std::vector<RecordId> ids;
        std::uint64_t next = 0;
        bool more = false;
        std::uint64_t total = 0;
    };
    virtual Result<StoredIds> ids_in_stored_order(const MailboxId& mailbox, std::uint64_t from,
                                                  std::size_t limit);
    // Puts `ids` (of `mailbox`, about to be sent because the peer lacks them) in the order
    // they should travel: a store that keeps causal order sorts them by it, so the peer — and
    // a relay's arrival order, which FetchAll hands on — seldom sees a record before its
    // parents. The default leaves them as they are (id order).
    virtual Status order_for_sending(const MailboxId& mailbox, std::vector<RecordId>& ids) {
        (void)mailbox;
        (void)ids;
        return {};
    }
    // A value that differs whenever the ids held for `mailbox` may have changed since it was last
    // read, so that a reconciliation set built under one value may be shared while it holds
    // (reconcile_sets.hpp). nullopt (the default): no such promise, and nothing is shared.
    virtual std::optional<std::uint64_t> change_stamp(const MailboxId& mailbox) {
        (void)mailbox;
        return std::nullopt;
    }
    // The envelope with this id, or nullopt when not held.
    virtual Result<std::optional<Bytes>> get(const RecordId& id) = 0;
    // Stores envelopes that arrived for `mailbox` (each already checked: parses, belongs to
    // `mailbox`, ≤ kEnvelopeMaxBytes). Returns one flag per envelope, in order: true when it is
    // now durably held (already held counts) — the session acknowledges only those, and only
    // after this returns, so a true must mean committed. (A member's one-shot sync defers the
    // flush of its commits to the sync's end: nobody acts on a member's acknowledgements, and
    // what it lost is fetched again, DESIGN §12.7. A relay never does.)
    virtual Result<std::vector<bool>> put(const MailboxId& mailbox,
                                          std::span<const Bytes> envelopes) = 0;
    // put(), and `also` (the caller's own writes to the same store, such as a fetch cursor
    // that these envelopes complete) in the same transaction: committed with the envelopes or
    // not at all. `also` runs only once the envelopes are stored. The default is put() and
    // then `also` (two commits, in that order).
    virtual Result<std::vector<bool>> put_then(const MailboxId& mailbox,
                                               std::span<const Bytes> envelopes,
                                               const std::function<void()>& also) {
        auto r = put(mailbox, envelopes);
        if (r && also) also();
        return r;
    }
    // Optional asynchronous form of put() for stores that commit many sessions' envelopes
    // together: returns at once and calls `done` (from any thread, exactly once) with what put()
    // would have returned, after the commit. Used only when put_is_async() is true and the
    // session can take answers later; the default forwards to put().
    using PutDone = std::function<void(Result<std::vector<bool>>)>;
    virtual bool put_is_async() const { return false; }
    virtual void put_async(const MailboxId& mailbox, std::vector<Bytes> envelopes, PutDone done) {
        done(put(mailbox, envelopes));
    }
    // Live mode (optional): calls `on_written` with the ids of envelopes stored in `mailbox` from
    // now on, by anyone (this session's own puts included; the session filters its echoes),
    // until the returned subscription is destroyed. nullptr: this side pushes nothing live.
    virtual std::unique_ptr<LiveSubscription> watch(const MailboxId& mailbox,
                                                    LiveCallback on_written) {
        (void)mailbox;
        (void)on_written;
        return nullptr;
    }
    // Views (optional; DESIGN §5.12): a member's store says what it holds of the group behind a
    // mailbox, and hears what the peer holds, once a session exchanged everything. The tokens
    // are opaque to the session (≤ kSyncMaxViewBytes) and bound to its handshake hash and to
    // the side that says them (`server`: this side is the session's server).
    // offers_views: this side says so in its Hello. view: the token for `mailbox`, or nullopt
    // (a client sends one View per token, so a store answers for one mailbox of a group).
    // peer_view: the peer's token for `mailbox`, to compare; true when it was a current
    // member's view (a server answers with its own only then), false when the store could not
    // read it or it was no member's — the store's to judge, never the session's.
    virtual bool offers_views() const { return false; }
    virtual Result<std::optional<Bytes>> view(const MailboxId& mailbox, ByteView handshake_hash,
                                              bool server) {
        (void)mailbox;
        (void)handshake_hash;
        (void)server;
        return std::nullopt;
    }
    virtual Result<bool> peer_view(const MailboxId& mailbox, ByteView handshake_hash,
                                   ByteView token, bool server) {
        (void)mailbox;
        (void)handshake_hash;
        (void)token;
        (void)server;
        return false;
    }
};

// Replica::ids_in_stored_order and Replica::order_for_sending for replicas over a store that
// keeps insertion order: `Store` is storage::EnvelopeStore (its ids_page() and
// sort_by_stored_order() do the work), named only here so that transport needs no store. Call
// with whatever lock guards `store`.
template <class Store>
Result<Replica::StoredIds> stored_ids_page(Store& store, const MailboxId& mailbox,
                                           std::uint64_t from, std::size_t limit) {
    auto page = store.ids_page(mailbox, from, limit);
    if (!page) return std::unexpected(page.error());
    return Replica::StoredIds{std::move(page->ids), page->next, page->more, page->total};
}
template <class Store>
Status sort_by_stored_order(Store& store, const MailboxId& mailbox, std::vector<RecordId>& ids) {
    return store.sort_by_stored_order(mailbox, ids);
}

// Limits one side applies to a session. The defaults suit both members and relays.
struct SyncLimits {
    // Envelope bytes the peer may send before this side acknowledges (announced in Hello).
    std::uint64_t window_bytes = 1 << 20;
    // Received envelope bytes held before they are stored and acknowledged, whatever the
    // sender's flush marks say.
    std::uint64_t batch_bytes = 512 << 10;
    // Mailboxes open at once on one session (server), and opens a client sends.
    std::size_t max_mailboxes = 256;
    // Reconciliations in progress at once (each holds ~34 bytes per id of its mailbox).
    std::size_t max_concurrent_reconciliations = 8;
    // Wanted ids not yet answered.
    std::size_t max_outstanding_wants = 8'192;
    // Reconciliation rounds per mailbox (a 60 kB round settles ≥ 1,800 differing ids).
    std::size_t max_reconcile_rounds = 4'096;
    // Live envelopes queued for a slow peer; past this the oldest wait for the next sync.
    std::size_t max_live_queue = 10'000;
};

// Floors every side's announced limits respect, so a client can pipeline its first
// reconciliations and wants before it has heard the server's hello.
inline constexpr std::size_t kSyncMinConcurrentReconciliations = 4;
inline constexpr std::size_t kSyncMinOutstandingWants = kSyncMaxIdsPerFrame;
// Envelope bytes bounds on announced windows: small enough to bound memory, big enough for
// the largest envelope.
inline constexpr std::uint64_t kSyncMinWindowBytes = 128 << 10;
// The floor a peer's announced window is checked against: a client in short connections
// announces a window this small (with its opens capping envelopes under it), and a sender
// always sends one envelope when nothing is in flight, so no window stalls a session.
inline constexpr std::uint64_t kSyncMinShortWindowBytes = 1 << 10;
// An envelope fetched in parts (WantPart/Part): at most this many bytes a part.
inline constexpr std::uint32_t kSyncMaxPartBytes = 32 << 10;
// A View frame's token (DESIGN §5.12): at most this many bytes.
inline constexpr std::size_t kSyncMaxViewBytes = 1'024;
// Envelopes partly fetched and kept between the sessions of one sync, and envelopes waiting to
// be fetched in parts, at most.
inline constexpr std::size_t kSyncMaxPartials = 16;
inline constexpr std::size_t kSyncMaxPartQueue = 4'096;
inline constexpr std::uint64_t kSyncMaxWindowBytes = 64 << 20;

// Envelopes fetched in parts (SyncEngine::Config::frame_budget), kept between the short
// sessions of one sync: those still to fetch, and the bytes of those begun. Used by one session
// at a time; not thread-safe. Bounded by kSyncMaxPartQueue and kSyncMaxPartials (the oldest
// partial is dropped, and fetched again from its start, when another begins).
//
// It also carries the resumable fetches of those sessions (DESIGN §9.14): each short session
// fetches a mailbox in the server's stored order from where the last one stopped, within its
// byte budget, until the fetch reaches the end; only then does it reconcile the mailbox.
struct PartialEnvelopes {
    struct Partial {
        MailboxId mailbox{};
        std::uint64_t total = 0;
        Bytes bytes;
    };
    std::deque<std::pair<MailboxId, RecordId>> queue;
    std::map<RecordId, Partial> held;
    // Envelopes of the queue whose next part a session has asked for and not yet received.
    // Sessions running at once (on one thread) each take the first envelope of the queue that
    // no other one holds, so that parts of one envelope come in order and none twice; a
    // session releases its envelope when the part arrives or the session ends.
    std::set<RecordId> claimed;
    // Whether the queue holds an envelope no session is fetching a part of.
    bool unclaimed() const {
        return std::any_of(queue.begin(), queue.end(),
                           [this](const auto& e) { return !claimed.contains(e.second); });
    }

    // Resumable fetches. `fetch_from`: where the next fetch of a mailbox starts (a server
    // position, past everything fetched and stored). `caught_up`: mailboxes whose fetch reached
    // the end in this sync. `positions`: for envelopes passed over for their size and queued
    // for parts, where a fetch finds each again (the durable cursor never goes past one that
    // is not stored yet, so a process killed meanwhile learns of it again).
    std::map<MailboxId, std::uint64_t> fetch_from;
    std::set<MailboxId> caught_up;
    std::map<RecordId, std::pair<MailboxId, std::uint64_t>> positions;
    // The durable cursor (may be empty: kept for this sync only). load: the position saved
    // for a mailbox, read at its first fetch of a sync. save: called once every envelope
    // before `position` is stored (or was rejected by the store, or is the server's to lie
    // about: reconciliation still follows). Failures to save cost only a fetch done again.
    std::function<std::optional<std::uint64_t>(const MailboxId&)> load_cursor;
    std::function<void(const MailboxId&, std::uint64_t)> save_cursor;
    // Times a fetch moved a cursor on: the caller counts such a session as progress.
    std::uint64_t advances = 0;
    // Bounded fetches asked for over the sessions of this sync (for the caller's report).
    std::uint64_t fetches = 0;
};

struct MailboxRefusal {
    MailboxId mailbox{};
    std::string reason;  // one line, e.g. "the relay does not keep this mailbox"
};

struct SyncReport {
    std::uint64_t sent = 0;            // our envelopes the peer acknowledged as stored
    std::uint64_t received = 0;        // the peer's envelopes our Replica stored
    std::uint64_t rejected = 0;        // the peer's envelopes our Replica declined
    std::uint64_t peer_rejected = 0;   // our envelopes the peer declined (quota, checks)
    std::uint64_t bytes_sent = 0;      // sync frame bytes, before Noise
    std::uint64_t bytes_received = 0;  // sync frame bytes, after Noise
    // Bytes read from the connection (Session::bytes_received), frames not yet complete
    // included: what a network that freezes flows let through. 0 from an engine alone.
    std::uint64_t wire_bytes_received = 0;
    std::uint64_t round_trips = 0;  // reconciliation rounds and fetches, over mailboxes
    std::uint64_t mailboxes_opened = 0;
    std::uint64_t views = 0;  // the peer's views received and handed to the Replica (§5.12)
    // Client: envelopes found missing on either side so far (reconciliation's needs and haves,
    // a fetch's announced total, plus the peer's wants); grows as reconciliation proceeds. For
    // progress display only.
    std::uint64_t to_receive = 0;
    std::uint64_t to_send = 0;
    std::vector<MailboxRefusal> refused;
};

}  // namespace kolokol::transport
