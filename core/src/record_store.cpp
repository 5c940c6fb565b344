#include "record_store.hpp"

#include <algorithm>
#include <tuple>

namespace kolokol::core {

namespace {

// Groups, epochs and authors are numbers in a row (record_keys): a key of the row's, and the
// number of a key bound as parameter `p` (NULL when no row uses the key, which matches nothing).
#define KOLOKOL_KEY_OF(column) "(SELECT key FROM record_keys WHERE n = r." column ")"
#define KOLOKOL_N_OF(p) "(SELECT n FROM record_keys WHERE key = ?" p ")"
// The row of record id ?p: its envelope's row, or record_ids' when its envelope went while it
// stayed. A row numbered by an envelope is that envelope's record (ingest numbers a row by the
// envelope it stored, whose id is the record's), so the number alone names it.
// clang-format off
#define KOLOKOL_ID_IN(table, p)                                                                 \
    table ".n = coalesce((SELECT n FROM record_ids WHERE id = ?" p "), "                       \
    "(SELECT seq FROM envelopes WHERE substr(id, 1, 8) = substr(?" p ", 1, 8) AND id = ?" p  \
    "))"
#define KOLOKOL_BY_ID(p) KOLOKOL_ID_IN("r", p)
// The id of a row of `table`: a row holds none (core schema step 10); its envelope's is its id,
// or record_ids' when its envelope went while it stayed or it never had one.
#define KOLOKOL_ID_AT(n)                                                                        \
    "coalesce((SELECT id FROM record_ids WHERE n = " n "), "                                   \
    "(SELECT id FROM envelopes WHERE seq = " n "))"
#define KOLOKOL_ID_OF(table) KOLOKOL_ID_AT(table ".n")
// A row's `prev`: the row number of the author's previous record when it was held as the row was
// written (core schema step 11), else its 32-byte id (or NULL: none).
#define KOLOKOL_PREV_OF(table)                                                                  \
    "CASE WHEN typeof(" table ".prev) = 'integer' THEN " KOLOKOL_ID_AT(table ".prev")           \
    " ELSE " table ".prev END"
// A row's control heads: the row number of its one head when it was held as the row was written
// (core schema step 12), else the heads' ids concatenated.
#define KOLOKOL_HEADS_OF(table)                                                                 \
    "CASE WHEN typeof(" table ".heads) = 'integer' THEN " KOLOKOL_ID_AT(table ".heads")         \
    " ELSE " table ".heads END"
// The row number record id ?p has (or would have).
#define KOLOKOL_N_FOR(p)                                                                        \
    "coalesce((SELECT n FROM record_ids WHERE id = ?" p "), "                                  \
    "(SELECT seq FROM envelopes WHERE substr(id, 1, 8) = substr(?" p ", 1, 8) AND id = ?" p "))"
// clang-format on

// Every row query selects these columns, in this order, and read_row reads them.
constexpr std::string_view kRowColumns =
    KOLOKOL_ID_OF("r") ", " KOLOKOL_KEY_OF("group_n") ", " KOLOKOL_KEY_OF(
        "epoch_n") ", " KOLOKOL_KEY_OF("author_n") ", r.seq, " KOLOKOL_PREV_OF("r") ", r.lamport, " KOLOKOL_HEADS_OF("r") ", r.wall_ms";
// A stored body and, when it is stored once (empty: in its envelope), the envelope's bytes:
// records LEFT JOIN this, then select r.signed, e.bytes. A record whose envelope went keeps its
// body in the row (a tombstone, a chunk), so its envelope is the one of its row.
constexpr std::string_view kEnvelopeOfEmptyBody =
    " LEFT JOIN envelopes e ON length(r.signed) = 0 AND e.seq = r.n";

RecordRow read_row(const storage::Statement& st) {
    RecordRow r;
    r.id = to_array<32>(st.column_blob(0));
    r.group = to_array<32>(st.column_blob(1));
    r.epoch = to_array<32>(st.column_blob(2));
    r.author = to_array<32>(st.column_blob(3));
    r.seq = static_cast<std::uint64_t>(st.column_int64(4));
    if (!st.column_is_null(5)) r.prev = to_array<32>(st.column_blob(5));
    r.lamport = static_cast<std::uint64_t>(st.column_int64(6));
    r.heads = split_ids(st.column_blob(7));
    r.wall_ms = st.column_int64(8);
    return r;
}

std::string select_rows(std::string_view where) {
    std::string sql = "SELECT ";
    sql += kRowColumns;
    sql += " FROM records r WHERE ";
    sql += where;
    return sql;
}

std::optional<ByteView> envelope_column(const storage::Statement& st, int column) {
    if (st.column_is_null(column)) return std::nullopt;
    return st.column_blob(column);
}

bool exists(storage::Database& db, std::string_view sql, const RecordId& id) {
    auto st = db.cached(sql);
    if (!st) return false;
    (*st)->bind(1, ByteView(id));
    auto r = (*st)->step();
    (*st)->reset();
    return r && *r;
}

}  // namespace

Result<std::vector<RecordId>> collect_ids(storage::Database& db, std::string_view sql,
                                          const std::function<void(storage::Statement&)>& bind) {
    std::vector<RecordId> out;
    auto st = db.prepare(sql);
    if (!st) return std::unexpected(st.error());
    bind(*st);
    while (true) {
        auto r = st->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) return out;
        out.push_back(to_array<32>(st->column_blob(0)));
    }
}

