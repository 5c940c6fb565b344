#include "kolokol/relay/relay_store.hpp"

#include <array>
#include <set>
#include <string_view>
#include <system_error>

#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/error.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "kolokol/storage/wall_clock.hpp"

namespace kolokol::transport {

namespace {

constexpr std::string_view kKeyFileName = "relay.key";
constexpr std::string_view kDatabaseName = "relay.db";

constexpr std::array<std::string_view, 1> kRelaySchema{
    R"sql(
CREATE TABLE relay_meta(
    name TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE closed_mailboxes(
    mailbox BLOB PRIMARY KEY NOT NULL CHECK (length(mailbox) = 32),
    closed_ms INTEGER NOT NULL) WITHOUT ROWID;
)sql",
};

constexpr std::string_view kTransportSecret = "transport_secret";
// The WAL's size after a checkpoint (SQLite's journal_size_limit).
constexpr std::int64_t kWalLimitBytes = 4 << 20;
// One group commit holds at most this many envelope bytes: the WAL grows by about one
// transaction past its checkpoint threshold, so this bounds it too.
constexpr std::size_t kMaxGroupBytes = 4 << 20;

// Stores the transport secret sealed (storage::Database::seal_secret), replacing any value.
Status put_transport_key(storage::Database& db, const crypto::SecretBytes& secret) {
    auto sealed = db.seal_secret(secret.view(), as_bytes(kTransportSecret));
    if (!sealed) return std::unexpected(sealed.error());
    auto put = db.prepare("INSERT OR REPLACE INTO relay_meta(name, value) VALUES (?, ?)");
    if (!put) return std::unexpected(put.error());
    put->bind(1, kTransportSecret).bind(2, *sealed);
    if (auto s = put->step(); !s) return std::unexpected(s.error());
    return {};
}

// The transport key: read it, or make and store it on first run. A relay store written before
// the secret was sealed holds it as 32 plain bytes: it is sealed in place, in one transaction.
Result<crypto::BoxKeyPair> load_transport_key(storage::Database& db) {
    auto tx = db.begin();
    if (!tx) return std::unexpected(tx.error());
    auto get = db.prepare("SELECT value FROM relay_meta WHERE name = ?");
    if (!get) return std::unexpected(get.error());
    get->bind(1, kTransportSecret);
    auto row = get->step();
    if (!row) return std::unexpected(row.error());
    if (*row) {
        auto value = get->column_blob(0);
        const bool plain = value.size() == 32;
        auto secret = plain ? Result<crypto::SecretBytes>(crypto::SecretBytes::copy_of(value))
                            : db.open_secret(value, as_bytes(kTransportSecret));
        get->reset();
        if (!secret)
            return fail(storage::StorageErrc::corrupt, "the relay's transport key is damaged");
        if (plain) {
            if (auto s = put_transport_key(db, *secret); !s) return std::unexpected(s.error());
        }
        if (auto s = tx->commit(); !s) return std::unexpected(s.error());
        crypto::BoxKeyPair kp{crypto::x25519_base(secret->view()), std::move(*secret)};
        return kp;
    }
    get->reset();
    auto kp = crypto::box_keypair();
    if (auto s = put_transport_key(db, kp.secret_key); !s) return std::unexpected(s.error());
    if (auto s = tx->commit(); !s) return std::unexpected(s.error());
    return kp;
}

}  // namespace

struct RelayStore::Watcher : LiveSubscription {
    RelayStore* store = nullptr;
    std::uint64_t token = 0;
    ~Watcher() override { store->unwatch(token); }
};

bool RelayStore::exists(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::exists(dir / kKeyFileName, ec);
}

RelayStore::RelayStore(storage::Database db, storage::Database read_db, RelayQuotas quotas,
                       Clock clock)
    : m_db(std::move(db)),
      m_store(m_db),
      m_read_db(std::move(read_db)),
      m_read_store(m_read_db),
      m_quotas(quotas),
      m_clock(std::move(clock)),
      m_writer([this] { writer_loop(); }) {}

RelayStore::~RelayStore() {
    m_guard.reset();
    {
        std::lock_guard lock(m_queue_mutex);
        m_stopping = true;
    }
    m_queue_cv.notify_all();
    // The writer drains the queue first: nothing handed to put_async() is dropped.
    m_writer.join();
}

Result<std::unique_ptr<RelayStore>> RelayStore::open(const std::filesystem::path& dir,
                                                     ByteView passphrase, RelayKdf kdf,
                                                     RelayQuotas quotas, Clock clock) {
    if (passphrase.empty())
        return fail(storage::StorageErrc::invalid_argument, "an empty passphrase");
    const auto key_path = dir / kKeyFileName;
    const auto db_path = dir / kDatabaseName;
    std::error_code ec;
    const bool have_key = std::filesystem::exists(key_path, ec);
    const bool have_db = std::filesystem::exists(db_path, ec);
    // One without the other is a damaged store, not a new one: creating over it would lose
    // what the relay acknowledged.
    if (have_key != have_db)
        return fail(storage::StorageErrc::corrupt,
                    "the relay store in {} is incomplete (key file or database missing)",
                    dir.string());

    crypto::SecretBytes db_key;
    storage::KeyFileSeen key_file;
    const bool create = !have_key;
    if (create) {
        std::filesystem::create_directories(dir, ec);
        if (ec)
            return fail(storage::StorageErrc::io, "cannot create {}: {}", dir.string(),
                        ec.message());
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
        const auto params = kdf == RelayKdf::fast
                                ? crypto::argon2_min()
                                : storage::tune_argon2(std::chrono::milliseconds(500));
        auto key = storage::KeyFile::create(key_path, passphrase, std::nullopt, params);
        if (!key) return std::unexpected(key.error());
        db_key = std::move(*key);
        auto seen = storage::KeyFile::look(key_path);
        if (!seen) return std::unexpected(seen.error());
        key_file = *seen;
    } else {
        auto unlocked = storage::KeyFile::unlock(key_path, passphrase);
        if (!unlocked) return std::unexpected(unlocked.error());
        // The relay never sets a duress passphrase; a slot that opens as duress is not ours.
        if (unlocked->kind != storage::SlotKind::real)
            return fail(storage::StorageErrc::wrong_passphrase, "wrong passphrase");
        db_key = std::move(unlocked->db_key);
        key_file = unlocked->seen;
    }

    auto db = storage::Database::open(db_path, db_key, create);
    if (!db) return std::unexpected(db.error());
    if (auto s = storage::EnvelopeStore::migrate(*db); !s) return std::unexpected(s.error());
    if (auto s = db->migrate("relay", kRelaySchema); !s) return std::unexpected(s.error());
    auto tk = load_transport_key(*db);
    if (!tk) return std::unexpected(tk.error());
    auto read_db = storage::Database::open(db_path, db_key, false);
    if (!read_db) return std::unexpected(read_db.error());

    // The WAL is truncated back to this after each checkpoint, so the data directory does not
    // keep the high-water mark of a burst.
    if (auto s = db->exec("PRAGMA journal_size_limit = " + std::to_string(kWalLimitBytes)); !s)
        return std::unexpected(s.error());

    std::unique_ptr<RelayStore> store(
        new RelayStore(std::move(*db), std::move(*read_db), quotas, std::move(clock)));
    store->m_transport_key = std::move(*tk);
    store->m_created = create;
    store->m_dir = dir;
    store->m_key_file = key_file;
    return store;
}

Status RelayStore::guard(std::function<void()> on_gone) {
    auto g = storage::StoreGuard::start({m_dir, m_dir / kKeyFileName, m_dir / kDatabaseName},
                                        m_key_file, std::move(on_gone));
    if (!g) return std::unexpected(g.error());
    m_guard = std::move(*g);
    return {};
}

std::int64_t RelayStore::now_ms() const {
    if (m_clock) return m_clock();
    return storage::wall_clock_ms();
}

Result<std::vector<RecordId>> RelayStore::ids(const MailboxId& mailbox) {
    std::lock_guard lock(m_read_mutex);
    return m_read_store.ids(mailbox);
}

Result<Replica::StoredIds> RelayStore::ids_in_stored_order(const MailboxId& mailbox,
                                                           std::uint64_t from, std::size_t limit) {
    std::lock_guard lock(m_read_mutex);
    return stored_ids_page(m_read_store, mailbox, from, limit);
}

Result<std::optional<Bytes>> RelayStore::get(const RecordId& id) {
    std::lock_guard lock(m_read_mutex);
    return m_read_store.get(id);
}

Result<std::uint64_t> RelayStore::used_bytes(storage::Database& db) {
    // Pages in use: what the database file holds less its free list (pages freed by expiry,
    // which SQLite reuses before it grows the file). Both counts come from the header.
    std::int64_t values[3] = {};
    const char* pragmas[3] = {"PRAGMA page_count", "PRAGMA freelist_count", "PRAGMA page_size"};
    for (int i = 0; i < 3; ++i) {
        auto stmt = db.cached(pragmas[i]);
        if (!stmt) return std::unexpected(stmt.error());
        auto row = (*stmt)->step();
        if (row && *row) values[i] = (*stmt)->column_int64(0);
        (*stmt)->reset();
        if (!row) return std::unexpected(row.error());
    }
    return static_cast<std::uint64_t>(std::max<std::int64_t>(values[0] - values[1], 0) * values[2]);
}

std::uint64_t RelayStore::store_bytes() {
    std::lock_guard lock(m_db_mutex);
    auto used = used_bytes(m_db);
    return used ? *used : 0;
}

std::size_t RelayStore::stripe_of(const MailboxId& mailbox) {
    return (std::size_t{mailbox[0]} << 4 | std::size_t{mailbox[1]} >> 4) % kStampStripes;
}

std::optional<std::uint64_t> RelayStore::change_stamp(const MailboxId& mailbox) {
    return m_stamps[stripe_of(mailbox)].load();
}

Result<std::vector<bool>> RelayStore::put_locked(const MailboxId& mailbox,
                                                 std::span<const Bytes> envelopes,
                                                 std::vector<RecordId>& added) {
    std::vector<bool> held(envelopes.size(), false);
    auto closed = is_closed_on(m_db, mailbox);
    if (!closed) return std::unexpected(closed.error());
    if (*closed) return held;
    // The store quota is on pages in use, read afresh for every batch (inside this transaction,
    // so the batches before it in a group commit count), and estimated within the batch: the
    // database passes it by at most one batch's misestimate.
    auto used = used_bytes(m_db);
    if (!used) return std::unexpected(used.error());
    std::uint64_t store_bytes = *used;
    auto usage = m_store.usage(mailbox);
    if (!usage) return std::unexpected(usage.error());
    const std::int64_t now = now_ms();
    const std::int64_t expires =
        m_quotas.ttl.count() > 0
            ? now + std::chrono::duration_cast<std::chrono::milliseconds>(m_quotas.ttl).count()
            : 0;
    std::vector<storage::StoredEnvelope> batch;
    std::set<RecordId> in_batch;
    for (std::size_t i = 0; i < envelopes.size(); ++i) {
        const Bytes& e = envelopes[i];
        const RecordId id = storage::record_id_of(e);
        auto have = m_store.contains(id);
        if (!have) return std::unexpected(have.error());
        if (*have || in_batch.contains(id)) {
            held[i] = true;
            continue;
        }
        const std::uint64_t cost = e.size() + kStoredEnvelopeOverheadBytes;
        if (usage->count + 1 > m_quotas.mailbox_max_count ||
            usage->bytes + e.size() > m_quotas.mailbox_max_bytes ||
            store_bytes + cost > m_quotas.store_max_bytes)
            continue;  // over quota: declined, the mailbox stays usable
        usage->count += 1;
        usage->bytes += e.size();
        store_bytes += cost;
        batch.push_back({id, mailbox, e, now, expires});
        in_batch.insert(id);
        added.push_back(id);
        held[i] = true;
    }
    if (!batch.empty()) {
        auto stored = m_store.put(batch);
        if (!stored) return std::unexpected(stored.error());
    }
    return held;
}

Result<std::vector<bool>> RelayStore::put(const MailboxId& mailbox,
                                          std::span<const Bytes> envelopes) {
    std::vector<RecordId> added;
    Result<std::vector<bool>> held;
    {
        std::lock_guard lock(m_db_mutex);
        auto txn = m_db.begin();
        if (!txn) return std::unexpected(txn.error());
        held = put_locked(mailbox, envelopes, added);
        if (!held) return held;
        // Only a committed write may be acknowledged (synchronous = FULL: durable on return).
        if (auto s = txn->commit(); !s) return std::unexpected(s.error());
    }
    notify(mailbox, added);
    return held;
}

void RelayStore::put_async(const MailboxId& mailbox, std::vector<Bytes> envelopes, PutDone done) {
    {
        std::lock_guard lock(m_queue_mutex);
        if (!m_stopping) {
            m_queue.push_back({mailbox, std::move(envelopes), std::move(done)});
            m_queue_cv.notify_one();
            return;
        }
    }
    done(fail(make_error_code(storage::StorageErrc::io), "the relay store is closing"));
}

void RelayStore::writer_loop() {
    // Requests committed together: enough to amortise one fsync over many sessions, few enough
    // that one transaction stays short.
    constexpr std::size_t kMaxGroupEnvelopes = 8'192;
    for (;;) {
        std::vector<PutRequest> group;
        {
            std::unique_lock lock(m_queue_mutex);
            m_queue_cv.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty()) return;  // stopping, and everything is answered
            m_writing = true;
            std::size_t envelopes = 0, bytes = 0;
            while (!m_queue.empty() &&
                   (group.empty() || (envelopes < kMaxGroupEnvelopes && bytes < kMaxGroupBytes))) {
                envelopes += m_queue.front().envelopes.size();
                for (const auto& e : m_queue.front().envelopes) bytes += e.size();
                group.push_back(std::move(m_queue.front()));
                m_queue.pop_front();
            }
        }
        std::vector<Result<std::vector<bool>>> results(group.size());
        std::vector<std::vector<RecordId>> added(group.size());
        {
            std::lock_guard lock(m_db_mutex);
            auto txn = m_db.begin();
            if (!txn) {
                for (auto& r : results) r = std::unexpected(txn.error());
            } else {
                // Each request in its own savepoint: one failing request (a bad batch) is
                // rolled back alone and the others still commit.
                for (std::size_t i = 0; i < group.size(); ++i) {
                    if (auto sp = m_db.exec("SAVEPOINT relay_put"); !sp) {
                        results[i] = std::unexpected(sp.error());
                        continue;
                    }
                    results[i] = put_locked(group[i].mailbox, group[i].envelopes, added[i]);
                    if (!results[i]) {
                        added[i].clear();
                        (void)m_db.exec("ROLLBACK TO relay_put");
                    }
                    (void)m_db.exec("RELEASE relay_put");
                }
                if (auto c = txn->commit(); !c) {
                    for (std::size_t i = 0; i < group.size(); ++i) {
                        results[i] = std::unexpected(c.error());
                        added[i].clear();
                    }
                }
            }
        }
        for (std::size_t i = 0; i < group.size(); ++i) {
            notify(group[i].mailbox, added[i]);
            group[i].done(std::move(results[i]));
        }
        // The answers hold the sessions' executors: gone before anyone is told we are idle.
        group.clear();
        {
            std::lock_guard lock(m_queue_mutex);
            m_writing = false;
        }
        m_idle_cv.notify_all();
    }
}

