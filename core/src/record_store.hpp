#pragma once
// The records, heads and pending tables (DESIGN §7.6): the one owner of their SQL and the one
// reader of a record row. Callers speak of kinds by name (RecordKind), never by number. A row is
// keyed by its envelope's seq and found by id through the envelopes' id index (DESIGN §12.6).
//
// Not thread-safe: used by the node's thread, inside the caller's transaction where it writes.
// Reads return what the database holds; a read that fails counts as "not held" where the
// signature says so (optional/bool), as the callers treat both alike.

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "kolokol/core/types.hpp"
#include "kolokol/storage/database.hpp"

namespace kolokol::core {

// The kind column of a record row. Stored: never renumber.
enum class RecordKind : int {
    message = 1,
    membership = 2,
    rotation = 3,
    settings = 4,
    redaction = 5,
    object = 6,
    chunk = 7,
    manifest = 8,
    // A tombstone: the body kept its header (ids, references) but no content.
    redacted = 9,
    approval = 10,
    key_update = 11,
};
// The kinds the group state is computed from (never redacted, never expired).
inline constexpr std::initializer_list<RecordKind> kControlKinds = {
    RecordKind::membership, RecordKind::rotation, RecordKind::settings, RecordKind::approval,
    RecordKind::key_update};
inline bool is_control(RecordKind kind) {
    return kind == RecordKind::membership || kind == RecordKind::rotation ||
           kind == RecordKind::settings || kind == RecordKind::approval ||
           kind == RecordKind::key_update;
}

// "kind IN (2, 3, 4)" for a set of kinds: SQL text made from the enum, so that a query names
// its kinds and still uses the (group_n, kind, lamport) index.
std::string kind_in(std::initializer_list<RecordKind> kinds);

struct RecordRow {
    RecordId id{};
    GroupId group{};
    EpochId epoch{};
    MemberKey author{};
    std::uint64_t seq = 0;
    std::optional<RecordId> prev;
    std::uint64_t lamport = 0;
    std::vector<RecordId> heads;
    std::int64_t wall_ms = 0;
};

// A stored record: its row, its kind and its body (the signed record; a chunk's without data
// and signature, a tombstone's header only).
struct StoredRecord {
    RecordRow row;
    RecordKind kind = RecordKind::message;
    ByteView body;  // valid only during the visit that received it
};

// A record's place in its author's chain (for finding forks).
struct ChainRow {
    RecordId id{};
    std::uint64_t seq = 0;
    std::optional<RecordId> prev;
    std::uint64_t lamport = 0;
};

// When a record by someone else was written (by its author's clock) and received (by ours).
struct ClockSample {
    std::int64_t wall_ms = 0;
    std::int64_t received_ms = 0;
};

// A record's author, wall clock and stored body (owned).
struct AuthoredBody {
    MemberKey author{};
    std::int64_t wall_ms = 0;
    Bytes body;
};

Bytes join_ids(std::span<const RecordId> ids);

// The 32-byte ids a query returns in its one blob column, `bind` setting its parameters.
Result<std::vector<RecordId>> collect_ids(storage::Database& db, std::string_view sql,
                                          const std::function<void(storage::Statement&)>& bind);
std::vector<RecordId> split_ids(ByteView blob);

// Opens the envelope of a record written in `epoch` to the SignedRecord it carries; nullopt when
// no key held opens it. The envelope was verified when its record was applied.
using BodyOpener = std::function<std::optional<Bytes>(const EpochId& epoch, ByteView envelope)>;

class RecordStore {
public:
    // `db` must outlive the store. `open` reads the bodies stored once, in their envelope
    // (insert() with an empty body); without it such a record reads as not held.
    explicit RecordStore(storage::Database& db, BodyOpener open = {})
        : m_db(&db), m_open(std::move(open)) {}