std::string kind_in(std::initializer_list<RecordKind> kinds) {
    std::string out = "kind IN (";
    bool first = true;
    for (auto k : kinds) {
        if (!first) out += ", ";
        out += std::to_string(static_cast<int>(k));
        first = false;
    }
    out += ")";
    return out;
}

Bytes join_ids(std::span<const RecordId> ids) {
    Bytes out;
    out.reserve(ids.size() * 32);
    for (const auto& id : ids) append(out, id);
    return out;
}

std::vector<RecordId> split_ids(ByteView blob) {
    std::vector<RecordId> out;
    for (std::size_t i = 0; i + 32 <= blob.size(); i += 32)
        out.push_back(to_array<32>(blob.subspan(i, 32)));
    return out;
}

Status RecordStore::run(std::string_view sql,
                        const std::function<void(storage::Statement&)>& bind) {
    auto st = m_db->cached(sql);
    if (!st) return std::unexpected(st.error());
    bind(**st);
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    return {};
}

std::optional<RecordRow> RecordStore::row(const RecordId& id) {
    auto st = m_db->cached(select_rows(KOLOKOL_BY_ID("1")));
    if (!st) return std::nullopt;
    (*st)->bind(1, ByteView(id));
    auto r = (*st)->step();
    std::optional<RecordRow> out;
    if (r && *r) out = read_row(**st);
    (*st)->reset();
    return out;
}

bool RecordStore::contains(const RecordId& id) {
    return exists(*m_db, "SELECT 1 FROM records r WHERE " KOLOKOL_BY_ID("1"), id);
}

std::optional<RecordKind> RecordStore::kind(const RecordId& id) {
    auto st = m_db->cached("SELECT r.kind FROM records r WHERE " KOLOKOL_BY_ID("1"));
    if (!st) return std::nullopt;
    (*st)->bind(1, ByteView(id));
    auto r = (*st)->step();
    std::optional<RecordKind> out;
    if (r && *r) out = static_cast<RecordKind>((*st)->column_int64(0));
    (*st)->reset();
    return out;
}

std::optional<std::int64_t> RecordStore::received_ms(const RecordId& id) {
    auto st = m_db->cached("SELECT r.received_ms FROM records r WHERE " KOLOKOL_BY_ID("1"));
    if (!st) return std::nullopt;
    (*st)->bind(1, ByteView(id));
    auto r = (*st)->step();
    std::optional<std::int64_t> out;
    if (r && *r) out = (*st)->column_int64(0);
    (*st)->reset();
    return out;
}

std::optional<Bytes> RecordStore::body_of(ByteView stored, const EpochId& epoch,
                                          std::optional<ByteView> envelope) {
    if (!stored.empty()) return Bytes(stored.begin(), stored.end());
    if (!envelope || !m_open) return std::nullopt;
    return m_open(epoch, *envelope);
}

Result<std::optional<std::pair<RecordKind, Bytes>>> RecordStore::body(const RecordId& id) {
    auto st = m_db->cached("SELECT r.kind, r.signed, " KOLOKOL_KEY_OF("epoch_n") ", e.bytes "
                           "FROM records r" +
                           std::string(kEnvelopeOfEmptyBody) + " WHERE " KOLOKOL_BY_ID("1"));
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(id));
    auto r = (*st)->step();
    if (!r) return std::unexpected(r.error());
    std::optional<std::pair<RecordKind, Bytes>> out;
    if (*r) {
        auto b = body_of((*st)->column_blob(1), to_array<32>((*st)->column_blob(2)),
                         envelope_column(**st, 3));
        if (b) out.emplace(static_cast<RecordKind>((*st)->column_int64(0)), std::move(*b));
    }
    (*st)->reset();
    return out;
}

Status RecordStore::each(const GroupId& group, std::initializer_list<RecordKind> kinds,
                         bool newest_first, const std::function<bool(const StoredRecord&)>& visit) {
    std::string sql = "SELECT ";
    sql += kRowColumns;
    sql += ", r.kind, r.signed, e.bytes FROM records r";
    sql += kEnvelopeOfEmptyBody;
    sql += " WHERE r.group_n = " KOLOKOL_N_OF("1") " AND r." + kind_in(kinds) +
           (newest_first ? " ORDER BY r.lamport DESC, 1 DESC" : " ORDER BY r.lamport, 1");
    auto st = m_db->prepare(sql);
    if (!st) return std::unexpected(st.error());
    st->bind(1, ByteView(group));
    while (true) {
        auto r = st->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) return {};
        auto row = read_row(*st);
        auto stored = st->column_blob(10);
        std::optional<Bytes> opened;
        if (stored.empty()) {
            opened = body_of(stored, row.epoch, envelope_column(*st, 11));
            if (!opened) continue;  // unreadable: left out (see the header)
        }
        StoredRecord rec{std::move(row), static_cast<RecordKind>(st->column_int64(9)),
                         opened ? ByteView(*opened) : stored};
        if (!visit(rec)) return {};
    }
}

