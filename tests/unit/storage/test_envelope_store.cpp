#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/envelope_store.hpp"
#include "temp_dir.hpp"

using namespace kolokol;
using namespace kolokol::storage;
using kolokol::storage::test::TempDir;

namespace {

bool has_code(const Error& e, StorageErrc c) {
    return e.code == make_error_code(c);
}

// Owns envelope bytes so that StoredEnvelope views stay valid (moving a Bytes when the outer
// vector grows keeps its heap buffer where it is).
struct Batch {
    std::vector<Bytes> bytes;
    std::vector<StoredEnvelope> envelopes;

    void add(const MailboxId& mailbox, crypto::Random& rng, std::size_t ciphertext = 340,
             std::int64_t expires_ms = 0) {
        Bytes b{kEnvelopeVersion};
        append(b, mailbox);
        append(b, rng.bytes(24 + ciphertext));
        bytes.push_back(std::move(b));
        const Bytes& e = bytes.back();
        envelopes.push_back({record_id_of(e), mailbox, e, 1000, expires_ms});
    }
};

struct Fixture {
    TempDir dir;
    crypto::SecretBytes key = [] {
        crypto::SecretBytes k(kDatabaseKeyBytes);
        crypto::DeterministicRandom(11).fill(k.mutable_view());
        return k;
    }();
    Database db = open();
    EnvelopeStore store{db};
    crypto::DeterministicRandom rng{12};
    MailboxId mb_a = rng.array<32>();
    MailboxId mb_b = rng.array<32>();

