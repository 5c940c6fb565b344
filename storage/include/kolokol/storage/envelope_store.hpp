#pragma once
// The envelope store: what a relay keeps and what a client syncs (DESIGN §4-§5). Envelopes are
// opaque bytes keyed by record id and grouped by mailbox; this layer never opens them.
//
// Schema (component "envelopes", see EnvelopeStore::migrate):
//   envelopes(seq INTEGER PRIMARY KEY AUTOINCREMENT, id BLOB, mailbox BLOB, bytes BLOB,
//             size, received_ms, expires_ms)  — indexed by the first 8 bytes of id and of
//             mailbox (each with the seq; readers compare the whole id or mailbox in the row,
//             and put() stores an id only once) and expires_ms (partial, only envelopes that
//             expire)
//   mailbox_usage(mailbox, count, bytes)      — kept exact by put() and a delete trigger, so
//             quota checks cost one lookup
// `seq` is the insertion order; AUTOINCREMENT guarantees it never goes backwards, even after the
// newest envelope is deleted, so a live-push cursor (ids_since) never misses an insert.
//
// Transactions: put() and remove() run inside the caller's transaction when there is one (a
// relay batches many envelopes per commit and acknowledges after the commit returns); without
// one, put() commits its batch in one transaction of its own and remove() each statement alone.
// Durability as in database.hpp.
//
// Thread-safety: as the Database it works on (one thread at a time). The Database must outlive
// the EnvelopeStore.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/envelope.hpp"

namespace kolokol::storage {

struct StoredEnvelope {
    RecordId id{};
    MailboxId mailbox{};
    ByteView bytes;  // the whole envelope; must outlive the put() call
    std::int64_t received_ms = 0;
    std::int64_t expires_ms = 0;  // 0 = never; otherwise deleted by expire(now >= expires_ms)
};

// One page of a mailbox's ids in insertion order (EnvelopeStore::ids_page).
struct IdsPage {
    std::vector<RecordId> ids;
    std::uint64_t next = 0;   // the cursor the following page starts from
    bool more = false;        // false once the end was reached
    std::uint64_t total = 0;  // the mailbox's ids in all; counted only for a page from 0
};

struct MailboxUsage {
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;  // sum of envelope sizes
    bool operator==(const MailboxUsage&) const = default;
};

class EnvelopeStore {
public:
    explicit EnvelopeStore(Database& db) : m_db(&db) {}

    // Creates or upgrades the schema (component "envelopes"). Call once after opening.
    static Status migrate(Database& db);
    // The steps before the one that rewrites the table (and drops the triggers other
    // components put on it): a member store runs its own steps that read envelopes by id
    // through a full-id index between the two.
    static Status migrate_before_rewrite(Database& db);

    // Stores envelopes, ignoring ones already present (by id); out[i] is true when
    // envelopes[i] was new (a duplicate later in the same batch reports false). Every envelope
    // is checked first — parse_envelope() accepts it, its mailbox field equals `mailbox`, `id`
    // equals record_id_of(bytes), expires_ms >= 0 — and one bad envelope fails the whole call
    // with invalid_argument before anything is written. With `seqs`, (*seqs)[i] is the seq
    // envelopes[i] was stored at when it was new, 0 otherwise.
    Result<std::vector<bool>> put(std::span<const StoredEnvelope> envelopes,
                                  std::vector<std::int64_t>* seqs = nullptr);

    // The envelope's bytes, or nullopt when it is not stored.
    Result<std::optional<Bytes>> get(const RecordId& id);
    Result<bool> contains(const RecordId& id);

    // All record ids of a mailbox in ascending byte order (memcmp order), as reconciliation
    // sorts them.
    Result<std::vector<RecordId>> ids(const MailboxId& mailbox);

    // For live push: ids of the mailbox's envelopes with insertion sequence >= `seq`, in
    // insertion order, at most `limit` of them. *next_seq (if not null) receives the cursor to
    // pass next time: one past the last returned sequence, or `seq` when nothing was returned.
    // Start from 0 for everything or from end_seq() for "from now on".
    Result<std::vector<RecordId>> ids_since(const MailboxId& mailbox, std::int64_t seq,
                                            std::int64_t* next_seq, std::size_t limit = SIZE_MAX);
    // Up to `limit` ids of `mailbox` in insertion order, starting at cursor `from` (0: the
    // first; otherwise a page's `next`). `more` is false once a page came back short; `total`
    // is counted when from == 0, and limit 0 asks for the count alone. What a sync answers a
    // FetchAll from, so that the peer receives envelopes in the order this side stored them.
    Result<IdsPage> ids_page(const MailboxId& mailbox, std::uint64_t from, std::size_t limit);
    // Sorts `ids` (of `mailbox`) by insertion order, in one scan of the mailbox's covering
    // index; ids not held go last, in id order. For a bulk send: a store that kept causal order
    // hands it on.
    Status sort_by_stored_order(const MailboxId& mailbox, std::vector<RecordId>& ids);
    // A cursor past every envelope stored so far.
    Result<std::int64_t> end_seq();

    // Number and total size of the mailbox's envelopes; {0, 0} for an unknown mailbox.
    Result<MailboxUsage> usage(const MailboxId& mailbox);

    // Deletes the given envelopes; returns how many were present.
    Result<std::size_t> remove(std::span<const RecordId> ids);

    // Deletes every envelope with 0 < expires_ms <= now_ms; returns how many. Follow large
    // purges with Database::checkpoint_truncate() so the old pages leave the WAL.
    Result<std::size_t> expire(std::int64_t now_ms);

private:
    // Adds one envelope of `size` bytes to its mailbox's row of mailbox_usage.
    Status count_added(const MailboxId& mailbox, std::size_t size);
    Database* m_db;
};

}  // namespace kolokol::storage
