#include <doctest/doctest.h>

#include <ostream>

#include "kolokol/core/errors.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/encoding.hpp"

using namespace kolokol;
using namespace kolokol::core;

TEST_CASE("a card survives its text form and its signature is checked") {
    auto id = Identity::generate("Анна");
    auto card = id.card(1700000000000);
    auto text = card_to_text(card);
    CHECK(text.starts_with("kolokol-card:"));
    auto back = card_from_text("  " + text + "\n");
    REQUIRE(back.has_value());
    CHECK(back->sign_key == id.sign.public_key);
    CHECK(back->box_key == id.box.public_key);
    CHECK(back->display_name == "Анна");

    // Any change to the signed bytes breaks the signature or the parse.
    for (std::size_t i = 0; i < card.signed_bytes.size(); i += 7) {
        auto bad = card;
        bad.signed_bytes[i] ^= 0x20;
        CHECK_FALSE(card_from_text(card_to_text(bad)).has_value());
    }
}

TEST_CASE("garbage cards get a clear error") {
    for (const std::string& junk : std::vector<std::string>{
             "", "hello", "kolokol-card:", "kolokol-card:!!!!", "kolokol-card:AAAA",
             "kolokol-welcome:abc", std::string(5000, 'a')}) {
        auto r = card_from_text(junk);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::bad_input);
        CHECK_FALSE(r.error().message.empty());
    }
}

TEST_CASE("display names must be short clean UTF-8") {
    CHECK(check_display_name("Борис").has_value());
    CHECK(check_display_name("李雷").has_value());
    CHECK_FALSE(check_display_name("").has_value());
    CHECK_FALSE(check_display_name(std::string(65, 'x')).has_value());
    CHECK_FALSE(check_display_name("bad\x01name").has_value());
    CHECK_FALSE(check_display_name("\xc3\x28").has_value());      // invalid continuation
    CHECK_FALSE(check_display_name("\xe0\x80\xaf").has_value());  // overlong
    CHECK_FALSE(check_display_name("\xed\xa0\x80").has_value());  // surrogate
    CHECK_FALSE(check_display_name("abc\xe2\x82").has_value());   // truncated
}

TEST_CASE("the safety number is symmetric, 60 digits, and differs per pair") {
    auto a = Identity::generate("a"), b = Identity::generate("b"), c = Identity::generate("c");
    auto ab = safety_number(a.sign.public_key, b.sign.public_key);
    CHECK(ab == safety_number(b.sign.public_key, a.sign.public_key));
    CHECK(ab != safety_number(a.sign.public_key, c.sign.public_key));
    std::size_t digits = 0;
    for (char ch : ab) digits += std::isdigit(static_cast<unsigned char>(ch)) ? 1 : 0;
    CHECK(digits == 60);
    CHECK(ab.size() == 71);
}
