#include "kolokol/storage/database.hpp"

#include <sqlite3.h>

#include <cctype>
#include <string>
#include <system_error>
#include <utility>

#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/random.hpp"
#include "private_file.hpp"
#include "sqlite_error.hpp"
#include "sqlite_memory.hpp"

namespace kolokol::storage {

namespace fs = std::filesystem;
using detail::sqlite_error;

namespace {

constexpr std::string_view kSecretColumnDomain = "kolokol/store/secret/v1";

Bytes secret_ad(ByteView where) {
    Bytes ad = to_bytes(kSecretColumnDomain);
    ad.push_back(0);
    append(ad, where);
    return ad;
}

// Builds x'<64 hex>' — SQLCipher's syntax for a raw key, which skips its PBKDF2 — in locked
// memory, so that our only copies of the key are locked and wiped.
crypto::SecretBytes raw_key_literal(const crypto::SecretBytes& key) {
    static constexpr char kHex[] = "0123456789abcdef";
    crypto::SecretBytes out(3 + 2 * key.size());
    std::uint8_t* p = out.data();
    *p++ = 'x';
    *p++ = '\'';
    for (std::uint8_t b : key.view()) {
        *p++ = static_cast<std::uint8_t>(kHex[b >> 4]);
        *p++ = static_cast<std::uint8_t>(kHex[b & 0x0f]);
    }
    *p = '\'';
    return out;
}

// Runs a PRAGMA that answers with one text value and returns it lower-cased.
Result<std::string> pragma_value(Database& db, std::string_view sql) {
    auto stmt = db.prepare(sql);
    if (!stmt) return std::unexpected(stmt.error());
    auto row = stmt->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::string{};
    std::string v = stmt->column_text(0);
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v;
}

bool only_whitespace(const char* tail) {
    // sqlite3_prepare stops after the first statement; anything but whitespace after it would be
    // silently ignored, which hides mistakes.
    for (const char* p = tail; p != nullptr && *p != '\0'; ++p)
        if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';') return false;
    return true;
}

}  // namespace

Result<Database> Database::open(const fs::path& path, const crypto::SecretBytes& raw_key,
                                bool create) {
    if (raw_key.size() != kDatabaseKeyBytes)
        return fail(StorageErrc::invalid_argument, "database key must be 32 bytes");
    return open_impl(path, &raw_key, create);
}

Result<Database> Database::open_plain(const fs::path& path, bool create) {
    return open_impl(path, nullptr, create);
}

Result<Database> Database::open_impl(const fs::path& path, const crypto::SecretBytes* raw_key,
                                     bool create) {
    std::error_code ec;
    auto st = fs::status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
        return fail(StorageErrc::io, "stat {}: {}", path.string(), ec.message());
    if (!fs::exists(st)) {
        if (!create) return fail(StorageErrc::not_found, "no database at {}", path.string());
        // Create it ourselves so that it is 0600 whatever the umask; SQLite would use 0644 &
        // ~umask. The -wal and -shm files copy the database file's mode.
        auto made = detail::create_private_file(path);
        if (!made && made.error().code != make_error_code(StorageErrc::exists))
            return std::unexpected(made.error());
    } else if (!fs::is_regular_file(st)) {
        return fail(StorageErrc::io, "{} is not a regular file", path.string());
    } else if (!create && fs::file_size(path, ec) == 0 && !ec) {
        // SQLite would happily treat an empty file as a new, empty database.
        return fail(StorageErrc::not_a_database, "{} is empty", path.string());
    }

    // Before SQLite first runs: its allocator wipes what it frees (kolokol/storage/memory.hpp),
    // and SQLCipher's locks on its key buffers are counted (page_locks.cpp).
    detail::install_sqlite_memory();
    (void)detail::counted_page_locks();
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        Error err = sqlite_error(raw, rc, "open " + path.string());
        sqlite3_close_v2(raw);
        return std::unexpected(std::move(err));
    }
    Database db(raw);
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);

    if (raw_key != nullptr) {
        auto literal = raw_key_literal(*raw_key);
        rc = sqlite3_key(raw, literal.data(), static_cast<int>(literal.size()));
        if (rc != SQLITE_OK) return std::unexpected(sqlite_error(raw, rc, "key"));
        db.m_column_key = crypto::kdf_derive(raw_key->view(), 1, "kkcolumn");
        // Must follow the key and precede the first read of the file.
        if (auto s = db.exec("PRAGMA cipher_page_size = 4096"); !s)
            return std::unexpected(s.error());
    }

    // The first read of page 1: a wrong key, a plaintext file, garbage or a file cut short
    // inside the first page all fail here with SQLITE_NOTADB.
    if (auto s = db.exec("SELECT count(*) FROM sqlite_master"); !s) {
        if (s.error().code == make_error_code(StorageErrc::not_a_database))
            return fail(StorageErrc::not_a_database, "{}: wrong key, or not a Kolokol database",
                        path.string());
        return std::unexpected(s.error());
    }

    if (auto s = db.exec("PRAGMA cache_size = -" + std::to_string(kCacheBytes / 1024) +
                         "; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;"
                         " PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY");
        !s)
        return std::unexpected(s.error());
    auto mode = pragma_value(db, "PRAGMA journal_mode = WAL");
    if (!mode) return std::unexpected(mode.error());
    if (*mode != "wal")
        return fail(StorageErrc::io, "cannot switch {} to WAL ({})", path.string(), *mode);
    return db;
}

