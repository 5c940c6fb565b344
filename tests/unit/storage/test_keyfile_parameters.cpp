// KeyFile::parameters: the key file's layout and bounds, checked without any key derivation (the
// entry point fuzz/keyfile.cpp drives).
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "temp_dir.hpp"

using namespace kolokol;
using namespace kolokol::storage;

namespace {

Bytes real_key_file() {
    test::TempDir dir;
    const auto path = dir.path() / "store.key";
    crypto::DeterministicRandom rng(5);
    auto key = KeyFile::create(path, as_bytes(std::string_view("pass")), std::nullopt,
                               crypto::argon2_min(), rng);
    REQUIRE(key.has_value());
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void set_u64be(Bytes& b, std::size_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * (7 - i)));
}

bool corrupt(const Result<crypto::Argon2Params>& r) {
    return !r && r.error().code == make_error_code(StorageErrc::keyfile_corrupt);
}

}  // namespace

TEST_CASE("key file parameters: a real file gives the parameters it was made with") {
    const Bytes file = real_key_file();
    REQUIRE(file.size() == kKeyFileBytes);
    auto p = KeyFile::parameters(file);
    REQUIRE(p.has_value());
    CHECK(p->opslimit == crypto::argon2_min().opslimit);
    CHECK(p->memlimit == crypto::argon2_min().memlimit);
}

TEST_CASE("key file parameters: wrong sizes, out-of-bound and unequal parameters are corrupt") {
    const Bytes file = real_key_file();
    CHECK(corrupt(KeyFile::parameters({})));
    CHECK(corrupt(KeyFile::parameters(ByteView(file).first(kKeyFileBytes - 1))));
    Bytes longer = file;
    longer.push_back(0);
    CHECK(corrupt(KeyFile::parameters(longer)));

    const std::size_t ops0 = 16, mem0 = 24, ops1 = kKeySlotBytes + 16, mem1 = kKeySlotBytes + 24;
    Bytes b = file;
    set_u64be(b, ops0, 0);
    set_u64be(b, ops1, 0);
    CHECK(corrupt(KeyFile::parameters(b)));
    b = file;
    set_u64be(b, mem0, kMaxMemlimit + 1);
    set_u64be(b, mem1, kMaxMemlimit + 1);
    CHECK(corrupt(KeyFile::parameters(b)));
    b = file;
    set_u64be(b, ops0, kMaxOpslimit + 1);
    set_u64be(b, ops1, kMaxOpslimit + 1);
    CHECK(corrupt(KeyFile::parameters(b)));
    b = file;
    set_u64be(b, ops0, 2);  // slots that differ would make the two derivations differ in time
    CHECK(corrupt(KeyFile::parameters(b)));
    b = file;
    set_u64be(b, ops0, kMaxOpslimit);
    set_u64be(b, ops1, kMaxOpslimit);
    auto p = KeyFile::parameters(b);
    REQUIRE(p.has_value());
    CHECK(p->opslimit == kMaxOpslimit);
}
