#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <filesystem>
#include <string_view>

#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/database.hpp"
#include "temp_dir.hpp"

using namespace kolokol;
using namespace kolokol::storage;
using kolokol::storage::test::TempDir;

namespace {

crypto::SecretBytes key_from_seed(std::uint64_t seed) {
    crypto::DeterministicRandom rng(seed);
    crypto::SecretBytes key(kDatabaseKeyBytes);
    rng.fill(key.mutable_view());
    return key;
}

bool has_code(const Error& e, StorageErrc c) {
    return e.code == make_error_code(c);
}

Database open_ok(const std::filesystem::path& p, const crypto::SecretBytes& key, bool create) {
    auto db = Database::open(p, key, create);
    REQUIRE_MESSAGE(db.has_value(), (db ? "" : db.error().message));
    return std::move(*db);
}

void fill_rows(Database& db, int rows) {
    REQUIRE(db.exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)"));
    auto tx = db.begin();
    REQUIRE(tx);
    auto stmt = db.cached("INSERT INTO t(v) VALUES(?)");
    REQUIRE(stmt);
    crypto::DeterministicRandom rng(7);
    for (int i = 0; i < rows; ++i) {
        (*stmt)->reset();
        (*stmt)->bind(1, rng.bytes(400));
        auto r = (*stmt)->step();
        REQUIRE(r);
    }
    REQUIRE(tx->commit());
}

std::int64_t count_rows(Database& db, std::string_view sql = "SELECT count(*) FROM t") {
    auto stmt = db.prepare(sql);
    REQUIRE(stmt);
    auto r = stmt->step();
    REQUIRE(r);
    REQUIRE(*r);
    return stmt->column_int64(0);
}

std::string pragma_text(Database& db, std::string_view sql) {
    auto stmt = db.prepare(sql);
    REQUIRE(stmt);
    auto r = stmt->step();
    REQUIRE(r);
    REQUIRE(*r);
    return stmt->column_text(0);
}

}  // namespace

TEST_CASE("database: create, write, close, reopen with the right key") {
    TempDir dir;
    auto key = key_from_seed(1);
    {
        auto db = open_ok(dir / "store.db", key, true);
        fill_rows(db, 50);
    }
    auto db = open_ok(dir / "store.db", key, false);
    CHECK(count_rows(db) == 50);
}

TEST_CASE("database: the connection runs with the settings DESIGN §4 asks for") {
    TempDir dir;
    auto key = key_from_seed(1);
    auto db = open_ok(dir / "store.db", key, true);
    CHECK(pragma_text(db, "PRAGMA journal_mode") == "wal");
    CHECK(count_rows(db, "PRAGMA synchronous") == 2);  // FULL
    CHECK(count_rows(db, "PRAGMA secure_delete") == 1);
    CHECK(count_rows(db, "PRAGMA foreign_keys") == 1);
    CHECK(count_rows(db, "PRAGMA temp_store") == 2);  // MEMORY
    CHECK(count_rows(db, "PRAGMA cache_size") == -131072);
    CHECK(count_rows(db, "PRAGMA cipher_page_size") == 4096);
}

TEST_CASE("database: a wrong key is reported at open as not_a_database") {
    TempDir dir;
    {
        auto key = key_from_seed(1);
        auto db = open_ok(dir / "store.db", key, true);
        fill_rows(db, 3);
    }
    auto other = key_from_seed(2);
    auto db = Database::open(dir / "store.db", other, false);
    REQUIRE_FALSE(db);
    CHECK(has_code(db.error(), StorageErrc::not_a_database));
    CHECK_FALSE(db.error().message.empty());
}

TEST_CASE("database: the key must be 32 bytes") {
    TempDir dir;
    auto short_key = crypto::SecretBytes(16);
    auto db = Database::open(dir / "store.db", short_key, true);
    REQUIRE_FALSE(db);
    CHECK(has_code(db.error(), StorageErrc::invalid_argument));
    CHECK_FALSE(std::filesystem::exists(dir / "store.db"));
}

