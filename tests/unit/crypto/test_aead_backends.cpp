// ChaCha20-Poly1305 and XChaCha20-Poly1305 run on libcrypto (see core/crypto/src/aead.cpp).
// Here they are held to the RFC 8439 and XChaCha draft vectors and, over sizes that cross every
// block and piece boundary, to libsodium's own functions called directly: same bytes out, each
// opens the other's, and a forgery is refused with nothing of its plaintext left behind.
#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>

#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/random.hpp"

using namespace kolokol;
using namespace kolokol::crypto;

namespace {

Bytes hex(std::string_view s) {
    auto b = hex_decode(s);
    REQUIRE(b.has_value());
    return *b;
}

const char* const kSunscreen =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";

Bytes sodium_ietf_seal(ByteView key, ByteView nonce, ByteView ad, ByteView pt) {
    Bytes out(pt.size() + kAeadTagBytes);
    unsigned long long len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &len, pt.data(), pt.size(), ad.data(),
                                              ad.size(), nullptr, nonce.data(), key.data());
    return out;
}

Bytes sodium_xchacha_seal(ByteView key, ByteView nonce, ByteView ad, ByteView pt) {
    Bytes out(pt.size() + kAeadTagBytes);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &len, pt.data(), pt.size(), ad.data(),
                                               ad.size(), nullptr, nonce.data(), key.data());
    return out;
}

bool sodium_ietf_opens(ByteView key, ByteView nonce, ByteView ad, ByteView ct, ByteView pt) {
    Bytes out(ct.size() - kAeadTagBytes);
    unsigned long long len = 0;
    return crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &len, nullptr, ct.data(),
                                                     ct.size(), ad.data(), ad.size(), nonce.data(),
                                                     key.data()) == 0 &&
           out == Bytes(pt.begin(), pt.end());
}

bool sodium_xchacha_opens(ByteView key, ByteView nonce, ByteView ad, ByteView ct, ByteView pt) {
    Bytes out(ct.size() - kAeadTagBytes);
    unsigned long long len = 0;
    return crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &len, nullptr, ct.data(),
                                                      ct.size(), ad.data(), ad.size(), nonce.data(),
                                                      key.data()) == 0 &&
           out == Bytes(pt.begin(), pt.end());
}

}  // namespace

TEST_CASE("the AEADs run on libcrypto here") {
    // Debian's OpenSSL offers the cipher; if this fails, the cases below test libsodium against
    // itself and the speed figures in bench/ do not hold.
    CHECK(aead_uses_libcrypto());
}

TEST_CASE("both AEADs match their published vectors") {
    // RFC 8439 section 2.8.2, and draft-irtf-cfrg-xchacha-03 appendix A.3.1: the same key, AD
    // and plaintext under the two nonce sizes.
    using Seal = Bytes (*)(ByteView, ByteView, ByteView, ByteView);
    using Open = std::optional<Bytes> (*)(ByteView, ByteView, ByteView, ByteView);
    struct Vector {
        const char* name;
        Seal seal;
        Open open;
        const char* nonce;
        const char* expect;
    };
    const Vector vectors[] = {
        {"ChaCha20-Poly1305", chacha_ietf_seal, chacha_ietf_open, "070000004041424344454647",
         "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69"
         "da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad67594"
         "5585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
         "1ae10b594f09e26a7e902ecbd0600691"},
        {"XChaCha20-Poly1305", xchacha_seal, xchacha_open,
         "404142434445464748494a4b4c4d4e4f5051525354555657",
         "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f"
         "4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f"
         "76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
         "c0875924c1c7987947deafd8780acf49"},
    };
    auto key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    auto ad = hex("50515253c0c1c2c3c4c5c6c7");
    for (const auto& v : vectors) {
        CAPTURE(v.name);
        auto nonce = hex(v.nonce);
        auto expect = hex(v.expect);
        CHECK(v.seal(key, nonce, ad, as_bytes(kSunscreen)) == expect);
        auto opened = v.open(key, nonce, ad, expect);
        REQUIRE(opened);
        CHECK(*opened == to_bytes(kSunscreen));
    }
}

