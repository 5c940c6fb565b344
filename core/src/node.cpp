// Node lifecycle: init, open (incl. duress), panic, passphrase change, and loading state.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "group.pb.h"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "kolokol/storage/unlock_agent.hpp"
#include "kolokol/storage/wall_clock.hpp"
#include "node_impl.hpp"
#include "schema.hpp"

namespace kolokol::core {

namespace fs = std::filesystem;

namespace {
fs::path key_path(const fs::path& home) {
    return home / "store.key";
}
fs::path db_path(const fs::path& home) {
    return home / "store.db";
}

std::function<std::int64_t()> or_system(std::function<std::int64_t()> clock) {
    if (!clock) return storage::wall_clock_ms;
    return clock;
}

// `what` is a message literal: the step that failed.
Error map_storage(const Error& e, const char* what) {
    using storage::StorageErrc;
    if (e.code == StorageErrc::wrong_passphrase)
        return make_error(CoreErrc::wrong_passphrase, "wrong passphrase");
    if (e.code == StorageErrc::keyfile_missing)
        return make_error(CoreErrc::no_store, "no store here");
    if (e.code == StorageErrc::erased)
        return make_error(CoreErrc::store_gone, "the store was erased while this ran");
    if (e.code == StorageErrc::keyfile_corrupt)
        return make_error(CoreErrc::corrupt_store, "the key file is damaged");
    if (e.code == StorageErrc::not_a_database || e.code == StorageErrc::corrupt ||
        e.code == StorageErrc::not_found)
        return make_error(CoreErrc::corrupt_store,
                          "the database is damaged or does not belong to this key file");
    return make_error(CoreErrc::io, "{}: {}", what, e);
}

}  // namespace

void IngestReport::merge(const IngestReport& o) {
    received += o.received;
    added += o.added;
    duplicate += o.duplicate;
    pending += o.pending;
    unreadable += o.unreadable;
    over_quota += o.over_quota;
    evicted += o.evicted;
    rejected += o.rejected;
    foreign_chunks += o.foreign_chunks;
    dropped += o.dropped;
}

Node::Node(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Node::~Node() = default;

bool Node::exists(const fs::path& home) {
    std::error_code ec;
    return fs::exists(key_path(home), ec) || fs::exists(db_path(home), ec);
}

Status Node::init(const fs::path& home, const InitOptions& options) {
    if (auto ok = check_display_name(options.display_name); !ok) return ok;
    if (options.passphrase.empty()) return fail(CoreErrc::bad_input, "the passphrase is empty");
    if (options.duress_passphrase &&
        crypto::equal_ct(*options.duress_passphrase, options.passphrase))
        return fail(CoreErrc::bad_input, "the duress passphrase must differ from the passphrase");
    if (exists(home)) return fail(CoreErrc::exists, "a store already exists in {}", home.string());
    std::error_code ec;
    fs::create_directories(home, ec);
    if (ec) return fail(CoreErrc::io, "cannot create {}: {}", home.string(), ec.message());
    fs::permissions(home, fs::perms::owner_all, fs::perm_options::replace, ec);

    auto params = options.kdf == KdfProfile::fast
                      ? crypto::argon2_min()
                      : storage::tune_argon2(std::chrono::milliseconds(500));
    auto db_key = storage::KeyFile::create(key_path(home), options.passphrase,
                                           options.duress_passphrase, params);
    if (!db_key) return std::unexpected(map_storage(db_key.error(), "creating the key file"));
    auto db = storage::Database::open(db_path(home), *db_key, true);
    if (!db) return std::unexpected(map_storage(db.error(), "creating the database"));
    if (auto ok = migrate_schema(*db); !ok)
        return std::unexpected(map_storage(ok.error(), "schema"));

    const auto clock = or_system(options.clock);
    auto identity = Identity::generate(options.display_name);
    auto card = identity.card(clock());
    crypto::SecretBytes transport(32);
    crypto::system_random().fill(transport.mutable_view());
    auto sign =
        db->seal_secret(identity.sign.secret_key.view(), secret_place("identity.sign_secret"));
    auto box = db->seal_secret(identity.box.secret_key.view(), secret_place("identity.box_secret"));
    auto transport_sealed =
        db->seal_secret(transport.view(), secret_place("identity.transport_secret"));
    if (!sign || !box || !transport_sealed)
        return fail(CoreErrc::io, "cannot seal the identity's keys");
    auto st = db->prepare(
        "INSERT INTO identity(id, sign_secret, box_secret, display_name, card, transport_secret, "
        "created_ms) VALUES (1, ?, ?, ?, ?, ?, ?)");
    if (!st) return std::unexpected(st.error());
    st->bind(1, *sign)
        .bind(2, *box)
        .bind(3, std::string_view(options.display_name))
        .bind(4, ByteView(card.signed_bytes))
        .bind(5, *transport_sealed)
        .bind(6, clock());
    if (auto r = st->step(); !r) return std::unexpected(r.error());
    return {};
}

Result<storage::Unlocked> Node::unlock(const fs::path& home, ByteView passphrase) {
    if (!exists(home))
        return fail(CoreErrc::no_store, "no store in {} — run `kolokol init`", home.string());
    // A duress passphrase crypto-erases the key file in place: it keeps its inode, size, times
    // and shape, no slot opens any more, and the database is noise without its key. Nothing is
    // deleted and the database is not opened, so the home looks as after a wrong passphrase.
    auto unlocked = storage::KeyFile::unlock(key_path(home), passphrase, storage::OnDuress::erase);
    if (!unlocked) return std::unexpected(map_storage(unlocked.error(), "unlocking"));
    if (unlocked->kind == storage::SlotKind::duress)
        return fail(CoreErrc::wrong_passphrase, "wrong passphrase");
    return std::move(*unlocked);
}

fs::path Node::key_file_path(const fs::path& home) {
    return key_path(home);
}
fs::path Node::database_path(const fs::path& home) {
    return db_path(home);
}

Result<std::unique_ptr<Node>> Node::open(const fs::path& home, ByteView passphrase,
                                         std::function<std::int64_t()> clock) {
    auto unlocked = unlock(home, passphrase);
    if (!unlocked) return std::unexpected(unlocked.error());
    return open(home, *unlocked, std::move(clock));
}

Result<std::unique_ptr<Node>> Node::open(const fs::path& home, const storage::Unlocked& unlocked,
                                         std::function<std::int64_t()> clock) {
    if (unlocked.kind != storage::SlotKind::real)
        return fail(CoreErrc::wrong_passphrase, "wrong passphrase");
    auto db = storage::Database::open(db_path(home), unlocked.db_key, false);
    if (!db) return std::unexpected(map_storage(db.error(), "opening the database"));
    if (auto ok = migrate_schema(*db); !ok)
        return std::unexpected(map_storage(ok.error(), "schema"));
    // Checkpoints every 8,192 log pages (32 MiB) rather than SQLite's 1,000: an ingest batch
    // writes some 500 to 1,700 pages, so the default copied the pages of a batch into the
    // database at nearly every commit, the same index pages batch after batch (DESIGN §12.7).
    if (auto ok = db->exec("PRAGMA wal_autocheckpoint = 8192"); !ok)
        return std::unexpected(map_storage(ok.error(), "opening the database"));
    auto impl = std::make_unique<Impl>();
    impl->home = home;
    impl->key_file = unlocked.seen;
    impl->db = std::move(*db);
    impl->envelopes = std::make_unique<storage::EnvelopeStore>(impl->db);
    impl->clock = or_system(std::move(clock));
    if (auto ok = impl->load(); !ok) return std::unexpected(ok.error());
    auto node = std::unique_ptr<Node>(new Node(std::move(impl)));
    // Records past their group's retention period go before anything can show them.
    if (auto r = node->apply_retention(); !r) return std::unexpected(r.error());
    return node;
}

Status Node::guard_store(std::function<void()> on_gone) {
    auto guard =
        storage::StoreGuard::start({m_impl->home, key_path(m_impl->home), db_path(m_impl->home)},
                                   m_impl->key_file, std::move(on_gone));
    if (!guard) return std::unexpected(map_storage(guard.error(), "watching the store"));
    m_impl->guard = std::move(*guard);
    return {};
}

Status Node::panic(const fs::path& home) {
    if (!exists(home)) return fail(CoreErrc::no_store, "no store in {}", home.string());
    std::error_code ec;
    if (fs::exists(key_path(home), ec)) {
        if (auto ok = storage::KeyFile::destroy(key_path(home)); !ok)
            return std::unexpected(map_storage(ok.error(), "destroying the key file"));
    }
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
        fs::remove(db_path(home).string() + suffix, ec);
    // A socket an unlock agent left behind (one killed before it could remove it).
    fs::remove(storage::agent_socket_path(home), ec);
    fs::remove(storage::agent_socket_path(home).parent_path(), ec);
    fs::remove(home, ec);  // only if empty
    return {};
}

Status Node::change_passphrase(const fs::path& home, ByteView old_passphrase,
                               ByteView new_passphrase) {
    if (!exists(home)) return fail(CoreErrc::no_store, "no store in {}", home.string());
    if (new_passphrase.empty()) return fail(CoreErrc::bad_input, "the new passphrase is empty");
    if (auto ok =
            storage::KeyFile::change_passphrase(key_path(home), old_passphrase, new_passphrase);
        !ok)
        return std::unexpected(map_storage(ok.error(), "changing the passphrase"));
    return {};
}

void Node::set_clock(std::function<std::int64_t()> clock) {
    m_impl->clock = or_system(std::move(clock));
}

std::int64_t Node::now_ms() const {
    return m_impl->now();
}

const Card& Node::card() const {
    return m_impl->card;
}
const MemberKey& Node::me() const {
    return m_impl->card.sign_key;
}

Status Node::Impl::load() {
    auto st =
        db.prepare("SELECT sign_secret, box_secret, display_name, card FROM identity WHERE id = 1");
    if (!st) return std::unexpected(st.error());
    auto row = st->step();
    if (!row || !*row) return fail(CoreErrc::corrupt_store, "the store holds no identity");
    auto sign_sk = db.open_secret(st->column_blob(0), secret_place("identity.sign_secret"));
    auto box_sk = db.open_secret(st->column_blob(1), secret_place("identity.box_secret"));
    if (!sign_sk || !box_sk) return fail(CoreErrc::corrupt_store, "the stored identity is damaged");
    identity.display_name = st->column_text(2);
    auto parsed = card_from_signed_bytes(st->column_blob(3));
    if (!parsed) return fail(CoreErrc::corrupt_store, "the stored card is damaged");
    card = *parsed;
    identity.sign.public_key = card.sign_key;
    identity.sign.secret_key = std::move(*sign_sk);
    identity.box.public_key = card.box_key;
    identity.box.secret_key = std::move(*box_sk);

    auto gs = db.prepare("SELECT group_id, genesis FROM groups");
    if (!gs) return std::unexpected(gs.error());
    for (;;) {
        auto r = gs->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) break;
        pb::SignedGenesis sg;
        pb::Genesis g;
        auto blob = gs->column_blob(1);
        if (!sg.ParseFromArray(blob.data(), static_cast<int>(blob.size())) ||
            !g.ParseFromString(sg.genesis()))
            return fail(CoreErrc::corrupt_store, "a stored group is damaged");
        GenesisInfo info;
        info.group_id = to_array<32>(gs->column_blob(0));
        info.creator = to_array<32>(as_bytes(g.creator()));
        info.creator_box = to_array<32>(as_bytes(g.creator_box()));
        info.creator_name = g.creator_name();
        genesis[info.group_id] = info;
    }

    return load_epochs();
}

Status Node::Impl::load_epochs() {
    epochs.clear();
    epoch_mailbox.clear();
    auto es = db.prepare(
        "SELECT group_id, epoch_id, secret, control_key, mailbox_seed, file_key, source "
        "FROM epochs");
    if (!es) return std::unexpected(es.error());
    for (;;) {
        auto r = es->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) break;
        auto group = to_array<32>(es->column_blob(0));
        auto epoch = to_array<32>(es->column_blob(1));
        auto open = [&](int column, std::string_view name) {
            return db.open_secret(es->column_blob(column), secret_place(name, epoch));
        };
        std::optional<EpochKeys> keys;
        if (es->column_is_null(2)) {
            auto control = open(3, "epochs.control_key");
            auto seed = open(4, "epochs.mailbox_seed");
            auto file = open(5, "epochs.file_key");
            if (control && seed && file)
                keys = EpochKeys::control_only(group, epoch, control->view(), seed->view(),
                                               file->view());
        } else if (auto secret = open(2, "epochs.secret")) {
            keys = EpochKeys::from_secret(group, epoch, secret->view());
        }
        if (!keys) return fail(CoreErrc::corrupt_store, "a stored epoch key is damaged");
        const auto source = es->column_int64(6);
        if (source < 0 || source > static_cast<std::int64_t>(KeySource::token))
            return fail(CoreErrc::corrupt_store, "a stored epoch key has an unknown source");
        keys->source = static_cast<KeySource>(source);
        epoch_mailbox[epoch] = keys->mailbox;
        const auto mailbox = keys->mailbox;
        epochs.emplace(mailbox, std::move(*keys));
    }
    return {};
}

