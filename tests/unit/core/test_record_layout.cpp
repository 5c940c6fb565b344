// The records table's layout (DESIGN §7.6): a row is keyed by its envelope's row and found by id
// through the envelopes' id index; a store written with the earlier layout (keyed by id, with
// group, epoch and author keys in every row) is migrated when it opens and reads the same. A
// row holds no id: its envelope's, or record_ids' when it has none, is its id.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

#include "kolokol/storage/database.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using kolokol::test::TempDir;

namespace {

storage::Database open_db(const std::filesystem::path& home) {
    auto u = storage::KeyFile::unlock(home / "store.key", as_bytes(test::kTestPassphrase));
    REQUIRE(u);
    auto db = storage::Database::open(home / "store.db", u->db_key, false);
    REQUIRE(db);
    return std::move(*db);
}

std::int64_t count(storage::Database& db, std::string_view sql) {
    auto st = db.prepare(sql);
    REQUIRE(st);
    auto r = st->step();
    REQUIRE(r);
    REQUIRE(*r);
    return st->column_int64(0);
}

// Everything a record store tells of one record.
struct Seen {
    RecordRow row;
    RecordKind kind{};
    Bytes body;
};

// A row's id, as the record store reads it: its envelope's, or record_ids'.
#define ROW_ID                                                                             \
    "coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e " \
    "WHERE e.seq = r.n))"

std::map<RecordId, Seen> everything(Node& node) {
    auto& m = NodeTestAccess::impl(node);
    std::vector<RecordId> ids;
    {
        auto st = m.db.prepare("SELECT " ROW_ID " FROM records r");
        REQUIRE(st);
        while (st->step().value_or(false)) ids.push_back(to_array<32>(st->column_blob(0)));
    }
    std::map<RecordId, Seen> out;
    for (const auto& id : ids) {
        Seen s;
        auto row = m.records.row(id);
        REQUIRE(row);
        s.row = *row;
        auto body = m.records.body(id);
        REQUIRE(body);
        REQUIRE(*body);
        s.kind = (*body)->first;
        s.body = (*body)->second;
        REQUIRE(m.records.contains(id));
        REQUIRE(m.records.kind(id) == s.kind);
        out.emplace(id, std::move(s));
    }
    return out;
}

void check_same(const std::map<RecordId, Seen>& before, const std::map<RecordId, Seen>& after) {
    REQUIRE(after.size() == before.size());
    for (const auto& [id, b] : before) {
        auto it = after.find(id);
        REQUIRE(it != after.end());
        const auto& a = it->second;
        CHECK(a.row.id == b.row.id);
        CHECK(a.row.group == b.row.group);
        CHECK(a.row.epoch == b.row.epoch);
        CHECK(a.row.author == b.row.author);
        CHECK(a.row.seq == b.row.seq);
        CHECK(a.row.prev == b.row.prev);
        CHECK(a.row.lamport == b.row.lamport);
        CHECK(a.row.heads == b.row.heads);
        CHECK(a.row.wall_ms == b.row.wall_ms);
        CHECK(a.kind == b.kind);
        CHECK(a.body == b.body);
    }
}

// Rewrites a store's records into the layout core's schema steps 1-7 made (the table keyed by
// id), as a kolokol built before step 8 left it.
void to_earlier_layout(const std::filesystem::path& home) {
    auto db = open_db(home);
    auto tx = db.begin();
    REQUIRE(tx);
    REQUIRE(db.exec(R"sql(
CREATE TABLE records_by_id(
  id BLOB PRIMARY KEY, group_id BLOB NOT NULL, epoch_id BLOB NOT NULL, author BLOB NOT NULL,
  seq INTEGER NOT NULL, prev BLOB, lamport INTEGER NOT NULL, kind INTEGER NOT NULL,
  heads BLOB NOT NULL, signed BLOB NOT NULL, wall_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL)
)sql"));
    REQUIRE(db.exec(R"sql(
INSERT INTO records_by_id SELECT coalesce((SELECT id FROM record_ids x WHERE x.n = r.n),
  (SELECT id FROM envelopes e WHERE e.seq = r.n)),
  (SELECT key FROM record_keys WHERE n = r.group_n), (SELECT key FROM record_keys WHERE n = r.epoch_n),
  (SELECT key FROM record_keys WHERE n = r.author_n), r.seq,
  CASE WHEN typeof(r.prev) = 'integer' THEN coalesce((SELECT id FROM record_ids x WHERE x.n = r.prev),
    (SELECT id FROM envelopes e WHERE e.seq = r.prev)) ELSE r.prev END, r.lamport, r.kind,
  CASE WHEN typeof(r.heads) = 'integer' THEN coalesce((SELECT id FROM record_ids x WHERE x.n = r.heads),
    (SELECT id FROM envelopes e WHERE e.seq = r.heads)) ELSE r.heads END,
  r.signed, r.wall_ms, r.received_ms FROM records r
)sql"));
    for (const char* sql :
         {"DROP TRIGGER records_envelope_gone", "DROP TABLE records", "DROP TABLE record_ids",
          "DROP TABLE record_keys", "ALTER TABLE records_by_id RENAME TO records",
          "CREATE INDEX records_by_kind ON records(group_id, kind, lamport, id)",
          "CREATE INDEX records_by_author ON records(group_id, author, seq)",
          "UPDATE schema_versions SET version = 7 WHERE component = 'core'"})
        REQUIRE(db.exec(sql));
    REQUIRE(tx->commit());
}

bool has_column(storage::Database& db, std::string_view table, std::string_view column) {
    auto st = db.prepare("PRAGMA table_info(" + std::string(table) + ")");
    REQUIRE(st);
    while (st->step().value_or(false))
        if (st->column_text(1) == column) return true;
    return false;
}

// Puts the records' ids back in their rows, as core's schema steps 8 and 9 left them (the
// store's version set to `version`, 8 or 9).
void to_rows_with_ids(storage::Database& db, int version) {
    auto tx = db.begin();
    REQUIRE(tx);
    for (std::string sql :
         {std::string("ALTER TABLE records ADD COLUMN id BLOB"),
          std::string("UPDATE records SET id = coalesce((SELECT id FROM record_ids x WHERE x.n = "
                      "records.n), (SELECT id FROM envelopes e WHERE e.seq = records.n))"),
          std::string("UPDATE records SET prev = coalesce((SELECT id FROM record_ids x WHERE x.n = "
                      "records.prev), (SELECT id FROM envelopes e WHERE e.seq = records.prev)) "
                      "WHERE typeof(prev) = 'integer'"),
          std::string(
              "UPDATE records SET heads = coalesce((SELECT id FROM record_ids x WHERE x.n = "
              "records.heads), (SELECT id FROM envelopes e WHERE e.seq = records.heads)) "
              "WHERE typeof(heads) = 'integer'"),
          "UPDATE schema_versions SET version = " + std::to_string(version) +
              " WHERE component = 'core'"})
        REQUIRE(db.exec(sql));
    REQUIRE(tx->commit());
    CHECK(count(db, "SELECT count(*) FROM records WHERE length(id) = 32") ==
          count(db, "SELECT count(*) FROM records"));
    CHECK(count(db, "SELECT count(*) FROM records WHERE typeof(prev) NOT IN ('blob', 'null')") ==
          0);
}

}  // namespace

TEST_CASE("record layout: a row is its envelope's, found by id through the envelope's index") {
    TempDir dir;
    auto node = test::make_node(dir.path() / "anna", "Anna");
    auto g = node->create_group("G");
    REQUIRE(g);
    auto first = node->post(*g, "one");
    REQUIRE(first);
    REQUIRE(node->post(*g, "two"));
    auto& m = NodeTestAccess::impl(*node);
    // Every record's row number is its envelope's, and no index of records is keyed by id.
    const auto held = count(m.db, "SELECT count(*) FROM records");
    CHECK(held >= 3);
    CHECK(count(m.db, "SELECT count(*) FROM records r JOIN envelopes e ON e.seq = r.n") == held);
    CHECK(count(m.db, "SELECT count(*) FROM record_ids") == 0);
    // The row holds no id: its envelope's is its id.
    CHECK_FALSE(has_column(m.db, "records", "id"));
    // Each of Anna's records after her first names the one before by its row number.
    CHECK(count(m.db, "SELECT count(*) FROM records WHERE typeof(prev) = 'integer'") == held - 1);
    CHECK(count(m.db, "SELECT count(*) FROM records WHERE typeof(prev) = 'blob'") == 0);
    // A record with one control head held names it by row number.
    CHECK(count(m.db, "SELECT count(*) FROM records WHERE typeof(heads) = 'integer'") >= held - 2);
    CHECK(count(m.db,
                "SELECT count(*) FROM records WHERE typeof(heads) = 'blob' AND "
                "length(heads) = 32") == 0);
    {
        auto st = m.db.prepare("PRAGMA index_list(records)");
        REQUIRE(st);
        int indexes = 0;
        while (st->step().value_or(false)) {
            ++indexes;
            CHECK(st->column_int64(2) == 0);  // not unique: no id key
        }
        CHECK(indexes == 2);
    }
    // The group, its epoch (the first one's id is the group's) and Anna, however many records.
    const auto keys = count(m.db, "SELECT count(*) FROM record_keys");
    CHECK(keys <= 3);
    for (int i = 0; i < 5; ++i) REQUIRE(node->post(*g, "more"));
    CHECK(count(m.db, "SELECT count(*) FROM record_keys") == keys);
    CHECK(count(m.db, "SELECT count(*) FROM records") == held + 5);

    // Redacted, the message's envelope goes and its tombstone stays, found through record_ids.
    REQUIRE(node->redact(*g, *first, ""));
    CHECK(count(m.db, "SELECT count(*) FROM record_ids") == 1);
    CHECK(m.records.contains(*first));
    CHECK(m.records.kind(*first) == RecordKind::redacted);
    auto row = m.records.row(*first);
    REQUIRE(row);
    CHECK(row->id == *first);
    CHECK(test::texts(*node, *g).size() == 6);

    // A record removed to be fetched again (no cut): the next one names it by id instead of by
    // its row number; removed for good, the link is cut.
    auto before_last = node->post(*g, "before last");
    REQUIRE(before_last);
    auto last = node->post(*g, "last");
    REQUIRE(last);
    CHECK(m.records.row(*last)->prev == *before_last);
    const std::vector<RecordId> refetch{*before_last};
    REQUIRE(m.records.remove(refetch, false));
    CHECK(m.records.row(*last)->prev == *before_last);
    CHECK(count(m.db, "SELECT count(*) FROM records WHERE typeof(prev) = 'blob'") == 1);
    auto tail = node->post(*g, "tail");
    REQUIRE(tail);
    const std::vector<RecordId> gone{*last};
    REQUIRE(m.records.remove(gone));
    CHECK_FALSE(m.records.row(*tail)->prev);
}

TEST_CASE(
    "record layout: a store of the earlier layout is migrated when it opens and reads the "
    "same") {
    TempDir dir;
    auto anna = test::make_node(dir.path() / "anna", "Anna");
    auto boris = test::make_node(dir.path() / "boris", "Boris");
    auto g = anna->create_group("G");
    REQUIRE(g);
    auto token = anna->add_member(*g, card_to_text(boris->card()), false, true);
    REQUIRE(token);
    REQUIRE(boris->join(*token));
    auto gone = anna->post(*g, "from anna, redacted");
    REQUIRE(gone);
    REQUIRE(anna->post(*g, "from anna"));
    test::deliver(*anna, *boris);
    REQUIRE(boris->post(*g, "from boris"));
    test::deliver(*boris, *anna);
    REQUIRE(anna->rotate(*g));
    REQUIRE(anna->post(*g, "after the rotation"));
    REQUIRE(anna->redact(*g, *gone, ""));
    test::deliver(*anna, *boris);
    const auto texts = test::texts(*anna, *g);
    CHECK(texts.size() == 3);
    const auto before = everything(*anna);
    REQUIRE(before.size() >= 8);
    anna.reset();

    to_earlier_layout(dir.path() / "anna");
    {
        auto db = open_db(dir.path() / "anna");
        CHECK(count(db, "SELECT count(*) FROM records") ==
              static_cast<std::int64_t>(before.size()));
        CHECK(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'record_keys'") == 0);
        CHECK(count(db, "SELECT count(*) FROM records WHERE length(group_id) = 32") ==
              static_cast<std::int64_t>(before.size()));
    }

    anna = test::reopen(dir.path() / "anna");
    REQUIRE(anna);
    auto& m = NodeTestAccess::impl(*anna);
    CHECK(count(m.db, "SELECT version FROM schema_versions WHERE component = 'core'") == 12);
    // The tombstone, whose envelope was gone, has a number no envelope takes.
    CHECK(count(m.db, "SELECT count(*) FROM record_ids WHERE n < 0") == 1);
    CHECK(count(m.db, "SELECT count(*) FROM records WHERE n < 0") == 1);
    check_same(before, everything(*anna));
    CHECK(test::texts(*anna, *g) == texts);

    // It works on: writes, receives, redacts and syncs.
    REQUIRE(anna->post(*g, "after the migration"));
    REQUIRE(boris->post(*g, "boris after"));
    test::deliver(*boris, *anna);
    auto texts_now = test::texts(*anna, *g);
    CHECK(texts_now.size() == 5);
    auto last = anna->post(*g, "to redact");
    REQUIRE(last);
    REQUIRE(anna->redact(*g, *last, ""));
    CHECK(m.records.kind(*last) == RecordKind::redacted);
    CHECK(test::texts(*anna, *g) == texts_now);
    test::deliver(*anna, *boris);
    CHECK(test::texts(*boris, *g) == texts_now);
    anna.reset();
    anna = test::reopen(dir.path() / "anna");
    REQUIRE(anna);
    CHECK(test::texts(*anna, *g) == texts_now);
}

TEST_CASE(
    "envelope layout: a member store with the full id and mailbox indexes moves to the narrow "
    "ones and reads the same") {
    TempDir dir;
    auto anna = test::make_node(dir.path() / "anna", "Anna");
    auto boris = test::make_node(dir.path() / "boris", "Boris");
    auto g = anna->create_group("G");
    REQUIRE(g);
    auto token = anna->add_member(*g, card_to_text(boris->card()), false, true);
    REQUIRE(token);
    REQUIRE(boris->join(*token));
    REQUIRE(anna->post(*g, "from anna"));
    test::deliver(*anna, *boris);
    REQUIRE(boris->post(*g, "from boris"));
    test::deliver(*boris, *anna);
    REQUIRE(anna->rotate(*g));
    REQUIRE(anna->post(*g, "after the rotation"));
    test::deliver(*anna, *boris);
    const auto texts = test::texts(*anna, *g);
    const auto before = everything(*anna);
    // Each mailbox's ids, sorted and in stored order.
    auto by_mailbox = [](Node& node, const GroupId& group) {
        auto& m = NodeTestAccess::impl(node);
        std::map<MailboxId, std::pair<std::vector<RecordId>, std::vector<RecordId>>> out;
        for (const auto& mb : node.mailboxes(&group)) {
            auto ids = m.envelopes->ids(mb);
            REQUIRE(ids);
            auto since = m.envelopes->ids_since(mb, 0, nullptr);
            REQUIRE(since);
            out[mb] = {*ids, *since};
        }
        return out;
    };
    const auto mailboxes = by_mailbox(*anna, *g);
    REQUIRE(mailboxes.size() >= 2);
    anna.reset();

    {
        // The store as it was before envelopes step 3: the table with its UNIQUE id, the
        // (mailbox, seq, id) index, and the triggers of the envelope store, core and quota.
        auto db = open_db(dir.path() / "anna");
        REQUIRE(db.exec(R"sql(
CREATE TABLE envelopes_old(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id BLOB NOT NULL UNIQUE CHECK (length(id) = 32),
    mailbox BLOB NOT NULL CHECK (length(mailbox) = 32),
    bytes BLOB NOT NULL,
    size INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL CHECK (expires_ms >= 0));
INSERT INTO envelopes_old SELECT * FROM envelopes;
DROP TABLE envelopes;
ALTER TABLE envelopes_old RENAME TO envelopes;
CREATE INDEX envelopes_by_mailbox ON envelopes(mailbox, seq, id);
CREATE INDEX envelopes_by_expiry ON envelopes(expires_ms) WHERE expires_ms > 0;
CREATE TRIGGER envelopes_usage_delete AFTER DELETE ON envelopes BEGIN
    UPDATE mailbox_usage SET count = count - 1, bytes = bytes - OLD.size
        WHERE mailbox = OLD.mailbox;
    DELETE FROM mailbox_usage WHERE mailbox = OLD.mailbox AND count <= 0;
END;
CREATE TRIGGER unverified_envelope_gone AFTER DELETE ON envelopes BEGIN
  DELETE FROM unverified WHERE id = OLD.id;
END;
CREATE TRIGGER records_envelope_gone AFTER DELETE ON envelopes
  WHEN EXISTS (SELECT 1 FROM records WHERE n = OLD.seq) BEGIN
  INSERT OR IGNORE INTO record_ids(n, id) VALUES (OLD.seq, OLD.id);
END;
UPDATE schema_versions SET version = 2 WHERE component = 'envelopes';
UPDATE schema_versions SET version = 2 WHERE component = 'quota';
)sql"));
        to_rows_with_ids(db, 8);
        CHECK(count(db,
                    "SELECT count(*) FROM sqlite_master WHERE name = "
                    "'sqlite_autoindex_envelopes_1'") == 1);
    }

    anna = test::reopen(dir.path() / "anna");
    REQUIRE(anna);
    auto& m = NodeTestAccess::impl(*anna);
    CHECK(count(m.db, "SELECT version FROM schema_versions WHERE component = 'envelopes'") == 4);
    CHECK(count(m.db, "SELECT version FROM schema_versions WHERE component = 'core'") == 12);
    CHECK(count(m.db, "SELECT version FROM schema_versions WHERE component = 'quota'") == 3);
    CHECK(count(m.db,
                "SELECT count(*) FROM sqlite_master WHERE name = "
                "'sqlite_autoindex_envelopes_1'") == 0);
    // The other components' triggers on the rewritten table are back.
    CHECK(count(m.db,
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = "
                "'envelopes' AND name IN ('envelopes_usage_delete', "
                "'unverified_envelope_gone', 'records_envelope_gone')") == 3);
    check_same(before, everything(*anna));
    CHECK(by_mailbox(*anna, *g) == mailboxes);
    CHECK(test::texts(*anna, *g) == texts);
    // It works on: receives, writes, and a redaction's tombstone (its envelope deleted, the
    // record staying) is found through record_ids, which the trigger fills.
    REQUIRE(boris->post(*g, "boris after"));
    test::deliver(*boris, *anna);
    CHECK(test::texts(*anna, *g).size() == texts.size() + 1);
    auto last = anna->post(*g, "to redact");
    REQUIRE(last);
    REQUIRE(anna->redact(*g, *last, ""));
    CHECK(m.records.kind(*last) == RecordKind::redacted);
    CHECK(count(m.db, "SELECT count(*) FROM record_ids") >= 1);
    CHECK(test::texts(*anna, *g).size() == texts.size() + 1);
    anna.reset();
    anna = test::reopen(dir.path() / "anna");
    REQUIRE(anna);
    CHECK(test::texts(*anna, *g).size() == texts.size() + 1);
}

TEST_CASE(
    "record layout: a store whose rows hold their ids loses them when it opens, and finds every "
    "record by id, author chain and kind; redaction and retention work on") {
    TempDir dir;
    std::int64_t now = 1'900'000'000'000;
    auto clock = [&] { return now; };
    auto anna = test::make_node(dir.path() / "anna", "Anna");
    auto boris = test::make_node(dir.path() / "boris", "Boris");
    anna->set_clock(clock);
    boris->set_clock(clock);
    auto g = anna->create_group("G");
    REQUIRE(g);
    auto token = anna->add_member(*g, card_to_text(boris->card()), false, true);
    REQUIRE(token);
    REQUIRE(boris->join(*token));
    auto gone = anna->post(*g, "from anna, redacted");
    REQUIRE(gone);
    auto kept = anna->post(*g, "from anna");
    REQUIRE(kept);
    test::deliver(*anna, *boris);
    auto from_boris = boris->post(*g, "from boris");
    REQUIRE(from_boris);
    test::deliver(*boris, *anna);
    REQUIRE(anna->rotate(*g));
    REQUIRE(anna->post(*g, "after the rotation"));
    REQUIRE(anna->redact(*g, *gone, ""));
    test::deliver(*anna, *boris);
    const auto texts = test::texts(*anna, *g);
    const auto before = everything(*anna);
    REQUIRE(before.size() >= 8);
    // What a record store finds by author chain and by kind.
    auto chains = [&](Node& node) {
        auto& m = NodeTestAccess::impl(node);
        std::map<MemberKey, std::vector<std::pair<std::uint64_t, RecordId>>> out;
        for (const auto& [id, seen] : before) {
            if (seen.row.group != *g || out.contains(seen.row.author)) continue;
            auto chain = m.records.chain_from(*g, seen.row.author, 0);
            REQUIRE(chain);
            auto& c = out[seen.row.author];
            for (const auto& link : *chain) c.emplace_back(link.seq, link.id);
            std::sort(c.begin(), c.end());
            auto last = m.records.last_by(*g, seen.row.author);
            REQUIRE(last);
            REQUIRE(*last);
            CHECK((*last)->id == c.back().second);
        }
        return out;
    };
    auto by_kind = [&](Node& node) {
        auto& m = NodeTestAccess::impl(node);
        std::map<RecordKind, std::vector<RecordId>> out;
        for (auto kind : {RecordKind::message, RecordKind::redacted, RecordKind::redaction,
                          RecordKind::membership, RecordKind::settings}) {
            auto ids = m.records.ids(*g, kind);
            REQUIRE(ids);
            out[kind] = *ids;
        }
        return out;
    };
    const auto chains_before = chains(*anna);
    REQUIRE(chains_before.size() == 2);
    const auto kinds_before = by_kind(*anna);
    CHECK(kinds_before.at(RecordKind::message).size() == 3);
    CHECK(kinds_before.at(RecordKind::redacted).size() == 1);
    anna.reset();

    {
        auto db = open_db(dir.path() / "anna");
        to_rows_with_ids(db, 9);
        CHECK(has_column(db, "records", "id"));
    }
    anna = test::reopen(dir.path() / "anna");
    REQUIRE(anna);
    anna->set_clock(clock);
    auto& m = NodeTestAccess::impl(*anna);
    CHECK(count(m.db, "SELECT version FROM schema_versions WHERE component = 'core'") == 12);
    CHECK_FALSE(has_column(m.db, "records", "id"));
    // Every `prev` of a record held is its row number now (step 11).
    CHECK(count(m.db, "SELECT count(*) FROM records WHERE typeof(prev) = 'integer'") >= 5);
    CHECK(count(m.db, "SELECT count(*) FROM records WHERE typeof(prev) = 'blob'") == 0);
    // And a single control head held is its row number (step 12).
    CHECK(count(m.db, "SELECT count(*) FROM records WHERE typeof(heads) = 'integer'") >= 5);
    CHECK(count(m.db,
                "SELECT count(*) FROM records WHERE typeof(heads) = 'blob' AND "
                "length(heads) = 32") == 0);
    // Only the tombstone, whose envelope went, is in record_ids; the trigger is back.
    CHECK(count(m.db, "SELECT count(*) FROM record_ids") == 1);
    CHECK(count(m.db,
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = "
                "'records_envelope_gone'") == 1);
    CHECK(count(m.db,
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                "'records'") == 2);
    check_same(before, everything(*anna));
    CHECK(chains(*anna) == chains_before);
    CHECK(by_kind(*anna) == kinds_before);
    CHECK(test::texts(*anna, *g) == texts);

    // Redaction works on: the envelope goes, the tombstone is found by its id.
    REQUIRE(boris->post(*g, "boris after"));
    test::deliver(*boris, *anna);
    auto last = anna->post(*g, "to redact");
    REQUIRE(last);
    REQUIRE(anna->redact(*g, *last, ""));
    CHECK(m.records.kind(*last) == RecordKind::redacted);
    auto row = m.records.row(*last);
    REQUIRE(row);
    CHECK(row->id == *last);
    CHECK(count(m.db, "SELECT count(*) FROM record_ids") == 2);
    CHECK(test::texts(*anna, *g).size() == texts.size() + 1);

    // Retention: what expired is gone, and no id of it is left anywhere in the database.
    now += 3600 * 1000;
    REQUIRE(anna->set_retention(*g, 24 * 3600));
    now += 2 * 24 * 3600 * 1000LL;
    auto fresh = anna->post(*g, "fresh");
    REQUIRE(fresh);
    auto r = anna->apply_retention();
    REQUIRE(r);
    CHECK(r->records > 0);
    CHECK(test::texts(*anna, *g) == std::vector<std::string>{"fresh"});
    CHECK(m.records.contains(*fresh));
    auto fresh_row = m.records.row(*fresh);
    REQUIRE(fresh_row);
    CHECK(fresh_row->id == *fresh);
    for (const auto& id : {*gone, *kept, *from_boris, *last}) CHECK_FALSE(m.records.contains(id));
    auto plain = dir.path() / "plain.db";
    std::ofstream(plain).close();
    REQUIRE(m.db.exec("ATTACH DATABASE '" + plain.string() + "' AS plaintext KEY ''"));
    REQUIRE(m.db.exec("SELECT sqlcipher_export('plaintext')"));
    REQUIRE(m.db.exec("DETACH DATABASE plaintext"));
    std::ifstream in(plain, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(bytes.find(std::string(as_chars(ByteView(*fresh)))) != std::string::npos);
    // The two tombstones, named by no control record (surviving control records may name
    // expired records as parents: SECURITY.md row 30), are nowhere.
    for (const auto& id : {*gone, *last})
        CHECK(bytes.find(std::string(as_chars(ByteView(id)))) == std::string::npos);
    CHECK(count(m.db, "SELECT count(*) FROM record_ids") == 0);
}
