// Hostile and edge cases of the Noise layer beyond the vectors: bad configuration, the spec's
// pitfalls (all-zero DH, fresh ephemerals, reserved nonce), tampering, truncation, size limits.

#include <doctest/doctest.h>

#include <limits>
#include <string>
#include <vector>

#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/noise.hpp"

using namespace kolokol;
using namespace kolokol::transport;
using namespace kolokol::transport::noise;

namespace {

const std::string kXX = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
const std::string kNN = "Noise_NN_25519_ChaChaPoly_BLAKE2b";

crypto::SecretBytes fresh_key() {
    return crypto::box_keypair().secret_key;
}

HandshakeState xx(Role role, Bytes prologue = to_bytes("kolokol/1")) {
    HandshakeConfig c;
    c.protocol_name = kXX;
    c.role = role;
    c.prologue = std::move(prologue);
    c.local_static = fresh_key();
    auto hs = HandshakeState::create(std::move(c));
    REQUIRE(hs.has_value());
    return std::move(*hs);
}

HandshakeState nn(Role role) {
    HandshakeConfig c;
    c.protocol_name = kNN;
    c.role = role;
    auto hs = HandshakeState::create(std::move(c));
    REQUIRE(hs.has_value());
    return std::move(*hs);
}

std::error_code code_of(const Error& e) {
    return e.code;
}

struct XXRun {
    HandshakeState init = xx(Role::initiator);
    HandshakeState resp = xx(Role::responder);
    Bytes msg1, msg2, msg3;

    void run() {
        msg1 = *init.write_message(as_bytes("hello"));
        REQUIRE(resp.read_message(msg1).has_value());
        msg2 = *resp.write_message({});
        REQUIRE(init.read_message(msg2).has_value());
        msg3 = *init.write_message({});
        REQUIRE(resp.read_message(msg3).has_value());
    }
};

}  // namespace

TEST_CASE("Noise: protocol names outside the table are refused") {
    for (const std::string& name : std::vector<std::string>{
             "Noise_XX_25519_AESGCM_SHA256", "Noise_XX_448_ChaChaPoly_BLAKE2b",
             "Noise_ZZ_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk4_25519_ChaChaPoly_BLAKE2b",
             "Noise_XXpsk3+psk3_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk_25519_ChaChaPoly_BLAKE2b",
             "Noise_XXpsk03_25519_ChaChaPoly_BLAKE2b", "Noise_XXfallback_25519_ChaChaPoly_BLAKE2b",
             "Noise_Npsk2_25519_ChaChaPoly_BLAKE2b", "noise_XX_25519_ChaChaPoly_BLAKE2b", "",
             "Noise__25519_ChaChaPoly_BLAKE2b",
             "Noise_" + std::string(300, 'X') + "_25519_ChaChaPoly_BLAKE2b"}) {
        CAPTURE(name);
        CHECK_FALSE(is_supported_protocol(name));
        HandshakeConfig c;
        c.protocol_name = name;
        auto hs = HandshakeState::create(std::move(c));
        REQUIRE_FALSE(hs.has_value());
        CHECK(code_of(hs.error()) == TransportErrc::unknown_protocol);
    }
    CHECK(is_supported_protocol("Noise_NNpsk0+psk2_25519_ChaChaPoly_BLAKE2b"));
}

TEST_CASE("Noise: keys and psks must match what the pattern needs") {
    auto expect_bad = [](HandshakeConfig c) {
        auto hs = HandshakeState::create(std::move(c));
        REQUIRE_FALSE(hs.has_value());
        CHECK(code_of(hs.error()) == TransportErrc::bad_config);
    };
    HandshakeConfig missing_static;
    missing_static.protocol_name = kXX;
    expect_bad(std::move(missing_static));

    HandshakeConfig short_static;
    short_static.protocol_name = kXX;
    short_static.local_static = crypto::SecretBytes(31);
    expect_bad(std::move(short_static));

    HandshakeConfig superfluous_static;
    superfluous_static.protocol_name = kNN;
    superfluous_static.local_static = fresh_key();
    expect_bad(std::move(superfluous_static));

    // XX learns the peer's key in the handshake: a "pin" here would silently do nothing.
    HandshakeConfig pinned_xx;
    pinned_xx.protocol_name = kXX;
    pinned_xx.local_static = fresh_key();
    pinned_xx.remote_static = PublicKey{};
    expect_bad(std::move(pinned_xx));

    HandshakeConfig ik_without_remote;
    ik_without_remote.protocol_name = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
    ik_without_remote.local_static = fresh_key();
    expect_bad(std::move(ik_without_remote));

    HandshakeConfig psk_missing;
    psk_missing.protocol_name = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b";
    expect_bad(std::move(psk_missing));

    HandshakeConfig psk_short;
    psk_short.protocol_name = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b";
    psk_short.psks.emplace_back(16);
    expect_bad(std::move(psk_short));

    HandshakeConfig psk_extra;
    psk_extra.protocol_name = kNN;
    psk_extra.psks.emplace_back(32);
    expect_bad(std::move(psk_extra));
}