TEST_CASE("database: the file does not start with the SQLite header") {
    TempDir dir;
    auto key = key_from_seed(1);
    {
        auto db = open_ok(dir / "store.db", key, true);
        fill_rows(db, 3);
        REQUIRE(db.checkpoint_truncate());
    }
    {
        auto plain = Database::open_plain(dir / "plain.db", true);
        REQUIRE(plain);
        fill_rows(*plain, 3);
        REQUIRE(plain->checkpoint_truncate());
    }
    const std::string_view magic("SQLite format 3\0", 16);
    auto enc = test::read_file(dir / "store.db");
    auto plain = test::read_file(dir / "plain.db");
    REQUIRE(enc.size() >= 4096);
    REQUIRE(plain.size() >= 16);
    // The plain file shows the check can tell the difference.
    CHECK(as_chars(ByteView(plain).first(16)) == magic);
    CHECK(as_chars(ByteView(enc).first(16)) != magic);
    // Nothing of the schema is visible in the clear either.
    CHECK(as_chars(enc).find("CREATE TABLE") == std::string_view::npos);
    CHECK(as_chars(plain).find("CREATE TABLE") != std::string_view::npos);
}

TEST_CASE("database: a plaintext SQLite file opened with a key is not_a_database") {
    TempDir dir;
    {
        auto plain = Database::open_plain(dir / "plain.db", true);
        REQUIRE(plain);
        fill_rows(*plain, 3);
    }
    auto key = key_from_seed(1);
    auto db = Database::open(dir / "plain.db", key, false);
    REQUIRE_FALSE(db);
    CHECK(has_code(db.error(), StorageErrc::not_a_database));
}

TEST_CASE("database: garbage, empty and truncated files give clear errors") {
    TempDir dir;
    auto key = key_from_seed(1);
    crypto::DeterministicRandom rng(3);

    SUBCASE("garbage") {
        test::write_file(dir / "g.db", rng.bytes(64 * 1024));
        auto db = Database::open(dir / "g.db", key, false);
        REQUIRE_FALSE(db);
        CHECK(has_code(db.error(), StorageErrc::not_a_database));
    }
    SUBCASE("text") {
        test::write_file(dir / "g.db", as_bytes("hello, this is not a database\n"));
        auto db = Database::open(dir / "g.db", key, false);
        REQUIRE_FALSE(db);
        CHECK(has_code(db.error(), StorageErrc::not_a_database));
    }
    SUBCASE("empty file without create") {
        test::write_file(dir / "g.db", {});
        auto db = Database::open(dir / "g.db", key, false);
        REQUIRE_FALSE(db);
        CHECK(has_code(db.error(), StorageErrc::not_a_database));
    }
    SUBCASE("missing file without create") {
        auto db = Database::open(dir / "none.db", key, false);
        REQUIRE_FALSE(db);
        CHECK(has_code(db.error(), StorageErrc::not_found));
        CHECK_FALSE(std::filesystem::exists(dir / "none.db"));
    }
    SUBCASE("a directory") {
        std::filesystem::create_directory(dir / "d.db");
        auto db = Database::open(dir / "d.db", key, true);
        REQUIRE_FALSE(db);
        CHECK(has_code(db.error(), StorageErrc::io));
    }
    SUBCASE("truncated inside the first page") {
        {
            auto db = open_ok(dir / "t.db", key, true);
            fill_rows(db, 200);
            REQUIRE(db.checkpoint_truncate());
        }
        std::filesystem::resize_file(dir / "t.db", 1000);
        auto db = Database::open(dir / "t.db", key, false);
        REQUIRE_FALSE(db);
        CHECK(has_code(db.error(), StorageErrc::not_a_database));
    }
    SUBCASE("truncated to half") {
        {
            auto db = open_ok(dir / "t.db", key, true);
            fill_rows(db, 200);
            REQUIRE(db.checkpoint_truncate());
        }
        auto size = std::filesystem::file_size(dir / "t.db");
        REQUIRE(size > 8 * 4096);
        std::filesystem::resize_file(dir / "t.db", (size / 2 / 4096) * 4096);
        // Page 1 survives, so the open may succeed; reading the lost pages must then fail
        // cleanly as corrupt.
        auto db = Database::open(dir / "t.db", key, false);
        if (db) {
            auto stmt = db->prepare("SELECT sum(length(v)) FROM t");
            REQUIRE(stmt);
            auto r = stmt->step();
            REQUIRE_FALSE(r);
            CHECK(has_code(r.error(), StorageErrc::corrupt));
        } else {
            CHECK(has_code(db.error(), StorageErrc::corrupt));
        }
    }
    SUBCASE("one flipped byte in a data page") {
        {
            auto db = open_ok(dir / "t.db", key, true);
            fill_rows(db, 200);
            REQUIRE(db.checkpoint_truncate());
        }
        auto bytes = test::read_file(dir / "t.db");
        REQUIRE(bytes.size() > 5 * 4096);
        bytes[3 * 4096 + 100] ^= 0x01;
        test::write_file(dir / "t.db", bytes);
        auto db = Database::open(dir / "t.db", key, false);
        REQUIRE(db);  // page 1 is intact
        auto stmt = db->prepare("SELECT sum(length(v)) FROM t");
        REQUIRE(stmt);
        auto r = stmt->step();
        REQUIRE_FALSE(r);
        // SQLCipher's per-page HMAC catches the flip.
        CHECK(has_code(r.error(), StorageErrc::corrupt));
    }
}

