#include "kolokol/storage/envelope_store.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace kolokol::storage {

namespace {

// Append new steps; never edit a step that has shipped.
constexpr std::array<std::string_view, 4> kSchema{
    R"sql(
CREATE TABLE envelopes(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id BLOB NOT NULL UNIQUE CHECK (length(id) = 32),
    mailbox BLOB NOT NULL CHECK (length(mailbox) = 32),
    bytes BLOB NOT NULL,
    size INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL CHECK (expires_ms >= 0));
CREATE INDEX envelopes_by_mailbox ON envelopes(mailbox, seq, id);
CREATE INDEX envelopes_by_expiry ON envelopes(expires_ms) WHERE expires_ms > 0;
CREATE TABLE mailbox_usage(
    mailbox BLOB PRIMARY KEY NOT NULL,
    count INTEGER NOT NULL,
    bytes INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER envelopes_usage_insert AFTER INSERT ON envelopes BEGIN
    INSERT OR IGNORE INTO mailbox_usage(mailbox, count, bytes) VALUES (NEW.mailbox, 0, 0);
    UPDATE mailbox_usage SET count = count + 1, bytes = bytes + NEW.size
        WHERE mailbox = NEW.mailbox;
END;
CREATE TRIGGER envelopes_usage_delete AFTER DELETE ON envelopes BEGIN
    UPDATE mailbox_usage SET count = count - 1, bytes = bytes - OLD.size
        WHERE mailbox = OLD.mailbox;
    DELETE FROM mailbox_usage WHERE mailbox = OLD.mailbox AND count <= 0;
END;
)sql",
    // put() counts what it adds itself. An insert trigger made every insert a statement that
    // saves each page it touches in a statement journal first, and SQLCipher encrypts every
    // page saved there: five page encryptions per stored record, most of ingest's page cipher
    // time. Deletes keep their trigger (they are rare, and retention deletes in bulk).
    R"sql(
DROP TRIGGER envelopes_usage_insert;
)sql",
    // The mailbox index holds the mailbox's first 8 bytes and the row's seq (its rowid), no id:
    // some 17 bytes an envelope instead of 74. Readers compare the whole mailbox in the row
    // (kByMailbox), so two mailboxes that share a prefix are never mixed up; the id, read from
    // the row, is on the same page as the mailbox compared.
    R"sql(
DROP INDEX envelopes_by_mailbox;
CREATE INDEX envelopes_by_mailbox ON envelopes(substr(mailbox, 1, 8));
)sql",
    // The id index holds the id's first 8 bytes and the seq: some 17 bytes an envelope instead
    // of 41, in the one B-tree every insert reaches at a random place. Readers by id compare the
    // whole id in the row (kById), and put() stores an id only when no row has it, so two ids
    // that share a prefix stay apart. UNIQUE cannot be dropped from a table: the table is
    // rewritten (same seqs, same largest seq handed out). Dropping it drops every trigger on
    // it; other components' (core, quota) create theirs again in a later step of their own,
    // which their migration runs after this one (core's migrate_schema).
    R"sql(
CREATE TABLE envelopes_rewritten(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id BLOB NOT NULL CHECK (length(id) = 32),
    mailbox BLOB NOT NULL CHECK (length(mailbox) = 32),
    bytes BLOB NOT NULL,
    size INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL CHECK (expires_ms >= 0));
INSERT INTO sqlite_sequence(name, seq)
    SELECT 'envelopes_rewritten', seq FROM sqlite_sequence WHERE name = 'envelopes';
INSERT INTO envelopes_rewritten(seq, id, mailbox, bytes, size, received_ms, expires_ms)
    SELECT seq, id, mailbox, bytes, size, received_ms, expires_ms FROM envelopes ORDER BY seq;
