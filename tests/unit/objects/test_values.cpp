#include <doctest/doctest.h>

#include <limits>

#include "kolokol/objects/values.hpp"

using namespace kolokol;
using namespace kolokol::objects;

TEST_CASE("datetime: one strict UTC form, real calendar dates, years 1900-2200") {
    CHECK(parse_datetime("1970-01-01T00:00:00Z") == 0);
    CHECK(parse_datetime("2024-02-29T12:30:05Z") == 1709209805);
    CHECK(parse_datetime("1900-01-01T00:00:00Z") == -2208988800);
    CHECK(parse_datetime("2200-12-31T23:59:59Z").has_value());

    CHECK_FALSE(parse_datetime("1899-12-31T23:59:59Z"));  // before the range
    CHECK_FALSE(parse_datetime("2201-01-01T00:00:00Z"));  // after it
    CHECK_FALSE(parse_datetime("9999-01-01T00:00:00Z"));
    CHECK_FALSE(parse_datetime("2023-02-29T00:00:00Z"));  // not a leap year
    CHECK_FALSE(parse_datetime("2100-02-29T00:00:00Z"));  // century, not a leap year
    CHECK(parse_datetime("2000-02-29T00:00:00Z"));        // 400-year rule
    CHECK_FALSE(parse_datetime("2024-04-31T00:00:00Z"));
    CHECK_FALSE(parse_datetime("2024-13-01T00:00:00Z"));
    CHECK_FALSE(parse_datetime("2024-00-10T00:00:00Z"));
    CHECK_FALSE(parse_datetime("2024-01-00T00:00:00Z"));
    CHECK_FALSE(parse_datetime("2024-01-01T24:00:00Z"));
    CHECK_FALSE(parse_datetime("2024-01-01T23:60:00Z"));
    CHECK_FALSE(parse_datetime("2024-01-01T23:59:60Z"));  // no leap seconds
    CHECK_FALSE(parse_datetime("2024-01-01T10:00:00"));   // no zone
    CHECK_FALSE(parse_datetime("2024-01-01T10:00:00+02:00"));
    CHECK_FALSE(parse_datetime("2024-01-01 10:00:00Z"));
    CHECK_FALSE(parse_datetime("2024-1-01T10:00:00Z"));
    CHECK_FALSE(parse_datetime(" 2024-01-01T10:00:00Z"));
    CHECK_FALSE(parse_datetime("2024-01-01T10:00:00.5Z"));
    CHECK_FALSE(parse_datetime("+024-01-01T10:00:00Z"));
    CHECK_FALSE(parse_datetime(""));
}

TEST_CASE("datetime formatting is the inverse of parsing") {
    for (const char* s : {"1900-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
                          "2024-02-29T12:30:05Z", "2200-12-31T23:59:59Z"}) {
        auto t = parse_datetime(s);
        REQUIRE(t);
        CHECK(format_datetime(*t) == std::string(s));
    }
    CHECK_FALSE(format_datetime(*parse_datetime("1900-01-01T00:00:00Z") - 1));
    CHECK_FALSE(format_datetime(*parse_datetime("2200-12-31T23:59:59Z") + 1));
}