TEST_CASE("Noise: XX round trip gives both sides the same h and each other's static key") {
    XXRun r;
    r.run();
    CHECK(r.init.handshake_hash() == r.resp.handshake_hash());
    REQUIRE(r.init.remote_static().has_value());
    REQUIRE(r.resp.remote_static().has_value());
    auto a = r.init.split();
    auto b = r.resp.split();
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    auto ct = a->send.encrypt_with_ad({}, as_bytes("ping"));
    REQUIRE(ct.has_value());
    auto pt = b->receive.decrypt_with_ad({}, *ct);
    REQUIRE(pt.has_value());
    CHECK(to_string(*pt) == "ping");
    // A replayed transport message fails: the receiver's nonce moved on.
    auto again = b->receive.decrypt_with_ad({}, *ct);
    REQUIRE_FALSE(again.has_value());
    CHECK(code_of(again.error()) == TransportErrc::decrypt_failed);
    // split() only once.
    CHECK_FALSE(r.init.split().has_value());
}

TEST_CASE("Noise: every handshake draws a fresh ephemeral") {
    XXRun first, second;
    first.run();
    second.run();
    // msg1 of XX is exactly the ephemeral key plus the plaintext payload.
    CHECK(Bytes(first.msg1.begin(), first.msg1.begin() + 32) !=
          Bytes(second.msg1.begin(), second.msg1.begin() + 32));
    CHECK(first.init.handshake_hash() != second.init.handshake_hash());
}

TEST_CASE("Noise: an all-zero DH result aborts the handshake") {
    // The all-zero point is of low order: X25519 with it is zero whatever the private key.
    SUBCASE("responder receives a low-order ephemeral") {
        auto resp = xx(Role::responder);
        Bytes msg1(32, 0);
        REQUIRE(resp.read_message(msg1).has_value());  // "e" alone does no DH yet
        auto msg2 = resp.write_message({});
        REQUIRE_FALSE(msg2.has_value());
        CHECK(code_of(msg2.error()) == TransportErrc::invalid_dh);
        CHECK(resp.has_failed());
    }
    SUBCASE("initiator receives a low-order ephemeral") {
        auto init = nn(Role::initiator);
        REQUIRE(init.write_message({}).has_value());
        Bytes msg2(32 + 16, 0);
        auto r = init.read_message(msg2);
        REQUIRE_FALSE(r.has_value());
        CHECK(code_of(r.error()) == TransportErrc::invalid_dh);
        CHECK_FALSE(init.split().has_value());
    }
}

TEST_CASE("Noise: a tampered handshake message poisons the state") {
    auto init = xx(Role::initiator);
    auto resp = xx(Role::responder);
    auto msg1 = *init.write_message({});
    REQUIRE(resp.read_message(msg1).has_value());
    auto msg2 = *resp.write_message({});
    msg2[40] ^= 0x01;  // inside the encrypted static key
    auto r = init.read_message(msg2);
    REQUIRE_FALSE(r.has_value());
    CHECK(code_of(r.error()) == TransportErrc::decrypt_failed);
    CHECK(init.has_failed());
    CHECK_FALSE(init.is_write_turn());
    auto w = init.write_message({});
    REQUIRE_FALSE(w.has_value());
    CHECK(code_of(w.error()) == TransportErrc::wrong_state);
    CHECK_FALSE(init.split().has_value());
}

TEST_CASE("Noise: a different prologue makes the handshake fail") {
    auto init = xx(Role::initiator, to_bytes("kolokol/1"));
    auto resp = xx(Role::responder, to_bytes("kolokol/2"));
    REQUIRE(resp.read_message(*init.write_message({})).has_value());
    auto r = init.read_message(*resp.write_message({}));
    REQUIRE_FALSE(r.has_value());
    CHECK(code_of(r.error()) == TransportErrc::decrypt_failed);
}