    Database open() {
        auto d = Database::open(dir / "store.db", key, true);
        REQUIRE(d);
        REQUIRE(EnvelopeStore::migrate(*d));
        return std::move(*d);
    }
};

std::vector<bool> put_ok(EnvelopeStore& store, std::span<const StoredEnvelope> envelopes) {
    auto r = store.put(envelopes);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    return *r;
}

std::uint64_t total_bytes(const Batch& b, const MailboxId& mb) {
    std::uint64_t n = 0;
    for (const auto& e : b.envelopes)
        if (e.mailbox == mb) n += e.bytes.size();
    return n;
}

// Turns a store just made into one as `version` (1, 2 or 3) left it, empty: the table with its
// UNIQUE id, and the mailbox index and triggers of that version.
void to_version(Database& db, int version) {
    std::string sql =
        "DROP TABLE envelopes;\n"
        "CREATE TABLE envelopes(\n"
        "    seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "    id BLOB NOT NULL UNIQUE CHECK (length(id) = 32),\n"
        "    mailbox BLOB NOT NULL CHECK (length(mailbox) = 32),\n"
        "    bytes BLOB NOT NULL,\n"
        "    size INTEGER NOT NULL,\n"
        "    received_ms INTEGER NOT NULL,\n"
        "    expires_ms INTEGER NOT NULL CHECK (expires_ms >= 0));\n"
        "CREATE INDEX envelopes_by_expiry ON envelopes(expires_ms) WHERE expires_ms > 0;\n"
        "CREATE TRIGGER envelopes_usage_delete AFTER DELETE ON envelopes BEGIN\n"
        "    UPDATE mailbox_usage SET count = count - 1, bytes = bytes - OLD.size\n"
        "        WHERE mailbox = OLD.mailbox;\n"
        "    DELETE FROM mailbox_usage WHERE mailbox = OLD.mailbox AND count <= 0;\n"
        "END;\n";
    sql += version < 3 ? "CREATE INDEX envelopes_by_mailbox ON envelopes(mailbox, seq, id);\n"
                       : "CREATE INDEX envelopes_by_mailbox ON envelopes(substr(mailbox, 1, 8));\n";
    if (version == 1)
        sql +=
            "CREATE TRIGGER envelopes_usage_insert AFTER INSERT ON envelopes BEGIN\n"
            "    INSERT OR IGNORE INTO mailbox_usage(mailbox, count, bytes) VALUES "
            "(NEW.mailbox, 0, 0);\n"
            "    UPDATE mailbox_usage SET count = count + 1, bytes = bytes + NEW.size\n"
            "        WHERE mailbox = NEW.mailbox;\n"
            "END;\n";
    sql += "UPDATE schema_versions SET version = " + std::to_string(version) +
           " WHERE component = 'envelopes'";
    REQUIRE(db.exec(sql));
}

std::int64_t count_of(Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    REQUIRE(st);
    REQUIRE(*st->step());
    return st->column_int64(0);
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "envelopes: migrate is idempotent and versioned") {
    REQUIRE(EnvelopeStore::migrate(db));
    auto v = db.schema_version("envelopes");
    REQUIRE(v);
    CHECK(*v == 4);
}

TEST_CASE_FIXTURE(Fixture, "envelopes: put, duplicate, get, contains") {
    Batch b;
    b.add(mb_a, rng);
    b.add(mb_a, rng);
    auto tx = db.begin();
    REQUIRE(tx);
    CHECK(put_ok(store, b.envelopes) == std::vector<bool>{true, true});
    REQUIRE(tx->commit());

    // The same again, and a duplicate inside one batch.
    CHECK(put_ok(store, b.envelopes) == std::vector<bool>{false, false});
    Batch c;
    c.add(mb_b, rng);
    std::vector<StoredEnvelope> twice{c.envelopes[0], c.envelopes[0]};
    CHECK(put_ok(store, twice) == std::vector<bool>{true, false});

    auto got = store.get(b.envelopes[1].id);
    REQUIRE(got);
    REQUIRE(got->has_value());
    CHECK(**got == b.bytes[1]);
    auto has = store.contains(c.envelopes[0].id);
    REQUIRE(has);
    CHECK(*has);

    const RecordId unknown = rng.array<32>();
    auto none = store.get(unknown);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto hasnt = store.contains(unknown);
    REQUIRE(hasnt);
    CHECK_FALSE(*hasnt);
}

TEST_CASE_FIXTURE(Fixture, "envelopes: a bad envelope fails the whole batch, nothing written") {
    Batch b;
    b.add(mb_a, rng);
    b.add(mb_a, rng);
    std::vector<StoredEnvelope> batch = b.envelopes;

    SUBCASE("id is not the hash") {
        batch[1].id[0] ^= 1;
    }
    SUBCASE("mailbox differs from the header") {
        batch[1].mailbox = mb_b;
    }
    SUBCASE("too short") {
        batch[1].bytes = batch[1].bytes.first(kEnvelopeMinBytes - 1);
    }
    SUBCASE("negative expiry") {
        batch[1].expires_ms = -1;
    }
    SUBCASE("unknown version") {
        b.bytes[1][0] = 2;
        batch[1].id = record_id_of(b.bytes[1]);
    }
    SUBCASE("too long") {
        Bytes big{kEnvelopeVersion};
        append(big, mb_a);
        append(big, rng.bytes(kEnvelopeMaxBytes));
        b.bytes.push_back(big);
        batch[1] = {record_id_of(b.bytes.back()), mb_a, b.bytes.back(), 0, 0};
    }
    auto r = store.put(batch);
    REQUIRE_FALSE(r);
    CHECK(has_code(r.error(), StorageErrc::invalid_argument));
    auto present = store.contains(b.envelopes[0].id);
    REQUIRE(present);
    CHECK_FALSE(*present);
    CHECK(*store.usage(mb_a) == MailboxUsage{0, 0});
}

TEST_CASE_FIXTURE(Fixture, "envelopes: ids come in ascending byte order, per mailbox") {
    Batch b;
    for (int i = 0; i < 60; ++i) b.add(i % 3 == 0 ? mb_b : mb_a, rng);
    put_ok(store, b.envelopes);
    auto ids = store.ids(mb_a);
    REQUIRE(ids);
    std::vector<RecordId> expected;
    for (const auto& e : b.envelopes)
        if (e.mailbox == mb_a) expected.push_back(e.id);
    std::sort(expected.begin(), expected.end());
    CHECK(ids->size() == 40);
    CHECK(*ids == expected);
    auto empty = store.ids(rng.array<32>());
    REQUIRE(empty);
    CHECK(empty->empty());
}

TEST_CASE_FIXTURE(Fixture, "envelopes: ids_since follows insertion order with a cursor") {
    Batch b;
    for (int i = 0; i < 10; ++i) b.add(i % 2 == 0 ? mb_a : mb_b, rng);
    put_ok(store, std::span(b.envelopes).first(6));

    std::int64_t cursor = 0;
    auto first = store.ids_since(mb_a, cursor, &cursor, 2);
    REQUIRE(first);
    CHECK(*first == std::vector<RecordId>{b.envelopes[0].id, b.envelopes[2].id});
    auto rest = store.ids_since(mb_a, cursor, &cursor);
    REQUIRE(rest);
    CHECK(*rest == std::vector<RecordId>{b.envelopes[4].id});
    const auto after = cursor;
    auto nothing = store.ids_since(mb_a, cursor, &cursor);
    REQUIRE(nothing);
    CHECK(nothing->empty());
    CHECK(cursor == after);

    // Delete the newest envelope: the next insert must still come after the cursor.
    const std::vector<RecordId> newest{b.envelopes[5].id, b.envelopes[4].id};
    CHECK(*store.remove(newest) == 2);
    auto end = store.end_seq();
    REQUIRE(end);
    put_ok(store, std::span(b.envelopes).subspan(6));
    auto fresh = store.ids_since(mb_a, cursor, &cursor);
    REQUIRE(fresh);
    CHECK(*fresh == std::vector<RecordId>{b.envelopes[6].id, b.envelopes[8].id});
    auto from_end = store.ids_since(mb_b, *end, nullptr);
    REQUIRE(from_end);
    CHECK(*from_end == std::vector<RecordId>{b.envelopes[7].id, b.envelopes[9].id});
}

TEST_CASE_FIXTURE(Fixture, "envelopes: ids_page pages a mailbox in insertion order") {
    Batch b;
    for (int i = 0; i < 7; ++i) b.add(i == 3 ? mb_b : mb_a, rng);
    put_ok(store, b.envelopes);
    const std::vector<RecordId> stored{b.envelopes[0].id, b.envelopes[1].id, b.envelopes[2].id,
                                       b.envelopes[4].id, b.envelopes[5].id, b.envelopes[6].id};

    auto count = store.ids_page(mb_a, 0, 0);
    REQUIRE(count);
    CHECK(count->total == 6);
    CHECK(count->ids.empty());

    std::vector<RecordId> seen;
    std::uint64_t from = 0;
    int pages = 0;
    for (bool more = true; more; ++pages) {
        auto page = store.ids_page(mb_a, from, 4);
        REQUIRE(page);
        // Only the first page counts the mailbox.
        CHECK(page->total == (from == 0 ? 6u : 0u));
        seen.insert(seen.end(), page->ids.begin(), page->ids.end());
        more = page->more;
        from = page->next;
        REQUIRE(pages < 3);
    }
    CHECK(pages == 2);
    CHECK(seen == stored);

    auto unknown = store.ids_page(rng.array<32>(), 0, 4);
    REQUIRE(unknown);
    CHECK(unknown->total == 0);
    CHECK(unknown->ids.empty());
    CHECK_FALSE(unknown->more);
}

TEST_CASE_FIXTURE(Fixture, "envelopes: sort_by_stored_order puts ids in insertion order") {
    Batch b;
    for (int i = 0; i < 6; ++i) b.add(mb_a, rng);
    b.add(mb_b, rng);
    put_ok(store, b.envelopes);
    const RecordId not_held = rng.array<32>();
    const RecordId other_mailbox = b.envelopes[6].id;

    std::vector<RecordId> ids{b.envelopes[4].id, not_held,          b.envelopes[1].id,
                              other_mailbox,     b.envelopes[5].id, b.envelopes[0].id};
    REQUIRE(store.sort_by_stored_order(mb_a, ids));
    // Held ids by insertion; the rest (not held, or of another mailbox) last, in id order.
    std::vector<RecordId> rest{not_held, other_mailbox};
    std::sort(rest.begin(), rest.end());
    CHECK(ids == std::vector<RecordId>{b.envelopes[0].id, b.envelopes[1].id, b.envelopes[4].id,
                                       b.envelopes[5].id, rest[0], rest[1]});

    std::vector<RecordId> one{not_held};
    REQUIRE(store.sort_by_stored_order(mb_a, one));
    CHECK(one == std::vector<RecordId>{not_held});
}

TEST_CASE_FIXTURE(Fixture, "envelopes: usage, remove and expire keep the counts exact") {
    Batch b;
    b.add(mb_a, rng, 100, 0);     // never expires
    b.add(mb_a, rng, 200, 5000);  // expires at 5000
    b.add(mb_a, rng, 300, 9000);  // expires at 9000
    b.add(mb_b, rng, 50, 5000);
    put_ok(store, b.envelopes);
    put_ok(store, b.envelopes);  // duplicates change nothing
    CHECK(*store.usage(mb_a) == MailboxUsage{3, total_bytes(b, mb_a)});
    CHECK(*store.usage(mb_b) == MailboxUsage{1, total_bytes(b, mb_b)});
    CHECK(*store.usage(rng.array<32>()) == MailboxUsage{0, 0});

    auto expired = store.expire(4999);
    REQUIRE(expired);
    CHECK(*expired == 0);
    expired = store.expire(5000);
    REQUIRE(expired);
    CHECK(*expired == 2);
    CHECK_FALSE(*store.contains(b.envelopes[1].id));
    CHECK(*store.contains(b.envelopes[2].id));
    CHECK(*store.usage(mb_a) == MailboxUsage{2, b.bytes[0].size() + b.bytes[2].size()});
    CHECK(*store.usage(mb_b) == MailboxUsage{0, 0});

    const std::vector<RecordId> gone{b.envelopes[2].id, b.envelopes[1].id, rng.array<32>()};
    auto removed = store.remove(gone);
    REQUIRE(removed);
    CHECK(*removed == 1);
    CHECK(*store.usage(mb_a) == MailboxUsage{1, b.bytes[0].size()});
    expired = store.expire(std::int64_t{1} << 60);
    REQUIRE(expired);
    CHECK(*expired == 0);  // expires_ms = 0 means never
    CHECK(*store.contains(b.envelopes[0].id));
}

TEST_CASE_FIXTURE(Fixture, "envelopes: a rolled-back batch leaves neither rows nor usage") {
    Batch b;
    b.add(mb_a, rng);
    b.add(mb_a, rng);
    {
        auto tx = db.begin();
        REQUIRE(tx);
        put_ok(store, b.envelopes);
        CHECK(store.usage(mb_a)->count == 2);
    }
    CHECK(*store.usage(mb_a) == MailboxUsage{0, 0});
    CHECK_FALSE(*store.contains(b.envelopes[0].id));
    CHECK(put_ok(store, b.envelopes) == std::vector<bool>{true, true});
}

TEST_CASE_FIXTURE(Fixture, "envelopes: committed envelopes survive reopening") {
    Batch b;
    for (int i = 0; i < 20; ++i) b.add(mb_a, rng);
    auto tx = db.begin();
    REQUIRE(tx);
    put_ok(store, b.envelopes);
    REQUIRE(tx->commit());
    db = Database();  // close
    auto reopened = Database::open(dir / "store.db", key, false);
    REQUIRE(reopened);
    REQUIRE(EnvelopeStore::migrate(*reopened));
    EnvelopeStore again(*reopened);
    CHECK(again.ids(mb_a)->size() == 20);
    CHECK(*again.usage(mb_a) == MailboxUsage{20, total_bytes(b, mb_a)});
    CHECK(**again.get(b.envelopes[7].id) == b.bytes[7]);
}

TEST_CASE_FIXTURE(Fixture, "envelopes: a version 1 store counts with its trigger, then in put()") {
    // A store as version 1 left it: the insert trigger counts each new envelope.
    to_version(db, 1);
    Batch old;
    old.add(mb_a, rng);
    // Written by version 1's put (the trigger alone counts): put() today would count twice
    // with the trigger still there, which is what the migration must prevent.
    auto insert = db.prepare(
        "INSERT INTO envelopes(id, mailbox, bytes, size, received_ms, expires_ms) "
        "VALUES (?, ?, ?, ?, 1000, 0)");
    REQUIRE(insert);
    insert->bind(1, old.envelopes[0].id)
        .bind(2, mb_a)
        .bind(3, ByteView(old.bytes[0]))
        .bind(4, static_cast<std::int64_t>(old.bytes[0].size()));
    REQUIRE(insert->step());
    CHECK(*store.usage(mb_a) == MailboxUsage{1, total_bytes(old, mb_a)});

    REQUIRE(EnvelopeStore::migrate(db));
    CHECK(*db.schema_version("envelopes") == 4);
    Batch b;
    b.add(mb_a, rng);
    b.add(mb_b, rng);
    CHECK(put_ok(store, b.envelopes) == std::vector<bool>{true, true});
    CHECK(*store.usage(mb_a) == MailboxUsage{2, total_bytes(old, mb_a) + total_bytes(b, mb_a)});
    CHECK(*store.usage(mb_b) == MailboxUsage{1, total_bytes(b, mb_b)});
    // Deletes still count through their trigger.
    REQUIRE(store.remove(std::vector<RecordId>{old.envelopes[0].id}));
    CHECK(*store.usage(mb_a) == MailboxUsage{1, total_bytes(b, mb_a)});
}

TEST_CASE_FIXTURE(Fixture, "envelopes: put without a transaction counts all of its batch or none") {
    Batch b;
    b.add(mb_a, rng);
    b.add(mb_a, rng);
    CHECK_FALSE(db.in_transaction());
    CHECK(put_ok(store, b.envelopes) == std::vector<bool>{true, true});
    CHECK_FALSE(db.in_transaction());
    CHECK(*store.usage(mb_a) == MailboxUsage{2, total_bytes(b, mb_a)});
    // A batch refused by its checks writes nothing, counts nothing.
    Batch c;
    c.add(mb_a, rng);
    c.add(mb_b, rng);
    auto bad = c.envelopes;
    bad[1].mailbox = mb_a;
    CHECK_FALSE(store.put(bad));
    CHECK(*store.usage(mb_a) == MailboxUsage{2, total_bytes(b, mb_a)});
    CHECK_FALSE(*store.contains(c.envelopes[0].id));
}

namespace {

// Two mailboxes whose first 8 bytes (all the mailbox index holds) are the same.
MailboxId sharing_prefix_with(const MailboxId& mailbox, crypto::Random& rng) {
    MailboxId other = rng.array<32>();
    std::copy_n(mailbox.begin(), 8, other.begin());
    return other;
}

// What every reader by mailbox sees: ids (sorted), ids_since (stored order), a sort by stored
// order, the count, and each envelope by id.
void check_mailbox(EnvelopeStore& store, const Batch& b, const MailboxId& mb,
                   const std::vector<std::size_t>& held) {
    std::vector<RecordId> in_order;
    for (auto i : held)
        if (b.envelopes[i].mailbox == mb) in_order.push_back(b.envelopes[i].id);
    auto sorted = in_order;
    std::sort(sorted.begin(), sorted.end());
    CHECK(*store.ids(mb) == sorted);
    CHECK(*store.ids_since(mb, 0, nullptr) == in_order);
    std::int64_t cursor = 0;
    std::vector<RecordId> paged;
    for (;;) {
        auto page = store.ids_since(mb, cursor, &cursor, 2);
        REQUIRE(page);
        paged.insert(paged.end(), page->begin(), page->end());
        if (page->size() < 2) break;
    }
    CHECK(paged == in_order);
    auto resorted = sorted;
    REQUIRE(store.sort_by_stored_order(mb, resorted));
    CHECK(resorted == in_order);
    CHECK(store.usage(mb)->count == in_order.size());
    for (auto i : held)
        if (b.envelopes[i].mailbox == mb) CHECK(**store.get(b.envelopes[i].id) == b.bytes[i]);
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "envelopes: mailboxes sharing the indexed prefix stay apart") {
    const MailboxId mb_c = sharing_prefix_with(mb_a, rng);
    Batch b;
    for (int i = 0; i < 9; ++i) b.add(i % 3 == 0 ? mb_a : i % 3 == 1 ? mb_c : mb_b, rng);
    put_ok(store, b.envelopes);
    const std::vector<std::size_t> all{0, 1, 2, 3, 4, 5, 6, 7, 8};
    for (const auto& mb : {mb_a, mb_b, mb_c}) check_mailbox(store, b, mb, all);
    CHECK(store.ids(sharing_prefix_with(mb_a, rng))->empty());
    // Reads by mailbox go through the index, not a scan of the envelopes.
    auto plan = db.prepare(
        "EXPLAIN QUERY PLAN SELECT id, seq FROM envelopes WHERE "
        "substr(mailbox, 1, 8) = substr(?1, 1, 8) AND mailbox = ?1 AND "
        "seq >= ?2 ORDER BY seq LIMIT ?3");
    REQUIRE(plan);
    std::string detail;
    while (*plan->step()) detail += std::string(plan->column_text(3));
    CHECK(detail.find("envelopes_by_mailbox") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "envelopes: a version 2 store moves to the narrow indexes") {
    // A store as version 2 left it: the (mailbox, seq, id) index.
    to_version(db, 2);
    const MailboxId mb_c = sharing_prefix_with(mb_a, rng);
    Batch b;
    for (int i = 0; i < 12; ++i)
        b.add(i % 3 == 0 ? mb_a : i % 3 == 1 ? mb_c : mb_b, rng, 340, i % 4 == 0 ? 5000 : 0);
    put_ok(store, b.envelopes);

    REQUIRE(EnvelopeStore::migrate(db));
    CHECK(*db.schema_version("envelopes") == 4);
    auto sql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'envelopes_by_mailbox'");
    REQUIRE(sql);
    REQUIRE(*sql->step());
    CHECK(std::string(sql->column_text(0)).find("substr(mailbox, 1, 8)") != std::string::npos);
    sql->reset();

    std::vector<std::size_t> all(12);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    for (const auto& mb : {mb_a, mb_b, mb_c}) check_mailbox(store, b, mb, all);
    // Expiry still finds its envelopes (0, 4, 8), and what stays reads as before.
    CHECK(*store.expire(6000) == 3);
    const std::vector<std::size_t> kept{1, 2, 3, 5, 6, 7, 9, 10, 11};
    for (const auto& mb : {mb_a, mb_b, mb_c}) check_mailbox(store, b, mb, kept);
    for (auto i : {0, 4, 8}) CHECK_FALSE(*store.contains(b.envelopes[i].id));
    // New envelopes go after the old ones.
    Batch more;
    more.add(mb_a, rng);
    put_ok(store, more.envelopes);
    auto since = store.ids_since(mb_a, 0, nullptr);
    REQUIRE(since);
    CHECK(since->back() == more.envelopes[0].id);
    CHECK(since->size() == 4);
}

TEST_CASE_FIXTURE(Fixture, "envelopes: ids sharing the indexed prefix stay apart") {
    Batch b;
    for (int i = 0; i < 4; ++i) b.add(mb_a, rng);
    // Rows whose ids share their first 8 bytes with b's first two (no envelope hashes to them:
    // they are written here, past put()'s checks).
    auto insert = db.prepare(
        "INSERT INTO envelopes(id, mailbox, bytes, size, received_ms, expires_ms) "
        "VALUES (?, ?, ?, 3, 1000, 0)");
    REQUIRE(insert);
    std::vector<RecordId> twins;
    for (int i = 0; i < 2; ++i) {
        RecordId twin = rng.array<32>();
        std::copy_n(b.envelopes[i].id.begin(), 8, twin.begin());
        twins.push_back(twin);
        insert->reset();
        insert->bind(1, twin).bind(2, mb_b).bind(3, as_bytes("abc"));
        REQUIRE(insert->step());
    }
    // The first is stored although a row shares its prefix; a second put finds it.
    CHECK(put_ok(store, std::span(b.envelopes).first(1)) == std::vector<bool>{true});
    CHECK(put_ok(store, std::span(b.envelopes).first(1)) == std::vector<bool>{false});
    CHECK(**store.get(b.envelopes[0].id) == b.bytes[0]);
    CHECK(**store.get(twins[0]) == to_bytes("abc"));
    // The second's twin is held, not the second.
    CHECK(*store.contains(twins[1]));
    CHECK_FALSE(*store.contains(b.envelopes[1].id));
    CHECK_FALSE(*store.get(b.envelopes[1].id));
    CHECK(*store.remove(std::vector<RecordId>{b.envelopes[1].id}) == 0);
    CHECK(*store.contains(twins[1]));
    CHECK(put_ok(store, std::span(b.envelopes).subspan(1)) == std::vector<bool>{true, true, true});
    // Removing one of two with the same prefix leaves the other.
    CHECK(*store.remove(std::vector<RecordId>{twins[0], b.envelopes[1].id}) == 2);
    CHECK(*store.contains(b.envelopes[0].id));
    CHECK(*store.contains(twins[1]));
    CHECK_FALSE(*store.contains(twins[0]));
    CHECK(*store.ids(mb_a) == [&] {
        std::vector<RecordId> v{b.envelopes[0].id, b.envelopes[2].id, b.envelopes[3].id};
        std::sort(v.begin(), v.end());
        return v;
    }());
    // Reads by id go through the index, not a scan of the envelopes.
    auto plan = db.prepare(
        "EXPLAIN QUERY PLAN SELECT bytes FROM envelopes WHERE "
        "substr(id, 1, 8) = substr(?1, 1, 8) AND id = ?1");
    REQUIRE(plan);
    std::string detail;
    while (*plan->step()) detail += std::string(plan->column_text(3));
    CHECK(detail.find("envelopes_by_id") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "envelopes: a version 3 store is rewritten without its UNIQUE id") {
    to_version(db, 3);
    const MailboxId mb_c = sharing_prefix_with(mb_a, rng);
    Batch b;
    for (int i = 0; i < 12; ++i)
        b.add(i % 3 == 0 ? mb_a : i % 3 == 1 ? mb_c : mb_b, rng, 340, i % 4 == 0 ? 5000 : 0);
    put_ok(store, std::span(b.envelopes).first(11));
    // The newest goes: the seq it had is never handed out again, after the rewrite too.
    CHECK(*store.remove(std::vector<RecordId>{b.envelopes[10].id}) == 1);
    auto end = store.end_seq();
    REQUIRE(end);
    CHECK(count_of(db,
                   "SELECT count(*) FROM sqlite_master WHERE name = "
                   "'sqlite_autoindex_envelopes_1'") == 1);

    REQUIRE(EnvelopeStore::migrate(db));
    CHECK(*db.schema_version("envelopes") == 4);
    CHECK(count_of(db,
                   "SELECT count(*) FROM sqlite_master WHERE name = "
                   "'sqlite_autoindex_envelopes_1'") == 0);
    CHECK(count_of(db,
                   "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                   "name IN ('envelopes_by_id', 'envelopes_by_mailbox', "
                   "'envelopes_by_expiry')") == 3);
    CHECK(count_of(db,
                   "SELECT count(*) FROM sqlite_master WHERE name = "
                   "'envelopes_usage_delete'") == 1);
    CHECK(*store.end_seq() == *end);

    const std::vector<std::size_t> held{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (const auto& mb : {mb_a, mb_b, mb_c}) check_mailbox(store, b, mb, held);
    CHECK(put_ok(store, std::span(b.envelopes).first(1)) == std::vector<bool>{false});
    // Expiry still finds its envelopes (0, 4, 8), and the counts follow.
    CHECK(*store.expire(6000) == 3);
    const std::vector<std::size_t> kept{1, 2, 3, 5, 6, 7, 9};
    for (const auto& mb : {mb_a, mb_b, mb_c}) check_mailbox(store, b, mb, kept);
    // The one removed before comes back after every other.
    CHECK(put_ok(store, std::span(b.envelopes).subspan(10, 1)) == std::vector<bool>{true});
    std::int64_t next = 0;
    auto after = store.ids_since(mb_c, *end, &next);
    REQUIRE(after);
    CHECK(*after == std::vector<RecordId>{b.envelopes[10].id});
    CHECK(put_ok(store, std::span(b.envelopes).subspan(11)) == std::vector<bool>{true});
    CHECK(*store.ids_since(mb_b, *end, nullptr) == std::vector<RecordId>{b.envelopes[11].id});
}
