#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/shamir.hpp"

using namespace kolokol;
using namespace kolokol::crypto;

namespace {

// Byte i of the stream gfshare_vectors.c hands libgfshare's gfshare_fill_rand hook.
class StreamRandom final : public Random {
public:
    explicit StreamRandom(unsigned seed) : m_seed(seed) {}
    void fill(MutableByteView out) override {
        for (auto& b : out) b = static_cast<std::uint8_t>(m_pos++ * 37u + 11u + m_seed);
    }

private:
    unsigned m_seed;
    unsigned m_pos = 0;
};

struct Vector {
    unsigned k, n, seed;
    const char* secret;
    std::vector<const char*> shares;  // for share numbers 1..n
};

// Made by gfshare_vectors.c with libgfshare 2.0.0-6 (Debian 12).
const Vector kVectors[] = {
    {2,
     3,
     0,
     "010c17222d38434e59646f7a85909ba6b1bcc7d2dde8f3fe09141f2a35404b56",
     {
         "0a3c4258b2fcaa406a3c12d8427c8a90ea3c621832fccaa08abcd2d8227c2ad0",
         "176cbdd60ead8c523fd495231655b9ca07a1905b1ec08142125998d31b388947",
         "1c5ce8ac9169655c0c8ce881d1b9a8fc5c213591f1d4b81c91f155210c04e8c1",
     }},
    {3,
     5,
     1,
     "1e29343f4a55606b76818c97a2adb8c3ced9e4effa05101b26313c47525d6873",
     {
         "bec9945faaf500cb9621ec7702cd18236e79044f9aa5f0bb86d19c27f2bd08d3",
         "6b5280f870ace614131755a7753989ac46a5ca3220265199443dff975f0ef91b",
         "cbb22098900c86b4f3b73547d559294ce6052a924086b139e4dd5ff7ffee99bb",
         "547dc2b08510741d66bb476403d577efb0a553723ba6d8591e4ae5ba15f90e77",
         "f49d62d065b014bd861b2784a3b5d70f1005b3d25b0638f9beaa45dab5196ed7",
     }},
    {16,
     16,
     4,
     "75808b96a1acb7c2cdd8e3eef9040f1a25303b46515c67727d88939ea9b4bfca",
     {
         "1a143248a284fab05a6402e8d2547a809ad432680224fab09a84a2c8d2147a20",
         "392d46dc619078162ec7b2fc8b537de674b342e648313d9ab023df558a09f118",
         "9dd4fa5d20da35fef01296d4e652c6b986fed1e26e0b314adad9ad1a978d72f3",
         "f3802f928bcc2d42bae5fd5dee984c816fb73ec8baf33f5d8d1441ec71a253d6",
         "16c32fe64cfdf0282d843efb0bcadf2dda153b4c3c5b6aeafb70d20b0d001d9b",
         "f15c0ecaa4b748adbcb72f014f10b775e716f71ae8fadf55f6ae19cda2a04f5f",
         "f0dc81dc7af6e00e74e03207461abcb8f8d384cbaaf4bad97b051a57e46d6bd7",
         "6dc251514d8347532cfa45fa757da42ca46e3a328b206b5d8071acbc767eaae0",
         "258ba817d84763a79b1cd3704fe510e5bce79117edeae206f7c56ac54285b1e9",
         "1580bfcda198eca2cdec83eecd5f6f1a11503b720a3c67291d88a7c5c980e4aa",
         "1fce878cefa0ada883d489a0f51e6554295a754a4b36296817c69f84c3b8a5a0",
         "2c405910cf8b0612aef204787d3ce5aeac2fb83aca61e91cc1f3a4fd3776eba1",
         "5d7cc35a90ccfb40cd89e1c665e23c99882b38c34bec55409a92149de51b3cae",
         "5b7ec7d9b25779ee1ee34e8a2fc8626633eac6e7b09e5a248a0206084696a892",
         "adc3c397f9aacba22a61fe475bc0adc038dc9c1531c37f5c35de4b0f922253bf",
         "f2a3105a640f09ab81f2f89a35549dd2609a813b6e4a5475b8834a10d055438b",
     }},
};

Bytes unhex(const char* text) {
    auto b = hex_decode(text);
    REQUIRE(b);
    return *b;
}

}  // namespace