void RelayStore::drain() {
    std::unique_lock lock(m_queue_mutex);
    m_idle_cv.wait(lock, [&] { return m_queue.empty() && !m_writing; });
}

void RelayStore::notify(const MailboxId& mailbox, const std::vector<RecordId>& added) {
    if (added.empty()) return;
    // After the commit: a set built from what was read before it carries the old stamp.
    ++m_stamps[stripe_of(mailbox)];
    std::vector<LiveCallback> callbacks;
    {
        std::lock_guard lock(m_watch_mutex);
        auto [lo, hi] = m_watchers.equal_range(mailbox);
        for (auto it = lo; it != hi; ++it) callbacks.push_back(it->second.second);
    }
    for (auto& cb : callbacks) cb(mailbox, added);
}

std::unique_ptr<LiveSubscription> RelayStore::watch(const MailboxId& mailbox,
                                                    LiveCallback on_written) {
    auto w = std::make_unique<Watcher>();
    w->store = this;
    std::lock_guard lock(m_watch_mutex);
    w->token = m_next_token++;
    m_watchers.emplace(mailbox, std::make_pair(w->token, std::move(on_written)));
    return w;
}

void RelayStore::unwatch(std::uint64_t token) {
    std::lock_guard lock(m_watch_mutex);
    for (auto it = m_watchers.begin(); it != m_watchers.end(); ++it) {
        if (it->second.first == token) {
            m_watchers.erase(it);
            return;
        }
    }
}

