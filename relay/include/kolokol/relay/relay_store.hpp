#pragma once
// The relay's own encrypted store (DESIGN §1, §4, §8): a key file and a SQLCipher database in
// the relay's data directory, holding envelopes it can never open, the mailboxes it refuses,
// and its transport static key. It is the Replica the relay serves every session from.
//
// Files in `dir` (created 0700 on first run):
//   relay.key   the key file (storage/keyfile.hpp): the database key under the passphrase
//   relay.db    the database: envelopes (storage/envelope_store.hpp) and the relay's tables
//
// Quotas are per mailbox, by count and by bytes, and for the whole store: the database's pages
// in use, so that no flood of new mailboxes grows the relay's disk past store_max_bytes (by more
// than one batch, ≤ the session window, and the WAL, which is cut back to 4 MiB after each
// checkpoint). An envelope past any quota is declined (put() answers false: the session
// acknowledges it as not stored) and the mailbox stays usable. Every stored envelope expires
// `ttl` after it arrived (0: never).
//
// Writes: put_async() queues a batch for the store's writer thread, which commits everything
// queued by all sessions in one transaction (one fsync for many sessions: group commit) and
// then answers each caller. Reads use a second connection, so they never wait behind a
// commit (WAL readers do not block on the writer).
//
// Thread-safety: every method may be called from any thread; each connection is used under its
// own mutex, and live notifications are made outside both.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/envelope_store.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "kolokol/storage/store_guard.hpp"
#include "kolokol/transport/sync_engine.hpp"
#include "kolokol/transport/sync_types.hpp"

namespace kolokol::transport {

// What a stored envelope is expected to cost on disk beyond its own bytes (its row, its index
// entries, page slack), to estimate a batch against the store quota before it is written; the
// quota itself counts pages.
inline constexpr std::uint64_t kStoredEnvelopeOverheadBytes = 320;

struct RelayQuotas {
    std::uint64_t mailbox_max_count = 100'000;
    std::uint64_t mailbox_max_bytes = std::uint64_t{1} << 30;
    // Across all mailboxes: the database's pages in use (envelopes, rows, indexes, slack).
    std::uint64_t store_max_bytes = std::uint64_t{4} << 30;
    // Envelopes are deleted this long after they arrived; zero keeps them for ever.
    std::chrono::seconds ttl = std::chrono::hours(24 * 30);
};

enum class RelayKdf {
    tuned,  // Argon2id tuned on this machine to about a second for an unlock (the default)
    fast,   // libsodium's minimum: tests and benchmarks only
};

class RelayStore final : public Replica {
public:
    using Clock = std::function<std::int64_t()>;  // milliseconds since the Unix epoch

    // True when `dir` holds a relay store (its key file).
    static bool exists(const std::filesystem::path& dir);

    // Opens the store in `dir`, creating it on first run (directory, key file sealed under
    // `passphrase` with `kdf`, database, transport key). Errors: storage's wrong_passphrase,
    // keyfile_corrupt, not_a_database, corrupt, io; invalid_argument for an empty passphrase.
    // `clock` (tests) replaces the system clock for arrival and expiry times.
    static Result<std::unique_ptr<RelayStore>> open(const std::filesystem::path& dir,
                                                    ByteView passphrase, RelayKdf kdf,
                                                    RelayQuotas quotas, Clock clock = {});
    ~RelayStore() override;

    bool created() const { return m_created; }
    // The relay's transport static key pair (X25519), made on first run and kept in the store.
    const crypto::BoxKeyPair& transport_key() const { return m_transport_key; }
    const RelayQuotas& quotas() const { return m_quotas; }