TEST_CASE("amounts: at most 1e12 with two decimals, one spelling each") {
    CHECK(parse_amount_cents("0") == 0);
    CHECK(parse_amount_cents("12") == 1200);
    CHECK(parse_amount_cents("12.5") == 1250);
    CHECK(parse_amount_cents("12.05") == 1205);
    CHECK(parse_amount_cents("0.99") == 99);
    CHECK(parse_amount_cents("1000000000000") == kMaxAmountCents);
    CHECK(parse_amount_cents("1000000000000.00") == kMaxAmountCents);

    CHECK_FALSE(parse_amount_cents("1000000000000.01"));  // over 1e12
    CHECK_FALSE(parse_amount_cents("10000000000000"));
    CHECK_FALSE(parse_amount_cents("99999999999999999999999"));
    CHECK_FALSE(parse_amount_cents("1e13"));
    CHECK_FALSE(parse_amount_cents("1.234"));
    CHECK_FALSE(parse_amount_cents("-5"));
    CHECK_FALSE(parse_amount_cents("+5"));
    CHECK_FALSE(parse_amount_cents("05"));
    CHECK_FALSE(parse_amount_cents("5."));
    CHECK_FALSE(parse_amount_cents(".5"));
    CHECK_FALSE(parse_amount_cents("1,50"));
    CHECK_FALSE(parse_amount_cents("NaN"));
    CHECK_FALSE(parse_amount_cents(""));

    CHECK(format_cents(0) == "0.00");
    CHECK(format_cents(1205) == "12.05");
    CHECK(format_cents(-1) == "-0.01");
    CHECK(format_cents(std::numeric_limits<std::int64_t>::min()) == "-92233720368547758.08");
}

TEST_CASE("currency codes, integers and keys") {
    CHECK(is_currency_code("EUR"));
    CHECK(is_currency_code("RUB"));
    CHECK_FALSE(is_currency_code("eur"));
    CHECK_FALSE(is_currency_code("EURO"));
    CHECK_FALSE(is_currency_code("E1R"));
    CHECK_FALSE(is_currency_code(""));

    CHECK(parse_integer("0") == 0);
    CHECK(parse_integer("-17") == -17);
    CHECK(parse_integer("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
    CHECK(parse_integer("-9223372036854775808") == std::numeric_limits<std::int64_t>::min());
    CHECK_FALSE(parse_integer("9223372036854775808"));  // overflow
    CHECK_FALSE(parse_integer("-0"));
    CHECK_FALSE(parse_integer("007"));
    CHECK_FALSE(parse_integer("+7"));
    CHECK_FALSE(parse_integer("7 "));
    CHECK_FALSE(parse_integer("-"));
    CHECK_FALSE(parse_integer(""));

    const std::string hex(64, 'a');
    auto key = parse_key_hex(hex);
    REQUIRE(key);
    CHECK((*key)[0] == 0xaa);
    CHECK(key_hex(*key) == hex);
    CHECK_FALSE(parse_key_hex(std::string(64, 'A')));  // one spelling: lower case
    CHECK_FALSE(parse_key_hex(std::string(63, 'a')));
    CHECK_FALSE(parse_key_hex(std::string(66, 'a')));
    CHECK_FALSE(parse_key_hex(std::string(64, 'g')));
}

TEST_CASE("display text: valid UTF-8 without control characters") {
    CHECK(is_display_text(""));
    CHECK(is_display_text("Задержан у метро\tпр. Мира\nадвокат едет"));
    CHECK(is_display_text("\xd8\xa7\xd9\x84\xd9\x82\xd8\xa7\xd9\x87\xd8\xb1\xd8\xa9"));  // Arabic
    CHECK(is_display_text("\xf0\x9f\x94\x94"));  // U+1F514 bell, 4 bytes
    CHECK_FALSE(is_display_text("a\x1b[2Jb"));   // ESC: terminal escape
    CHECK_FALSE(is_display_text(std::string("a\0b", 3)));
    CHECK_FALSE(is_display_text("a\rb"));
    CHECK_FALSE(is_display_text("\x7f"));
    CHECK_FALSE(is_display_text("\xc2\x9b"));          // C1 CSI
    CHECK_FALSE(is_display_text("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(is_display_text("\xe0\x80\xaf"));      // overlong, 3 bytes
    CHECK_FALSE(is_display_text("\xed\xa0\x80"));      // surrogate
    CHECK_FALSE(is_display_text("\xf4\x90\x80\x80"));  // past U+10FFFF
    CHECK_FALSE(is_display_text("\xe2\x82"));          // truncated
    CHECK_FALSE(is_display_text("\x80"));              // lone continuation
    CHECK_FALSE(is_display_text("\xff"));
}
