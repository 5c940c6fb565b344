#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>

#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "kolokol/storage/store_guard.hpp"
#include "temp_dir.hpp"

using namespace kolokol;
using namespace kolokol::storage;
using kolokol::storage::test::TempDir;

namespace {

const ByteView kPass = as_bytes("correct horse battery staple");
const ByteView kDuress = as_bytes("they are watching");

// A store as a process has it open: key file, database, and what the guard compares.
struct OpenStore {
    TempDir dir;
    StoreGuard::Paths paths{dir.path(), dir / "store.key", dir / "store.db"};
    StoreGuard::Held held;

    OpenStore() {
        crypto::DeterministicRandom rng(7);
        auto key = KeyFile::create(paths.key_file, kPass, kDuress, crypto::argon2_min(), rng);
        REQUIRE(key);
        REQUIRE(Database::open(paths.database, *key, true));
        auto u = KeyFile::unlock(paths.key_file, kPass);
        REQUIRE(u);
        struct stat st {};
        REQUIRE(::stat(paths.database.c_str(), &st) == 0);
        held = {u->seen, static_cast<std::uint64_t>(st.st_dev),
                static_cast<std::uint64_t>(st.st_ino)};
    }
};

// Counts a guard's on_gone calls and waits for the first.
struct GoneCalls {
    std::mutex m;
    std::condition_variable cv;
    int calls = 0;

    std::function<void()> on_gone() {
        return [this] {
            std::lock_guard lock(m);
            ++calls;
            cv.notify_all();
        };
    }
    bool wait(std::chrono::seconds deadline) {
        std::unique_lock lock(m);
        return cv.wait_for(lock, deadline, [&] { return calls > 0; });
    }
};

}  // namespace

TEST_CASE("store guard: what ends a store and what does not") {
    OpenStore s;
    CHECK_FALSE(StoreGuard::gone(s.paths, s.held));

    SUBCASE("unlock attempts, right or wrong, change nothing it judges") {
        CHECK(KeyFile::unlock(s.paths.key_file, kPass));
        CHECK_FALSE(KeyFile::unlock(s.paths.key_file, as_bytes("wrong")));
        CHECK_FALSE(StoreGuard::gone(s.paths, s.held));
    }
    SUBCASE("a passphrase change renames a new key file in: followed, not gone") {
        const auto before = s.held.key_file.inode;
        REQUIRE(KeyFile::change_passphrase(s.paths.key_file, kPass, as_bytes("next")));
        CHECK_FALSE(StoreGuard::gone(s.paths, s.held));
        CHECK(s.held.key_file.inode != before);
        // … and an erase after it is still seen.
        REQUIRE(KeyFile::wipe_keys(s.paths.key_file));
        CHECK(StoreGuard::gone(s.paths, s.held));
    }
    SUBCASE("a passphrase change, then an erase, both before the guard looks: gone") {
        REQUIRE(KeyFile::change_passphrase(s.paths.key_file, kPass, as_bytes("next")));
        REQUIRE(KeyFile::wipe_keys(s.paths.key_file));
        CHECK(StoreGuard::gone(s.paths, s.held));
    }
    SUBCASE("another key file of the same shape renamed in (neither slot kept): gone") {
        const TempDir other;
        crypto::DeterministicRandom rng(8);
        REQUIRE(KeyFile::create(other / "store.key", kPass, kDuress, crypto::argon2_min(), rng));
        std::filesystem::copy_file(other / "store.key", s.dir / "copy");
        std::filesystem::rename(s.dir / "copy", s.paths.key_file);
        CHECK(StoreGuard::gone(s.paths, s.held));
    }
    SUBCASE("a duress erase in place") {
        REQUIRE(KeyFile::unlock(s.paths.key_file, kDuress, OnDuress::erase));
        CHECK(StoreGuard::gone(s.paths, s.held));
    }
    SUBCASE("a panic's destroy") {
        REQUIRE(KeyFile::destroy(s.paths.key_file));
        CHECK(StoreGuard::gone(s.paths, s.held));
    }
    SUBCASE("the key file's bytes changed in place by anyone") {
        auto bytes = test::read_file(s.paths.key_file);
        bytes[100] ^= 1;
        test::write_file(s.paths.key_file, bytes);
        CHECK(StoreGuard::gone(s.paths, s.held));
    }
    SUBCASE("another file renamed over the key file that is not a key file") {
        test::write_file(s.dir / "other", as_bytes("not a key file"));
        std::filesystem::rename(s.dir / "other", s.paths.key_file);
        CHECK(StoreGuard::gone(s.paths, s.held));
    }
    SUBCASE("the database removed, or replaced by another file") {
        SUBCASE("removed") {
            std::filesystem::remove(s.paths.database);
        }
        SUBCASE("replaced") {
            std::filesystem::copy_file(s.paths.database, s.dir / "copy");
            std::filesystem::rename(s.dir / "copy", s.paths.database);
        }
        CHECK(StoreGuard::gone(s.paths, s.held));
    }
}

TEST_CASE("store guard: its thread calls on_gone once the key file is erased, and stops cleanly") {
    OpenStore s;
    GoneCalls gone;
    {
        auto guard = StoreGuard::start(s.paths, s.held.key_file, gone.on_gone());
        REQUIRE(guard);
        REQUIRE(KeyFile::change_passphrase(s.paths.key_file, kPass, as_bytes("next")));
        REQUIRE(KeyFile::wipe_keys(s.paths.key_file));
        // A generous deadline: the guard reacts to the write within milliseconds.
        CHECK(gone.wait(std::chrono::seconds(20)));
    }
    CHECK(gone.calls == 1);

    // A guard that sees nothing happen calls nothing, and its destructor returns.
    OpenStore quiet;
    bool called = false;
    {
        auto guard = StoreGuard::start(quiet.paths, quiet.held.key_file, [&] { called = true; });
        REQUIRE(guard);
    }
    CHECK_FALSE(called);
}

TEST_CASE("store guard: an erase just after a passphrase change is never missed") {
    // The guard wakes on the rename of the new key file, reads it, and must see the erase
    // that follows at once: whether the erase lands before or after its read, it is caught.
    // Repeated, since the erase lands in the guard's window only some of the time.
    int missed = 0;
    for (int round = 0; round < 150 && missed == 0; ++round) {
        OpenStore s;
        GoneCalls gone;
        auto guard = StoreGuard::start(s.paths, s.held.key_file, gone.on_gone());
        REQUIRE(guard);
        REQUIRE(KeyFile::change_passphrase(s.paths.key_file, kPass, as_bytes("next")));
        REQUIRE(KeyFile::wipe_keys(s.paths.key_file));
        if (!gone.wait(std::chrono::seconds(5))) ++missed;
    }
    CHECK(missed == 0);
}

TEST_CASE("store guard: a store already gone when the guard starts is caught at once") {
    OpenStore s;
    REQUIRE(KeyFile::wipe_keys(s.paths.key_file));
    GoneCalls gone;
    auto guard = StoreGuard::start(s.paths, s.held.key_file, gone.on_gone());
    REQUIRE(guard);
    CHECK(gone.wait(std::chrono::seconds(20)));
}