Status Node::Impl::add_epoch(EpochKeys keys, std::optional<std::int64_t> added_ms) {
    if (auto it = epoch_mailbox.find(keys.epoch_id); it != epoch_mailbox.end()) {
        auto& held = epochs.at(it->second);
        // One set of keys per epoch, for good: whoever could swap a member's key for the epoch
        // they write in would have their records sealed to a mailbox of his choosing.
        if (held.group_id != keys.group_id)
            return fail(CoreErrc::conflict, "epoch {} is held for another group",
                        short_key(keys.epoch_id));
        if (!held.agrees_with(keys))
            return fail(CoreErrc::conflict, "another key for epoch {} than the one held",
                        short_key(keys.epoch_id));
        const bool add_secret = !held.secret && keys.secret && !epoch_retired(keys.epoch_id);
        // The same keys from a better source vouch for them: a rotation's grant for a token's.
        auto trust = [](KeySource s) {
            return s == KeySource::group ? 2 : s == KeySource::token ? 1 : 0;
        };
        const KeySource source =
            trust(keys.source) > trust(held.source) ? keys.source : held.source;
        if (!add_secret && source == held.source) return {};
        auto st = db.cached(
            "UPDATE epochs SET secret = COALESCE(?, secret), source = ? WHERE epoch_id = ?");
        if (!st) return std::unexpected(st.error());
        if (add_secret) {
            auto sealed =
                db.seal_secret(keys.secret->view(), secret_place("epochs.secret", keys.epoch_id));
            if (!sealed) return fail(CoreErrc::io, "cannot seal an epoch's keys");
            (*st)->bind(1, *sealed);
        } else {
            (*st)->bind_null(1);
        }
        (*st)->bind(2, static_cast<std::int64_t>(source)).bind(3, ByteView(keys.epoch_id));
        if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
        if (add_secret) held = std::move(keys);
        held.source = source;
        return {};
    }
    // A different epoch id with keys already held: the same secret under two names.
    if (epochs.contains(keys.mailbox))
        return fail(CoreErrc::conflict, "epoch {} has the keys of another epoch",
                    short_key(keys.epoch_id));
    auto st = db.cached(
        "INSERT INTO epochs(epoch_id, group_id, mailbox, secret, control_key, mailbox_seed, "
        "file_key, added_ms, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return std::unexpected(st.error());
    if (auto ok = bind_epoch_keys(db, **st, keys); !ok) return ok;
    (*st)->bind(8, added_ms.value_or(now())).bind(9, static_cast<std::int64_t>(keys.source));
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    epoch_mailbox[keys.epoch_id] = keys.mailbox;
    auto mailbox = keys.mailbox;
    epochs.emplace(mailbox, std::move(keys));
    return {};
}

Status bind_epoch_keys(storage::Database& db, storage::Statement& st, const EpochKeys& keys) {
    const ByteView epoch(keys.epoch_id);
    auto sealed = [&](const crypto::SecretBytes& secret, std::string_view column) {
        return db.seal_secret(secret.view(), secret_place(column, epoch));
    };
    auto control = sealed(keys.control_key, "epochs.control_key");
    auto seed = sealed(keys.mailbox_seed, "epochs.mailbox_seed");
    auto file = sealed(keys.file_key, "epochs.file_key");
    if (!control || !seed || !file) return fail(CoreErrc::io, "cannot seal an epoch's keys");
    st.bind(1, epoch).bind(2, ByteView(keys.group_id)).bind(3, ByteView(keys.mailbox));
    if (keys.secret) {
        auto secret = sealed(*keys.secret, "epochs.secret");
        if (!secret) return fail(CoreErrc::io, "cannot seal an epoch's keys");
        st.bind(4, *secret);
    } else {
        st.bind_null(4);
    }
    st.bind(5, *control).bind(6, *seed).bind(7, *file);
    return {};
}

const EpochKeys* Node::Impl::keys_for_epoch(const EpochId& epoch) const {
    auto it = epoch_mailbox.find(epoch);
    if (it == epoch_mailbox.end()) return nullptr;
    auto k = epochs.find(it->second);
    return k == epochs.end() ? nullptr : &k->second;
}

}  // namespace kolokol::core