TEST_CASE("database: files are created 0600 whatever the umask") {
    TempDir dir;
    test::ScopedUmask umask(0);
    auto key = key_from_seed(1);
    auto db = open_ok(dir / "store.db", key, true);
    fill_rows(db, 3);
    CHECK(test::file_mode(dir / "store.db") == 0600);
    REQUIRE(std::filesystem::exists(dir / "store.db-wal"));
    CHECK(test::file_mode(dir / "store.db-wal") == 0600);
    CHECK(test::file_mode(dir / "store.db-shm") == 0600);
}

TEST_CASE("database: checkpoint_truncate empties the WAL") {
    TempDir dir;
    auto key = key_from_seed(1);
    auto db = open_ok(dir / "store.db", key, true);
    fill_rows(db, 100);
    CHECK(std::filesystem::file_size(dir / "store.db-wal") > 0);
    REQUIRE(db.checkpoint_truncate());
    CHECK(std::filesystem::file_size(dir / "store.db-wal") == 0);
    CHECK(count_rows(db) == 100);
}

TEST_CASE("database: a transaction rolls back when destroyed without commit") {
    TempDir dir;
    auto key = key_from_seed(1);
    auto db = open_ok(dir / "store.db", key, true);
    REQUIRE(db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)"));
    {
        auto tx = db.begin();
        REQUIRE(tx);
        CHECK(db.in_transaction());
        REQUIRE(db.exec("INSERT INTO t(v) VALUES(x'01')"));
        CHECK(count_rows(db) == 1);
    }
    CHECK_FALSE(db.in_transaction());
    CHECK(count_rows(db) == 0);
    {
        auto tx = db.begin();
        REQUIRE(tx);
        REQUIRE(db.exec("INSERT INTO t(v) VALUES(x'02')"));
        REQUIRE(tx->commit());
        CHECK_FALSE(tx->commit());  // already ended
    }
    CHECK(count_rows(db) == 1);

    SUBCASE("transactions do not nest") {
        auto tx = db.begin();
        REQUIRE(tx);
        auto inner = db.begin();
        CHECK_FALSE(inner);
    }
    SUBCASE("a moved transaction rolls back once, from its new owner") {
        auto tx = db.begin();
        REQUIRE(tx);
        REQUIRE(db.exec("INSERT INTO t(v) VALUES(x'03')"));
        auto moved = std::move(*tx);
        { auto shell = std::move(tx); }  // destroying the moved-from shell must not end it
        CHECK(db.in_transaction());
        moved.rollback();
        CHECK(count_rows(db) == 1);
    }
}

TEST_CASE("database: a busy store fails begin() with busy, not a hang") {
    TempDir dir;
    auto key = key_from_seed(1);
    auto a = open_ok(dir / "store.db", key, true);
    auto b = open_ok(dir / "store.db", key, false);
    REQUIRE(a.exec("CREATE TABLE t(x)"));
    auto tx = a.begin();
    REQUIRE(tx);
    REQUIRE(b.exec("PRAGMA busy_timeout = 50"));
    auto other = b.begin();
    REQUIRE_FALSE(other);
    CHECK(has_code(other.error(), StorageErrc::busy));
}

