// Backup and restore through the Node: a round trip brings back the identity, groups, keys,
// relays and verified marks (and with history the messages); a wrong passphrase or a damaged
// file writes nothing; a removed member's backup holds no key of the epochs after the removal;
// every field of a decoded backup is checked; and the keys of the member's key updates
// (box_keys) come back, erased ones erased.

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <set>

#include "backup.pb.h"
#include "group.pb.h"
#include "kolokol/age/decryptor.hpp"
#include "kolokol/age/encryptor.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {
constexpr std::string_view kBackupPass = "the backup's own passphrase";
constexpr std::string_view kNewStorePass = "a new store passphrase";
const std::string kRelay = "kolokol://127.0.0.1:7000/" + std::string(52, 'a');

RestoreOptions restore_options(std::string_view backup_pass = kBackupPass) {
    RestoreOptions o;
    o.backup_passphrase = as_bytes(backup_pass);
    o.store_passphrase = as_bytes(kNewStorePass);
    o.kdf = KdfProfile::fast;
    return o;
}

// Decrypts a backup file with the real age decryptor and parses it.
pb::Backup decode(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t pos = 0;
    age::Source source = [&](MutableByteView out) -> Result<std::size_t> {
        auto n = std::min(out.size(), data.size() - pos);
        std::copy_n(data.data() + pos, n, out.data());
        pos += n;
        return n;
    };
    auto dec = age::Decryptor::open(source, {}, []() -> Result<crypto::SecretBytes> {
        return crypto::SecretBytes::copy_of(as_bytes(kBackupPass));
    });
    REQUIRE(dec.has_value());
    std::string plain;
    Bytes buf(65536);
    for (;;) {
        auto n = dec->read(buf);
        REQUIRE(n.has_value());
        if (*n == 0) break;
        plain.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    pb::Backup b;
    REQUIRE(b.ParseFromString(plain));
    return b;
}

std::set<std::string> epochs_with_secret(const pb::Backup& b) {
    std::set<std::string> out;
    for (const auto& g : b.groups())
        for (const auto& e : g.epochs())
            if (!e.secret().empty()) out.insert(e.epoch_id());
    return out;
}

std::string serialized(const pb::Backup& b) {
    return b.SerializeAsString();
}

// Encrypts a (changed) backup as `kolokol backup` does, with a cheap scrypt.
void encode(const pb::Backup& b, const std::filesystem::path& file) {
    std::string out;
    age::EncryptOptions options;
    options.scrypt_work_factor = 10;
    options.threads = 1;
    auto enc = age::Encryptor::with_passphrase(
        as_bytes(kBackupPass),
        [&](ByteView data) -> Status {
            out.append(reinterpret_cast<const char*>(data.data()), data.size());
            return {};
        },
        options);
    REQUIRE(enc.has_value());
    REQUIRE(enc->write(as_bytes(serialized(b))).has_value());
    REQUIRE(enc->finish().has_value());
    std::ofstream(file, std::ios::binary) << out;
}

// The box_keys rows of a store in rowid order: public key, and whether the secret is kept.
std::vector<std::pair<std::string, bool>> box_key_rows(Node& n) {
    auto st = NodeTestAccess::impl(n).db.prepare(
        "SELECT public_key, secret IS NOT NULL FROM box_keys ORDER BY rowid");
    REQUIRE(st.has_value());
    std::vector<std::pair<std::string, bool>> out;
    for (;;) {
        auto r = st->step();
        REQUIRE(r.has_value());
        if (!*r) break;
        out.emplace_back(to_string(st->column_blob(0)), st->column_int64(1) != 0);
    }
    return out;
}
}  // namespace