TEST_CASE("both AEADs agree with libsodium over every size class, in place and not") {
    auto& rng = system_random();
    const std::size_t sizes[] = {0,   1,    15,   16,   17,   63,    64,    65,    255,   256,
                                 257, 1000, 4095, 4096, 4097, 49159, 65535, 65536, 65537, 200003};
    const std::size_t ad_sizes[] = {0, 1, 13, 300};
    for (auto size : sizes) {
        for (auto ad_size : ad_sizes) {
            CAPTURE(size);
            CAPTURE(ad_size);
            auto key = rng.bytes(kAeadKeyBytes);
            auto n12 = rng.bytes(kIetfNonceBytes);
            auto n24 = rng.bytes(kXNonceBytes);
            auto ad = rng.bytes(ad_size);
            auto pt = rng.bytes(size);

            auto ours = chacha_ietf_seal(key, n12, ad, pt);
            CHECK(ours == sodium_ietf_seal(key, n12, ad, pt));
            CHECK(sodium_ietf_opens(key, n12, ad, ours, pt));
            auto back = chacha_ietf_open(key, n12, ad, sodium_ietf_seal(key, n12, ad, pt));
            REQUIRE(back);
            CHECK(*back == pt);

            auto xours = xchacha_seal(key, n24, ad, pt);
            CHECK(xours == sodium_xchacha_seal(key, n24, ad, pt));
            CHECK(sodium_xchacha_opens(key, n24, ad, xours, pt));
            auto xback = xchacha_open(key, n24, ad, sodium_xchacha_seal(key, n24, ad, pt));
            REQUIRE(xback);
            CHECK(*xback == pt);
            auto xsecret = xchacha_open_secret(key, n24, ad, xours);
            REQUIRE(xsecret);
            CHECK(equal_ct(xsecret->view(), pt));

            // In place: the plaintext sits at the start of a buffer with room for the tag.
            Bytes buffer = pt;
            buffer.resize(size + kAeadTagBytes);
            chacha_ietf_seal_into(buffer, key, n12, ad, ByteView(buffer).first(size));
            CHECK(buffer == ours);
            CHECK(chacha_ietf_open_into(MutableByteView(buffer).first(size), key, n12, ad, buffer));
            CHECK(Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size)) == pt);
        }
    }
}

TEST_CASE("a forged ChaCha20-Poly1305 message is refused and its plaintext wiped") {
    auto& rng = system_random();
    auto key = rng.bytes(kAeadKeyBytes);
    auto nonce = rng.bytes(kIetfNonceBytes);
    auto pt = rng.bytes(70000);
    std::fill(pt.begin(), pt.begin() + 64, std::uint8_t{0xA5});  // never all zero
    auto ct = chacha_ietf_seal(key, nonce, as_bytes("ad"), pt);
    for (std::size_t at : {std::size_t{0}, std::size_t{40000}, ct.size() - 17, ct.size() - 1}) {
        CAPTURE(at);
        auto bad = ct;
        bad[at] ^= 0x01;
        Bytes out(pt.size(), 0xEE);
        CHECK_FALSE(chacha_ietf_open_into(out, key, nonce, as_bytes("ad"), bad));
        CHECK(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0; }));
        CHECK_FALSE(xchacha_open(key, rng.bytes(kXNonceBytes), {}, bad));
    }
    Bytes out(pt.size(), 0xEE);
    CHECK_FALSE(chacha_ietf_open_into(out, key, nonce, as_bytes("AD"), ct));
    CHECK(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0; }));
    CHECK_FALSE(chacha_ietf_open(key, nonce, {}, ByteView(ct).first(15)));
    auto other = rng.bytes(kAeadKeyBytes);
    CHECK_FALSE(chacha_ietf_open(other, nonce, as_bytes("ad"), ct));
}