Result<std::vector<RecordId>> RecordStore::ids(const GroupId& group, RecordKind kind) {
    auto st = m_db->prepare(
        "SELECT " KOLOKOL_ID_OF("r") " FROM records r WHERE group_n = " KOLOKOL_N_OF("1") " AND " +
        kind_in({kind}) + " ORDER BY lamport, 1");
    if (!st) return std::unexpected(st.error());
    st->bind(1, ByteView(group));
    std::vector<RecordId> out;
    while (true) {
        auto r = st->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) return out;
        out.push_back(to_array<32>(st->column_blob(0)));
    }
}

Result<std::optional<AuthoredBody>> RecordStore::body_of_kind(const GroupId& group,
                                                              const RecordId& id, RecordKind kind) {
    auto st =
        m_db->cached("SELECT " KOLOKOL_KEY_OF("author_n") ", r.wall_ms, r.signed, " KOLOKOL_KEY_OF(
                         "epoch_n") ", e.bytes FROM records r" +
                     std::string(kEnvelopeOfEmptyBody) +
                     " WHERE " KOLOKOL_BY_ID("1") " AND r.group_n = " KOLOKOL_N_OF("2") " AND r." +
                     kind_in({kind}));
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(id)).bind(2, ByteView(group));
    auto r = (*st)->step();
    if (!r) return std::unexpected(r.error());
    std::optional<AuthoredBody> out;
    if (*r) {
        auto body = body_of((*st)->column_blob(2), to_array<32>((*st)->column_blob(3)),
                            envelope_column(**st, 4));
        if (body)
            out = AuthoredBody{to_array<32>((*st)->column_blob(0)), (*st)->column_int64(1),
                               std::move(*body)};
    }
    (*st)->reset();
    return out;
}

Result<std::optional<RecordRow>> RecordStore::last_by(const GroupId& group,
                                                      const MemberKey& author) {
    auto st = m_db->cached(select_rows("r.group_n = " KOLOKOL_N_OF(
        "1") " AND r.author_n = " KOLOKOL_N_OF("2") " ORDER BY r.seq DESC LIMIT 1"));
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(group)).bind(2, ByteView(author));
    auto r = (*st)->step();
    if (!r) return std::unexpected(r.error());
    std::optional<RecordRow> out;
    if (*r) out = read_row(**st);
    (*st)->reset();
    return out;
}

Result<std::vector<RecordId>> RecordStore::ids_by(const MemberKey& author) {
    return collect_ids(
        *m_db,
        "SELECT " KOLOKOL_ID_OF("r") " FROM records r WHERE author_n = " KOLOKOL_N_OF(
            "1") " ORDER BY " KOLOKOL_KEY_OF("group_n") ", seq",
        [&](storage::Statement& st) { st.bind(1, ByteView(author)); });
}

Result<std::vector<RecordId>> RecordStore::ids_in_epoch(const EpochId& epoch) {
    return collect_ids(*m_db,
                       "SELECT " KOLOKOL_ID_OF("r") " FROM records r WHERE epoch_n = " KOLOKOL_N_OF(
                           "1") " ORDER BY lamport, 1",
                       [&](storage::Statement& st) { st.bind(1, ByteView(epoch)); });
}

Result<std::vector<RecordId>> RecordStore::ids_with_prefix(const GroupId& group,
                                                           std::string_view hex_prefix,
                                                           std::size_t limit) {
    std::string pattern(hex_prefix);
    pattern += "%";
    return collect_ids(
        *m_db,
        "SELECT * FROM (SELECT " KOLOKOL_ID_OF("r") " AS id FROM records r WHERE group_n = " KOLOKOL_N_OF(
            "1") ") WHERE hex(id) LIKE ?2 LIMIT ?3",
        [&](storage::Statement& st) {
            st.bind(1, ByteView(group))
                .bind(2, std::string_view(pattern))
                .bind(3, static_cast<std::int64_t>(limit));
        });
}

Result<bool> RecordStore::epoch_has_content(const EpochId& epoch) {
    auto st = m_db->cached("SELECT 1 FROM records WHERE epoch_n = " KOLOKOL_N_OF("1") " AND NOT " +
                           kind_in(kControlKinds) + " LIMIT 1");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(epoch));
    auto r = (*st)->step();
    (*st)->reset();
    if (!r) return std::unexpected(r.error());
    return *r;
}

Result<std::vector<RecordId>> RecordStore::content_before(const GroupId& group,
                                                          std::int64_t cutoff_ms) {
    return collect_ids(
        *m_db,
        "SELECT " KOLOKOL_ID_OF("r") " FROM records r WHERE group_n = " KOLOKOL_N_OF(
            "1") " AND NOT " +
            kind_in(kControlKinds) + " AND wall_ms < ?2",
        [&](storage::Statement& st) { st.bind(1, ByteView(group)).bind(2, cutoff_ms); });
}

