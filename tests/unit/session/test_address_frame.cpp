// Relay addresses and the fixed-byte wire pieces of a session: strict parsers, round trips,
// and malformed, truncated and oversized inputs.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/frame.hpp"

using namespace kolokol;
using namespace kolokol::transport;

namespace {

StaticPublicKey sample_key() {
    StaticPublicKey k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return k;
}

std::string key_text() {
    return key_to_text(sample_key());
}

}  // namespace

TEST_CASE("address: parse and format round-trip for names, IPv4 and IPv6") {
    auto k = key_text();
    REQUIRE(k.size() == 52);

    auto name = Address::parse("kolokol://Relay-1.Example.org:7443/" + k);
    REQUIRE(name.has_value());
    CHECK(name->host == "relay-1.example.org");
    CHECK(name->port == 7443);
    CHECK(name->key == sample_key());
    CHECK(name->to_string() == "kolokol://relay-1.example.org:7443/" + k);
    CHECK(Address::parse(name->to_string()).value() == *name);

    auto v4 = Address::parse("kolokol://127.0.0.1:1/" + k);
    REQUIRE(v4.has_value());
    CHECK(v4->host == "127.0.0.1");
    CHECK(v4->port == 1);

    auto v6 = Address::parse("kolokol://[2001:DB8:0:0::1]:65535/" + k);
    REQUIRE(v6.has_value());
    CHECK(v6->host == "2001:db8::1");
    CHECK(v6->port == 65535);
    CHECK(v6->to_string() == "kolokol://[2001:db8::1]:65535/" + k);
    CHECK(Address::parse(v6->to_string()).value() == *v6);

    auto mapped = Address::parse("kolokol://[::ffff:10.0.0.1]:80/" + k);
    REQUIRE(mapped.has_value());
    CHECK(Address::parse(mapped->to_string()).value() == *mapped);
}

TEST_CASE("address: everything else is refused with invalid_address") {
    auto k = key_text();
    auto upper = k;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // The last character of a 32-byte key carries 1 bit; 'b' sets a bit that must be zero.
    auto noncanonical = k.substr(0, 51) + "b";
    std::vector<std::string> bad = {
        "",
        "kolokol://",
        "http://relay.example:7443/" + k,
        "KOLOKOL://relay.example:7443/" + k,
        "kolokol://relay.example/" + k,
        "kolokol://relay.example:/" + k,
        "kolokol://relay.example:0/" + k,
        "kolokol://relay.example:65536/" + k,
        "kolokol://relay.example:07443/" + k,
        "kolokol://relay.example:+7443/" + k,
        "kolokol://relay.example:74a3/" + k,
        "kolokol://relay.example:7443",
        "kolokol://relay.example:7443/",
        "kolokol://relay.example:7443/" + k + "/",
        "kolokol://relay.example:7443/" + k + "a",
        "kolokol://relay.example:7443/" + k.substr(1),
        "kolokol://relay.example:7443/" + upper,
        "kolokol://relay.example:7443/" + noncanonical,
        "kolokol://relay.example:7443/" + k.substr(0, 51) + "1",
        "kolokol://user@relay.example:7443/" + k,
        "kolokol://relay_example:7443/" + k,
        "kolokol://relay..example:7443/" + k,
        "kolokol://.relay.example:7443/" + k,
        "kolokol://relay.example.:7443/" + k,
        "kolokol://-relay.example:7443/" + k,
        "kolokol://relay-.example:7443/" + k,
        "kolokol://" + std::string(64, 'a') + ".example:7443/" + k,
        "kolokol://" + std::string(260, 'a') + ":7443/" + k,
        "kolokol://:7443/" + k,
        "kolokol://1.2.3:7443/" + k,
        "kolokol://256.1.1.1:7443/" + k,
        "kolokol://01.2.3.4:7443/" + k,
        "kolokol://2001:db8::1:7443/" + k,
        "kolokol://[2001:db8::1:7443/" + k,
        "kolokol://[2001:db8::1]/" + k,
        "kolokol://[fe80::1%eth0]:7443/" + k,
        "kolokol://[]:7443/" + k,
        "kolokol://[relay.example]:7443/" + k,
        "kolokol://[2001:db8::1]x:7443/" + k,
        "kolokol://relay.example:7443/" + k + std::string(600, 'a'),
        std::string("kolokol://relay.example:7443/") + std::string(1, '\0') + k.substr(1),
    };
    for (const auto& text : bad) {
        CAPTURE(text);
        auto a = Address::parse(text);
        REQUIRE_FALSE(a.has_value());
        CHECK(a.error().code == TransportErrc::invalid_address);
        CHECK(a.error().message.starts_with("invalid address: "));
    }
}

TEST_CASE("frame: length prefix") {
    Bytes msg(300, 0xab);
    auto frame = encode_frame(msg);
    REQUIRE(frame.size() == 302);
    CHECK(frame[0] == 0x01);
    CHECK(frame[1] == 0x2c);
    CHECK(frame_length(ByteView(frame).first(2)) == 300);
    Bytes max(kMaxFrameBytes, 0);
    auto big = encode_frame(max);
    CHECK(frame_length(ByteView(big).first(2)) == kMaxFrameBytes);
    CHECK(kMaxMessageBytes == 65535 - 17);
}

TEST_CASE("frame: version offers and answers") {
    std::vector<std::uint16_t> ours{1, 2, 7};
    auto offer = encode_version_offer(ours);
    CHECK(crypto::hex_encode(offer) == "03000100020007");
    auto parsed = parse_version_offer(offer);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == ours);

    auto answer = encode_version_answer({2, ours});
    auto back = parse_version_answer(answer);
    REQUIRE(back.has_value());
    CHECK(back->chosen == 2);
    CHECK(back->supported == ours);
    auto none = parse_version_answer(encode_version_answer({0, {1}}));
    REQUIRE(none.has_value());
    CHECK(none->chosen == 0);

    CHECK(choose_version({1, 2, 3}, {2, 3, 9}) == 3);
    CHECK(choose_version({1}, {2}) == 0);
    CHECK(choose_version({1, 2}, {1}) == 1);

    std::vector<std::uint16_t> seventeen(17);
    for (std::size_t i = 0; i < seventeen.size(); ++i)
        seventeen[i] = static_cast<std::uint16_t>(i + 1);
    CHECK_FALSE(validate_versions({}).has_value());
    CHECK_FALSE(validate_versions({0}).has_value());
    CHECK_FALSE(validate_versions({2, 1}).has_value());
    CHECK_FALSE(validate_versions({1, 1}).has_value());
    CHECK_FALSE(validate_versions(seventeen).has_value());
    CHECK(validate_versions({1, 65535}).has_value());

    for (const char* hex : {
             "",            // empty
             "00",          // no versions
             "11",          // 17 versions claimed
             "01",          // truncated
             "0100",        // truncated version
             "010000",      // version 0
             "0200020001",  // not increasing
             "0200010001",  // duplicate
             "01000100",    // trailing byte
             "ff"
             "0001",  // count way over the cap
         }) {
        CAPTURE(hex);
        auto r = parse_version_offer(*crypto::hex_decode(hex));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == TransportErrc::malformed_frame);
    }
    for (const char* hex : {
             "",              // empty
             "00",            // truncated chosen
             "0001",          // no list
             "000101",        // truncated list
             "0002010001",    // chosen 2 is not in the list
             "000101000100",  // trailing byte
         }) {
        CAPTURE(hex);
        auto r = parse_version_answer(*crypto::hex_decode(hex));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == TransportErrc::malformed_frame);
    }
}
