// Streaming encryption and decryption: chunk boundaries, short reads and writes, tampering,
// truncation, limits and failing callbacks.

#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "kolokol/age/decryptor.hpp"
#include "kolokol/age/encryptor.hpp"
#include "kolokol/crypto/random.hpp"
#include "support.hpp"

using namespace kolokol;
using namespace kolokol::age;
using namespace kolokol::age::test;

namespace {

Bytes pattern(std::size_t n, std::uint64_t seed = 1) {
    crypto::DeterministicRandom rng(seed);
    return rng.bytes(n);
}

// Encrypts `plain` to `recipients`, writing it in pieces of `piece` bytes.
Bytes encrypt_to(std::span<const X25519Recipient> recipients, ByteView plain, std::size_t piece,
                 crypto::Random* random = nullptr) {
    Bytes out;
    EncryptOptions options;
    options.random = random;
    auto enc = Encryptor::to_recipients(recipients, memory_sink(out), options);
    REQUIRE(enc);
    for (std::size_t pos = 0; pos < plain.size(); pos += piece)
        REQUIRE(enc->write(plain.subspan(pos, std::min(piece, plain.size() - pos))));
    REQUIRE(enc->finish());
    CHECK(enc->plaintext_bytes() == plain.size());
    return out;
}

Result<Bytes> decrypt_with(const X25519Identity& id, ByteView file, std::size_t max_read = SIZE_MAX,
                           std::size_t read_size = 1 << 17) {
    auto dec = Decryptor::open(memory_source(file, max_read), std::span(&id, 1));
    if (!dec) return std::unexpected(dec.error());
    return read_all(*dec, read_size);
}

std::error_code code_of(const Result<Bytes>& r) {
    return r ? std::error_code{} : r.error().code;
}

std::size_t header_length(ByteView file) {
    auto text = as_chars(file);
    auto footer = text.find("\n--- ");
    REQUIRE(footer != std::string_view::npos);
    return text.find('\n', footer + 1) + 1;
}

}  // namespace

TEST_CASE("secret plaintext: the same file, staged in locked memory") {
    // EncryptOptions::secret_plaintext changes where the partial chunk waits, nothing else: the
    // bytes written are those of an ordinary encryption under the same randomness.
    auto id = X25519Identity::generate();
    std::vector<X25519Recipient> recipients{id.recipient()};
    for (std::size_t size :
         {std::size_t{0}, std::size_t{100}, kChunkBytes, kChunkBytes + 1, 2 * kChunkBytes + 17}) {
        CAPTURE(size);
        auto plain = pattern(size, size + 7);
        for (std::size_t piece : {std::size_t{1000}, kChunkBytes, std::size_t{1} << 20}) {
            Bytes locked, ordinary;
            for (bool secret : {true, false}) {
                crypto::DeterministicRandom rng(42);
                EncryptOptions options;
                options.random = &rng;
                options.secret_plaintext = secret;
                auto enc = Encryptor::to_recipients(
                    recipients, memory_sink(secret ? locked : ordinary), options);
                REQUIRE(enc);
                for (std::size_t pos = 0; pos < plain.size(); pos += piece)
                    REQUIRE(enc->write(
                        ByteView(plain).subspan(pos, std::min(piece, plain.size() - pos))));
                REQUIRE(enc->finish());
            }
            CHECK(locked == ordinary);
            auto back = decrypt_with(id, locked);
            REQUIRE(back);
            CHECK(*back == plain);
        }
    }
}