Result<std::vector<RecordId>> RecordStore::unapplied_before(const GroupId& group,
                                                            std::int64_t cutoff_ms) {
    return collect_ids(
        *m_db,
        "SELECT e.id FROM envelopes e WHERE e.received_ms < ? AND "
        "NOT EXISTS (SELECT 1 FROM records r WHERE r.n = e.seq) AND "
        "NOT EXISTS (SELECT 1 FROM record_ids x WHERE x.id = e.id) AND "
        "e.mailbox IN (SELECT mailbox FROM epochs WHERE group_id = ?)",
        [&](storage::Statement& st) { st.bind(1, cutoff_ms).bind(2, ByteView(group)); });
}

std::vector<ClockSample> RecordStore::latest_received(const MemberKey& not_by, std::size_t limit) {
    std::vector<ClockSample> out;
    auto st = m_db->prepare(
        "SELECT wall_ms, received_ms FROM records WHERE author_n IS NOT " KOLOKOL_N_OF("1") " "
        "ORDER BY received_ms DESC LIMIT ?");
    if (!st) return out;
    st->bind(1, ByteView(not_by)).bind(2, static_cast<std::int64_t>(limit));
    for (;;) {
        auto r = st->step();
        if (!r || !*r) break;
        out.push_back({st->column_int64(0), st->column_int64(1)});
    }
    return out;
}

Result<std::optional<std::uint64_t>> RecordStore::first_forked_seq(const GroupId& group,
                                                                   const MemberKey& author) {
    // An index scan of this author's records.
    auto st = m_db->cached(
        "SELECT seq FROM records WHERE group_n = " KOLOKOL_N_OF("1") " AND author_n = " KOLOKOL_N_OF(
            "2") " GROUP BY seq "
        "HAVING COUNT(*) > 1 ORDER BY seq LIMIT 1");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(group)).bind(2, ByteView(author));
    auto r = (*st)->step();
    if (!r) return std::unexpected(r.error());
    std::optional<std::uint64_t> out;
    if (*r) out = static_cast<std::uint64_t>((*st)->column_int64(0));
    (*st)->reset();
    return out;
}

Result<std::vector<ChainRow>> RecordStore::chain_from(const GroupId& group, const MemberKey& author,
                                                      std::uint64_t from_seq) {
    auto st =
        m_db->prepare("SELECT " KOLOKOL_ID_OF("r") ", seq, " KOLOKOL_PREV_OF("r") ", lamport FROM records r WHERE group_n = " KOLOKOL_N_OF(
            "1") " AND author_n = " KOLOKOL_N_OF("2") " AND seq >= ?3");
    if (!st) return std::unexpected(st.error());
    st->bind(1, ByteView(group))
        .bind(2, ByteView(author))
        .bind(3, static_cast<std::int64_t>(from_seq));
    std::vector<ChainRow> out;
    while (true) {
        auto r = st->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) return out;
        ChainRow c;
        c.id = to_array<32>(st->column_blob(0));
        c.seq = static_cast<std::uint64_t>(st->column_int64(1));
        if (!st->column_is_null(2) && st->column_blob(2).size() == 32)
            c.prev = to_array<32>(st->column_blob(2));
        c.lamport = static_cast<std::uint64_t>(st->column_int64(3));
        out.push_back(c);
    }
}