TEST_CASE("backup and restore round trip: identity, groups, keys, relays, marks, history") {
    TempDir dir;
    auto anna = make_node(dir.path() / "anna", "Anna");
    auto boris = make_node(dir.path() / "boris", "Борис");
    auto g = *anna->create_group("Omega");
    REQUIRE(anna->set_relays(g, {kRelay}).has_value());
    auto token = anna->add_member(g, card_to_text(boris->card()), false, false);
    REQUIRE(token.has_value());
    REQUIRE(boris->join(*token).has_value());
    REQUIRE(anna->post(g, "hello before the loss").has_value());
    deliver(*anna, *boris);
    REQUIRE(boris->post(g, "Борис на связи").has_value());
    REQUIRE(boris->mark_verified(anna->me()).has_value());
    auto before = texts(*boris, g);
    REQUIRE(before.size() == 2);

    auto plain_file = dir.path() / "boris.age";
    auto history_file = dir.path() / "boris-history.age";
    auto s1 = boris->write_backup(plain_file, as_bytes(kBackupPass), false);
    REQUIRE(s1.has_value());
    CHECK(s1->groups == 1);
    CHECK(s1->envelopes >= 1);  // Boris's own records, among them the one Anna never got
    CHECK(s1->epochs >= 1);
    auto s2 = boris->write_backup(history_file, as_bytes(kBackupPass), true);
    REQUIRE(s2.has_value());
    CHECK(s2->envelopes > s1->envelopes);
    CHECK(std::filesystem::status(plain_file).permissions() ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    CHECK_FALSE(std::filesystem::exists(dir.path() / "boris.age.tmp"));

    SUBCASE("without history: the member is back in the group and sync fills in the rest") {
        auto r = Node::restore_backup(dir.path() / "new", plain_file, restore_options());
        REQUIRE(r.has_value());
        CHECK(r->groups == 1);
        auto node = Node::open(dir.path() / "new", as_bytes(kNewStorePass));
        REQUIRE(node.has_value());
        CHECK((*node)->me() == boris->me());
        CHECK((*node)->card().signed_bytes == boris->card().signed_bytes);
        CHECK((*node)->transport_key().public_key == boris->transport_key().public_key);
        CHECK((*node)->is_verified(anna->me()));
        CHECK((*node)->relays(g) == std::vector<std::string>{kRelay});
        CHECK((*node)->mailboxes(&g) == boris->mailboxes(&g));
        // Only his own message so far, waiting for Anna's records it follows.
        CHECK(texts(**node, g).size() <= 1);
        deliver(*anna, **node);
        CHECK(texts(**node, g) == before);
        // Still a member: what it writes now opens for Anna.
        REQUIRE((*node)->post(g, "after the restore").has_value());
        deliver(**node, *anna);
        CHECK(texts(*anna, g).back() == "after the restore");
    }
    SUBCASE("with history: the messages are back before any sync") {
        auto r = Node::restore_backup(dir.path() / "new", history_file, restore_options());
        REQUIRE(r.has_value());
        CHECK(r->envelopes == s2->envelopes);
        CHECK(r->ingest.rejected == 0);
        auto node = Node::open(dir.path() / "new", as_bytes(kNewStorePass));
        REQUIRE(node.has_value());
        CHECK(texts(**node, g) == before);
    }
    SUBCASE("a wrong passphrase, a damaged file or an existing store writes nothing") {
        auto r = Node::restore_backup(dir.path() / "new", plain_file,
                                      restore_options("not the passphrase"));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::wrong_passphrase);
        CHECK_FALSE(Node::exists(dir.path() / "new"));

        std::string data;
        {
            std::ifstream in(plain_file, std::ios::binary);
            data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        data[data.size() - 20] ^= 0x01;
        {
            std::ofstream out(dir.path() / "damaged.age", std::ios::binary);
            out << data;
        }
        r = Node::restore_backup(dir.path() / "new", dir.path() / "damaged.age", restore_options());
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::bad_input);
        CHECK_FALSE(Node::exists(dir.path() / "new"));

        r = Node::restore_backup(dir.path() / "anna", plain_file, restore_options());
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::exists);
        CHECK(reopen(dir.path() / "anna")->me() == anna->me());
    }
}