DROP TABLE envelopes;
ALTER TABLE envelopes_rewritten RENAME TO envelopes;
CREATE INDEX envelopes_by_id ON envelopes(substr(id, 1, 8));
CREATE INDEX envelopes_by_mailbox ON envelopes(substr(mailbox, 1, 8));
CREATE INDEX envelopes_by_expiry ON envelopes(expires_ms) WHERE expires_ms > 0;
CREATE TRIGGER envelopes_usage_delete AFTER DELETE ON envelopes BEGIN
    UPDATE mailbox_usage SET count = count - 1, bytes = bytes - OLD.size
        WHERE mailbox = OLD.mailbox;
    DELETE FROM mailbox_usage WHERE mailbox = OLD.mailbox AND count <= 0;
END;
)sql",
};

// The row of id ?1, through envelopes_by_id.
#define KOLOKOL_BY_ID "substr(id, 1, 8) = substr(?1, 1, 8) AND id = ?1"

// The rows of mailbox ?1, through envelopes_by_mailbox (the planner takes an expression index
// only for the very expression it indexes).
#define KOLOKOL_BY_MAILBOX "substr(mailbox, 1, 8) = substr(?1, 1, 8) AND mailbox = ?1"

RecordId id_from(ByteView column) {
    return to_array<32>(column);
}

Status check_envelope(const StoredEnvelope& e, std::size_t index) {
    auto bad = [&](std::string_view why) {
        return fail(StorageErrc::invalid_argument, "envelope {}: {}", index, why);
    };
    auto view = parse_envelope(e.bytes);
    if (!view) return bad("malformed (size, version)");
    if (view->mailbox != e.mailbox) return bad("mailbox does not match its header");
    if (record_id_of(e.bytes) != e.id) return bad("id is not the hash of its bytes");
    if (e.expires_ms < 0) return bad("negative expiry");
    return {};
}

}  // namespace

Status EnvelopeStore::count_added(const MailboxId& mailbox, std::size_t size) {
    // OR IGNORE: an UPDATE that may abort on a constraint (count and bytes are NOT NULL, which
    // these sums never break) saves every page it changes in a statement journal first.
    auto up = m_db->cached(
        "UPDATE OR IGNORE mailbox_usage SET count = count + 1, bytes = bytes + ? "
        "WHERE mailbox = ?");
    if (!up) return std::unexpected(up.error());
    (*up)->bind(1, static_cast<std::int64_t>(size)).bind(2, mailbox);
    if (auto r = (*up)->step(); !r) return std::unexpected(r.error());
    if (m_db->changes() == 1) return {};
    auto in = m_db->cached("INSERT INTO mailbox_usage(mailbox, count, bytes) VALUES (?, 1, ?)");
    if (!in) return std::unexpected(in.error());
    (*in)->bind(1, mailbox).bind(2, static_cast<std::int64_t>(size));
    if (auto r = (*in)->step(); !r) return std::unexpected(r.error());
    return {};
}

Status EnvelopeStore::migrate(Database& db) {
    return db.migrate("envelopes", kSchema);
}

Status EnvelopeStore::migrate_before_rewrite(Database& db) {
    constexpr std::size_t kBefore = 3;
    auto version = db.schema_version("envelopes");
    if (!version) return std::unexpected(version.error());
    if (*version >= static_cast<std::int64_t>(kBefore)) return {};
    return db.migrate("envelopes", std::span(kSchema).first(kBefore));
}