Database::~Database() {
    close();
}

Database::Database(Database&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)),
      m_column_key(std::move(other.m_column_key)),
      m_cache(std::move(other.m_cache)) {
    other.m_cache.clear();
}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        close();
        m_db = std::exchange(other.m_db, nullptr);
        m_column_key = std::move(other.m_column_key);
        m_cache = std::move(other.m_cache);
        other.m_cache.clear();
    }
    return *this;
}

void Database::close() {
    m_cache.clear();  // finalizes the cached statements
    // close_v2 defers the close until statements the caller still owns are finalized.
    if (m_db != nullptr) sqlite3_close_v2(m_db);
    m_db = nullptr;
}

Status Database::exec(std::string_view sql) {
    if (m_db == nullptr) return fail(StorageErrc::invalid_argument, "database is not open");
    std::string text(sql);  // sqlite3_exec needs a NUL-terminated string
    int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return std::unexpected(sqlite_error(m_db, rc, "exec"));
    return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
    if (m_db == nullptr) return fail(StorageErrc::invalid_argument, "database is not open");
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
    if (rc != SQLITE_OK) return std::unexpected(sqlite_error(m_db, rc, "prepare"));
    Statement out(m_db, stmt);
    if (stmt == nullptr) return fail(StorageErrc::invalid_argument, "prepare: no statement");
    std::string rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
    if (!only_whitespace(rest.c_str()))
        return fail(StorageErrc::invalid_argument, "prepare: more than one statement");
    return out;
}

Result<Statement*> Database::cached(std::string_view sql) {
    std::string key(sql);
    if (auto it = m_cache.find(key); it != m_cache.end()) {
        it->second->reset();
        return it->second.get();
    }
    auto stmt = prepare(sql);
    if (!stmt) return std::unexpected(stmt.error());
    auto owned = std::make_unique<Statement>(std::move(*stmt));
    Statement* out = owned.get();
    m_cache.emplace(std::move(key), std::move(owned));
    return out;
}

Result<Database::Transaction> Database::begin() {
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return std::unexpected(s.error());
    return Transaction(this);
}

Database::Transaction::~Transaction() {
    rollback();
}

Database::Transaction::Transaction(Transaction&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)) {}

Database::Transaction& Database::Transaction::operator=(Transaction&& other) noexcept {
    if (this != &other) {
        rollback();
        m_db = std::exchange(other.m_db, nullptr);
    }
    return *this;
}

Status Database::Transaction::commit() {
    if (m_db == nullptr) return fail(StorageErrc::invalid_argument, "transaction already ended");
    if (auto s = m_db->exec("COMMIT"); !s) {
        // SQLite may already have rolled back (e.g. on an I/O error); if not, the destructor
        // will.
        if (!m_db->in_transaction()) m_db = nullptr;
        return s;
    }
    m_db = nullptr;
    return {};
}

void Database::Transaction::rollback() {
    if (m_db == nullptr) return;
    if (m_db->in_transaction()) (void)m_db->exec("ROLLBACK");
    m_db = nullptr;
}

Result<Bytes> Database::seal_secret(ByteView secret, ByteView where) const {
    if (m_column_key.empty())
        return fail(StorageErrc::invalid_argument, "this database holds no secrets");
    if (secret.empty()) return fail(StorageErrc::invalid_argument, "an empty secret");
    Bytes out = crypto::system_random().bytes(crypto::kXNonceBytes);
    append(out, crypto::xchacha_seal(m_column_key.view(), out, secret_ad(where), secret));
    return out;
}

