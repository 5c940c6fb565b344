#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string_view>

#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "temp_dir.hpp"

using namespace kolokol;
using namespace kolokol::storage;
using kolokol::storage::test::TempDir;

namespace {

const ByteView kPass = as_bytes("correct horse battery staple");
const ByteView kDuress = as_bytes("they are watching");
const ByteView kWrong = as_bytes("correct horse battery stapler");

bool has_code(const Error& e, StorageErrc c) {
    return e.code == make_error_code(c);
}

crypto::SecretBytes create_ok(const std::filesystem::path& p, std::optional<ByteView> duress,
                              std::uint64_t seed = 1) {
    crypto::DeterministicRandom rng(seed);
    auto key = KeyFile::create(p, kPass, duress, crypto::argon2_min(), rng);
    REQUIRE_MESSAGE(key.has_value(), (key ? "" : key.error().message));
    return std::move(*key);
}

bool contains(ByteView hay, ByteView needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

Bytes swap_slots(const Bytes& file) {
    Bytes out(file.begin() + kKeySlotBytes, file.end());
    out.insert(out.end(), file.begin(), file.begin() + kKeySlotBytes);
    return out;
}

}  // namespace

TEST_CASE("keyfile: create then unlock with the real passphrase gives the same key") {
    TempDir dir;
    auto key = create_ok(dir / "key", std::nullopt);
    CHECK(key.size() == 32);
    CHECK_FALSE(crypto::is_zero(key.view()));
    auto u = KeyFile::unlock(dir / "key", kPass);
    REQUIRE(u);
    CHECK(u->kind == SlotKind::real);
    CHECK(crypto::equal_ct(u->db_key.view(), key.view()));
    CHECK(std::filesystem::file_size(dir / "key") == kKeyFileBytes);
}

TEST_CASE("keyfile: the duress passphrase unlocks the duress slot, which holds no key") {
    TempDir dir;
    auto key = create_ok(dir / "key", kDuress);
    auto d = KeyFile::unlock(dir / "key", kDuress);
    REQUIRE(d);
    CHECK(d->kind == SlotKind::duress);
    CHECK(d->db_key.empty());
    auto r = KeyFile::unlock(dir / "key", kPass);
    REQUIRE(r);
    CHECK(r->kind == SlotKind::real);
    CHECK(crypto::equal_ct(r->db_key.view(), key.view()));
}

TEST_CASE("keyfile: a wrong passphrase is wrong_passphrase, with and without a duress slot") {
    TempDir dir;
    create_ok(dir / "with", kDuress);
    create_ok(dir / "without", std::nullopt);
    for (auto name : {"with", "without"}) {
        CAPTURE(name);
        for (auto pass : {kWrong, as_bytes("x"), as_bytes("they are watching "), kDuress}) {
            if (std::string_view(name) == "with" && pass.data() == kDuress.data()) continue;
            auto u = KeyFile::unlock(dir / name, pass);
            REQUIRE_FALSE(u);
            CHECK(has_code(u.error(), StorageErrc::wrong_passphrase));
        }
    }
}

TEST_CASE("keyfile: both slots have one size and format; nothing marks the duress slot") {
    TempDir dir;
    auto key_a = create_ok(dir / "with", kDuress, 5);
    auto key_b = create_ok(dir / "without", std::nullopt, 5);
    auto with = test::read_file(dir / "with");
    auto without = test::read_file(dir / "without");
    REQUIRE(with.size() == kKeyFileBytes);
    REQUIRE(without.size() == kKeyFileBytes);

    const auto params = crypto::argon2_min();
    Bytes params_bytes;
    put_u64be(params_bytes, params.opslimit);
    put_u64be(params_bytes, params.memlimit);
    for (const Bytes* file : {&with, &without}) {
        ByteView f(*file);
        // The parameters sit at the same offset of both slots, with the same values.
        CHECK(Bytes(f.begin() + 16, f.begin() + 32) == params_bytes);
        CHECK(Bytes(f.begin() + kKeySlotBytes + 16, f.begin() + kKeySlotBytes + 32) ==
              params_bytes);
        // Salts, nonces and ciphertexts differ between the slots and are not blank.
        CHECK_FALSE(std::equal(f.begin(), f.begin() + 16, f.begin() + kKeySlotBytes));
        CHECK_FALSE(crypto::is_zero(f.subspan(32, kKeySlotBytes - 32)));
        CHECK_FALSE(crypto::is_zero(f.subspan(kKeySlotBytes + 32, kKeySlotBytes - 32)));
        // No passphrase, key, marker or label in the clear.
        CHECK_FALSE(contains(f, kPass));
        CHECK_FALSE(contains(f, kDuress));
        CHECK_FALSE(contains(f, as_bytes("kolokol")));
        CHECK_FALSE(contains(f, crypto::blake2b_256("kolokol/keyslot/duress-marker", {})));
    }
    CHECK_FALSE(contains(with, key_a.view()));
    CHECK_FALSE(contains(without, key_b.view()));
}

TEST_CASE("keyfile: the real slot's position is random and order does not matter") {
    TempDir dir;
    int real_first = 0;
    int real_second = 0;
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        auto path = dir / ("key" + std::to_string(seed));
        auto key = create_ok(path, kDuress, seed);
        auto file = test::read_file(path);

        // Swapping the slots changes nothing for either passphrase.
        test::write_file(path, swap_slots(file));
        auto u = KeyFile::unlock(path, kPass);
        REQUIRE(u);
        CHECK(crypto::equal_ct(u->db_key.view(), key.view()));
        auto d = KeyFile::unlock(path, kDuress);
        REQUIRE(d);
        CHECK(d->kind == SlotKind::duress);

        // Find the real slot: damage the ciphertext of slot 0 and see who still opens.
        Bytes damaged = file;
        damaged[kKeySlotBytes - 1] ^= 0x80;
        test::write_file(path, damaged);
        auto probe = KeyFile::unlock(path, kPass);
        if (probe) {
            CHECK(probe->kind == SlotKind::real);
            ++real_second;
        } else {
            CHECK(has_code(probe.error(), StorageErrc::wrong_passphrase));
            ++real_first;
        }
    }
    CHECK(real_first > 0);
    CHECK(real_second > 0);
}

