// Node lifecycle: init, open (incl. duress), panic, passphrase change, and loading state.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "group.pb.h"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/storage/keyfile.hpp"
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

std::int64_t system_now_ms() {
    if (const char* fake = std::getenv("KOLOKOL_FAKE_NOW_MS"); fake && *fake)
        return std::strtoll(fake, nullptr, 10);
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// `what` is a message literal: the step that failed.
Error map_storage(const Error& e, const char* what) {
    using storage::StorageErrc;
    if (e.code == StorageErrc::wrong_passphrase)
        return make_error(CoreErrc::wrong_passphrase, "wrong passphrase");
    if (e.code == StorageErrc::keyfile_missing)
        return make_error(CoreErrc::no_store, "no store here");
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
    rejected += o.rejected;
    foreign_chunks += o.foreign_chunks;
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

    auto identity = Identity::generate(options.display_name);
    auto card = identity.card(system_now_ms());
    auto transport = crypto::system_random().bytes(32);
    auto st = db->prepare(
        "INSERT INTO identity(id, sign_secret, box_secret, display_name, card, transport_secret, "
        "created_ms) VALUES (1, ?, ?, ?, ?, ?, ?)");
    if (!st) return std::unexpected(st.error());
    st->bind(1, identity.sign.secret_key.view())
        .bind(2, identity.box.secret_key.view())
        .bind(3, std::string_view(options.display_name))
        .bind(4, ByteView(card.signed_bytes))
        .bind(5, ByteView(transport))
        .bind(6, system_now_ms());
    crypto::memzero(transport);
    if (auto r = st->step(); !r) return std::unexpected(r.error());
    return {};
}

Result<std::unique_ptr<Node>> Node::open(const fs::path& home, ByteView passphrase) {
    if (!exists(home))
        return fail(CoreErrc::no_store, "no store in {} — run `kolokol init`", home.string());
    auto unlocked = storage::KeyFile::unlock(key_path(home), passphrase);
    if (!unlocked) return std::unexpected(map_storage(unlocked.error(), "unlocking"));
    if (unlocked->kind == storage::SlotKind::duress) {
        // Crypto-erase: the key file keeps its size and shape, no slot opens any more, and the
        // database is noise without its key. Nothing is deleted, so the home looks as it did.
        (void)storage::KeyFile::wipe_keys(key_path(home));
        return fail(CoreErrc::wrong_passphrase, "wrong passphrase");
    }
    auto db = storage::Database::open(db_path(home), unlocked->db_key, false);
    if (!db) return std::unexpected(map_storage(db.error(), "opening the database"));
    if (auto ok = migrate_schema(*db); !ok)
        return std::unexpected(map_storage(ok.error(), "schema"));
    auto impl = std::make_unique<Impl>();
    impl->home = home;
    impl->db = std::move(*db);
    impl->envelopes = std::make_unique<storage::EnvelopeStore>(impl->db);
    impl->clock = system_now_ms;
    if (auto ok = impl->load(); !ok) return std::unexpected(ok.error());
    auto node = std::unique_ptr<Node>(new Node(std::move(impl)));
    // Records past their group's retention period go before anything can show them.
    if (auto r = node->apply_retention(); !r) return std::unexpected(r.error());
    return node;
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
    m_impl->clock = std::move(clock);
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
    auto sign_sk = crypto::SecretBytes::copy_of(st->column_blob(0));
    auto box_sk = crypto::SecretBytes::copy_of(st->column_blob(1));
    identity.display_name = st->column_text(2);
    auto parsed = card_from_signed_bytes(st->column_blob(3));
    if (!parsed) return fail(CoreErrc::corrupt_store, "the stored card is damaged");
    card = *parsed;
    identity.sign.public_key = card.sign_key;
    identity.sign.secret_key = std::move(sign_sk);
    identity.box.public_key = card.box_key;
    identity.box.secret_key = std::move(box_sk);

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

    auto es = db.prepare(
        "SELECT group_id, epoch_id, secret, control_key, mailbox_seed, file_key FROM epochs");
    if (!es) return std::unexpected(es.error());
    for (;;) {
        auto r = es->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) break;
        auto group = to_array<32>(es->column_blob(0));
        auto epoch = to_array<32>(es->column_blob(1));
        EpochKeys keys = es->column_is_null(2)
                             ? EpochKeys::control_only(group, epoch, es->column_blob(3),
                                                       es->column_blob(4), es->column_blob(5))
                             : EpochKeys::from_secret(group, epoch, es->column_blob(2));
        epoch_mailbox[epoch] = keys.mailbox;
        epochs.emplace(keys.mailbox, std::move(keys));
    }
    return {};
}

Status Node::Impl::add_epoch(EpochKeys keys) {
    if (auto it = epochs.find(keys.mailbox); it != epochs.end()) {
        // Upgrade control-only access to full access when the secret arrives later.
        if (it->second.secret || !keys.secret) return {};
    }
    auto st = db.cached(
        "INSERT OR REPLACE INTO epochs(epoch_id, group_id, mailbox, secret, control_key, "
        "mailbox_seed, file_key, added_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return std::unexpected(st.error());
    (*st)
        ->bind(1, ByteView(keys.epoch_id))
        .bind(2, ByteView(keys.group_id))
        .bind(3, ByteView(keys.mailbox));
    if (keys.secret)
        (*st)->bind(4, keys.secret->view());
    else
        (*st)->bind_null(4);
    (*st)
        ->bind(5, keys.control_key.view())
        .bind(6, keys.mailbox_seed.view())
        .bind(7, keys.file_key.view())
        .bind(8, now());
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    epoch_mailbox[keys.epoch_id] = keys.mailbox;
    auto mailbox = keys.mailbox;
    epochs.insert_or_assign(mailbox, std::move(keys));
    return {};
}

const EpochKeys* Node::Impl::keys_for_epoch(const EpochId& epoch) const {
    auto it = epoch_mailbox.find(epoch);
    if (it == epoch_mailbox.end()) return nullptr;
    auto k = epochs.find(it->second);
    return k == epochs.end() ? nullptr : &k->second;
}

}  // namespace kolokol::core