TEST_CASE("round trip at chunk boundaries, any write and read sizes") {
    auto id = X25519Identity::generate();
    std::vector<X25519Recipient> recipients{id.recipient()};
    const std::size_t sizes[] = {
        0, 1, kChunkBytes - 1, kChunkBytes, kChunkBytes + 1, 2 * kChunkBytes, 3 * kChunkBytes + 17};
    for (auto size : sizes) {
        CAPTURE(size);
        auto plain = pattern(size, size);
        for (std::size_t piece : {std::size_t{1} << 20, kChunkBytes, std::size_t{1000}}) {
            if (size > 2 * kChunkBytes && piece == 1000) continue;  // keep the test quick
            auto file = encrypt_to(recipients, plain, piece);
            // Size: header + nonce + one tag per chunk (an empty payload still has one chunk).
            std::size_t chunks = size == 0 ? 1 : (size + kChunkBytes - 1) / kChunkBytes;
            CHECK(file.size() ==
                  header_length(file) + kPayloadNonceBytes + size + chunks * kChunkTagBytes);
            for (auto [max_read, read_size] :
                 {std::pair<std::size_t, std::size_t>{SIZE_MAX, 1 << 17},
                  {SIZE_MAX, 1 << 20},
                  {kChunkBytes, kChunkBytes},
                  {kChunkBytes + 3, 5 * kChunkBytes / 2},
                  {777, 333}}) {
                auto back = decrypt_with(id, file, max_read, read_size);
                REQUIRE(back);
                CHECK(*back == plain);
            }
        }
    }
}

TEST_CASE("the same randomness gives the same file; different recipients each decrypt") {
    auto a = X25519Identity::generate();
    auto b = X25519Identity::generate();
    auto c = X25519Identity::generate();
    std::vector<X25519Recipient> both{a.recipient(), b.recipient()};
    auto plain = pattern(100000);
    crypto::DeterministicRandom r1(42), r2(42);
    auto f1 = encrypt_to(both, plain, 4096, &r1);
    auto f2 = encrypt_to(both, plain, 65536, &r2);
    CHECK(f1 == f2);  // write pattern does not change the output
    CHECK(*decrypt_with(a, f1) == plain);
    CHECK(*decrypt_with(b, f1) == plain);
    auto wrong = decrypt_with(c, f1);
    CHECK(code_of(wrong) == make_error_code(AgeErrc::no_match));
    auto head = std::string(as_chars(ByteView(f1).first(header_length(f1))));
    CHECK(head.starts_with("age-encryption.org/v1\n-> X25519 "));

    // Several identities: the matching one is found whatever its position.
    std::vector<X25519Identity> ids;
    ids.push_back(c.clone());
    ids.push_back(b.clone());
    auto dec = Decryptor::open(memory_source(f1), ids);
    REQUIRE(dec);
    CHECK_FALSE(dec->used_passphrase());
    CHECK(*read_all(*dec, 1 << 16) == plain);
}

TEST_CASE("batches: one or two threads give identical files and identical plaintext") {
    auto id = X25519Identity::generate();
    auto r = id.recipient();
    auto plain = pattern(40 * kChunkBytes + 99);
    Bytes files[2];
    for (unsigned threads : {1u, 2u}) {
        crypto::DeterministicRandom rng(5);
        EncryptOptions options;
        options.random = &rng;
        options.threads = threads;
        auto enc =
            Encryptor::to_recipients(std::span(&r, 1), memory_sink(files[threads - 1]), options);
        REQUIRE(enc);
        // Uneven writes: a partial chunk staged, then batches from the caller's memory.
        REQUIRE(enc->write(ByteView(plain).first(1000)));
        REQUIRE(enc->write(ByteView(plain).subspan(1000, 20 * kChunkBytes)));
        REQUIRE(enc->write(ByteView(plain).subspan(1000 + 20 * kChunkBytes)));
        REQUIRE(enc->finish());
    }
    CHECK(files[0] == files[1]);
    for (unsigned threads : {1u, 2u}) {
        DecryptOptions options;
        options.threads = threads;
        auto dec = Decryptor::open(memory_source(files[0]), std::span(&id, 1), {}, options);
        REQUIRE(dec);
        auto back = read_all(*dec, 3 << 20);
        REQUIRE(back);
        CHECK(*back == plain);
    }
}