TEST_CASE("keyfile: change_passphrase rewraps the real slot and keeps the database key") {
    TempDir dir;
    auto key = create_ok(dir / "key", kDuress);
    const auto before = test::read_file(dir / "key");
    const ByteView next = as_bytes("a new passphrase");
    crypto::DeterministicRandom rng(9);
    REQUIRE(KeyFile::change_passphrase(dir / "key", kPass, next, rng));

    auto old_try = KeyFile::unlock(dir / "key", kPass);
    REQUIRE_FALSE(old_try);
    CHECK(has_code(old_try.error(), StorageErrc::wrong_passphrase));
    auto u = KeyFile::unlock(dir / "key", next);
    REQUIRE(u);
    CHECK(u->kind == SlotKind::real);
    CHECK(crypto::equal_ct(u->db_key.view(), key.view()));
    auto d = KeyFile::unlock(dir / "key", kDuress);
    REQUIRE(d);
    CHECK(d->kind == SlotKind::duress);

    // Exactly one slot changed.
    const auto after = test::read_file(dir / "key");
    REQUIRE(after.size() == before.size());
    const bool first_same =
        std::equal(before.begin(), before.begin() + kKeySlotBytes, after.begin());
    const bool second_same =
        std::equal(before.begin() + kKeySlotBytes, before.end(), after.begin() + kKeySlotBytes);
    CHECK(first_same != second_same);
    CHECK_FALSE(std::filesystem::exists(dir / "key.tmp"));

    SUBCASE("a wrong old passphrase changes nothing") {
        auto r = KeyFile::change_passphrase(dir / "key", kWrong, as_bytes("other"));
        REQUIRE_FALSE(r);
        CHECK(has_code(r.error(), StorageErrc::wrong_passphrase));
        CHECK(test::read_file(dir / "key") == after);
    }
    SUBCASE("the duress passphrase as the old one erases the store, answering as a wrong one") {
        auto r = KeyFile::change_passphrase(dir / "key", kDuress, as_bytes("other"));
        REQUIRE_FALSE(r);
        CHECK(has_code(r.error(), StorageErrc::wrong_passphrase));
        CHECK(test::read_file(dir / "key") != after);
        CHECK(test::read_file(dir / "key").size() == after.size());
        CHECK_FALSE(KeyFile::unlock(dir / "key", next));
        CHECK_FALSE(KeyFile::unlock(dir / "key", as_bytes("other")));
    }
    SUBCASE("the new passphrase may not be the duress passphrase") {
        auto r = KeyFile::change_passphrase(dir / "key", next, kDuress);
        REQUIRE_FALSE(r);
        CHECK(has_code(r.error(), StorageErrc::invalid_argument));
        CHECK(test::read_file(dir / "key") == after);
    }
}

