#include <doctest/doctest.h>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/hmac_blake2b.hpp"

using namespace kolokol;
using namespace kolokol::crypto;

// Expected values from Python's hmac.new(key, msg, hashlib.blake2b), an independent
// implementation of RFC 2104 over BLAKE2b-512 with a 128-byte block.
TEST_CASE("HMAC-BLAKE2b-512 matches RFC 2104 over BLAKE2b") {
    CHECK(
        hex_encode(
            hmac_blake2b512(as_bytes("Jefe"), as_bytes("what do ya want for nothing?")).view()) ==
        "6ff884f8ddc2a6586b3c98a4cd6ebdf14ec10204b6710073eb5865ade37a2643b8807c1335d107ecdb9ffeaeb"
        "6828c4625ba172c66379efcd222c2de11727ab4");
    CHECK(hex_encode(hmac_blake2b512({}, {}).view()) ==
          "198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a68466775177424f58286886cba"
          "e8229644cec747237d4b721735485e17372fdf59c");

    Bytes key64(64);
    for (std::size_t i = 0; i < key64.size(); ++i) key64[i] = static_cast<std::uint8_t>(i);
    auto expected64 =
        "23db1d7bc134100f3a6e091115ffb1e899641d9225d8c5a3162e6531b41dddab8d896547b03a4c0193ee046f2"
        "182101a4241938e9acc95a148a14eb9f2925221";
    CHECK(hex_encode(hmac_blake2b512(key64, as_bytes("kolokol")).view()) == expected64);
    // The data may arrive in parts; the result is that of the concatenation.
    CHECK(hex_encode(
              hmac_blake2b512(key64, {as_bytes("kol"), as_bytes(""), as_bytes("okol")}).view()) ==
          expected64);

    // A key longer than the block is hashed first.
    Bytes key200(200);
    for (std::size_t i = 0; i < key200.size(); ++i) key200[i] = static_cast<std::uint8_t>(i);
    CHECK(hex_encode(hmac_blake2b512(key200, as_bytes("long key")).view()) ==
          "3657d96bcab1b777275ca0c25f3bab9388d8ac4d3914495a2b495c756b52dd22dc9531abcd00141e683e53e"
          "77cf10f468330f65c569c44f0f54edd3ad89cb566");
}

TEST_CASE("HMAC-BLAKE2b is not BLAKE2b's keyed mode") {
    Bytes key(32, 0x42);
    auto keyed = blake2b(64, as_bytes("data"), key);
    auto hmac = hmac_blake2b512(key, as_bytes("data"));
    CHECK(hex_encode(keyed) != hex_encode(hmac.view()));
}
