// Every vector of the cacophony file for 25519_ChaChaPoly_BLAKE2b: both sides run the
// handshake with the vector's keys and ephemerals; every message must be byte-identical to the
// vector's ciphertext and decrypt to its payload, both sides must reach the vector's handshake
// hash, and the transport messages after split() must match too.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/transport/noise.hpp"
#include "vectors.hpp"

using namespace kolokol;
using namespace kolokol::transport;
using namespace kolokol::transport::noise;
using nlohmann::json;

namespace {

json load_vectors() {
    auto path = test::vectors_dir() / "noise-25519-chachapoly-blake2b.json";
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "missing Noise vectors: " << path.string());
    return json::parse(in);
}

Bytes hex(const json& v) {
    auto b = crypto::hex_decode(v.get<std::string>());
    REQUIRE(b.has_value());
    return *b;
}

crypto::SecretBytes secret(const json& v) {
    auto b = hex(v);
    return crypto::SecretBytes::copy_of(b);
}

HandshakeConfig config_for(const json& v, const std::string& side, Role role) {
    HandshakeConfig c;
    c.protocol_name = v["protocol_name"].get<std::string>();
    c.role = role;
    c.prologue = hex(v[side + "_prologue"]);
    if (v.contains(side + "_static")) c.local_static = secret(v[side + "_static"]);
    if (v.contains(side + "_remote_static"))
        c.remote_static = to_array<32>(hex(v[side + "_remote_static"]));
    if (v.contains(side + "_psks"))
        for (const auto& psk : v[side + "_psks"]) c.psks.push_back(secret(psk));
    return c;
}

HandshakeState make_side(const json& v, const std::string& side, Role role) {
    auto config = config_for(v, side, role);
    // One-way patterns give the responder no ephemeral: it never writes one.
    auto hs = v.contains(side + "_ephemeral")
                  ? HandshakeState::create_with_fixed_ephemeral_for_testing(
                        std::move(config), secret(v[side + "_ephemeral"]))
                  : HandshakeState::create(std::move(config));
    REQUIRE_MESSAGE(hs.has_value(), (hs ? "" : hs.error().what()));
    return std::move(*hs);
}

}  // namespace

TEST_CASE("Noise: every cacophony vector for 25519_ChaChaPoly_BLAKE2b") {
    auto doc = load_vectors();
    const auto& vectors = doc["vectors"];
    REQUIRE(vectors.size() == 59);

    std::set<std::string> names;
    for (const auto& v : vectors) {
        auto name = v["protocol_name"].get<std::string>();
        CAPTURE(name);
        names.insert(name);
        REQUIRE(is_supported_protocol(name));

        auto init = make_side(v, "init", Role::initiator);
        auto resp = make_side(v, "resp", Role::responder);
        const auto& messages = v["messages"];
        REQUIRE(messages.size() > init.message_count());

        std::size_t i = 0;
        for (; i < init.message_count(); ++i) {
            CAPTURE(i);
            auto& writer = (i % 2 == 0) ? init : resp;
            auto& reader = (i % 2 == 0) ? resp : init;
            REQUIRE(writer.is_write_turn());
            REQUIRE_FALSE(reader.is_write_turn());
            auto payload = hex(messages[i]["payload"]);
            auto ct = writer.write_message(payload);
            REQUIRE(ct.has_value());
            CHECK(crypto::hex_encode(*ct) == messages[i]["ciphertext"].get<std::string>());
            auto pt = reader.read_message(*ct);
            REQUIRE(pt.has_value());
            CHECK(*pt == payload);
        }
        REQUIRE(init.is_finished());
        REQUIRE(resp.is_finished());
        auto expected_h = v["handshake_hash"].get<std::string>();
        CHECK(crypto::hex_encode(init.handshake_hash()) == expected_h);
        CHECK(crypto::hex_encode(resp.handshake_hash()) == expected_h);
        // Each side learned (or was given) the other's static key when the pattern has one.
        if (v.contains("resp_static")) CHECK(init.remote_static().has_value());
        if (v.contains("init_static")) CHECK(resp.remote_static().has_value());

        auto init_ciphers = init.split();
        auto resp_ciphers = resp.split();
        REQUIRE(init_ciphers.has_value());
        REQUIRE(resp_ciphers.has_value());
        const bool one_way = init.message_count() == 1;
        for (; i < messages.size(); ++i) {
            CAPTURE(i);
            // Cacophony alternates directions after the handshake too, except for one-way
            // patterns, where only the initiator sends.
            const bool from_init = one_way || i % 2 == 0;
            auto& send = from_init ? init_ciphers->send : resp_ciphers->send;
            auto& recv = from_init ? resp_ciphers->receive : init_ciphers->receive;
            auto payload = hex(messages[i]["payload"]);
            auto ct = send.encrypt_with_ad({}, payload);
            REQUIRE(ct.has_value());
            CHECK(crypto::hex_encode(*ct) == messages[i]["ciphertext"].get<std::string>());
            auto pt = recv.decrypt_with_ad({}, *ct);
            REQUIRE(pt.has_value());
            CHECK(*pt == payload);
        }
        if (one_way) {
            // The unused direction refuses instead of passing plaintext through.
            CHECK_FALSE(resp_ciphers->send.encrypt_with_ad({}, as_bytes("x")).has_value());
            CHECK_FALSE(init_ciphers->receive.has_key());
        }
    }
    CHECK(names.size() == 59);
}