TEST_CASE("keyfile: the database opens with the key across a passphrase change") {
    TempDir dir;
    auto key = create_ok(dir / "key", std::nullopt);
    {
        auto db = Database::open(dir / "store.db", key, true);
        REQUIRE(db);
        REQUIRE(db->exec("CREATE TABLE t(x); INSERT INTO t VALUES(42)"));
    }
    REQUIRE(KeyFile::change_passphrase(dir / "key", kPass, as_bytes("second")));
    auto u = KeyFile::unlock(dir / "key", as_bytes("second"));
    REQUIRE(u);
    auto db = Database::open(dir / "store.db", u->db_key, false);
    REQUIRE(db);
    auto stmt = db->prepare("SELECT x FROM t");
    REQUIRE(stmt);
    REQUIRE(*stmt->step());
    CHECK(stmt->column_int64(0) == 42);
}

TEST_CASE("keyfile: missing, short, long and damaged files give distinct errors") {
    TempDir dir;
    create_ok(dir / "key", kDuress);
    const auto good = test::read_file(dir / "key");
    auto unlock_code = [&](const Bytes& contents) {
        test::write_file(dir / "k2", contents);
        auto u = KeyFile::unlock(dir / "k2", kPass);
        REQUIRE_FALSE(u);
        CHECK_FALSE(u.error().message.empty());
        return u.error().code;
    };

    auto missing = KeyFile::unlock(dir / "nothing", kPass);
    REQUIRE_FALSE(missing);
    CHECK(has_code(missing.error(), StorageErrc::keyfile_missing));

    const auto corrupt = make_error_code(StorageErrc::keyfile_corrupt);
    CHECK(unlock_code({}) == corrupt);
    CHECK(unlock_code(Bytes(good.begin(), good.begin() + 100)) == corrupt);
    CHECK(unlock_code(Bytes(good.begin(), good.end() - 1)) == corrupt);
    Bytes longer = good;
    longer.push_back(0);
    CHECK(unlock_code(longer) == corrupt);
    CHECK(unlock_code(Bytes(1 << 20, 0xab)) == corrupt);
    crypto::DeterministicRandom rng(4);
    CHECK(unlock_code(rng.bytes(kKeyFileBytes)) == corrupt);  // impossible parameters

    // Parameters that differ between the slots, or exceed the bounds.
    Bytes uneven = good;
    uneven[kKeySlotBytes + 23] ^= 0x01;  // low byte of the second slot's opslimit
    CHECK(unlock_code(uneven) == corrupt);
    Bytes huge = good;
    for (std::size_t base : {std::size_t{0}, kKeySlotBytes}) huge[base + 24] = 0x7f;  // memlimit
    CHECK(unlock_code(huge) == corrupt);

    // Damage that keeps the shape can only show as a slot that no longer opens. Raising the
    // cost in both slots is caught too: the parameters are authenticated.
    Bytes flipped = good;
    for (std::size_t base : {std::size_t{0}, kKeySlotBytes}) flipped[base + kKeySlotBytes - 5] ^= 1;
    CHECK(unlock_code(flipped) == make_error_code(StorageErrc::wrong_passphrase));
    Bytes costlier = good;
    for (std::size_t base : {std::size_t{0}, kKeySlotBytes}) costlier[base + 23] += 1;
    CHECK(unlock_code(costlier) == make_error_code(StorageErrc::wrong_passphrase));
}

TEST_CASE("keyfile: random files of every size up to 300 bytes never unlock") {
    TempDir dir;
    crypto::DeterministicRandom rng(21);
    for (std::size_t size = 0; size <= 300; ++size) {
        CAPTURE(size);
        test::write_file(dir / "key", rng.bytes(size));
        auto u = KeyFile::unlock(dir / "key", kPass);
        REQUIRE_FALSE(u);
        CHECK(has_code(u.error(), StorageErrc::keyfile_corrupt));
    }
    // Random slots under valid, equal parameters get as far as Argon2id and then fail to open.
    Bytes params;
    put_u64be(params, crypto::argon2_min().opslimit);
    put_u64be(params, crypto::argon2_min().memlimit);
    for (int i = 0; i < 8; ++i) {
        Bytes file = rng.bytes(kKeyFileBytes);
        std::copy(params.begin(), params.end(), file.begin() + 16);
        std::copy(params.begin(), params.end(), file.begin() + kKeySlotBytes + 16);
        test::write_file(dir / "key", file);
        auto u = KeyFile::unlock(dir / "key", kPass);
        REQUIRE_FALSE(u);
        CHECK(has_code(u.error(), StorageErrc::wrong_passphrase));
    }
}