TEST_CASE("a removed member's backup holds no key of the epochs after the removal") {
    TempDir dir;
    auto anna = make_node(dir.path() / "anna", "Anna");
    auto clara = make_node(dir.path() / "clara", "Clara");
    auto g = *anna->create_group("Omega");
    REQUIRE(clara->join(*anna->add_member(g, card_to_text(clara->card()), false, false)));
    deliver(*anna, *clara);
    REQUIRE(anna->remove_member(g, clara->me()).has_value());
    REQUIRE(anna->rotate(g).has_value());
    REQUIRE(anna->post(g, "after clara left").has_value());
    deliver(*anna, *clara);

    REQUIRE(anna->write_backup(dir.path() / "anna.age", as_bytes(kBackupPass), false));
    REQUIRE(clara->write_backup(dir.path() / "clara.age", as_bytes(kBackupPass), true));
    auto anna_keys = epochs_with_secret(decode(dir.path() / "anna.age"));
    auto clara_backup = decode(dir.path() / "clara.age");
    auto clara_keys = epochs_with_secret(clara_backup);
    CHECK(anna_keys.size() >= 3);  // the genesis epoch and two rotations
    CHECK_FALSE(clara_keys.empty());
    for (const auto& e : clara_keys) CHECK(anna_keys.contains(e));
    CHECK(clara_keys.size() < anna_keys.size());
    // Nor do her envelopes open what followed, once restored.
    auto r =
        Node::restore_backup(dir.path() / "clara2", dir.path() / "clara.age", restore_options());
    REQUIRE(r.has_value());
    auto restored = Node::open(dir.path() / "clara2", as_bytes(kNewStorePass));
    REQUIRE(restored.has_value());
    deliver(*anna, **restored);
    for (const auto& t : texts(**restored, g)) CHECK(t != "after clara left");
}

TEST_CASE("every field of a decoded backup is checked") {
    TempDir dir;
    auto anna = make_node(dir.path() / "anna", "Anna");
    auto g = *anna->create_group("Omega");
    REQUIRE(anna->set_relays(g, {kRelay}).has_value());
    REQUIRE(anna->mark_verified(anna->me()).has_value());
    REQUIRE(anna->write_backup(dir.path() / "a.age", as_bytes(kBackupPass), true));
    const auto good = decode(dir.path() / "a.age");
    REQUIRE(Node::check_backup(as_bytes(serialized(good))).has_value());

    auto refused = [&](auto mutate, const char* what) {
        pb::Backup b = good;
        mutate(b);
        auto ok = Node::check_backup(as_bytes(serialized(b)));
        INFO(what);
        REQUIRE_FALSE(ok.has_value());
        CHECK(ok.error().code == CoreErrc::bad_input);
        CHECK(ok.error().message.starts_with("the backup "));
    };
    refused([](pb::Backup& b) { b.set_version(2); }, "version");
    refused([](pb::Backup& b) { b.clear_identity(); }, "no identity");
    refused([](pb::Backup& b) { b.mutable_identity()->mutable_sign_secret()->pop_back(); },
            "short signing key");
    refused([](pb::Backup& b) { (*b.mutable_identity()->mutable_sign_secret())[3] ^= 1; },
            "signing key not the card's");
    refused([](pb::Backup& b) { (*b.mutable_identity()->mutable_box_secret())[3] ^= 1; },
            "box key not the card's");
    refused(
        [](pb::Backup& b) { b.mutable_identity()->set_transport_secret(std::string(32, '\0')); },
        "zero transport key");
    refused([](pb::Backup& b) { b.mutable_identity()->set_transport_secret("short"); },
            "short transport key");
    refused([](pb::Backup& b) { b.mutable_identity()->set_display_name(""); }, "empty name");
    refused([](pb::Backup& b) { (*b.mutable_identity()->mutable_card())[10] ^= 1; }, "card");
    refused([](pb::Backup& b) { (*b.mutable_groups(0)->mutable_group_id())[0] ^= 1; },
            "group id not the genesis hash");
    refused([](pb::Backup& b) { (*b.mutable_groups(0)->mutable_genesis())[12] ^= 1; }, "genesis");
    refused([](pb::Backup& b) { *b.add_groups() = b.groups(0); }, "the same group twice");
    refused(
        [](pb::Backup& b) {
            b.mutable_groups(0)->mutable_epochs(0)->set_control_key(std::string(32, 'k'));
        },
        "secret and control key together");
    refused([](pb::Backup& b) { b.mutable_groups(0)->mutable_epochs(0)->set_secret("short"); },
            "short epoch secret");
    refused([](pb::Backup& b) { b.mutable_groups(0)->mutable_epochs(0)->set_epoch_id("id"); },
            "short epoch id");
    refused([](pb::Backup& b) { *b.mutable_groups(0)->add_epochs() = b.groups(0).epochs(0); },
            "the same epoch twice");
    refused([](pb::Backup& b) { b.mutable_groups(0)->add_relays("http://example.org/"); },
            "bad relay");
    refused(
        [](pb::Backup& b) {
            for (int i = 0; i < 16; ++i) b.mutable_groups(0)->add_relays(kRelay);
        },
        "17 relays");
    refused([](pb::Backup& b) { b.add_verified("short"); }, "short verified key");
    refused([](pb::Backup& b) { b.add_envelopes("tiny"); }, "short envelope");
    refused([](pb::Backup& b) { b.add_envelopes(std::string(70 * 1024, '\1')); }, "huge envelope");

    // Bytes that are not a backup at all.
    auto random = crypto::system_random().bytes(4096);
    CHECK_FALSE(Node::check_backup(random).has_value());
    CHECK_FALSE(Node::check_backup({}).has_value());
}

