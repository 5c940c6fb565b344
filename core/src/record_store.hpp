#pragma once
// The records, heads and pending tables (DESIGN §7.6): the one owner of their SQL and the one
// reader of a record row. Callers speak of kinds by name (RecordKind), never by number.
//
// Not thread-safe: used by the node's thread, inside the caller's transaction where it writes.
// Reads return what the database holds; a read that fails counts as "not held" where the
// signature says so (optional/bool), as the callers treat both alike.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
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
};
// The kinds the group state is computed from (never redacted, never expired).
inline constexpr std::initializer_list<RecordKind> kControlKinds = {
    RecordKind::membership, RecordKind::rotation, RecordKind::settings};
inline bool is_control(RecordKind kind) {
    return kind == RecordKind::membership || kind == RecordKind::rotation ||
           kind == RecordKind::settings;
}

// "kind IN (2, 3, 4)" for a set of kinds: SQL text made from the enum, so that a query names
// its kinds and still uses the (group_id, kind, lamport, id) index.
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

// A stored record: its row, its kind and its body as stored (the signed record, without chunk
// data; a tombstone's header only).
struct StoredRecord {
    RecordRow row;
    RecordKind kind = RecordKind::message;
    ByteView body;  // valid only during the visit that received it
};

Bytes join_ids(std::span<const RecordId> ids);
std::vector<RecordId> split_ids(ByteView blob);

class RecordStore {
public:
    // `db` must outlive the store.
    explicit RecordStore(storage::Database& db) : m_db(&db) {}

    // ---- records ----
    // The row of an applied record; nullopt when it is not held.
    std::optional<RecordRow> row(const RecordId& id);
    bool contains(const RecordId& id);
    // The kind of an applied record; nullopt when it is not held.
    std::optional<RecordKind> kind(const RecordId& id);
    // The kind and stored body of an applied record; nullopt when it is not held.
    Result<std::optional<std::pair<RecordKind, Bytes>>> body(const RecordId& id);
    // Visits the records of `group` of the given kinds in Lamport order (ties by id), newest
    // first with `newest_first`, until `visit` returns false.
    Status each(const GroupId& group, std::initializer_list<RecordKind> kinds, bool newest_first,
                const std::function<bool(const StoredRecord&)>& visit);
    // The ids of `group`'s records of one kind, in Lamport order.
    Result<std::vector<RecordId>> ids(const GroupId& group, RecordKind kind);
    // Stores an applied record and makes it a head of its group in place of the records it
    // names (`row.heads` are its control heads, stored with it; `replaces` its parents and
    // previous record, which stop being heads).
    Status insert(const RecordRow& row, RecordKind kind, ByteView body, std::int64_t received_ms,
                  std::span<const RecordId> replaces);
    // Replaces a record's stored body (and kind): a tombstone.
    Status replace_body(const RecordId& id, RecordKind kind, ByteView body);
    Status set_kind(const RecordId& id, RecordKind kind);

    // ---- heads ----
    // Up to `limit` heads of `group`, highest Lamport clock first; `max_lamport` the highest.
    std::vector<RecordId> heads(const GroupId& group, std::size_t limit,
                                std::uint64_t* max_lamport);

    // ---- pending: records held until their references arrive ----
    bool held(const RecordId& id);
    Status hold(const RecordId& id, std::int64_t received_ms);
    Status release(const RecordId& id);
    std::size_t held_count();

    // Whether a record with this id was applied, is held, or was rejected (`rejected` is
    // ingest's table; asked here in one statement, as ingest asks it for every envelope).
    bool seen(const RecordId& id);

private:
    Status run(std::string_view sql, const std::function<void(storage::Statement&)>& bind);
    storage::Database* m_db;
};

}  // namespace kolokol::core