TEST_CASE("a sink thread gives the identical file, written off the caller's thread") {
    auto id = X25519Identity::generate();
    auto r = id.recipient();
    auto plain = pattern(3 * kBatchChunks * kChunkBytes + 77);
    Bytes files[2];
    std::set<std::thread::id> sink_threads;
    for (bool threaded : {false, true}) {
        crypto::DeterministicRandom rng(6);
        EncryptOptions options;
        options.random = &rng;
        options.sink_thread = threaded;
        Bytes& out = files[threaded ? 1 : 0];
        std::size_t calls = 0;
        Sink sink = [&](ByteView bytes) -> Status {
            if (threaded && calls++ > 0) sink_threads.insert(std::this_thread::get_id());
            append(out, bytes);
            return {};
        };
        auto enc = Encryptor::to_recipients(std::span(&r, 1), sink, options);
        REQUIRE(enc);
        // Odd piece sizes: staged chunks and batches from the caller's memory, many batches.
        for (std::size_t pos = 0; pos < plain.size(); pos += 100'003)
            REQUIRE(enc->write(
                ByteView(plain).subspan(pos, std::min<std::size_t>(100'003, plain.size() - pos))));
        REQUIRE(enc->finish());
    }
    CHECK(files[0] == files[1]);
    // The header went on the caller's thread (not counted); every batch on one other thread.
    REQUIRE(sink_threads.size() == 1);
    CHECK(*sink_threads.begin() != std::this_thread::get_id());
    auto back = decrypt_with(id, files[1]);
    REQUIRE(back);
    CHECK(*back == plain);
}

TEST_CASE("a sink thread's failure comes back from a later call, and nothing follows it") {
    auto id = X25519Identity::generate();
    auto r = id.recipient();
    Bytes out;
    std::size_t calls_after_failure = 0;
    bool failed = false;
    Sink sink = [&](ByteView bytes) -> Status {
        if (failed) ++calls_after_failure;
        if (out.size() + bytes.size() > 2 * kBatchChunks * kEncryptedChunkBytes) {
            failed = true;
            return fail(std::make_error_code(std::errc::no_space_on_device), "disk full");
        }
        append(out, bytes);
        return {};
    };
    EncryptOptions options;
    options.sink_thread = true;
    auto enc = Encryptor::to_recipients(std::span(&r, 1), sink, options);
    REQUIRE(enc);
    auto plain = pattern(kBatchChunks * kChunkBytes);
    Status st;
    int writes = 0;
    while (st && writes < 10) {
        st = enc->write(plain);
        ++writes;
    }
    if (st) st = enc->finish();
    REQUIRE_FALSE(st);
    CHECK(st.error().code == std::make_error_code(std::errc::no_space_on_device));
    CHECK(writes <= 5);  // the third batch fails; its error is seen within two more
    CHECK_FALSE(enc->write(plain));
    CHECK_FALSE(enc->finish());
    CHECK(failed);
    CHECK(calls_after_failure == 0);
}

TEST_CASE("work beside the sealing runs once per task, within the write that seals") {
    auto id = X25519Identity::generate();
    auto r = id.recipient();
    auto plain = pattern(20 * kChunkBytes + 7);
    Bytes with, without;
    for (bool beside : {true, false}) {
        crypto::DeterministicRandom rng(9);
        EncryptOptions options;
        options.random = &rng;
        auto enc = Encryptor::to_recipients(std::span(&r, 1), memory_sink(beside ? with : without),
                                            options);
        REQUIRE(enc);
        int runs = 0;
        // A write that seals a batch runs the task during that write.
        if (beside) enc->run_beside([&] { ++runs; });
        REQUIRE(enc->write(ByteView(plain).first(18 * kChunkBytes + 5)));
        CHECK(runs == (beside ? 1 : 0));
        enc->run_beside_now();  // already ran: not again
        CHECK(runs == (beside ? 1 : 0));
        // A write that only stages seals nothing: the task waits for run_beside_now().
        if (beside) enc->run_beside([&] { ++runs; });
        REQUIRE(enc->write(ByteView(plain).subspan(18 * kChunkBytes + 5, 10)));
        CHECK(runs == (beside ? 1 : 0));
        enc->run_beside_now();
        CHECK(runs == (beside ? 2 : 0));
        // A task still waiting runs before its replacement is taken.
        if (beside) {
            enc->run_beside([&] { ++runs; });
            enc->run_beside([&] { runs += 10; });
            CHECK(runs == 3);
        }
        REQUIRE(enc->write(ByteView(plain).subspan(18 * kChunkBytes + 15)));
        REQUIRE(enc->finish());
        CHECK(runs == (beside ? 13 : 0));
    }
    // The task changes nothing in the file.
    CHECK(with == without);
    auto back = decrypt_with(id, with);
    REQUIRE(back);
    CHECK(*back == plain);
}

TEST_CASE("passphrase round trip; provider only called for scrypt files") {
    auto plain = pattern(70000);
    Bytes file;
    EncryptOptions options;
    options.scrypt_work_factor = 10;  // fast for tests; the default is 18
    auto enc = Encryptor::with_passphrase(as_bytes("correct horse"), memory_sink(file), options);
    REQUIRE(enc);
    REQUIRE(enc->write(plain));
    REQUIRE(enc->finish());
    CHECK(as_chars(file).find("\n-> scrypt ") != std::string_view::npos);
    CHECK(as_chars(file).find(" 10\n") != std::string_view::npos);

    int calls = 0;
    auto provider = [&](std::string secret) {
        return [&calls, secret]() -> Result<crypto::SecretBytes> {
            ++calls;
            return crypto::SecretBytes::copy_of(as_bytes(secret));
        };
    };
    auto dec = Decryptor::open(memory_source(file), {}, provider("correct horse"));
    REQUIRE(dec);
    CHECK(dec->used_passphrase());
    CHECK(*read_all(*dec, 1 << 16) == plain);
    CHECK(calls == 1);

    auto wrong = Decryptor::open(memory_source(file), {}, provider("wrong horse"));
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == make_error_code(AgeErrc::no_match));
    CHECK(wrong.error().message == "incorrect passphrase");

    auto none = Decryptor::open(memory_source(file), {});
    REQUIRE_FALSE(none);
    CHECK(none.error().code == make_error_code(AgeErrc::no_match));

    // The provider's own error (e.g. no terminal) comes back unchanged.
    auto refusing = Decryptor::open(memory_source(file), {}, []() -> Result<crypto::SecretBytes> {
        return fail(std::make_error_code(std::errc::operation_canceled), "cancelled");
    });
    REQUIRE_FALSE(refusing);
    CHECK(refusing.error().code == std::make_error_code(std::errc::operation_canceled));

    // An X25519 file never asks for the passphrase.
    auto id = X25519Identity::generate();
    std::vector<X25519Recipient> rs{id.recipient()};
    auto x = encrypt_to(rs, plain, 1 << 20);
    calls = 0;
    auto xd = Decryptor::open(memory_source(x), {}, provider("correct horse"));
    CHECK_FALSE(xd);
    CHECK(calls == 0);

    // Work factor limit: a file made at 12 is refused when the caller allows only 11.
    Bytes hard;
    options.scrypt_work_factor = 12;
    auto enc12 = Encryptor::with_passphrase(as_bytes("pw"), memory_sink(hard), options);
    REQUIRE(enc12);
    REQUIRE(enc12->finish());
    DecryptOptions strict;
    strict.max_scrypt_work_factor = 11;
    calls = 0;
    auto refused = Decryptor::open(memory_source(hard), {}, provider("pw"), strict);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == make_error_code(AgeErrc::header_failure));
    CHECK(calls == 0);
    strict.max_scrypt_work_factor = 12;
    auto allowed = Decryptor::open(memory_source(hard), {}, provider("pw"), strict);
    REQUIRE(allowed);
    CHECK(*read_all(*allowed, 100) == Bytes{});
}

TEST_CASE("encryptor misuse is refused") {
    Bytes out;
    CHECK(Encryptor::to_recipients({}, memory_sink(out)).error().code ==
          make_error_code(AgeErrc::invalid_argument));
    CHECK(Encryptor::with_passphrase({}, memory_sink(out)).error().code ==
          make_error_code(AgeErrc::invalid_argument));
    EncryptOptions options;
    options.scrypt_work_factor = 0;
    CHECK_FALSE(Encryptor::with_passphrase(as_bytes("x"), memory_sink(out), options));
    options.scrypt_work_factor = kMaxScryptWorkFactor + 1;
    CHECK_FALSE(Encryptor::with_passphrase(as_bytes("x"), memory_sink(out), options));
    // A low-order point as recipient would make the shared secret all zero.
    auto low = X25519Recipient::from_bytes(ByteArray<32>{});
    auto bad = Encryptor::to_recipients(std::span(&low, 1), memory_sink(out));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == make_error_code(AgeErrc::invalid_key));

    auto id = X25519Identity::generate();
    auto r = id.recipient();
    auto enc = Encryptor::to_recipients(std::span(&r, 1), memory_sink(out));
    REQUIRE(enc);
    REQUIRE(enc->finish());
    CHECK_FALSE(enc->write(as_bytes("late")));
    CHECK_FALSE(enc->finish());
}

TEST_CASE("a failing sink stops the encryptor and its error comes back") {
    auto id = X25519Identity::generate();
    auto r = id.recipient();
    std::size_t budget = 0;
    Bytes out;
    Sink sink = [&](ByteView bytes) -> Status {
        if (out.size() + bytes.size() > budget)
            return fail(std::make_error_code(std::errc::no_space_on_device), "disk full");
        append(out, bytes);
        return {};
    };
    budget = 10;  // not even the header fits
    auto early = Encryptor::to_recipients(std::span(&r, 1), sink);
    REQUIRE_FALSE(early);
    CHECK(early.error().code == std::make_error_code(std::errc::no_space_on_device));

    budget = 1000;  // header fits, first chunk does not
    out.clear();
    auto enc = Encryptor::to_recipients(std::span(&r, 1), sink);
    REQUIRE(enc);
    auto plain = pattern(3 * kChunkBytes);
    auto st = enc->write(plain);
    REQUIRE_FALSE(st);
    CHECK(st.error().code == std::make_error_code(std::errc::no_space_on_device));
    CHECK_FALSE(enc->write(as_bytes("more")));
    CHECK_FALSE(enc->finish());

    // An error without a code is reported as AgeErrc::io.
    auto coded = Encryptor::to_recipients(std::span(&r, 1),
                                          [](ByteView) -> Status { return fail({}, "broken"); });
    REQUIRE_FALSE(coded);
    CHECK(coded.error().code == make_error_code(AgeErrc::io));
}

TEST_CASE("a failing source stops the decryptor with its error") {
    auto id = X25519Identity::generate();
    std::vector<X25519Recipient> rs{id.recipient()};
    auto file = encrypt_to(rs, pattern(3 * kChunkBytes), 1 << 20);
    std::size_t served = 0;
    std::size_t limit = 0;
    Source source = [&](MutableByteView out) -> Result<std::size_t> {
        if (served >= limit) return fail(std::make_error_code(std::errc::io_error), "read error");
        auto n = std::min({out.size(), file.size() - served, limit - served});
        std::copy_n(file.begin() + static_cast<std::ptrdiff_t>(served), n, out.begin());
        served += n;
        return n;
    };
    limit = 20;  // inside the header
    auto early = Decryptor::open(source, std::span(&id, 1));
    REQUIRE_FALSE(early);
    CHECK(early.error().code == std::make_error_code(std::errc::io_error));

    served = 0;
    limit = file.size() - 10;  // inside the last chunk
    auto dec = Decryptor::open(source, std::span(&id, 1));
    REQUIRE(dec);
    auto all = read_all(*dec, 1 << 16);
    REQUIRE_FALSE(all);
    CHECK(all.error().code == std::make_error_code(std::errc::io_error));
    Bytes one(1);
    CHECK_FALSE(dec->read(one));  // the error sticks

    Source liar = [](MutableByteView out) -> Result<std::size_t> { return out.size() + 1; };
    auto lied = Decryptor::open(liar, std::span(&id, 1));
    REQUIRE_FALSE(lied);
    CHECK(lied.error().code == make_error_code(AgeErrc::io));
}

TEST_CASE("truncation anywhere, trailing data and bit flips are detected") {
    auto id = X25519Identity::generate();
    std::vector<X25519Recipient> rs{id.recipient()};
    auto plain = pattern(2 * kChunkBytes + 100);
    auto file = encrypt_to(rs, plain, 1 << 20);
    const std::size_t header = header_length(file);
    const std::size_t payload = header + kPayloadNonceBytes;

    // Truncation: within the header, the nonce, at and around every chunk boundary.
    std::vector<std::size_t> cuts = {0,
                                     5,
                                     header - 1,
                                     header,
                                     header + 8,
                                     payload,
                                     payload + 1,
                                     payload + kChunkTagBytes,
                                     file.size() - 1};
    for (std::size_t k = 1; k <= 2; ++k) {
        std::size_t boundary = payload + k * kEncryptedChunkBytes;
        cuts.insert(cuts.end(), {boundary - 1, boundary, boundary + 1, boundary + 16});
    }
    for (auto cut : cuts) {
        CAPTURE(cut);
        auto r = decrypt_with(id, ByteView(file).first(cut));
        REQUIRE_FALSE(r);
        auto want = cut < payload ? AgeErrc::header_failure : AgeErrc::payload_failure;
        CHECK(r.error().code == make_error_code(want));
    }

    // Trailing data after the final chunk.
    for (std::size_t extra : {std::size_t{1}, std::size_t{16}, kEncryptedChunkBytes}) {
        auto longer = file;
        longer.insert(longer.end(), extra, 0x42);
        CHECK(code_of(decrypt_with(id, longer)) == make_error_code(AgeErrc::payload_failure));
    }

    // Bit flips: in the header (MAC or stanza), the nonce, each chunk, each tag.
    std::vector<std::size_t> flips = {
        header - 3,     30, header + 2, payload + 5, payload + kEncryptedChunkBytes + 7,
        file.size() - 1};
    for (auto at : flips) {
        CAPTURE(at);
        auto bad = file;
        bad[at] ^= 0x01;
        auto r = decrypt_with(id, bad);
        REQUIRE_FALSE(r);
    }
    auto mac_flip = file;
    mac_flip[header - 3] = mac_flip[header - 3] == 'A' ? 'B' : 'A';
    CHECK(code_of(decrypt_with(id, mac_flip)) == make_error_code(AgeErrc::hmac_failure));
    auto nonce_flip = file;
    nonce_flip[header + 2] ^= 0x80;
    CHECK(code_of(decrypt_with(id, nonce_flip)) == make_error_code(AgeErrc::payload_failure));

    // Plaintext before a damaged chunk is released; the damaged chunk is not. Either chunk by
    // chunk, or from a batch read that spans the damaged chunk.
    auto late = file;
    late[payload + kEncryptedChunkBytes + 7] ^= 0x01;
    for (std::size_t buffer_size : {kChunkBytes, std::size_t{1} << 20}) {
        CAPTURE(buffer_size);
        auto dec = Decryptor::open(memory_source(late), std::span(&id, 1));
        REQUIRE(dec);
        Bytes buffer(buffer_size);
        auto first = dec->read(buffer);
        REQUIRE(first);
        CHECK(*first == kChunkBytes);
        CHECK(std::equal(buffer.begin(), buffer.begin() + kChunkBytes, plain.begin()));
        auto second = dec->read(buffer);
        REQUIRE_FALSE(second);
        CHECK(second.error().code == make_error_code(AgeErrc::payload_failure));
        CHECK_FALSE(dec->read(buffer));
    }
}

TEST_CASE("chunks swapped or the final flag moved are refused") {
    auto id = X25519Identity::generate();
    std::vector<X25519Recipient> rs{id.recipient()};
    auto plain = pattern(3 * kChunkBytes);  // three full chunks, the last one final
    auto file = encrypt_to(rs, plain, 1 << 20);
    const std::size_t payload = header_length(file) + kPayloadNonceBytes;
    auto chunk = [&](std::size_t i) {
        return ByteView(file).subspan(payload + i * kEncryptedChunkBytes, kEncryptedChunkBytes);
    };
    // Swap chunks 0 and 1.
    Bytes swapped(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(payload));
    append(swapped, chunk(1));
    append(swapped, chunk(0));
    append(swapped, chunk(2));
    CHECK(code_of(decrypt_with(id, swapped)) == make_error_code(AgeErrc::payload_failure));
    // Drop the final chunk: chunk 1 (not final) is now last.
    Bytes dropped(file.begin(), file.end() - static_cast<std::ptrdiff_t>(kEncryptedChunkBytes));
    CHECK(code_of(decrypt_with(id, dropped)) == make_error_code(AgeErrc::payload_failure));
    // Duplicate the final chunk: a final chunk in the middle.
    auto twice = file;
    append(twice, chunk(2));
    CHECK(code_of(decrypt_with(id, twice)) == make_error_code(AgeErrc::payload_failure));
}

TEST_CASE("header limits and non-age input") {
    auto id = X25519Identity::generate();
    std::vector<X25519Recipient> many;
    for (int i = 0; i < 20; ++i) many.push_back(X25519Identity::generate().recipient());
    many.push_back(id.recipient());
    auto file = encrypt_to(many, pattern(10), 1 << 20);
    CHECK(*decrypt_with(id, file) == pattern(10));

    DecryptOptions few;
    few.max_stanzas = 5;
    auto r = Decryptor::open(memory_source(file), std::span(&id, 1), {}, few);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == make_error_code(AgeErrc::header_failure));

    DecryptOptions small;
    small.max_header_bytes = 200;
    r = Decryptor::open(memory_source(file), std::span(&id, 1), {}, small);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == make_error_code(AgeErrc::header_failure));

    // An endless header is cut off at the limit instead of being buffered.
    std::size_t served = 0;
    Source endless = [&](MutableByteView out) -> Result<std::size_t> {
        static const std::string_view start = "age-encryption.org/v1\n";
        for (auto& b : out) {
            b = served < start.size() ? static_cast<std::uint8_t>(start[served])
                                      : static_cast<std::uint8_t>('A');
            ++served;
        }
        return out.size();
    };
    r = Decryptor::open(endless, std::span(&id, 1));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == make_error_code(AgeErrc::header_failure));
    CHECK(served <= kDefaultMaxHeaderBytes + kEncryptedChunkBytes + 2);

    for (std::string_view junk :
         {"", "hello world\n", "age-encryption.org/v2\n--- x\n", "age-encryption.org/v1\n"}) {
        auto j = decrypt_with(id, as_bytes(junk));
        REQUIRE_FALSE(j);
        CHECK(j.error().code == make_error_code(AgeErrc::header_failure));
    }
    auto armored = decrypt_with(id, as_bytes("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n"));
    CHECK(code_of(armored) == make_error_code(AgeErrc::armor_unsupported));
    // Armor is still recognised when the source hands out one byte at a time.
    auto slow = decrypt_with(id, as_bytes("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n"), 1);
    CHECK(code_of(slow) == make_error_code(AgeErrc::armor_unsupported));
}

TEST_CASE("empty writes, null or not, change nothing at any point of the stream") {
    auto id = X25519Identity::generate();
    std::vector<X25519Recipient> recipients{id.recipient()};
    const Bytes plain = pattern(64 * 1024 + 10);
    Bytes out;
    auto enc = Encryptor::to_recipients(recipients, memory_sink(out), EncryptOptions{});
    REQUIRE(enc);
    REQUIRE(enc->write(ByteView{}));  // before anything: a null, empty span
    REQUIRE(enc->write(ByteView(plain).first(10)));
    REQUIRE(enc->write(ByteView{}));  // with a partly staged chunk
    REQUIRE(enc->write(ByteView(plain).subspan(10)));
    REQUIRE(enc->write(ByteView(plain.data(), std::size_t{0})));
    REQUIRE(enc->finish());
    CHECK(enc->plaintext_bytes() == plain.size());
    auto back = decrypt_with(id, out);
    REQUIRE(back);
    CHECK(*back == plain);
}
