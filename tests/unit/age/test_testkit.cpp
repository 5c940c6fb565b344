// Every vector of the C2SP age test kit must behave as its `expect:` line says.

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "kolokol/age/decryptor.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "support.hpp"
#include "testkit.hpp"

using namespace kolokol;
using namespace kolokol::age;
using kolokol::age::test::memory_source;

namespace {

// ASCII armor (PEM) is not implemented: these vectors are skipped by name. Any other vector
// whose name starts with "armor_" makes the test fail, so a new armor vector is noticed.
const std::set<std::string> kSkipped = {
    "armor_crlf",
    "armor_empty",
    "armor_empty_line_begin",
    "armor_eol_between_padding",
    "armor_full_last_line",
    "armor_garbage_leading",
    "armor_garbage_trailing",
    "armor_header_crlf",
    "armor_headers",
    "armor_hybrid",
    "armor_invalid_character_header",
    "armor_invalid_character_payload",
    "armor_long_line",
    "armor_lowercase",
    "armor_no_end_line",
    "armor_no_eol",
    "armor_no_match",
    "armor_no_padding",
    "armor_pgp_checksum",
    "armor_scrypt",
    "armor_short_line",
    "armor_whitespace_begin",
    "armor_whitespace_end",
    "armor_whitespace_eol",
    "armor_whitespace_last_line",
    "armor_wrong_type",
    "armor_x25519",
};

struct Outcome {
    std::error_code code;  // empty on success
    std::string sha256_hex;
    int passphrase_calls = 0;
    std::string message;
};

Outcome run(const testkit::Vector& v, std::size_t max_read, std::size_t out_size) {
    std::vector<X25519Identity> identities;
    for (auto [it, end] = v.fields.equal_range("identity"); it != end; ++it) {
        auto id = X25519Identity::parse(it->second);
        REQUIRE_MESSAGE(id, "identity in " << v.name << " does not parse");
        identities.push_back(std::move(*id));
    }
    Outcome outcome;
    auto passphrase = v.field("passphrase");
    PassphraseProvider provider = [&]() -> Result<crypto::SecretBytes> {
        ++outcome.passphrase_calls;
        if (passphrase.empty()) return fail(AgeErrc::no_match, "vector has no passphrase");
        return crypto::SecretBytes::copy_of(as_bytes(passphrase));
    };
    auto dec = Decryptor::open(memory_source(v.file, max_read), identities, provider);
    if (!dec) {
        outcome.code = dec.error().code;
        outcome.message = dec.error().message;
        return outcome;
    }
    crypto::Sha256 sha;
    Bytes buffer(out_size);
    while (true) {
        auto n = dec->read(buffer);
        if (!n) {
            outcome.code = n.error().code;
            outcome.message = n.error().message;
            return outcome;
        }
        if (*n == 0) break;
        sha.update(ByteView(buffer).first(*n));
    }
    outcome.sha256_hex = crypto::hex_encode(sha.finish());
    return outcome;
}

std::error_code expected_code(const std::string& expect) {
    if (expect == "success") return {};
    if (expect == "no match") return AgeErrc::no_match;
    if (expect == "HMAC failure") return AgeErrc::hmac_failure;
    if (expect == "header failure") return AgeErrc::header_failure;
    if (expect == "payload failure") return AgeErrc::payload_failure;
    FAIL("unknown expect value: " << expect);
    return {};
}

std::vector<std::filesystem::path> vector_paths() {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(testkit::directory()))
        if (entry.is_regular_file()) paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    return paths;
}

}  // namespace

TEST_CASE("age test kit: every vector behaves as its expect line says") {
    auto paths = vector_paths();
    REQUIRE(paths.size() >= 90);
    std::size_t ran = 0, skipped = 0, successes = 0;
    for (const auto& path : paths) {
        auto name = path.filename().string();
        if (kSkipped.contains(name)) {
            ++skipped;
            continue;
        }
        CHECK_MESSAGE(!name.starts_with("armor_"), name << " is an armor vector not in the list");
        auto v = testkit::load(path);
        CAPTURE(name);
        auto want = expected_code(v.field("expect"));
        // Whole reads, then awkward short reads into a small buffer: same outcome either way.
        for (auto [max_read, out_size] :
             {std::pair<std::size_t, std::size_t>{1 << 20, 1 << 17}, {4093, 1000}}) {
            auto got = run(v, max_read, out_size);
            CHECK_MESSAGE(got.code == want, name << ": got '" << got.message << "'");
            if (!want) CHECK(got.sha256_hex == v.field("payload"));
            // The passphrase is asked for only when the header has an scrypt stanza.
            if (v.field("passphrase").empty()) CHECK(got.passphrase_calls == 0);
            CHECK(got.passphrase_calls <= 1);
        }
        ++ran;
        if (!want) ++successes;
    }
    CHECK(skipped == kSkipped.size());  // every skipped name exists in the kit
    CHECK(ran + skipped == paths.size());
    CHECK(successes >= 8);
    MESSAGE("age test kit: " << ran << " vectors run, " << skipped << " armor vectors skipped");
}

TEST_CASE("age test kit: armored files are refused as unsupported, not misread") {
    auto v = testkit::load(testkit::directory() / "armor_x25519");
    auto got = run(v, 1 << 20, 1 << 16);
    CHECK(got.code == make_error_code(AgeErrc::armor_unsupported));
}

TEST_CASE("age test kit: the scrypt work-factor limit can be raised by the caller") {
    auto v = testkit::load(testkit::directory() / "scrypt_work_factor_23");
    // At the default limit the stanza is refused before any passphrase is asked for. Raised to
    // 23, the stanza passes its checks and the provider is called; it stops the decryption
    // there, so no 8 GiB scrypt runs in the test.
    DecryptOptions options;
    options.max_scrypt_work_factor = 22;
    int calls = 0;
    auto dec = Decryptor::open(
        memory_source(v.file, 1 << 20), {},
        [&]() -> Result<crypto::SecretBytes> {
            ++calls;
            return fail(AgeErrc::no_match, "stop here");
        },
        options);
    REQUIRE_FALSE(dec);
    CHECK(dec.error().code == make_error_code(AgeErrc::header_failure));
    CHECK(calls == 0);
    options.max_scrypt_work_factor = 23;
    dec = Decryptor::open(
        memory_source(v.file, 1 << 20), {},
        [&]() -> Result<crypto::SecretBytes> {
            ++calls;
            return fail(AgeErrc::no_match, "stop here");
        },
        options);
    REQUIRE_FALSE(dec);
    CHECK(dec.error().message == "stop here");
    CHECK(calls == 1);
}