Status RelayStore::close_mailbox(const MailboxId& mailbox) {
    std::lock_guard lock(m_db_mutex);
    auto stmt =
        m_db.cached("INSERT OR IGNORE INTO closed_mailboxes(mailbox, closed_ms) VALUES (?, ?)");
    if (!stmt) return std::unexpected(stmt.error());
    (*stmt)->bind(1, mailbox).bind(2, now_ms());
    auto r = (*stmt)->step();
    if (!r) return std::unexpected(r.error());
    return {};
}

Result<bool> RelayStore::is_closed(const MailboxId& mailbox) {
    std::lock_guard lock(m_read_mutex);
    return is_closed_on(m_read_db, mailbox);
}

Result<bool> RelayStore::is_closed_on(storage::Database& db, const MailboxId& mailbox) {
    auto stmt = db.cached("SELECT 1 FROM closed_mailboxes WHERE mailbox = ?");
    if (!stmt) return std::unexpected(stmt.error());
    (*stmt)->bind(1, mailbox);
    auto r = (*stmt)->step();
    (*stmt)->reset();
    if (!r) return std::unexpected(r.error());
    return *r;
}

SyncEngine::Admit RelayStore::admit() {
    return [this](const MailboxId& mailbox) -> std::optional<std::string> {
        auto closed = is_closed(mailbox);
        if (!closed) return "the relay's store failed";
        if (*closed) return "this relay keeps that mailbox closed";
        return std::nullopt;
    };
}

Result<std::size_t> RelayStore::expire() {
    std::lock_guard lock(m_db_mutex);
    auto n = m_store.expire(now_ms());
    if (!n) return n;
    if (*n > 0)
        for (auto& stamp : m_stamps) ++stamp;
    // Deleted envelopes must not linger in the WAL (DESIGN §4 "Store"); a busy checkpoint is
    // retried at the next expiry.
    if (*n > 0) (void)m_db.checkpoint_truncate();
    return n;
}

Result<storage::MailboxUsage> RelayStore::usage(const MailboxId& mailbox) {
    std::lock_guard lock(m_read_mutex);
    return m_read_store.usage(mailbox);
}

}  // namespace kolokol::transport
