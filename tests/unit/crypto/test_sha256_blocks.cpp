// SHA-256 with the x86 SHA extensions (when the CPU has them) against the published vectors
// and against libsodium's portable code fed one byte at a time, over lengths and splits that
// cross every block boundary case.
#include <doctest/doctest.h>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"

using namespace kolokol;

namespace {

// Updates of one byte never reach the block path: this is libsodium's own code.
crypto::Hash32 bytewise(ByteView data) {
    crypto::Sha256 h;
    for (std::size_t i = 0; i < data.size(); ++i) h.update(data.subspan(i, 1));
    return h.finish();
}

}  // namespace

TEST_CASE("SHA-256 matches the published vectors") {
    crypto::init();
    CHECK(crypto::hex_encode(crypto::sha256(as_bytes("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const std::string million(1000000, 'a');
    CHECK(crypto::hex_encode(crypto::sha256(as_bytes(million))) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    std::string long_text;
    for (int i = 0; i < 20; ++i)
        long_text += "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    crypto::Sha256 h;
    h.update(as_bytes(long_text));
    CHECK(h.finish() == bytewise(as_bytes(long_text)));
}

TEST_CASE("SHA-256 block path agrees with the portable code for every length and split") {
    crypto::init();
    crypto::DeterministicRandom rng(42);
    auto data = rng.bytes(5000);
    for (std::size_t len : {0,   1,   55,  56,  63,  64,   65,   127,  128,  129,
                            191, 192, 255, 256, 257, 1000, 4095, 4096, 4097, 5000}) {
        auto part = ByteView(data).first(len);
        const auto want = bytewise(part);
        CHECK_MESSAGE(crypto::sha256(part) == want, len);
        // A small first update leaves a partial block for the block path to finish.
        for (std::size_t split : {1, 3, 63, 64, 65, 100}) {
            if (split > len) continue;
            crypto::Sha256 h;
            h.update(part.first(split));
            h.update(part.subspan(split));
            CHECK_MESSAGE(h.finish() == want, len << " split at " << split);
        }
    }
}