    // ---- records ----
    // The row of an applied record; nullopt when it is not held.
    std::optional<RecordRow> row(const RecordId& id);
    bool contains(const RecordId& id);
    // The kind of an applied record; nullopt when it is not held.
    std::optional<RecordKind> kind(const RecordId& id);
    // When an applied record was stored here (this member's clock); nullopt when it is not held.
    std::optional<std::int64_t> received_ms(const RecordId& id);
    // The kind and stored body of an applied record; nullopt when it is not held.
    Result<std::optional<std::pair<RecordKind, Bytes>>> body(const RecordId& id);
    // Visits the records of `group` of the given kinds in Lamport order (ties by id), newest
    // first with `newest_first`, until `visit` returns false. A record whose body cannot be
    // read (its envelope gone or no longer opened by a key held) is left out.
    Status each(const GroupId& group, std::initializer_list<RecordKind> kinds, bool newest_first,
                const std::function<bool(const StoredRecord&)>& visit);
    // The ids of `group`'s records of one kind, in Lamport order.
    Result<std::vector<RecordId>> ids(const GroupId& group, RecordKind kind);
    // The record `id` of `group` if it is of `kind`; nullopt when no such record is held.
    Result<std::optional<AuthoredBody>> body_of_kind(const GroupId& group, const RecordId& id,
                                                     RecordKind kind);
    // `author`'s latest record in `group` (highest sequence number); nullopt when none is held.
    Result<std::optional<RecordRow>> last_by(const GroupId& group, const MemberKey& author);
    // The ids of `author`'s records in every group, by group then sequence number.
    Result<std::vector<RecordId>> ids_by(const MemberKey& author);
    // The ids of the records written in `epoch`, in Lamport order (ties by id).
    Result<std::vector<RecordId>> ids_in_epoch(const EpochId& epoch);
    // Up to `limit` ids of `group`'s records whose upper-case hex id starts with `hex_prefix`.
    Result<std::vector<RecordId>> ids_with_prefix(const GroupId& group, std::string_view hex_prefix,
                                                  std::size_t limit);
    // Whether a content record (not a control record) written in `epoch` is held.
    Result<bool> epoch_has_content(const EpochId& epoch);
    // The ids of `group`'s content records (not control records) written before `cutoff_ms`.
    Result<std::vector<RecordId>> content_before(const GroupId& group, std::int64_t cutoff_ms);
    // Envelopes of `group`'s mailboxes received before `cutoff_ms` that carry no applied record
    // (held, or never opened).
    Result<std::vector<RecordId>> unapplied_before(const GroupId& group, std::int64_t cutoff_ms);
    // The up to `limit` most recently received records not written by `not_by`.
    std::vector<ClockSample> latest_received(const MemberKey& not_by, std::size_t limit);
    // The first sequence number `author` used twice in `group`; nullopt when none.
    Result<std::optional<std::uint64_t>> first_forked_seq(const GroupId& group,
                                                          const MemberKey& author);
    // `author`'s records in `group` from sequence number `from_seq` on, in no given order.
    Result<std::vector<ChainRow>> chain_from(const GroupId& group, const MemberKey& author,
                                             std::uint64_t from_seq);
    // The authors of the applied redactions that name `target` (the redactions table).
    Result<std::vector<MemberKey>> redaction_authors(const RecordId& target);
    // Deletes applied records: their rows, their head entries, and the notes of records
    // waiting for them. With `cut_prev` the next record on the author's chain stops naming one
    // as `prev` (it is gone for good); without it the link stays, for a record that will be
    // fetched again (a void redaction's target).
    Status remove(std::span<const RecordId> ids, bool cut_prev = true);

    // Stores an applied record and makes it a head of its group in place of the records it
    // names. An empty `body` stores it once: the body is then the plaintext of the record's
    // envelope (held in the envelope store under the same id), opened again when read (`row.heads`
    // are its control heads, stored with it; `replaces` its parents and previous record, which stop
    // being heads). The heads change in memory: flush_heads() writes them, once per batch (a chain
    // of N records makes one head, not N).
    // `envelope_seq`: the seq of the record's envelope when the caller has just stored it (else
    // it is looked up).
    Status insert(const RecordRow& row, RecordKind kind, ByteView body, std::int64_t received_ms,
                  std::span<const RecordId> replaces,
                  std::optional<std::int64_t> envelope_seq = std::nullopt);
    // Replaces a record's stored body (and kind): a tombstone.
    Status replace_body(const RecordId& id, RecordKind kind, ByteView body);
    Status set_kind(const RecordId& id, RecordKind kind);
    // Writes into the table the bodies of `epoch`'s records stored once (in their envelope),
    // while the epoch's keys are still held: before those keys go.
    Status keep_bodies(const EpochId& epoch);

    // ---- heads ----
    // Up to `limit` heads of `group`, highest Lamport clock first; `max_lamport` the highest.
    // Writes the heads changed in memory first.
    std::vector<RecordId> heads(const GroupId& group, std::size_t limit,
                                std::uint64_t* max_lamport);
    // Writes the head changes made by insert() since the last flush; the caller's transaction
    // must still be open. Call before committing any batch that inserted records.
    Status flush_heads();
    // Forgets the head changes not yet written (their transaction was rolled back).
    void discard_heads();
    // Forgets the numbers of group, epoch and author keys remembered (a transaction that may have
    // added some was rolled back, or another process may write next).
    void forget_key_numbers();