TEST_CASE("database: statements bind, read and report misuse") {
    TempDir dir;
    auto key = key_from_seed(1);
    auto db = open_ok(dir / "store.db", key, true);
    REQUIRE(db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB, s TEXT, n INTEGER UNIQUE)"));

    auto ins = db.prepare("INSERT INTO t(b, s, n) VALUES(?, ?, ?)");
    REQUIRE(ins);
    const Bytes blob{0, 1, 2, 0, 255};
    ins->bind(1, blob).bind(2, std::string_view("text\0with nul", 13)).bind(3, std::int64_t{-5});
    REQUIRE(ins->step());
    CHECK(db.changes() == 1);
    CHECK(db.last_insert_rowid() == 1);
    ins->reset();
    ins->bind(1, ByteView{}).bind_null(2).bind(3, std::int64_t{6});
    REQUIRE(ins->step());

    auto sel = db.prepare("SELECT b, s, n, b IS NULL FROM t ORDER BY id");
    REQUIRE(sel);
    auto r = sel->step();
    REQUIRE(r);
    REQUIRE(*r);
    CHECK(Bytes(sel->column_blob(0).begin(), sel->column_blob(0).end()) == blob);
    CHECK(sel->column_text(1) == std::string("text\0with nul", 13));
    CHECK(sel->column_int64(2) == -5);
    r = sel->step();
    REQUIRE(r);
    REQUIRE(*r);
    CHECK(sel->column_blob(0).empty());
    CHECK(sel->column_int64(3) == 0);  // an empty blob is not NULL
    CHECK(sel->column_is_null(1));
    r = sel->step();
    REQUIRE(r);
    CHECK_FALSE(*r);

    SUBCASE("a unique violation is constraint") {
        ins->reset();
        ins->bind(1, blob).bind(2, std::string_view("x")).bind(3, std::int64_t{6});
        auto again = ins->step();
        REQUIRE_FALSE(again);
        CHECK(has_code(again.error(), StorageErrc::constraint));
    }
    SUBCASE("a bad bind index is reported by step") {
        ins->reset();
        ins->bind(9, std::int64_t{1});
        auto bad = ins->step();
        REQUIRE_FALSE(bad);
        CHECK(has_code(bad.error(), StorageErrc::invalid_argument));
        ins->reset();  // clears the remembered error
        ins->bind(1, blob).bind(2, std::string_view("y")).bind(3, std::int64_t{7});
        CHECK(ins->step());
    }
    SUBCASE("prepare refuses more than one statement and bad SQL") {
        auto two = db.prepare("SELECT 1; SELECT 2");
        REQUIRE_FALSE(two);
        CHECK(has_code(two.error(), StorageErrc::invalid_argument));
        auto bad = db.prepare("SELEKT nonsense");
        REQUIRE_FALSE(bad);
        CHECK(has_code(bad.error(), StorageErrc::sqlite));
        CHECK(db.prepare("SELECT 1;  \n"));
    }
    SUBCASE("cached statements are prepared once and handed back reset") {
        auto a = db.cached("SELECT n FROM t WHERE n > ? ORDER BY n");
        REQUIRE(a);
        (*a)->bind(1, std::int64_t{0});
        auto row = (*a)->step();
        REQUIRE(row);
        CHECK(*row);  // left mid-result on purpose
        auto b = db.cached("SELECT n FROM t WHERE n > ? ORDER BY n");
        REQUIRE(b);
        CHECK(*a == *b);
        // The bindings were cleared: NULL compares false, so no row.
        row = (*b)->step();
        REQUIRE(row);
        CHECK_FALSE(*row);
    }
}

TEST_CASE("database: migrations run once, in order, and refuse a newer schema") {
    TempDir dir;
    auto key = key_from_seed(1);
    const std::array<std::string_view, 3> steps{
        "CREATE TABLE log(step INTEGER); INSERT INTO log VALUES(1)",
        "INSERT INTO log VALUES(2); CREATE TABLE two(x)",
        "INSERT INTO log VALUES(3); CREATE INDEX two_x ON two(x)",
    };
    {
        auto db = open_ok(dir / "store.db", key, true);
        CHECK(*db.schema_version("test") == 0);
        // First only the first two steps (an older program), then all three.
        REQUIRE(db.migrate("test", std::span(steps).first(2)));
        CHECK(*db.schema_version("test") == 2);
        REQUIRE(db.migrate("test", steps));
        CHECK(*db.schema_version("test") == 3);
        REQUIRE(db.migrate("test", steps));  // idempotent
        auto stmt =
            db.prepare("SELECT group_concat(step) FROM (SELECT step FROM log ORDER BY rowid)");
        REQUIRE(stmt);
        REQUIRE(*stmt->step());
        CHECK(stmt->column_text(0) == "1,2,3");
        // Components are independent.
        CHECK(*db.schema_version("other") == 0);
    }
    auto db = open_ok(dir / "store.db", key, false);
    REQUIRE(db.migrate("test", steps));  // still idempotent after reopening
    CHECK(count_rows(db, "SELECT count(*) FROM log") == 3);

    SUBCASE("a newer schema is refused and nothing runs") {
        auto r = db.migrate("test", std::span(steps).first(2));
        REQUIRE_FALSE(r);
        CHECK(has_code(r.error(), StorageErrc::schema_too_new));
        CHECK(*db.schema_version("test") == 3);
        CHECK(count_rows(db, "SELECT count(*) FROM log") == 3);
    }
    SUBCASE("a failing step rolls back with its version bump") {
        const std::array<std::string_view, 5> more{
            steps[0],
            steps[1],
            steps[2],
            "INSERT INTO log VALUES(4); CREATE TABLE three(y)",
            "INSERT INTO log VALUES(5); THIS IS NOT SQL",
        };
        auto r = db.migrate("test", more);
        REQUIRE_FALSE(r);
        CHECK(*db.schema_version("test") == 4);
        CHECK(count_rows(db, "SELECT count(*) FROM log") == 4);
        CHECK_FALSE(db.in_transaction());
    }
}