TEST_CASE("keyfile: create refuses to overwrite and checks its arguments") {
    TempDir dir;
    create_ok(dir / "key", std::nullopt);
    const auto before = test::read_file(dir / "key");
    auto again = KeyFile::create(dir / "key", kPass, std::nullopt, crypto::argon2_min());
    REQUIRE_FALSE(again);
    CHECK(has_code(again.error(), StorageErrc::exists));
    CHECK(test::read_file(dir / "key") == before);

    auto same = KeyFile::create(dir / "k2", kPass, kPass, crypto::argon2_min());
    REQUIRE_FALSE(same);
    CHECK(has_code(same.error(), StorageErrc::invalid_argument));
    auto empty = KeyFile::create(dir / "k2", {}, std::nullopt, crypto::argon2_min());
    REQUIRE_FALSE(empty);
    CHECK(has_code(empty.error(), StorageErrc::invalid_argument));
    Bytes too_long(kMaxPassphraseBytes + 1, 'a');
    auto big = KeyFile::create(dir / "k2", too_long, std::nullopt, crypto::argon2_min());
    REQUIRE_FALSE(big);
    CHECK(has_code(big.error(), StorageErrc::invalid_argument));
    auto bad_params =
        KeyFile::create(dir / "k2", kPass, std::nullopt, crypto::Argon2Params{1000, 1 << 20});
    REQUIRE_FALSE(bad_params);
    CHECK(has_code(bad_params.error(), StorageErrc::invalid_argument));
    CHECK_FALSE(std::filesystem::exists(dir / "k2"));
    auto empty_unlock = KeyFile::unlock(dir / "key", {});
    REQUIRE_FALSE(empty_unlock);
    CHECK(has_code(empty_unlock.error(), StorageErrc::invalid_argument));
}

TEST_CASE("keyfile: files are 0600 whatever the umask, also after a rewrite") {
    TempDir dir;
    test::ScopedUmask umask(0);
    create_ok(dir / "key", std::nullopt);
    CHECK(test::file_mode(dir / "key") == 0600);
    REQUIRE(KeyFile::change_passphrase(dir / "key", kPass, as_bytes("next")));
    CHECK(test::file_mode(dir / "key") == 0600);
}

TEST_CASE("keyfile: wipe_keys leaves a file that parses but that no passphrase opens") {
    TempDir dir;
    test::ScopedUmask umask(0);
    create_ok(dir / "key", kDuress);
    const auto before = test::read_file(dir / "key");
    REQUIRE(KeyFile::wipe_keys(dir / "key"));
    const auto after = test::read_file(dir / "key");
    REQUIRE(after.size() == kKeyFileBytes);
    CHECK(after != before);
    // Same parameters in both slots, so nothing about the file changed shape.
    CHECK(std::equal(before.begin() + 16, before.begin() + 32, after.begin() + 16));
    CHECK(std::equal(before.begin() + 16, before.begin() + 32, after.begin() + kKeySlotBytes + 16));
    CHECK(test::file_mode(dir / "key") == 0600);
    for (auto pass : {kPass, kDuress, kWrong}) {
        auto u = KeyFile::unlock(dir / "key", pass);
        REQUIRE_FALSE(u);
        CHECK(has_code(u.error(), StorageErrc::wrong_passphrase));
    }
    auto missing = KeyFile::wipe_keys(dir / "none");
    REQUIRE_FALSE(missing);
    CHECK(has_code(missing.error(), StorageErrc::keyfile_missing));
}

