#include <doctest/doctest.h>

#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"

using namespace kolokol;
using namespace kolokol::crypto;

TEST_CASE("hex, base64url, base64 raw and base32 round-trip and reject junk") {
    Bytes data = to_bytes("kolokol \x01\x02\xff");
    CHECK(hex_decode(hex_encode(data)) == data);
    CHECK(base64url_decode(base64url_encode(data)) == data);
    CHECK(base64_raw_decode(base64_raw_encode(data)) == data);
    CHECK(base32_decode(base32_encode(data)) == data);
    CHECK(hex_decode("") == Bytes{});
    CHECK(hex_encode(Bytes{}).empty());
    CHECK_FALSE(hex_decode("zz"));
    CHECK_FALSE(hex_decode("abc"));
    CHECK_FALSE(base64url_decode("a+b/"));
    CHECK_FALSE(base64_raw_decode("AA=="));  // padding is not allowed
    CHECK_FALSE(base64_raw_decode("AB"));    // non-canonical trailing bits
    CHECK_FALSE(base32_decode("a1"));
    CHECK(base32_encode(to_bytes("foobar")) == "mzxw6ytboi");  // RFC 4648 test vector
}

TEST_CASE("base64 raw decoded onto the end of a buffer agrees with the strict decoder") {
    for (std::size_t n = 0; n < 40; ++n) {
        Bytes data = system_random().bytes(n);
        auto text = base64_raw_encode(data);
        Bytes out = to_bytes("head");
        REQUIRE(base64_raw_decode_append(text, out));
        CHECK(out.size() == 4 + n);
        CHECK(Bytes(out.begin() + 4, out.end()) == data);
    }
    // Whatever the strict decoder refuses is refused, and the buffer is left as it was.
    for (std::string_view bad : {"AB", "AAB", "A", "AA==", "A*AA", "AAAAA", "AAA=", "Zm9vYh"}) {
        CAPTURE(bad);
        CHECK_FALSE(base64_raw_decode(bad));
        Bytes out = to_bytes("head");
        CHECK_FALSE(base64_raw_decode_append(bad, out));
        CHECK(out == to_bytes("head"));
    }
    Bytes out;
    CHECK(base64_raw_decode_append("Zm9vYg", out));
    CHECK(out == to_bytes("foob"));
}

TEST_CASE("SHA-256, HMAC and HKDF match RFC vectors") {
    CHECK(hex_encode(sha256(as_bytes("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // RFC 4231 test case 2
    CHECK(hex_encode(hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // RFC 5869 test case 1
    auto ikm = *hex_decode("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    auto salt = *hex_decode("000102030405060708090a0b0c");
    auto info = *hex_decode("f0f1f2f3f4f5f6f7f8f9");
    auto okm = hkdf_sha256(salt, ikm, info, 42);
    CHECK(hex_encode(okm.view()) ==
          "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST_CASE("XChaCha20-Poly1305 detects any flipped bit and wrong AD") {
    auto key = system_random().bytes(32);
    auto nonce = system_random().bytes(24);
    auto ct = xchacha_seal(key, nonce, as_bytes("ad"), as_bytes("secret"));
    CHECK(xchacha_open(key, nonce, as_bytes("ad"), ct) == to_bytes("secret"));
    CHECK_FALSE(xchacha_open(key, nonce, as_bytes("AD"), ct));
    for (std::size_t i = 0; i < ct.size(); ++i) {
        auto bad = ct;
        bad[i] ^= 1;
        CHECK_FALSE(xchacha_open(key, nonce, as_bytes("ad"), bad));
    }
    CHECK_FALSE(xchacha_open(key, nonce, {}, ByteView(ct).first(10)));
}

TEST_CASE("Ed25519 signatures are domain separated") {
    auto kp = sign_keypair();
    auto sig = sign(kp.secret_key, "kolokol/test/a", as_bytes("msg"));
    CHECK(verify(kp.public_key, "kolokol/test/a", as_bytes("msg"), sig));
    CHECK_FALSE(verify(kp.public_key, "kolokol/test/b", as_bytes("msg"), sig));
    CHECK_FALSE(verify(kp.public_key, "kolokol/test/a", as_bytes("msh"), sig));
}

TEST_CASE("X25519 rejects low-order points; sealed boxes open only for the recipient") {
    auto a = box_keypair();
    ByteArray<32> zero{};
    CHECK_FALSE(x25519(a.secret_key.view(), zero));
    auto b = box_keypair();
    auto s1 = x25519(a.secret_key.view(), b.public_key);
    auto s2 = x25519(b.secret_key.view(), a.public_key);
    REQUIRE(s1);
    REQUIRE(s2);
    CHECK(equal_ct(s1->view(), s2->view()));
    auto sealed = box_seal(a.public_key, as_bytes("hello"));
    auto opened = box_seal_open(a, sealed);
    REQUIRE(opened);
    CHECK(to_string(opened->view()) == "hello");
    CHECK_FALSE(box_seal_open(b, sealed));
}

TEST_CASE("KDF subkeys differ by id and context; Argon2id is deterministic") {
    auto key = system_random().bytes(32);
    auto k1 = kdf_derive(key, 1, "kolokol1");
    auto k2 = kdf_derive(key, 2, "kolokol1");
    auto k3 = kdf_derive(key, 1, "kolokol2");
    CHECK_FALSE(equal_ct(k1.view(), k2.view()));
    CHECK_FALSE(equal_ct(k1.view(), k3.view()));
    auto salt = system_random().bytes(16);
    auto p1 = argon2id(32, as_bytes("pass"), salt, argon2_min());
    auto p2 = argon2id(32, as_bytes("pass"), salt, argon2_min());
    auto p3 = argon2id(32, as_bytes("Pass"), salt, argon2_min());
    REQUIRE(p1);
    CHECK(equal_ct(p1->view(), p2->view()));
    CHECK_FALSE(equal_ct(p1->view(), p3->view()));
    CHECK_FALSE(argon2id(32, as_bytes("pass"), ByteView(salt).first(8), argon2_min()));
}

TEST_CASE("DeterministicRandom repeats for one seed and differs across calls") {
    DeterministicRandom r1(7), r2(7);
    auto a = r1.bytes(16);
    CHECK(a == r2.bytes(16));
    CHECK(a != r1.bytes(16));
    for (int i = 0; i < 100; ++i) CHECK(r1.uniform(10) < 10);
}