TEST_CASE("Noise: truncated handshake messages are refused") {
    auto resp = xx(Role::responder);
    auto r = resp.read_message(Bytes(31, 7));
    REQUIRE_FALSE(r.has_value());
    CHECK(code_of(r.error()) == TransportErrc::malformed_message);

    auto init = xx(Role::initiator);
    auto resp2 = xx(Role::responder);
    REQUIRE(resp2.read_message(*init.write_message({})).has_value());
    auto msg2 = *resp2.write_message({});
    for (std::size_t cut : {0UL, 31UL, 32UL, 79UL, msg2.size() - 1}) {
        CAPTURE(cut);
        auto probe = xx(Role::initiator);
        auto fresh_resp = xx(Role::responder);
        REQUIRE(fresh_resp.read_message(*probe.write_message({})).has_value());
        auto m2 = *fresh_resp.write_message({});
        auto rr = probe.read_message(ByteView(m2).first(cut));
        REQUIRE_FALSE(rr.has_value());
        CHECK((code_of(rr.error()) == TransportErrc::malformed_message ||
               code_of(rr.error()) == TransportErrc::decrypt_failed));
    }
}

TEST_CASE("Noise: turn order and the 65,535-byte message limit") {
    auto resp = xx(Role::responder);
    auto w = resp.write_message({});
    REQUIRE_FALSE(w.has_value());
    CHECK(code_of(w.error()) == TransportErrc::wrong_state);

    auto init = nn(Role::initiator);
    // msg1 of NN is e (32 bytes) then the plaintext payload.
    Bytes too_big(kMaxMessageBytes - 32 + 1, 1);
    auto big = init.write_message(too_big);
    REQUIRE_FALSE(big.has_value());
    CHECK(code_of(big.error()) == TransportErrc::message_too_large);
    // The size check comes before any state change: the handshake is still usable.
    CHECK_FALSE(init.has_failed());
    Bytes fits(kMaxMessageBytes - 32, 1);
    auto ok = init.write_message(fits);
    REQUIRE(ok.has_value());
    CHECK(ok->size() == kMaxMessageBytes);

    auto resp2 = nn(Role::responder);
    auto r = resp2.read_message(Bytes(kMaxMessageBytes + 1, 0));
    REQUIRE_FALSE(r.has_value());
    CHECK(code_of(r.error()) == TransportErrc::message_too_large);
}

TEST_CASE("Noise: transport limits and the reserved nonce") {
    auto init = nn(Role::initiator);
    auto resp = nn(Role::responder);
    REQUIRE(resp.read_message(*init.write_message({})).has_value());
    REQUIRE(init.read_message(*resp.write_message({})).has_value());
    auto a = init.split();
    auto b = resp.split();
    REQUIRE((a && b));

    Bytes max_payload(kMaxMessageBytes - kTagBytes, 9);
    auto ct = a->send.encrypt_with_ad({}, max_payload);
    REQUIRE(ct.has_value());
    CHECK(ct->size() == kMaxMessageBytes);
    CHECK(b->receive.decrypt_with_ad({}, *ct).has_value());
    auto over = a->send.encrypt_with_ad({}, Bytes(kMaxMessageBytes - kTagBytes + 1, 0));
    REQUIRE_FALSE(over.has_value());
    CHECK(code_of(over.error()) == TransportErrc::message_too_large);

    // 2^64-2 is the last usable nonce; 2^64-1 is reserved.
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    a->send.set_nonce(kMax - 1);
    b->receive.set_nonce(kMax - 1);
    auto last = a->send.encrypt_with_ad({}, as_bytes("last"));
    REQUIRE(last.has_value());
    REQUIRE(b->receive.decrypt_with_ad({}, *last).has_value());
    CHECK(a->send.nonce() == kMax);
    auto refused = a->send.encrypt_with_ad({}, as_bytes("one more"));
    REQUIRE_FALSE(refused.has_value());
    CHECK(code_of(refused.error()) == TransportErrc::nonce_exhausted);
    auto refused_open = b->receive.decrypt_with_ad({}, *last);
    REQUIRE_FALSE(refused_open.has_value());
    CHECK(code_of(refused_open.error()) == TransportErrc::nonce_exhausted);

    CipherState empty;
    CHECK_FALSE(empty.encrypt_with_ad({}, as_bytes("x")).has_value());
    CHECK_FALSE(empty.decrypt_with_ad({}, Bytes(16, 0)).has_value());
}