Result<std::vector<MemberKey>> RecordStore::redaction_authors(const RecordId& target) {
    auto st = m_db->cached("SELECT " KOLOKOL_KEY_OF(
        "author_n") " FROM redactions d JOIN records r ON r.n = "
                    "coalesce((SELECT n FROM record_ids WHERE id = d.redaction), (SELECT seq FROM "
                    "envelopes WHERE substr(id, 1, 8) = substr(d.redaction, 1, 8) AND id = "
                    "d.redaction)) WHERE d.target = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(target));
    std::vector<MemberKey> out;
    while (true) {
        auto r = (*st)->step();
        if (!r) {
            (*st)->reset();
            return std::unexpected(r.error());
        }
        if (!*r) break;
        out.push_back(to_array<32>((*st)->column_blob(0)));
    }
    (*st)->reset();
    return out;
}

Status RecordStore::remove(std::span<const RecordId> ids, bool cut_prev) {
    if (auto ok = flush_heads(); !ok) return ok;
    // The next record on the author's chain names this one as `prev`: that link is cut, so no
    // kept row names a record that is gone (retention, SECURITY.md row 30). A chain walk (§5.4)
    // ends there, as it would at the missing record.
    // Without `cut_prev` a next record naming it by row number names it by id instead: the row
    // number goes with the row, the link stays.
    for (const auto& id : ids)
        if (auto ok = run(
                cut_prev
                    ? "UPDATE records SET prev = NULL WHERE (prev = ?1 OR prev = " KOLOKOL_N_FOR(
                          "1") ") AND (group_n, author_n, seq) IN (SELECT group_n, "
                               "author_n, seq + 1 FROM records WHERE " KOLOKOL_ID_IN("records",
                                                                                     "1") ")"
                    : "UPDATE records SET prev = ?1 WHERE prev = " KOLOKOL_N_FOR(
                          "1") " AND (group_n, author_n, seq) IN (SELECT group_n, "
                               "author_n, seq + 1 FROM records WHERE " KOLOKOL_ID_IN("records",
                                                                                     "1") ")",
                [&](storage::Statement& st) { st.bind(1, ByteView(id)); });
            !ok)
            return ok;
    // Rows name a control record (never expired nor redacted) as their head by row number: should
    // one go, they name it by id again. Content records are never heads: no table scan for them.
    for (const auto& id : ids) {
        auto k = kind(id);
        if (!k || std::find(kControlKinds.begin(), kControlKinds.end(), *k) == kControlKinds.end())
            continue;
        if (auto ok = run("UPDATE records SET heads = ?1 WHERE typeof(heads) = 'integer' AND "
                          "heads = " KOLOKOL_N_FOR("1"),
                          [&](storage::Statement& st) { st.bind(1, ByteView(id)); });
            !ok)
            return ok;
    }
    for (auto sql : {"DELETE FROM records WHERE " KOLOKOL_ID_IN("records", "1"),
                     "DELETE FROM record_ids WHERE id = ?", "DELETE FROM heads WHERE id = ?",
                     "DELETE FROM pending_refs WHERE ref = ?"})
        for (const auto& id : ids)
            if (auto ok = run(sql, [&](storage::Statement& st) { st.bind(1, ByteView(id)); }); !ok)
                return ok;
    return {};
}

Status RecordStore::insert(const RecordRow& row, RecordKind kind, ByteView body,
                           std::int64_t received_ms, std::span<const RecordId> replaces,
                           std::optional<std::int64_t> envelope_seq) {
    const auto heads = join_ids(row.heads);
    auto group = key_number(row.group);
    if (!group) return std::unexpected(group.error());
    auto epoch = key_number(row.epoch);
    if (!epoch) return std::unexpected(epoch.error());
    auto author = key_number(row.author);
    if (!author) return std::unexpected(author.error());
    auto n = envelope_seq ? Result<std::int64_t>(*envelope_seq) : number_for(row.id);
    if (!n) return std::unexpected(n.error());
    // A single control head held in the group, by row number.
    std::optional<std::int64_t> head_n;
    if (row.heads.size() == 1) {
        auto st = m_db->cached(
            "SELECT r.n FROM records r WHERE " KOLOKOL_BY_ID("1") " AND r.group_n = ?2");
        if (!st) return std::unexpected(st.error());
        (*st)->bind(1, ByteView(row.heads.front())).bind(2, *group);
        auto r = (*st)->step();
        if (!r) {
            (*st)->reset();
            return std::unexpected(r.error());
        }
        if (*r) head_n = (*st)->column_int64(0);
        (*st)->reset();
    }
    // The previous record, when held as the one before on this author's chain, by row number.
    std::optional<std::int64_t> prev_n;
    if (row.prev && row.seq > 0) {
        auto st = m_db->cached("SELECT r.n FROM records r WHERE " KOLOKOL_BY_ID(
            "1") " AND r.group_n = ?2 AND r.author_n = ?3 AND r.seq = ?4");
        if (!st) return std::unexpected(st.error());
        (*st)
            ->bind(1, ByteView(*row.prev))
            .bind(2, *group)
            .bind(3, *author)
            .bind(4, static_cast<std::int64_t>(row.seq - 1));
        auto r = (*st)->step();
        if (!r) {
            (*st)->reset();
            return std::unexpected(r.error());
        }
        if (*r) prev_n = (*st)->column_int64(0);
        (*st)->reset();
    }
    if (auto ok = run("INSERT INTO records(n, group_n, epoch_n, author_n, seq, prev, lamport, "
                      "kind, heads, signed, wall_ms, received_ms) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                      [&](storage::Statement& st) {
                          st.bind(1, *n)
                              .bind(2, *group)
                              .bind(3, *epoch)
                              .bind(4, *author)
                              .bind(5, static_cast<std::int64_t>(row.seq));
                          if (prev_n)
                              st.bind(6, *prev_n);
                          else if (row.prev)
                              st.bind(6, ByteView(*row.prev));
                          else
                              st.bind_null(6);
                          st.bind(7, static_cast<std::int64_t>(row.lamport))
                              .bind(8, static_cast<std::int64_t>(kind))
                              .bind(9, ByteView(heads));
                          if (head_n) st.bind(9, *head_n);
                          st.bind(10, body).bind(11, row.wall_ms).bind(12, received_ms);
                      });
        !ok)
        return ok;
    m_heads_added[{row.group, row.id}] = Head{row.epoch, row.lamport};
    for (const auto& ref : replaces) {
        // A head added since the last flush is not in the table: dropping it here is enough.
        // Others are deleted at the flush, before the additions, so that a record named before
        // it arrived (a parent that may expire) still becomes a head when it does.
        if (m_heads_added.erase({row.group, ref}) == 0) m_heads_removed.insert({row.group, ref});
    }
    return {};
}