    // Replica.
    Result<std::vector<RecordId>> ids(const MailboxId& mailbox) override;
    Result<std::optional<Bytes>> get(const RecordId& id) override;
    // In arrival order.
    Result<StoredIds> ids_in_stored_order(const MailboxId& mailbox, std::uint64_t from,
                                          std::size_t limit) override;
    // One transaction for the batch; true for every envelope now held (new or already there),
    // false for those past a quota or for a closed mailbox.
    Result<std::vector<bool>> put(const MailboxId& mailbox,
                                  std::span<const Bytes> envelopes) override;
    // As put(), committed together with whatever else is queued; `done` runs on the writer
    // thread after the commit.
    bool put_is_async() const override { return true; }
    void put_async(const MailboxId& mailbox, std::vector<Bytes> envelopes, PutDone done) override;
    // Waits until every queued put has been committed and answered, and the answers (which
    // hold the sessions' executors) destroyed. Call it before the sessions' io_context goes.
    void drain();
    // Subscriptions must not outlive the store.
    std::unique_ptr<LiveSubscription> watch(const MailboxId& mailbox,
                                            LiveCallback on_written) override;

    // Refuses the mailbox from now on: opens are refused with "this relay keeps that mailbox
    // closed" and nothing more is stored for it. Its envelopes stay until they expire.
    Status close_mailbox(const MailboxId& mailbox);
    Result<bool> is_closed(const MailboxId& mailbox);
    // The session policy that goes with this store (refuses closed mailboxes). Valid while the
    // store lives.
    SyncEngine::Admit admit();

    // Watches the store's files (storage::StoreGuard) and calls `on_gone` once, on the guard's
    // thread, when its key file or database is destroyed, erased in place or replaced. The
    // guard stops when the store is destroyed. Errors: io.
    Status guard(std::function<void()> on_gone);

    // Deletes envelopes whose time is up; returns how many.
    Result<std::size_t> expire();
    Result<storage::MailboxUsage> usage(const MailboxId& mailbox);
    // What the store quota counts now (see RelayQuotas::store_max_bytes); 0 if it cannot be read.
    std::uint64_t store_bytes();
    // Changes whenever an envelope of `mailbox` is stored or any envelope expires.
    std::optional<std::uint64_t> change_stamp(const MailboxId& mailbox) override;

private:
    struct Watcher;
    struct PutRequest {
        MailboxId mailbox{};
        std::vector<Bytes> envelopes;
        PutDone done;
    };
    RelayStore(storage::Database db, storage::Database read_db, RelayQuotas quotas, Clock clock);
    std::int64_t now_ms() const;
    void unwatch(std::uint64_t token);
    void notify(const MailboxId& mailbox, const std::vector<RecordId>& added);
    // Under m_db_mutex, inside a transaction: applies quotas and inserts; `added` gets the new
    // ids.
    Result<std::vector<bool>> put_locked(const MailboxId& mailbox, std::span<const Bytes> envelopes,
                                         std::vector<RecordId>& added);
    // Bytes of the database's pages in use, as `db` sees them (inside its transaction).
    static Result<std::uint64_t> used_bytes(storage::Database& db);
    Result<bool> is_closed_on(storage::Database& db, const MailboxId& mailbox);
    void writer_loop();

    std::mutex m_db_mutex;  // the writing connection
    storage::Database m_db;
    storage::EnvelopeStore m_store;
    std::mutex m_read_mutex;  // the reading connection
    storage::Database m_read_db;
    storage::EnvelopeStore m_read_store;
    RelayQuotas m_quotas;
    Clock m_clock;
    // Change stamps, one per stripe of mailbox ids (a mailbox id is a hash: its first bytes
    // spread evenly). A collision only makes a set less often shared.
    static constexpr std::size_t kStampStripes = 4'096;
    std::array<std::atomic<std::uint64_t>, kStampStripes> m_stamps{};
    static std::size_t stripe_of(const MailboxId& mailbox);
    crypto::BoxKeyPair m_transport_key;
    bool m_created = false;
    std::filesystem::path m_dir;
    storage::KeyFileSeen m_key_file;  // as unlocked (or created)
    std::unique_ptr<storage::StoreGuard> m_guard;

    std::mutex m_watch_mutex;
    std::uint64_t m_next_token = 1;
    std::multimap<MailboxId, std::pair<std::uint64_t, LiveCallback>> m_watchers;

    std::mutex m_queue_mutex;
    std::condition_variable m_queue_cv;
    std::deque<PutRequest> m_queue;
    bool m_writing = false;  // the writer holds a group taken from the queue
    std::condition_variable m_idle_cv;
    bool m_stopping = false;
    std::thread m_writer;  // last: started when everything above exists
};

}  // namespace kolokol::transport