Result<crypto::SecretBytes> Database::open_secret(ByteView sealed, ByteView where) const {
    if (m_column_key.empty())
        return fail(StorageErrc::invalid_argument, "this database holds no secrets");
    if (sealed.size() <= kSealedSecretOverhead)
        return fail(StorageErrc::corrupt, "a stored secret is damaged");
    auto plain =
        crypto::xchacha_open_secret(m_column_key.view(), sealed.first(crypto::kXNonceBytes),
                                    secret_ad(where), sealed.subspan(crypto::kXNonceBytes));
    if (!plain) return fail(StorageErrc::corrupt, "a stored secret is damaged");
    return std::move(*plain);
}

Status Database::checkpoint_truncate() {
    if (m_db == nullptr) return fail(StorageErrc::invalid_argument, "database is not open");
    int log = 0;
    int done = 0;
    int rc = sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc != SQLITE_OK) return std::unexpected(sqlite_error(m_db, rc, "checkpoint"));
    return {};
}

Status Database::defer_durability() {
    if (m_db == nullptr) return fail(StorageErrc::invalid_argument, "database is not open");
    return exec("PRAGMA synchronous = NORMAL");
}

Status Database::make_durable() {
    if (m_db == nullptr) return fail(StorageErrc::invalid_argument, "database is not open");
    if (auto ok = exec("PRAGMA synchronous = FULL"); !ok) return ok;
    // Under NORMAL the log is flushed only before a checkpoint; flush it now, whole: every
    // commit made under NORMAL is in it (or already checkpointed, which flushed it then).
    sqlite3_file* log = nullptr;
    int rc = sqlite3_file_control(m_db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &log);
    if (rc != SQLITE_OK) return std::unexpected(sqlite_error(m_db, rc, "flush the log"));
    // No log open: this connection wrote nothing since it opened it.
    if (log == nullptr || log->pMethods == nullptr) return {};
    rc = log->pMethods->xSync(log, SQLITE_SYNC_FULL);
    if (rc != SQLITE_OK) return std::unexpected(sqlite_error(m_db, rc, "flush the log"));
    return {};
}

Result<std::int64_t> Database::schema_version(std::string_view component) {
    // A store that never migrated has no schema_versions table: version 0 for everyone.
    auto table = cached(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'");
    if (!table) return std::unexpected(table.error());
    auto has = (*table)->step();
    if (!has) return std::unexpected(has.error());
    bool exists = *has && (*table)->column_int64(0) > 0;
    (*table)->reset();
    if (!exists) return 0;

    auto stmt = cached("SELECT version FROM schema_versions WHERE component = ?");
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    s.bind(1, component);
    auto row = s.step();
    if (!row) return std::unexpected(row.error());
    std::int64_t v = *row ? s.column_int64(0) : 0;
    s.reset();
    return v;
}

Status Database::migrate(std::string_view component, std::span<const std::string_view> steps) {
    if (auto s = exec("CREATE TABLE IF NOT EXISTS schema_versions("
                      " component TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL)");
        !s)
        return s;
    const auto known = static_cast<std::int64_t>(steps.size());
    for (;;) {
        // The version is read inside the write transaction, so two processes migrating the same
        // store at once run each step exactly once.
        auto tx = begin();
        if (!tx) return std::unexpected(tx.error());
        auto version = schema_version(component);
        if (!version) return std::unexpected(version.error());
        if (*version > known || *version < 0)
            return fail(StorageErrc::schema_too_new,
                        "{} schema is version {}; this program knows up to {}", component, *version,
                        known);
        if (*version == known) return {};
        if (auto s = exec(steps[static_cast<std::size_t>(*version)]); !s) {
            return fail(s.error().code, "{} migration step {}: {}", component, *version + 1,
                        s.error());
        }
        auto bump =
            cached("INSERT OR REPLACE INTO schema_versions(component, version) VALUES(?, ?)");
        if (!bump) return std::unexpected(bump.error());
        (*bump)->bind(1, component).bind(2, *version + 1);
        if (auto r = (*bump)->step(); !r) return std::unexpected(r.error());
        if (auto s = tx->commit(); !s) return s;
    }
}

std::int64_t Database::changes() const {
    return m_db != nullptr ? sqlite3_changes(m_db) : 0;
}

std::int64_t Database::last_insert_rowid() const {
    return m_db != nullptr ? sqlite3_last_insert_rowid(m_db) : 0;
}

bool Database::in_transaction() const {
    return m_db != nullptr && sqlite3_get_autocommit(m_db) == 0;
}

}  // namespace kolokol::storage