TEST_CASE("a backup's fields may come in any order before its envelopes, none after them") {
    // Restore keeps every key in locked memory by reading the fields before the first envelope
    // into it and the envelopes into the heap; protobuf writes fields in the order of their
    // numbers, so every backup has its envelopes last.
    TempDir dir;
    auto anna = make_node(dir.path() / "anna", "Anna");
    REQUIRE(anna->create_group("Omega"));
    REQUIRE(anna->mark_verified(anna->me()).has_value());
    REQUIRE(anna->write_backup(dir.path() / "a.age", as_bytes(kBackupPass), true));
    const auto good = decode(dir.path() / "a.age");
    REQUIRE(good.envelopes_size() > 0);
    auto field = [](int number, const std::string& value) {
        std::string out;
        out.push_back(static_cast<char>(number << 3 | 2));
        for (auto n = value.size();; n >>= 7) {
            out.push_back(static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
            if (n <= 0x7f) break;
        }
        return out + value;
    };
    // The identity after the groups and verified marks, then the envelopes: the same backup.
    pb::Backup rest = good;
    rest.clear_identity();
    rest.clear_envelopes();
    std::string moved = serialized(rest) + field(3, good.identity().SerializeAsString());
    for (const auto& e : good.envelopes()) moved += field(6, e);
    CHECK(Node::check_backup(as_bytes(moved)).has_value());
    // A verified mark after the envelopes: refused, bad input.
    const std::string after = serialized(good) + field(5, std::string(32, 'v'));
    auto ok = Node::check_backup(as_bytes(after));
    REQUIRE_FALSE(ok.has_value());
    CHECK(ok.error().code == CoreErrc::bad_input);
    // Cut inside the identity: refused.
    const std::string whole = serialized(good);
    CHECK_FALSE(Node::check_backup(as_bytes(whole).first(40)).has_value());
    // Two identities (protobuf would merge them): refused.
    const std::string twice = field(3, good.identity().SerializeAsString()) + whole;
    CHECK_FALSE(Node::check_backup(as_bytes(twice)).has_value());
}

TEST_CASE("an epoch retention retired stays retired through backup and restore") {
    TempDir dir;
    std::int64_t now = 1'900'000'000'000;
    auto clock = [&] { return now; };
    auto anna = make_node(dir.path() / "anna", "Anna");
    auto boris = make_node(dir.path() / "boris", "Boris");
    anna->set_clock(clock);
    boris->set_clock(clock);
    auto g = *anna->create_group("G");
    REQUIRE(boris->join(*anna->add_member(g, card_to_text(boris->card()), false, true)));
    deliver(*anna, *boris);
    REQUIRE(anna->post(g, "expires soon").has_value());
    deliver(*anna, *boris);
    REQUIRE(anna->rotate(g).has_value());
    now += 3600 * 1000;
    REQUIRE(anna->set_retention(g, 24 * 3600).has_value());
    deliver(*anna, *boris);
    now += 2 * 24 * 3600 * 1000LL;
    REQUIRE(anna->post(g, "fresh").has_value());
    deliver(*anna, *boris);
    REQUIRE(boris->apply_retention().has_value());
    REQUIRE(texts(*boris, g) == std::vector<std::string>{"fresh"});

    REQUIRE(boris->write_backup(dir.path() / "b.age", as_bytes(kBackupPass), false));
    auto decoded = decode(dir.path() / "b.age");
    std::vector<std::string> retired;
    for (const auto& e : decoded.groups(0).epochs())
        if (e.retired()) {
            CHECK(e.secret().empty());
            retired.push_back(e.epoch_id());
        }
    REQUIRE_FALSE(retired.empty());

    auto r = Node::restore_backup(dir.path() / "b2", dir.path() / "b.age", restore_options());
    REQUIRE(r.has_value());
    auto restored = Node::open(dir.path() / "b2", as_bytes(kNewStorePass));
    REQUIRE(restored.has_value());
    (*restored)->set_clock(clock);
    for (const auto& e : retired)
        CHECK(NodeTestAccess::impl(**restored).epoch_retired(to_array<32>(as_bytes(e))));
    // Anna still holds the expired message (she has not applied retention): offered again, it
    // stays out, and so does the retired epoch's secret.
    deliver(*anna, **restored);
    auto seen = texts(**restored, g);
    std::string joined;
    for (const auto& t : seen) joined += "[" + t + "]";
    INFO("restored member reads: " << joined);
    CHECK(seen == std::vector<std::string>{"fresh"});
    auto& im = NodeTestAccess::impl(**restored);
    for (const auto& e : retired) {
        const auto* keys = im.keys_for_epoch(to_array<32>(as_bytes(e)));
        REQUIRE(keys != nullptr);
        CHECK_FALSE(keys->secret.has_value());
    }
}

TEST_CASE("box keys: a backup keeps the member's key updates, erased ones erased") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto g = *a->create_group("G");
    REQUIRE(b->join(*a->add_member(g, card_to_text(b->card()), false, false)).has_value());
    deliver(*a, *b);
    // Two key updates, each followed by Anna's rotation: the first key is erased once the grant
    // sealed to the second is opened.
    for (int i = 0; i < 2; ++i) {
        REQUIRE(b->rekey(g).has_value());
        deliver(*b, *a);
        REQUIRE(a->maintain().has_value());
        deliver(*a, *b);
    }
    REQUIRE(b->box_keys(g)->held == 1);
    REQUIRE(b->box_keys(g)->erased == 1);
    REQUIRE(a->post(g, "after the key updates").has_value());
    deliver(*a, *b);
    const auto before = texts(*b, g);
    REQUIRE(before.back() == "after the key updates");
    const auto rows = box_key_rows(*b);
    REQUIRE(rows.size() == 2);
    CHECK_FALSE(rows[0].second);
    CHECK(rows[1].second);

    REQUIRE(b->write_backup(dir.path() / "b.age", as_bytes(kBackupPass), false));
    const auto good = decode(dir.path() / "b.age");
    REQUIRE(good.groups_size() == 1);
    const auto& keys = good.groups(0).box_keys();
    REQUIRE(keys.size() == 2);
    CHECK(keys[0].public_key() == rows[0].first);
    CHECK(keys[0].secret().empty());
    CHECK(keys[1].public_key() == rows[1].first);
    REQUIRE(keys[1].secret().size() == 32);
    CHECK(to_string(crypto::x25519_base(as_bytes(keys[1].secret()))) == keys[1].public_key());
    CHECK(keys[0].made_ms() > 0);

    SUBCASE("restored: its own key updates are its own, and grants to their keys open") {
        auto r = Node::restore_backup(dir.path() / "b2", dir.path() / "b.age", restore_options());
        REQUIRE(r.has_value());
        auto restored = Node::open(dir.path() / "b2", as_bytes(kNewStorePass));
        REQUIRE(restored.has_value());
        auto& n = **restored;
        CHECK(box_key_rows(n) == rows);  // the same keys, in the same order, erased one erased
        CHECK(n.box_keys(g)->held == 1);
        CHECK(n.box_keys(g)->erased == 1);
        deliver(*a, n);
        CHECK(texts(n, g) == before);
        auto foreign = n.foreign_key_updates();
        REQUIRE(foreign.has_value());
        CHECK(foreign->empty());
        // The next rotation seals Boris's grant to his second key update's key.
        REQUIRE(a->rotate(g).has_value());
        REQUIRE(a->post(g, "after the restore").has_value());
        deliver(*a, n);
        CHECK(texts(n, g).back() == "after the restore");
        REQUIRE(n.post(g, "Boris is back").has_value());
        deliver(n, *a);
        CHECK(texts(*a, g).back() == "Boris is back");
    }
    SUBCASE("a backup without box keys (written before they were carried) still restores") {
        pb::Backup old = good;
        old.mutable_groups(0)->clear_box_keys();
        encode(old, dir.path() / "old.age");
        auto r = Node::restore_backup(dir.path() / "b3", dir.path() / "old.age", restore_options());
        REQUIRE(r.has_value());
        CHECK(r->groups == 1);
        auto restored = Node::open(dir.path() / "b3", as_bytes(kNewStorePass));
        REQUIRE(restored.has_value());
        CHECK((*restored)->box_keys(g)->held == 0);
        CHECK((*restored)->box_keys(g)->erased == 0);
        // Without them, the member's own key updates look like another device's.
        deliver(*a, **restored);
        auto foreign = (*restored)->foreign_key_updates();
        REQUIRE(foreign.has_value());
        CHECK_FALSE(foreign->empty());
    }
    SUBCASE("a malformed box key is refused, and restore writes nothing") {
        auto refused = [&](auto mutate, const char* what, std::string_view message) {
            pb::Backup bad = good;
            mutate(*bad.mutable_groups(0));
            INFO(std::string(what));
            auto ok = Node::check_backup(as_bytes(serialized(bad)));
            REQUIRE_FALSE(ok.has_value());
            CHECK(ok.error().code == CoreErrc::bad_input);
            CHECK(ok.error().message == message);
            encode(bad, dir.path() / "bad.age");
            auto r =
                Node::restore_backup(dir.path() / "b4", dir.path() / "bad.age", restore_options());
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == CoreErrc::bad_input);
            CHECK(r.error().message == message);
            CHECK_FALSE(Node::exists(dir.path() / "b4"));
        };
        const std::string size = "the backup holds a box key of the wrong size";
        refused([](pb::BackupGroup& bg) { bg.mutable_box_keys(0)->set_public_key("short"); },
                "short public key", size);
        refused(
            [](pb::BackupGroup& bg) { bg.mutable_box_keys(0)->set_secret(std::string(31, 's')); },
            "short secret", size);
        refused(
            [](pb::BackupGroup& bg) { bg.mutable_box_keys(1)->set_secret(std::string(33, 's')); },
            "long secret", size);
        refused([](pb::BackupGroup& bg) { (*bg.mutable_box_keys(1)->mutable_secret())[3] ^= 1; },
                "a secret not the public key's",
                "the backup holds a box key whose secret does not match its key");
        refused(
            [](pb::BackupGroup& bg) {
                bg.mutable_box_keys(0)->set_secret(bg.box_keys(1).secret());
            },
            "an erased key given another key's secret",
            "the backup holds a box key whose secret does not match its key");
        refused([](pb::BackupGroup& bg) { *bg.add_box_keys() = bg.box_keys(0); },
                "the same key twice", "the backup holds the same box key twice");
        refused([](pb::BackupGroup& bg) { bg.mutable_box_keys(0)->set_made_ms(-1); },
                "a negative time", "the backup holds a box key with a negative time");
        refused(
            [](pb::BackupGroup& bg) {
                for (int i = 0; i < 65535; ++i) {
                    auto* k = bg.add_box_keys();
                    std::string pub(32, '\0');
                    std::memcpy(pub.data(), &i, sizeof i);
                    pub[31] = 1;
                    k->set_public_key(pub);
                }
            },
            "65,537 keys in one group", "the backup holds too many box keys for one group");
    }
}