Result<std::int64_t> RecordStore::key_number(ByteView key) {
    const auto k = to_array<32>(key);
    if (auto it = m_key_numbers.find(k); it != m_key_numbers.end()) return it->second;
    auto st = m_db->cached("SELECT n FROM record_keys WHERE key = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, key);
    auto r = (*st)->step();
    if (!r) return std::unexpected(r.error());
    std::optional<std::int64_t> n;
    if (*r) n = (*st)->column_int64(0);
    (*st)->reset();
    if (!n) {
        if (auto ok = run("INSERT INTO record_keys(key) VALUES (?)",
                          [&](storage::Statement& in) { in.bind(1, key); });
            !ok)
            return std::unexpected(ok.error());
        n = m_db->last_insert_rowid();
    }
    m_key_numbers.emplace(k, *n);
    return *n;
}

void RecordStore::forget_key_numbers() {
    m_key_numbers.clear();
}

Result<std::int64_t> RecordStore::number_for(const RecordId& id) {
    auto st = m_db->cached(
        "SELECT coalesce((SELECT n FROM record_ids WHERE id = ?1), "
        "(SELECT seq FROM envelopes WHERE substr(id, 1, 8) = substr(?1, 1, 8) AND id = ?1))");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(id));
    auto r = (*st)->step();
    if (!r) return std::unexpected(r.error());
    std::optional<std::int64_t> n;
    if (*r && !(*st)->column_is_null(0)) n = (*st)->column_int64(0);
    (*st)->reset();
    if (n) return *n;
    // No envelope holds it (ingest stores the envelope first): a number below every other, which
    // no envelope takes, found through record_ids.
    auto low = m_db->cached("SELECT min(0, coalesce(min(n), 0)) - 1 FROM records");
    if (!low) return std::unexpected(low.error());
    auto lr = (*low)->step();
    if (!lr) return std::unexpected(lr.error());
    const std::int64_t fresh = *lr ? (*low)->column_int64(0) : -1;
    (*low)->reset();
    if (auto ok = run("INSERT INTO record_ids(n, id) VALUES (?, ?)",
                      [&](storage::Statement& in) { in.bind(1, fresh).bind(2, ByteView(id)); });
        !ok)
        return std::unexpected(ok.error());
    return fresh;
}

Status RecordStore::flush_heads() {
    for (const auto& [group, id] : m_heads_removed)
        if (auto ok = run(
                "DELETE FROM heads WHERE group_id = ? AND id = ?",
                [&](storage::Statement& st) { st.bind(1, ByteView(group)).bind(2, ByteView(id)); });
            !ok)
            return ok;
    for (const auto& [key, head] : m_heads_added)
        if (auto ok = run("INSERT OR REPLACE INTO heads(group_id, id, epoch_id, lamport) "
                          "VALUES (?, ?, ?, ?)",
                          [&](storage::Statement& st) {
                              st.bind(1, ByteView(key.first))
                                  .bind(2, ByteView(key.second))
                                  .bind(3, ByteView(head.epoch))
                                  .bind(4, static_cast<std::int64_t>(head.lamport));
                          });
            !ok)
            return ok;
    discard_heads();
    return {};
}

void RecordStore::discard_heads() {
    m_heads_added.clear();
    m_heads_removed.clear();
}

Status RecordStore::replace_body(const RecordId& id, RecordKind kind, ByteView body) {
    return run("UPDATE records SET kind = ?2, signed = ?3 WHERE " KOLOKOL_ID_IN("records", "1"),
               [&](storage::Statement& st) {
                   st.bind(1, ByteView(id)).bind(2, static_cast<std::int64_t>(kind)).bind(3, body);
               });
}

Status RecordStore::keep_bodies(const EpochId& epoch) {
    std::vector<std::pair<RecordId, Bytes>> opened;
    {
        auto st =
            m_db->prepare("SELECT " KOLOKOL_ID_OF("r") ", e.bytes FROM records r" +
                          std::string(kEnvelopeOfEmptyBody) +
                          " WHERE r.epoch_n = " KOLOKOL_N_OF("1") " AND length(r.signed) = 0");
        if (!st) return std::unexpected(st.error());
        st->bind(1, ByteView(epoch));
        while (true) {
            auto r = st->step();
            if (!r) return std::unexpected(r.error());
            if (!*r) break;
            if (auto body = body_of({}, epoch, envelope_column(*st, 1)))
                opened.emplace_back(to_array<32>(st->column_blob(0)), std::move(*body));
        }
    }
    for (const auto& [id, body] : opened)
        if (auto ok = run(
                "UPDATE records SET signed = ?2 WHERE " KOLOKOL_ID_IN("records", "1"),
                [&](storage::Statement& st) { st.bind(1, ByteView(id)).bind(2, ByteView(body)); });
            !ok)
            return ok;
    return {};
}

Status RecordStore::set_kind(const RecordId& id, RecordKind kind) {
    return run("UPDATE records SET kind = ?2 WHERE " KOLOKOL_ID_IN("records", "1"),
               [&](storage::Statement& st) {
                   st.bind(1, ByteView(id)).bind(2, static_cast<std::int64_t>(kind));
               });
}