Result<std::vector<bool>> EnvelopeStore::put(std::span<const StoredEnvelope> envelopes,
                                             std::vector<std::int64_t>* seqs) {
    // Check everything before writing anything, so a bad batch leaves no partial insert even
    // without a transaction.
    for (std::size_t i = 0; i < envelopes.size(); ++i)
        if (auto s = check_envelope(envelopes[i], i); !s) return std::unexpected(s.error());
    // The envelope and its mailbox's count change together: in the caller's transaction, or
    // in one of our own.
    std::optional<Database::Transaction> tx;
    if (!m_db->in_transaction()) {
        auto begun = m_db->begin();
        if (!begun) return std::unexpected(begun.error());
        tx = std::move(*begun);
    }
    // The id index is not unique (it holds a prefix): an id already held is looked for first.
    // (One INSERT ... SELECT ... WHERE NOT EXISTS on the same table fills an ephemeral table
    // each time: a relay filled with 100,000 envelopes that way held 170 MiB more.)
    auto stmt = m_db->cached(
        "INSERT INTO envelopes(id, mailbox, bytes, size, received_ms, expires_ms)"
        " VALUES (?, ?, ?, ?, ?, ?)");
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    std::vector<bool> added;
    added.reserve(envelopes.size());
    if (seqs != nullptr) seqs->assign(envelopes.size(), 0);
    for (const auto& e : envelopes) {
        auto held = contains(e.id);
        if (!held) return std::unexpected(held.error());
        if (*held) {
            added.push_back(false);
            continue;
        }
        s.reset();
        s.bind(1, e.id)
            .bind(2, e.mailbox)
            .bind(3, e.bytes)
            .bind(4, static_cast<std::int64_t>(e.bytes.size()))
            .bind(5, e.received_ms)
            .bind(6, e.expires_ms);
        auto r = s.step();
        if (!r) return std::unexpected(r.error());
        const bool is_new = m_db->changes() == 1;
        if (is_new && seqs != nullptr) (*seqs)[added.size()] = m_db->last_insert_rowid();
        added.push_back(is_new);
        if (is_new)
            if (auto c = count_added(e.mailbox, e.bytes.size()); !c)
                return std::unexpected(c.error());
    }
    s.reset();
    if (tx)
        if (auto c = tx->commit(); !c) return std::unexpected(c.error());
    return added;
}

Result<std::optional<Bytes>> EnvelopeStore::get(const RecordId& id) {
    auto stmt = m_db->cached("SELECT bytes FROM envelopes WHERE " KOLOKOL_BY_ID);
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    s.bind(1, id);
    auto r = s.step();
    if (!r) return std::unexpected(r.error());
    std::optional<Bytes> out;
    if (*r) {
        auto blob = s.column_blob(0);
        out.emplace(blob.begin(), blob.end());
    }
    s.reset();
    return out;
}

Result<bool> EnvelopeStore::contains(const RecordId& id) {
    auto stmt = m_db->cached("SELECT 1 FROM envelopes WHERE " KOLOKOL_BY_ID);
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    s.bind(1, id);
    auto r = s.step();
    s.reset();
    return r;
}

Result<std::vector<RecordId>> EnvelopeStore::ids(const MailboxId& mailbox) {
    // Read in insertion order (the mailbox index, then the rows) and sort here: an index on
    // (mailbox, id) would put every insert at a random place in a second large B-tree, doubling
    // the pages each ingest transaction dirties (and SQLCipher encrypts).
    auto stmt = m_db->cached("SELECT id FROM envelopes WHERE " KOLOKOL_BY_MAILBOX);
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    s.bind(1, mailbox);
    std::vector<RecordId> out;
    for (;;) {
        auto r = s.step();
        if (!r) return std::unexpected(r.error());
        if (!*r) break;
        out.push_back(id_from(s.column_blob(0)));
    }
    std::sort(out.begin(), out.end());
    return out;
}

Result<std::vector<RecordId>> EnvelopeStore::ids_since(const MailboxId& mailbox, std::int64_t seq,
                                                       std::int64_t* next_seq, std::size_t limit) {
    auto stmt = m_db->cached("SELECT id, seq FROM envelopes WHERE " KOLOKOL_BY_MAILBOX
                             " AND seq >= ?2 ORDER BY seq LIMIT ?3");
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    const auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    s.bind(1, mailbox).bind(2, seq).bind(3, static_cast<std::int64_t>(limit < max ? limit : max));
    std::vector<RecordId> out;
    std::int64_t next = seq;
    for (;;) {
        auto r = s.step();
        if (!r) return std::unexpected(r.error());
        if (!*r) break;
        out.push_back(id_from(s.column_blob(0)));
        next = s.column_int64(1) + 1;
    }
    if (next_seq != nullptr) *next_seq = next;
    return out;
}