    // ---- pending: records held until their references arrive ----
    bool held(const RecordId& id);
    Status hold(const RecordId& id, std::int64_t received_ms);
    Status release(const RecordId& id);
    std::size_t held_count();
    // Drops held records and what they wait for (the envelopes stay the caller's); with
    // `keep_dropped`, rows of `dropped_held` stay (kept to be judged again without an envelope).
    Status drop_held(std::span<const RecordId> ids, bool keep_dropped = false);
    // The mailboxes of held records whose envelope is not counted unverified (a member's).
    Result<std::vector<MailboxId>> held_verified_mailboxes();
    // The references held records wait for: visits every (ref, waiting id) pair.
    Status each_wait(const std::function<void(const RecordId& ref, const RecordId& id)>& visit);
    // Notes that `id` waits for `ref`; false when that was already noted.
    Result<bool> add_wait(const RecordId& ref, const RecordId& id);
    // Forgets every note of a record waiting for `ref` (it arrived or went).
    Status clear_waits_for(const RecordId& ref);

    // ---- dropped_held: content records refused as written concurrently with their author's
    // removal (`removed_author`), kept so that they stand again when that removal goes void. The
    // envelope is kept beside the row within the unverified quota; beyond it the row alone, and
    // the envelope is fetched again once the record stands ----
    struct DroppedHeld {
        RecordId id{};
        MemberKey author{};
        std::uint64_t seq = 0;
        std::vector<RecordId> heads;
    };
    Status hold_dropped(const GroupId& group, const DroppedHeld& row);
    Result<std::vector<DroppedHeld>> dropped_of(const GroupId& group);
    Status release_dropped(const RecordId& id);
    // Makes room in a group whose rows are full for an author who would then hold `wanted`
    // rows: when the author who holds the most holds more than that, up to `at_most` of his
    // rows (the latest he wrote: the furthest from any cutoff, so the least likely to stand
    // again) are forgotten, and returned (their envelopes are the caller's to remove). Empty:
    // no author holds more, and nothing changed.
    Result<std::vector<RecordId>> evict_dropped(const GroupId& group, std::int64_t wanted,
                                                std::int64_t at_most);
    bool dropped_held(const RecordId& id);
    // How many rows the group keeps, of `author`'s when given (counted once, then kept up to
    // date; forgotten with discard_dropped_counts when a transaction is rolled back).
    Result<std::int64_t> dropped_count(const GroupId& group, const MemberKey* author = nullptr);
    void discard_dropped_counts();

    // Whether a record with this id was applied, is held, or was rejected (`rejected` is
    // ingest's table; asked here in one statement, as ingest asks it for every envelope).
    bool seen(const RecordId& id);

private:
    struct Head {
        EpochId epoch{};
        std::uint64_t lamport = 0;
    };
    using HeadKey = std::pair<GroupId, RecordId>;

    Status run(std::string_view sql, const std::function<void(storage::Statement&)>& bind);
    // The number a row stores for a group, epoch or author key (record_keys), added when new.
    Result<std::int64_t> key_number(ByteView key);
    // The row number of a record about to be inserted: its envelope's seq.
    Result<std::int64_t> number_for(const RecordId& id);
    // The body of a row whose stored body is `stored`: itself, or when empty the opening of
    // `envelope` (a NULL column: the envelope is not held), written in `epoch`.
    std::optional<Bytes> body_of(ByteView stored, const EpochId& epoch,
                                 std::optional<ByteView> envelope);
    storage::Database* m_db;
    BodyOpener m_open;
    // Head changes not yet written: rows to delete (written first), then rows to add.
    std::map<HeadKey, Head> m_heads_added;
    std::set<HeadKey> m_heads_removed;
    // key_number's cache; numbers added in a transaction rolled back must not stay, nor ones
    // read before another process changed the table: forgotten at each batch.
    std::map<std::array<std::uint8_t, 32>, std::int64_t> m_key_numbers;
    // dropped_count's cache: rows per group, and per group and author.
    std::map<GroupId, std::int64_t> m_dropped_by_group;
    std::map<std::pair<GroupId, MemberKey>, std::int64_t> m_dropped_by_author;
    // Per group, the author who holds the most rows and how many (evict_dropped), kept up to
    // date by hold_dropped: a flood refused at a full group asks once, not at each record.
    std::map<GroupId, std::pair<MemberKey, std::int64_t>> m_dropped_top;
};

}  // namespace kolokol::core