namespace {
struct StatView {
    ino_t inode = 0;
    off_t size = 0;
    struct timespec mtime {
    }, ctime{};
};
StatView stat_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return {st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
}
bool same_time(const struct timespec& a, const struct timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}
// Moves the file's and the directory's times into the past, so that anything that sets a time
// to "now" shows however fine or coarse the filesystem's clock is.
void age(const std::filesystem::path& p) {
    const struct timespec past[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
    REQUIRE(::utimensat(AT_FDCWD, p.c_str(), past, AT_SYMLINK_NOFOLLOW) == 0);
}
}  // namespace

TEST_CASE("keyfile: wipe_keys erases in place: same inode, size and mtime, directory untouched") {
    TempDir dir;
    create_ok(dir / "key", kDuress);
    age(dir / "key");
    age(dir.path());
    const auto file_before = stat_of(dir / "key");
    const auto dir_before = stat_of(dir.path());
    const auto bytes_before = test::read_file(dir / "key");
    REQUIRE(KeyFile::wipe_keys(dir / "key"));
    const auto file_after = stat_of(dir / "key");
    const auto dir_after = stat_of(dir.path());
    CHECK(test::read_file(dir / "key") != bytes_before);
    CHECK(file_after.inode == file_before.inode);
    CHECK(file_after.size == file_before.size);
    CHECK(same_time(file_after.mtime, file_before.mtime));
    CHECK_FALSE(same_time(file_after.ctime, file_before.ctime));  // the kernel's, not ours
    CHECK(dir_after.inode == dir_before.inode);
    CHECK(same_time(dir_after.mtime, dir_before.mtime));
    CHECK(same_time(dir_after.ctime, dir_before.ctime));
    CHECK_FALSE(std::filesystem::exists(dir / "key.tmp"));
}

TEST_CASE("keyfile: every unlock makes the same metadata change, the duress erase included") {
    TempDir dir;
    auto key = create_ok(dir / "key", kDuress);
    struct Attempt {
        const char* name;
        ByteView pass;
        OnDuress on_duress;
        bool erases;
    };
    for (const auto& a : {Attempt{"wrong", kWrong, OnDuress::erase, false},
                          Attempt{"real", kPass, OnDuress::erase, false},
                          Attempt{"duress, reported", kDuress, OnDuress::report, false},
                          Attempt{"duress, erased", kDuress, OnDuress::erase, true}}) {
        CAPTURE(a.name);
        age(dir / "key");
        age(dir.path());
        const auto before = stat_of(dir / "key");
        const auto dir_before = stat_of(dir.path());
        const auto bytes_before = test::read_file(dir / "key");
        auto u = KeyFile::unlock(dir / "key", a.pass, a.on_duress);
        const auto after = stat_of(dir / "key");
        CHECK(after.inode == before.inode);
        CHECK(after.size == before.size);
        CHECK(same_time(after.mtime, before.mtime));
        CHECK_FALSE(same_time(after.ctime, before.ctime));
        CHECK(same_time(stat_of(dir.path()).mtime, dir_before.mtime));
        CHECK(same_time(stat_of(dir.path()).ctime, dir_before.ctime));
        CHECK((test::read_file(dir / "key") != bytes_before) == a.erases);
        if (a.pass.data() == kWrong.data()) {
            CHECK_FALSE(u);
        } else {
            REQUIRE(u);
        }
    }
    // Erased: nothing opens any more, and the file still parses.
    for (auto pass : {kPass, kDuress}) {
        auto u = KeyFile::unlock(dir / "key", pass, OnDuress::erase);
        REQUIRE_FALSE(u);
        CHECK(has_code(u.error(), StorageErrc::wrong_passphrase));
    }
}

TEST_CASE("keyfile: unlock names the file it read and its bytes") {
    TempDir dir;
    create_ok(dir / "key", std::nullopt);
    auto u = KeyFile::unlock(dir / "key", kPass);
    REQUIRE(u);
    const auto st = stat_of(dir / "key");
    CHECK(u->seen.inode == st.inode);
    const auto bytes = test::read_file(dir / "key");
    CHECK(std::equal(bytes.begin(), bytes.end(), u->seen.bytes.begin(), u->seen.bytes.end()));
    // A read-only key file still unlocks (and is not made writable).
    REQUIRE(::chmod((dir / "key").c_str(), 0400) == 0);
    CHECK(KeyFile::unlock(dir / "key", kPass));
    CHECK(test::file_mode(dir / "key") == 0400);
}

TEST_CASE("keyfile: destroy leaves no file, nor a leftover temp file") {
    TempDir dir;
    create_ok(dir / "key", kDuress);
    test::write_file(dir / "key.tmp", test::read_file(dir / "key"));  // as after a crash
    REQUIRE(KeyFile::destroy(dir / "key"));
    CHECK_FALSE(std::filesystem::exists(dir / "key"));
    CHECK_FALSE(std::filesystem::exists(dir / "key.tmp"));
    auto u = KeyFile::unlock(dir / "key", kPass);
    REQUIRE_FALSE(u);
    CHECK(has_code(u.error(), StorageErrc::keyfile_missing));
    CHECK(KeyFile::destroy(dir / "key"));  // nothing left to destroy is fine
}

TEST_CASE("keyfile: the duress erase also erases a passphrase change's leftover temp file") {
    // A passphrase change killed before its rename leaves key.tmp: the database key wrapped
    // under the new passphrase, the duress slot as it was.
    TempDir dir;
    create_ok(dir / "key", kDuress);
    std::filesystem::create_directory(dir / "other");
    std::filesystem::copy_file(dir / "key", dir / "other" / "key");
    const ByteView next = as_bytes("the next passphrase");
    REQUIRE(KeyFile::change_passphrase(dir / "other" / "key", kPass, next));
    const Bytes leftover = test::read_file(dir / "other" / "key");
    test::write_file(dir / "key.tmp", leftover);
    REQUIRE(KeyFile::unlock(dir / "key.tmp", next));  // what an attacker would try

    struct stat before {};
    REQUIRE(::stat((dir / "key.tmp").c_str(), &before) == 0);
    SUBCASE("a wrong passphrase leaves its bytes, inode and mtime") {
        REQUIRE_FALSE(KeyFile::unlock(dir / "key", kWrong, OnDuress::erase));
        CHECK(test::read_file(dir / "key.tmp") == leftover);
    }
    SUBCASE("the duress passphrase erases it in place: same inode, size and mtime") {
        auto u = KeyFile::unlock(dir / "key", kDuress, OnDuress::erase);
        REQUIRE(u);
        CHECK(u->kind == SlotKind::duress);
        const Bytes now = test::read_file(dir / "key.tmp");
        CHECK(now.size() == leftover.size());
        CHECK(now != leftover);
        CHECK_FALSE(KeyFile::unlock(dir / "key.tmp", next));
        CHECK_FALSE(KeyFile::unlock(dir / "key.tmp", kPass));
        CHECK_FALSE(KeyFile::unlock(dir / "key", kPass));
    }
    SUBCASE("a damaged leftover is overwritten with random bytes of its size") {
        const Bytes half(leftover.begin(), leftover.begin() + kKeySlotBytes + 10);
        test::write_file(dir / "key.tmp", half);
        REQUIRE(::stat((dir / "key.tmp").c_str(), &before) == 0);
        REQUIRE(KeyFile::unlock(dir / "key", kDuress, OnDuress::erase));
        const Bytes now = test::read_file(dir / "key.tmp");
        CHECK(now.size() == half.size());
        CHECK_FALSE(contains(now, ByteView(half).first(kKeySlotBytes)));
        CHECK_FALSE(contains(now, ByteView(half).subspan(kKeySlotBytes)));
    }
    struct stat after {};
    REQUIRE(::stat((dir / "key.tmp").c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);
    CHECK(after.st_size == before.st_size);
    CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
    CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
}

TEST_CASE("keyfile: a leftover temp file does not block a rewrite") {
    TempDir dir;
    create_ok(dir / "key", std::nullopt);
    test::write_file(dir / "key.tmp", as_bytes("stale"));
    REQUIRE(KeyFile::change_passphrase(dir / "key", kPass, as_bytes("next")));
    CHECK_FALSE(std::filesystem::exists(dir / "key.tmp"));
    CHECK(KeyFile::unlock(dir / "key", as_bytes("next")));
}

TEST_CASE("keyfile: tune_argon2 never goes below INTERACTIVE") {
    const auto floor = crypto::argon2_interactive();
    // A target no machine meets gives the floor; a larger one at least the floor.
    for (auto target : {std::chrono::milliseconds(1), std::chrono::milliseconds(150)}) {
        CAPTURE(target.count());
        auto p = tune_argon2(target);
        CHECK(p.opslimit >= floor.opslimit);
        CHECK(p.memlimit >= floor.memlimit);
        CHECK(p.opslimit <= kMaxOpslimit);
        CHECK(p.memlimit <= kMaxMemlimit);
        CHECK(p.memlimit % (1 << 20) == 0);
    }
    auto tiny = tune_argon2(std::chrono::milliseconds(1));
    CHECK(tiny.opslimit == floor.opslimit);
    CHECK(tiny.memlimit == floor.memlimit);
}
