#pragma once
// The encrypted store: one SQLCipher connection (DESIGN §4 "Store").
//
// Opening keys the connection with the raw 32-byte database key (sqlite3_key with the string
// x'<64 hex>', built in locked memory and wiped; never spliced into SQL text, so
// SQLCipher's PBKDF2 is never used), then sets cipher_page_size = 4096, a 128 MiB page cache,
// journal_mode = WAL, synchronous = FULL, secure_delete = ON, foreign_keys = ON and
// temp_store = MEMORY (no plaintext temp files), and reads sqlite_master so that a wrong key
// or a file that is not a database fails at open with not_a_database.
//
// Durability: with WAL and synchronous = FULL, the WAL is fsynced at every commit. When
// Transaction::commit() returns success — or exec()/step() returns success for a write made
// outside an explicit transaction — the change survives a crash or power loss. Anything not yet
// committed is rolled back by the next open. A relay may acknowledge an envelope only after the
// commit that wrote it has returned.
//
// Files: the database file (and the -wal / -shm files SQLite creates beside it, which inherit
// its mode) is created 0600 whatever the umask.
//
// Secret columns: SQLite's page cache is ordinary heap, which the kernel may write to swap, so a
// key stored in a column (an identity key, an epoch secret) is sealed before it is bound and
// opened straight into locked memory: SQLite only ever holds it sealed (seal_secret()).
// SQLite's own memory is wiped when freed (kolokol/storage/memory.hpp).
//
// Thread-safety: a Database and its Statements belong to one thread at a time (the connection
// is opened SQLITE_OPEN_NOMUTEX). Use one Database per worker thread; SQLite's file locks and
// the busy timeout (5 s) arbitrate between connections and processes.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace kolokol::storage {

inline constexpr std::size_t kDatabaseKeyBytes = 32;
inline constexpr int kCipherPageSize = 4096;
inline constexpr std::int64_t kCacheBytes = std::int64_t{128} << 20;
inline constexpr int kBusyTimeoutMs = 5000;
inline constexpr std::size_t kSealedSecretOverhead = 24 + 16;

// A prepared statement: a move-only owner of one sqlite3_stmt. Obtained from
// Database::prepare() or Database::cached(); it must not outlive its Database.
class Statement {
public:
    Statement() = default;
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Binds parameter `index` (1-based). Values are copied (SQLITE_TRANSIENT), so temporaries are
    // safe. An empty ByteView binds a zero-length blob (not NULL). A bad index is a programmer
    // error: it is remembered and returned by the next step() as invalid_argument.
    Statement& bind(int index, ByteView blob);
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view text);
    Statement& bind_null(int index);

    // Runs the statement one step: true = a row is ready (read it with column_*), false = done.
    // On failure the statement is reset (bindings kept) and the error mapped to StorageErrc.
    Result<bool> step();

    // Column accessors (0-based) for the current row: only after step() returned true.
    // column_blob's view stays valid until the next step(), reset() or destruction; a NULL column
    // reads as empty / 0 / "".
    ByteView column_blob(int column) const;
    std::int64_t column_int64(int column) const;
    std::string column_text(int column) const;
    bool column_is_null(int column) const;

    // Resets the statement and clears its bindings. Call it when you stop reading rows before
    // step() returned false: a statement left mid-result holds a read snapshot, which keeps the
    // WAL from being checkpointed.
    void reset();

    bool valid() const { return m_stmt != nullptr; }

private:
    friend class Database;
    Statement(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
    void release();

    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
    int m_bind_error = 0;  // first SQLite error from a bind since the last reset
};

class Database {
public:
    // Opens (or, when `create`, creates) the encrypted database at `path`, keyed by `raw_key`
    // (exactly 32 bytes, else invalid_argument). Errors: not_found (missing and !create),
    // not_a_database (wrong key, garbage or a plaintext SQLite file, an empty file when
    // !create), corrupt, io, busy.
    static Result<Database> open(const std::filesystem::path& path,
                                 const crypto::SecretBytes& raw_key, bool create);
    // The same without encryption: for benchmarks that measure SQLCipher's overhead only.
    static Result<Database> open_plain(const std::filesystem::path& path, bool create);

