#include <doctest/doctest.h>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hmac_blake2b.hpp"
#include "kolokol/crypto/x25519.hpp"

using namespace kolokol;
using namespace kolokol::crypto;

TEST_CASE("x25519_into agrees with x25519 and refuses low-order points") {
    auto a = box_keypair();
    auto b = box_keypair();
    SecretBytes out(32);
    REQUIRE(x25519_into(out.mutable_view(), a.secret_key.view(), b.public_key));
    auto reference = x25519(b.secret_key.view(), a.public_key);
    REQUIRE(reference.has_value());
    CHECK(equal_ct(out.view(), reference->view()));

    ByteArray<32> low_order{};  // the all-zero point
    CHECK_FALSE(x25519_into(out.mutable_view(), a.secret_key.view(), low_order));
    CHECK(is_zero(out.view()));
    SecretBytes short_out(31);
    CHECK_FALSE(x25519_into(short_out.mutable_view(), a.secret_key.view(), b.public_key));
}

TEST_CASE("hmac_blake2b512_into matches hmac_blake2b512") {
    SecretBytes out(64);
    hmac_blake2b512_into(out.mutable_view(), as_bytes("Jefe"),
                         {as_bytes("what do ya want "), as_bytes("for nothing?")});
    CHECK(
        hex_encode(out.view()) ==
        "6ff884f8ddc2a6586b3c98a4cd6ebdf14ec10204b6710073eb5865ade37a2643b8807c1335d107ecdb9ffeaeb"
        "6828c4625ba172c66379efcd222c2de11727ab4");
}