std::vector<RecordId> RecordStore::heads(const GroupId& group, std::size_t limit,
                                         std::uint64_t* max_lamport) {
    std::vector<RecordId> out;
    *max_lamport = 0;
    if (!flush_heads()) return out;
    auto st = m_db->cached(
        "SELECT id, lamport FROM heads WHERE group_id = ? ORDER BY lamport DESC LIMIT ?");
    if (!st) return out;
    (*st)->bind(1, ByteView(group)).bind(2, static_cast<std::int64_t>(limit));
    while (true) {
        auto r = (*st)->step();
        if (!r || !*r) break;
        out.push_back(to_array<32>((*st)->column_blob(0)));
        *max_lamport = std::max(*max_lamport, static_cast<std::uint64_t>((*st)->column_int64(1)));
    }
    (*st)->reset();
    return out;
}

bool RecordStore::held(const RecordId& id) {
    return exists(*m_db, "SELECT 1 FROM pending WHERE id = ?", id);
}

Status RecordStore::hold(const RecordId& id, std::int64_t received_ms) {
    return run("INSERT OR IGNORE INTO pending(id, received_ms) VALUES (?, ?)",
               [&](storage::Statement& st) { st.bind(1, ByteView(id)).bind(2, received_ms); });
}

Status RecordStore::release(const RecordId& id) {
    return run("DELETE FROM pending WHERE id = ?",
               [&](storage::Statement& st) { st.bind(1, ByteView(id)); });
}

std::size_t RecordStore::held_count() {
    auto st = m_db->cached("SELECT COUNT(*) FROM pending");
    if (!st) return 0;
    auto r = (*st)->step();
    std::size_t n = r && *r ? static_cast<std::size_t>((*st)->column_int64(0)) : 0;
    (*st)->reset();
    return n;
}

Status RecordStore::drop_held(std::span<const RecordId> ids, bool keep_dropped) {
    std::vector<std::string_view> sqls = {"DELETE FROM pending WHERE id = ?",
                                          "DELETE FROM pending_refs WHERE id = ?"};
    if (!keep_dropped) {
        sqls.push_back("DELETE FROM dropped_held WHERE id = ?");
        discard_dropped_counts();
    }
    for (auto sql : sqls)
        for (const auto& id : ids)
            if (auto ok = run(sql, [&](storage::Statement& st) { st.bind(1, ByteView(id)); }); !ok)
                return ok;
    return {};
}

Result<std::vector<MailboxId>> RecordStore::held_verified_mailboxes() {
    auto st = m_db->cached(
        "SELECT DISTINCT e.mailbox FROM pending p JOIN envelopes e ON substr(e.id, 1, 8) = "
        "substr(p.id, 1, 8) AND e.id = p.id "
        "WHERE p.id NOT IN (SELECT id FROM unverified)");
    if (!st) return std::unexpected(st.error());
    std::vector<MailboxId> out;
    while (true) {
        auto r = (*st)->step();
        if (!r) {
            (*st)->reset();
            return std::unexpected(r.error());
        }
        if (!*r) break;
        auto blob = (*st)->column_blob(0);
        if (blob.size() != MailboxId{}.size()) continue;
        out.push_back(to_array<32>(blob));
    }
    (*st)->reset();
    return out;
}

Status RecordStore::each_wait(
    const std::function<void(const RecordId& ref, const RecordId& id)>& visit) {
    auto st = m_db->cached("SELECT ref, id FROM pending_refs");
    if (!st) return std::unexpected(st.error());
    while (true) {
        auto r = (*st)->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) return {};
        auto ref = (*st)->column_blob(0);
        auto id = (*st)->column_blob(1);
        if (ref.size() != 32 || id.size() != 32) continue;
        visit(to_array<32>(ref), to_array<32>(id));
    }
}

Result<bool> RecordStore::add_wait(const RecordId& ref, const RecordId& id) {
    if (auto ok =
            run("INSERT OR IGNORE INTO pending_refs(ref, id) VALUES (?, ?)",
                [&](storage::Statement& st) { st.bind(1, ByteView(ref)).bind(2, ByteView(id)); });
        !ok)
        return std::unexpected(ok.error());
    return m_db->changes() == 1;
}

Status RecordStore::clear_waits_for(const RecordId& ref) {
    return run("DELETE FROM pending_refs WHERE ref = ?",
               [&](storage::Statement& st) { st.bind(1, ByteView(ref)); });
}

Status RecordStore::hold_dropped(const GroupId& group, const DroppedHeld& row) {
    const auto heads = join_ids(row.heads);
    auto ok = run(
        "INSERT OR IGNORE INTO dropped_held(id, group_id, author, seq, heads) VALUES (?, ?, ?, ?, "
        "?)",
        [&](storage::Statement& st) {
            st.bind(1, ByteView(row.id))
                .bind(2, ByteView(group))
                .bind(3, ByteView(row.author))
                .bind(4, static_cast<std::int64_t>(row.seq))
                .bind(5, ByteView(heads));
        });
    if (!ok) return ok;
    if (m_db->changes() == 1) {
        if (auto it = m_dropped_by_group.find(group); it != m_dropped_by_group.end()) ++it->second;
        auto it = m_dropped_by_author.find({group, row.author});
        if (it != m_dropped_by_author.end()) ++it->second;
        if (auto top = m_dropped_top.find(group); top != m_dropped_top.end()) {
            if (top->second.first == row.author)
                ++top->second.second;
            else if (it == m_dropped_by_author.end())
                m_dropped_top.erase(top);
            else if (it->second > top->second.second)
                top->second = {row.author, it->second};
        }
    }
    return {};
}