TEST_CASE("GF(256) multiplication and inverse follow the field mod 0x11d") {
    CHECK(gf256_mul(0, 0x53) == 0);
    CHECK(gf256_mul(1, 0x53) == 0x53);
    CHECK(gf256_mul(2, 0x80) == 0x1d);  // x * x^7 = x^8 = x^4 + x^3 + x^2 + 1
    CHECK(gf256_inv(0) == 0);
    // Against a plain table-free reference: repeated doubling (schoolbook, branches allowed).
    auto reference = [](unsigned a, unsigned b) {
        unsigned r = 0;
        while (b) {
            if (b & 1) r ^= a;
            a <<= 1;
            if (a & 0x100) a ^= 0x11d;
            b >>= 1;
        }
        return static_cast<std::uint8_t>(r);
    };
    for (unsigned a = 0; a < 256; ++a) {
        for (unsigned b = 0; b < 256; ++b)
            REQUIRE(gf256_mul(static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b)) ==
                    reference(a, b));
        if (a)
            REQUIRE(gf256_mul(static_cast<std::uint8_t>(a),
                              gf256_inv(static_cast<std::uint8_t>(a))) == 1);
    }
}

TEST_CASE("shamir split gives libgfshare's shares and combine inverts it") {
    for (const auto& v : kVectors) {
        CAPTURE(v.k);
        CAPTURE(v.n);
        const auto secret = unhex(v.secret);
        std::vector<std::uint8_t> xs;
        for (unsigned i = 1; i <= v.n; ++i) xs.push_back(static_cast<std::uint8_t>(i));
        StreamRandom random(v.seed);
        auto shares = shamir_split(secret, xs, v.k, random);
        REQUIRE(shares);
        REQUIRE(shares->size() == v.n);
        for (unsigned i = 0; i < v.n; ++i) CHECK(hex_encode((*shares)[i].view()) == v.shares[i]);
        // The last k of libgfshare's shares give the secret back.
        std::vector<std::uint8_t> use_xs(xs.end() - v.k, xs.end());
        std::vector<Bytes> owned;
        for (unsigned i = v.n - v.k; i < v.n; ++i) owned.push_back(unhex(v.shares[i]));
        std::vector<ByteView> ys(owned.begin(), owned.end());
        auto back = shamir_combine(use_xs, ys);
        REQUIRE(back);
        CHECK(Bytes(back->view().begin(), back->view().end()) == secret);
    }
}

TEST_CASE("shamir split and combine refuse arguments out of bounds") {
    auto& r = system_random();
    const Bytes secret(32, 7);
    const std::vector<std::uint8_t> xs{1, 2, 3};
    CHECK_FALSE(shamir_split(Bytes{}, xs, 2, r));
    CHECK_FALSE(shamir_split(Bytes(1025, 1), xs, 2, r));
    CHECK_FALSE(shamir_split(secret, std::vector<std::uint8_t>{}, 1, r));
    CHECK_FALSE(shamir_split(secret, xs, 0, r));
    CHECK_FALSE(shamir_split(secret, xs, 4, r));
    CHECK_FALSE(shamir_split(secret, std::vector<std::uint8_t>{1, 0, 3}, 2, r));
    CHECK_FALSE(shamir_split(secret, std::vector<std::uint8_t>{1, 2, 1}, 2, r));
    CHECK(shamir_split(secret, xs, 1, r));  // threshold 1: every share is the secret
    const Bytes a(32, 1), b(32, 2), short_one(31, 3);
    const std::vector<ByteView> two{a, b};
    CHECK(shamir_combine(std::vector<std::uint8_t>{1, 2}, two));
    CHECK_FALSE(shamir_combine(std::vector<std::uint8_t>{1, 1}, two));
    CHECK_FALSE(shamir_combine(std::vector<std::uint8_t>{0, 2}, two));
    CHECK_FALSE(shamir_combine(std::vector<std::uint8_t>{1}, two));
    CHECK_FALSE(
        shamir_combine(std::vector<std::uint8_t>{1, 2}, std::vector<ByteView>{a, short_one}));
    CHECK_FALSE(shamir_combine(std::vector<std::uint8_t>{}, std::vector<ByteView>{}));
}
