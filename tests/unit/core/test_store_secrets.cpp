// Secret columns: identity keys and epoch keys are sealed before SQLite sees them (its page cache
// is swappable heap), and stores written before that are sealed when they are opened.
#include <doctest/doctest.h>

#include <algorithm>

#include "kolokol/storage/database.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"
#include "schema.hpp"

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

// Every blob in the secret columns, as stored.
std::vector<Bytes> stored_secret_columns(storage::Database& db) {
    std::vector<Bytes> out;
    for (const char* sql :
         {"SELECT sign_secret FROM identity", "SELECT box_secret FROM identity",
          "SELECT transport_secret FROM identity",
          "SELECT secret FROM epochs WHERE secret NOT NULL", "SELECT control_key FROM epochs",
          "SELECT mailbox_seed FROM epochs", "SELECT file_key FROM epochs"}) {
        auto st = db.prepare(sql);
        REQUIRE(st);
        for (;;) {
            auto r = st->step();
            REQUIRE(r);
            if (!*r) break;
            auto b = st->column_blob(0);
            out.emplace_back(b.begin(), b.end());
        }
    }
    return out;
}

bool contains(const Bytes& hay, ByteView needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// Every key a Node holds.
std::vector<Bytes> held_keys(Node& node) {
    auto& m = NodeTestAccess::impl(node);
    std::vector<Bytes> out;
    auto add = [&](ByteView b) { out.emplace_back(b.begin(), b.end()); };
    add(m.identity.sign.secret_key.view().first(32));
    add(m.identity.box.secret_key.view());
    add(node.transport_key().secret_key.view());
    for (const auto& [mailbox, k] : m.epochs) {
        if (k.secret) add(k.secret->view());
        add(k.control_key.view());
        add(k.mailbox_seed.view());
        add(k.file_key.view());
    }
    return out;
}

// What the tool `unseal-store` does: the columns in the clear, as an older kolokol wrote them.
void unseal(const std::filesystem::path& home) {
    auto db = open_db(home);
    auto tx = db.begin();
    REQUIRE(tx);
    for (const char* column : {"sign_secret", "box_secret", "transport_secret"}) {
        auto get = db.prepare(std::string("SELECT ") + column + " FROM identity");
        REQUIRE(get);
        REQUIRE(get->step().value_or(false));
        auto plain =
            db.open_secret(get->column_blob(0), secret_place(std::string("identity.") + column));
        REQUIRE(plain);
        get->reset();
        auto put = db.prepare(std::string("UPDATE identity SET ") + column + " = ?");
        REQUIRE(put);
        put->bind(1, plain->view());
        REQUIRE(put->step());
    }
    std::vector<Bytes> epochs;
    auto list = db.prepare("SELECT epoch_id FROM epochs");
    REQUIRE(list);
    while (list->step().value_or(false)) {
        auto id = list->column_blob(0);
        epochs.emplace_back(id.begin(), id.end());
    }
    for (const auto& epoch : epochs)
        for (const char* column : {"secret", "control_key", "mailbox_seed", "file_key"}) {
            auto get =
                db.prepare(std::string("SELECT ") + column + " FROM epochs WHERE epoch_id = ?");
            REQUIRE(get);
            get->bind(1, ByteView(epoch));
            REQUIRE(get->step().value_or(false));
            if (get->column_is_null(0)) continue;
            auto plain = db.open_secret(get->column_blob(0),
                                        secret_place(std::string("epochs.") + column, epoch));
            REQUIRE(plain);
            get->reset();
            auto put =
                db.prepare(std::string("UPDATE epochs SET ") + column + " = ? WHERE epoch_id = ?");
            REQUIRE(put);
            put->bind(1, plain->view()).bind(2, ByteView(epoch));
            REQUIRE(put->step());
        }
    REQUIRE(db.exec("DELETE FROM schema_versions WHERE component = 'core-secrets'"));
    REQUIRE(tx->commit());
}

}  // namespace

TEST_CASE("store secrets: no key is stored in the clear, in any secret column") {
    TempDir dir;
    auto home = dir.path() / "anna";
    auto node = test::make_node(home, "Anna");
    auto g = node->create_group("G");
    REQUIRE(g);
    REQUIRE(node->rotate(*g));
    const auto keys = held_keys(*node);
    REQUIRE(keys.size() >= 3 + 2 * 4);
    node.reset();
    auto db = open_db(home);
    const auto stored = stored_secret_columns(db);
    REQUIRE(stored.size() == keys.size());
    for (const auto& blob : stored) {
        CHECK(blob.size() >= 32 + storage::kSealedSecretOverhead);
        for (const auto& k : keys) CHECK_FALSE(contains(blob, k));
    }
}

TEST_CASE("store secrets: a store written before sealing is sealed when it opens, and works on") {
    TempDir dir;
    auto home = dir.path() / "anna";
    auto node = test::make_node(home, "Anna");
    auto g = node->create_group("G");
    REQUIRE(g);
    REQUIRE(node->post(*g, "before the migration"));
    REQUIRE(node->rotate(*g));
    const auto card = node->card().signed_bytes;
    const auto keys = held_keys(*node);
    node.reset();

    unseal(home);
    {
        auto db = open_db(home);
        auto plain = stored_secret_columns(db);
        std::size_t in_clear = 0;
        for (const auto& blob : plain)
            for (const auto& k : keys) in_clear += contains(blob, k) ? 1 : 0;
        REQUIRE(in_clear == keys.size());  // the old layout, really
    }

    node = test::reopen(home);
    REQUIRE(node);
    CHECK(node->card().signed_bytes == card);
    CHECK(held_keys(*node) == keys);
    CHECK(test::texts(*node, *g) == std::vector<std::string>{"before the migration"});
    REQUIRE(node->post(*g, "after the migration"));
    node.reset();

    auto db = open_db(home);
    for (const auto& blob : stored_secret_columns(db))
        for (const auto& k : keys) CHECK_FALSE(contains(blob, k));
    auto version = db.schema_version("core-secrets");
    REQUIRE(version);
    CHECK(*version == 1);
}

TEST_CASE("store secrets: a sealed key moved to another row or column does not open") {
    TempDir dir;
    auto home = dir.path() / "anna";
    auto node = test::make_node(home, "Anna");
    auto g = node->create_group("G");
    REQUIRE(g);
    REQUIRE(node->rotate(*g));
    node.reset();
    {
        auto db = open_db(home);
        // Two epochs swap their sealed secrets: each is now in the wrong row.
        REQUIRE(db.exec(
            "UPDATE epochs SET secret = (SELECT e2.secret FROM epochs e2 WHERE e2.epoch_id != "
            "epochs.epoch_id)"));
    }
    auto again = Node::open(home, as_bytes(test::kTestPassphrase));
    REQUIRE_FALSE(again);
    CHECK(again.error().code == make_error_code(CoreErrc::corrupt_store));
}