Result<std::int64_t> RecordStore::dropped_count(const GroupId& group, const MemberKey* author) {
    if (author) {
        if (auto it = m_dropped_by_author.find({group, *author}); it != m_dropped_by_author.end())
            return it->second;
    } else if (auto it = m_dropped_by_group.find(group); it != m_dropped_by_group.end()) {
        return it->second;
    }
    auto st = m_db->cached(author ? "SELECT COUNT(*) FROM dropped_held WHERE group_id = ? AND "
                                    "author = ?"
                                  : "SELECT COUNT(*) FROM dropped_held WHERE group_id = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(group));
    if (author) (*st)->bind(2, ByteView(*author));
    auto r = (*st)->step();
    if (!r) {
        (*st)->reset();
        return std::unexpected(r.error());
    }
    const std::int64_t n = *r ? (*st)->column_int64(0) : 0;
    (*st)->reset();
    if (author)
        m_dropped_by_author[{group, *author}] = n;
    else
        m_dropped_by_group[group] = n;
    return n;
}

void RecordStore::discard_dropped_counts() {
    m_dropped_by_group.clear();
    m_dropped_by_author.clear();
    m_dropped_top.clear();
}

Result<std::vector<RecordStore::DroppedHeld>> RecordStore::dropped_of(const GroupId& group) {
    auto st = m_db->cached("SELECT id, author, seq, heads FROM dropped_held WHERE group_id = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(group));
    std::vector<DroppedHeld> out;
    while (true) {
        auto r = (*st)->step();
        if (!r) {
            (*st)->reset();
            return std::unexpected(r.error());
        }
        if (!*r) break;
        auto id = (*st)->column_blob(0);
        auto author = (*st)->column_blob(1);
        if (id.size() != 32 || author.size() != 32) continue;
        DroppedHeld row;
        row.id = to_array<32>(id);
        row.author = to_array<32>(author);
        row.seq = static_cast<std::uint64_t>((*st)->column_int64(2));
        row.heads = split_ids((*st)->column_blob(3));
        out.push_back(std::move(row));
    }
    (*st)->reset();
    return out;
}

Status RecordStore::release_dropped(const RecordId& id) {
    discard_dropped_counts();
    return run("DELETE FROM dropped_held WHERE id = ?",
               [&](storage::Statement& st) { st.bind(1, ByteView(id)); });
}

Result<std::vector<RecordId>> RecordStore::evict_dropped(const GroupId& group, std::int64_t wanted,
                                                         std::int64_t at_most) {
    std::vector<RecordId> out;
    MemberKey top{};
    std::int64_t most = 0;
    if (auto known = m_dropped_top.find(group); known != m_dropped_top.end()) {
        std::tie(top, most) = known->second;
    } else {
        auto st = m_db->cached(
            "SELECT author, COUNT(*) AS n FROM dropped_held WHERE group_id = ? GROUP BY author "
            "ORDER BY n DESC, author LIMIT 1");
        if (!st) return std::unexpected(st.error());
        (*st)->bind(1, ByteView(group));
        auto r = (*st)->step();
        if (!r) {
            (*st)->reset();
            return std::unexpected(r.error());
        }
        if (*r && (*st)->column_blob(0).size() == top.size()) {
            top = to_array<32>((*st)->column_blob(0));
            most = (*st)->column_int64(1);
        }
        (*st)->reset();
        m_dropped_top[group] = {top, most};
    }
    if (most <= wanted) return out;
    // Down to what the newcomer would hold, not below: two authors never take rows from each
    // other in turn.
    const auto n = std::min(at_most, most - wanted);
    auto latest = collect_ids(*m_db,
                              "SELECT id FROM dropped_held WHERE group_id = ? AND author = ? "
                              "ORDER BY seq DESC, rowid DESC LIMIT ?",
                              [&](storage::Statement& st) {
                                  st.bind(1, ByteView(group)).bind(2, ByteView(top)).bind(3, n);
                              });
    if (!latest) return std::unexpected(latest.error());
    out = std::move(*latest);
    discard_dropped_counts();
    for (const auto& id : out)
        if (auto ok = run("DELETE FROM dropped_held WHERE id = ?",
                          [&](storage::Statement& st) { st.bind(1, ByteView(id)); });
            !ok)
            return std::unexpected(ok.error());
    return out;
}

bool RecordStore::dropped_held(const RecordId& id) {
    return exists(*m_db, "SELECT 1 FROM dropped_held WHERE id = ?", id);
}

bool RecordStore::seen(const RecordId& id) {
    return exists(*m_db,
                  "SELECT 1 FROM records r WHERE " KOLOKOL_BY_ID(
                      "1") " UNION ALL SELECT 1 FROM pending WHERE "
                  "id = ?1 UNION ALL SELECT 1 FROM rejected WHERE id = ?1 LIMIT 1",
                  id);
}

}  // namespace kolokol::core