Result<IdsPage> EnvelopeStore::ids_page(const MailboxId& mailbox, std::uint64_t from,
                                        std::size_t limit) {
    IdsPage page;
    if (from == 0) {
        auto counted = usage(mailbox);
        if (!counted) return std::unexpected(counted.error());
        page.total = counted->count;
    }
    std::int64_t next = 0;
    auto got = ids_since(mailbox, static_cast<std::int64_t>(from), &next, limit);
    if (!got) return std::unexpected(got.error());
    page.more = got->size() == limit;
    page.ids = std::move(*got);
    page.next = static_cast<std::uint64_t>(next);
    return page;
}

Status EnvelopeStore::sort_by_stored_order(const MailboxId& mailbox, std::vector<RecordId>& ids) {
    if (ids.size() < 2) return {};
    constexpr std::size_t kScanPage = 4'096;
    std::vector<RecordId> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    // rank[i]: position in the store of sorted[i].
    std::vector<std::uint64_t> rank(sorted.size(), std::numeric_limits<std::uint64_t>::max());
    std::uint64_t position = 0;
    std::int64_t seq = 0;
    for (;;) {
        std::int64_t next = 0;
        auto page = ids_since(mailbox, seq, &next, kScanPage);
        if (!page) return std::unexpected(page.error());
        for (const auto& id : *page) {
            auto it = std::lower_bound(sorted.begin(), sorted.end(), id);
            if (it != sorted.end() && *it == id) rank[it - sorted.begin()] = position;
            ++position;
        }
        if (page->size() < kScanPage) break;
        seq = next;
    }
    std::vector<std::size_t> order(sorted.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    // Ranks are unique but for ids not held, which keep their (id) order.
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return rank[a] != rank[b] ? rank[a] < rank[b] : a < b;
    });
    for (std::size_t i = 0; i < order.size(); ++i) ids[i] = sorted[order[i]];
    return {};
}

Result<std::int64_t> EnvelopeStore::end_seq() {
    // sqlite_sequence holds the largest seq ever handed out, including deleted ones.
    auto stmt = m_db->cached("SELECT seq FROM sqlite_sequence WHERE name = 'envelopes'");
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    auto r = s.step();
    if (!r) return std::unexpected(r.error());
    std::int64_t end = *r ? s.column_int64(0) + 1 : 0;
    s.reset();
    return end;
}

Result<MailboxUsage> EnvelopeStore::usage(const MailboxId& mailbox) {
    auto stmt = m_db->cached("SELECT count, bytes FROM mailbox_usage WHERE mailbox = ?");
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    s.bind(1, mailbox);
    auto r = s.step();
    if (!r) return std::unexpected(r.error());
    MailboxUsage u;
    if (*r) {
        u.count = static_cast<std::uint64_t>(s.column_int64(0));
        u.bytes = static_cast<std::uint64_t>(s.column_int64(1));
    }
    s.reset();
    return u;
}

Result<std::size_t> EnvelopeStore::remove(std::span<const RecordId> ids) {
    auto stmt = m_db->cached("DELETE FROM envelopes WHERE " KOLOKOL_BY_ID);
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    std::size_t removed = 0;
    for (const auto& id : ids) {
        s.reset();
        s.bind(1, id);
        auto r = s.step();
        if (!r) return std::unexpected(r.error());
        removed += static_cast<std::size_t>(m_db->changes());
    }
    s.reset();
    return removed;
}

Result<std::size_t> EnvelopeStore::expire(std::int64_t now_ms) {
    auto stmt = m_db->cached("DELETE FROM envelopes WHERE expires_ms > 0 AND expires_ms <= ?");
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    s.bind(1, now_ms);
    auto r = s.step();
    if (!r) return std::unexpected(r.error());
    s.reset();
    return static_cast<std::size_t>(m_db->changes());
}

}  // namespace kolokol::storage