TEST_CASE("database: a process killed mid-write keeps every commit and none of the rest") {
    TempDir dir;
    auto key = key_from_seed(1);
    {
        auto db = open_ok(dir / "store.db", key, true);
        REQUIRE(db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)"));
    }
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The child commits 30 rows, starts a transaction with 10 more, and dies without
        // closing, checkpointing or rolling back — as under kill -9.
        auto db = Database::open(dir / "store.db", key, false);
        if (!db) ::_exit(2);
        for (int i = 0; i < 3; ++i) {
            auto tx = db->begin();
            if (!tx) ::_exit(3);
            for (int j = 0; j < 10; ++j)
                if (!db->exec("INSERT INTO t(v) VALUES(randomblob(300))")) ::_exit(4);
            if (!tx->commit()) ::_exit(5);
        }
        auto tx = db->begin();
        for (int j = 0; j < 10; ++j) (void)db->exec("INSERT INTO t(v) VALUES(randomblob(300))");
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CHECK(std::filesystem::file_size(dir / "store.db-wal") > 0);  // nothing was checkpointed

    auto db = open_ok(dir / "store.db", key, false);
    CHECK(count_rows(db) == 30);
    auto check = db.prepare("PRAGMA integrity_check");
    REQUIRE(check);
    REQUIRE(*check->step());
    CHECK(check->column_text(0) == "ok");
}

TEST_CASE("database: deferred durability keeps every commit through a kill and ends in FULL") {
    TempDir dir;
    auto key = key_from_seed(1);
    {
        auto db = open_ok(dir / "store.db", key, true);
        REQUIRE(db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)"));
        // Nothing written since the log was opened by this connection: nothing to flush.
        auto fresh = open_ok(dir / "store.db", key, false);
        CHECK(fresh.make_durable().has_value());
    }
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // Under deferred durability the child commits 30 rows and dies as under kill -9: the
        // commits are in the log (not flushed to the disk, which only a power loss would undo).
        auto db = Database::open(dir / "store.db", key, false);
        if (!db || !db->defer_durability()) ::_exit(2);
        for (int i = 0; i < 3; ++i) {
            auto tx = db->begin();
            if (!tx) ::_exit(3);
            for (int j = 0; j < 10; ++j)
                if (!db->exec("INSERT INTO t(v) VALUES(randomblob(300))")) ::_exit(4);
            if (!tx->commit()) ::_exit(5);
        }
        ::kill(::getpid(), SIGKILL);
        ::_exit(6);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));

    auto db = open_ok(dir / "store.db", key, false);
    CHECK(count_rows(db) == 30);
    CHECK(count_rows(db, "PRAGMA synchronous") == 2);  // FULL: each connection starts so
    REQUIRE(db.defer_durability());
    CHECK(count_rows(db, "PRAGMA synchronous") == 1);  // NORMAL
    REQUIRE(db.exec("INSERT INTO t(v) VALUES(randomblob(300))"));
    REQUIRE(db.make_durable());
    CHECK(count_rows(db, "PRAGMA synchronous") == 2);
    CHECK(count_rows(db) == 31);
}

TEST_CASE("database: a closed (default or moved-from) database refuses calls cleanly") {
    TempDir dir;
    auto key = key_from_seed(1);
    auto db = open_ok(dir / "store.db", key, true);
    Database moved = std::move(db);
    for (Database* d : {&db, static_cast<Database*>(nullptr)}) {
        Database empty;
        Database& x = d != nullptr ? *d : empty;
        CHECK_FALSE(x.exec("SELECT 1"));
        CHECK_FALSE(x.prepare("SELECT 1"));
        CHECK_FALSE(x.cached("SELECT 1"));
        CHECK_FALSE(x.begin());
        CHECK_FALSE(x.checkpoint_truncate());
        CHECK(x.changes() == 0);
        CHECK_FALSE(x.in_transaction());
    }
    CHECK(moved.exec("CREATE TABLE t(x)"));
}