    // A closed database: every call fails with invalid_argument (changes() etc. return 0).
    Database() = default;
    ~Database();
    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs one or more SQL statements that return no rows of interest. Never pass untrusted
    // text: bind values through prepare()/cached() instead.
    Status exec(std::string_view sql);

    // A statement prepared once per Database and reused; returned reset with no bindings. The
    // pointer stays valid until the Database is destroyed. `sql` must hold one statement.
    Result<Statement*> cached(std::string_view sql);
    // A fresh prepared statement owned by the caller. `sql` must hold exactly one statement.
    Result<Statement> prepare(std::string_view sql);

    // A write transaction (BEGIN IMMEDIATE: the write lock is taken up front, so a busy store
    // fails here rather than half-way). Rolled back by its destructor unless commit() succeeded.
    // Transactions do not nest; the Database must outlive the Transaction.
    class Transaction {
    public:
        ~Transaction();
        Transaction(Transaction&& other) noexcept;
        Transaction& operator=(Transaction&& other) noexcept;
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;

        // Commits; on success the changes are durable (see the top of this header). On failure
        // the transaction is still rolled back by the destructor.
        Status commit();
        // Rolls back now (the destructor does the same).
        void rollback();

    private:
        friend class Database;
        explicit Transaction(Database* db) : m_db(db) {}
        Database* m_db = nullptr;
    };
    Result<Transaction> begin();

    // Seals a secret for a column, and opens one:
    //   sealed     = nonce(24) || XChaCha20-Poly1305(column key, nonce, ad, secret)
    //   ad         = "kolokol/store/secret/v1" || 0x00 || `where`
    //   column key = crypto_kdf(database key, id 1, context "kkcolumn"), in locked memory while
    //                the Database is open.
    // `where` names the value's place (table, column, the row's key), so a sealed value moved to
    // another row or column does not open. Sealed values are kSealedSecretOverhead bytes longer
    // than the secret. Errors: invalid_argument for a database opened without a key
    // (open_plain), or an empty secret; corrupt when a sealed value does not open.
    Result<Bytes> seal_secret(ByteView secret, ByteView where) const;
    Result<crypto::SecretBytes> open_secret(ByteView sealed, ByteView where) const;

    // PRAGMA wal_checkpoint(TRUNCATE): copies the WAL into the database and truncates it to zero
    // bytes, so purged pages do not linger in the log. busy if a reader blocks it.
    Status checkpoint_truncate();

    // Deferred durability (DESIGN §12.7), for writes that can be made again — envelopes a sync
    // receives, which the next sync fetches again when lost. defer_durability() sets
    // synchronous = NORMAL: commits are no longer flushed to disk one by one; a crash of the
    // process loses none of them, a power loss may lose the last ones but never an earlier one
    // while keeping a later one (the log's frames are checksummed in a chain, and the log is
    // read back up to the first frame that does not match), and the store stays consistent.
    // make_durable() sets synchronous = FULL again and flushes the log: on success every
    // transaction committed so far is durable, as after a commit under FULL. Until then nothing
    // committed meanwhile may be relied on beyond this device (acknowledged to another, say).
    Status defer_durability();
    Status make_durable();

    // Runs the pending steps of `component`'s schema. The table schema_versions(component,
    // version) records how many steps have run; step i (0-based) brings the version to i + 1.
    // Each step runs in its own transaction together with its version bump, so a crash leaves
    // the schema at a step boundary. Idempotent. A stored version greater than steps.size()
    // means a newer program wrote this store: schema_too_new, and nothing runs.
    Status migrate(std::string_view component, std::span<const std::string_view> steps);
    // The component's current schema version (0 when it never migrated).
    Result<std::int64_t> schema_version(std::string_view component);

    std::int64_t changes() const;
    std::int64_t last_insert_rowid() const;
    bool in_transaction() const;

    // The raw handle, for code inside storage/ only.
    sqlite3* handle() const { return m_db; }

private:
    static Result<Database> open_impl(const std::filesystem::path& path,
                                      const crypto::SecretBytes* raw_key, bool create);
    explicit Database(sqlite3* db) : m_db(db) {}
    void close();

    sqlite3* m_db = nullptr;
    crypto::SecretBytes m_column_key;  // empty for open_plain()
    std::unordered_map<std::string, std::unique_ptr<Statement>> m_cache;
};

using Transaction = Database::Transaction;

}  // namespace kolokol::storage
