// Error messages keep their pattern and arguments apart (kolokol/crypto/error.hpp), so the CLI
// can show them translated; the English line stays what it always was.

#include <doctest/doctest.h>

#include "kolokol/crypto/error.hpp"

using namespace kolokol;

namespace {
std::error_code some_code() {
    return std::make_error_code(std::errc::invalid_argument);
}
}  // namespace

TEST_CASE("a message with arguments keeps its pattern, its arguments and the English line") {
    auto r = fail(some_code(), "no group called \"{}\"", std::string_view("Legal"));
    const Error& e = r.error();
    CHECK(e.what() == "no group called \"Legal\"");
    CHECK(e.pattern == "no group called \"{}\"");
    REQUIRE(e.args.size() == 1);
    CHECK(e.args[0].text == "Legal");
    CHECK_FALSE(e.args[0].literal);
    CHECK(e.args[0].error == nullptr);

    auto n = make_error(some_code(), "{} of {} bytes", 3, std::uint64_t{10});
    CHECK(n.what() == "3 of 10 bytes");
}

TEST_CASE("a literal message has no pattern; a const char* argument is a literal of its own") {
    auto plain = fail(some_code(), "the card is too long").error();
    CHECK(plain.what() == "the card is too long");
    CHECK(plain.pattern.empty());
    auto with_literal = make_error(some_code(), "invalid age header: {}", "data after header");
    REQUIRE(with_literal.args.size() == 1);
    CHECK(with_literal.args[0].literal);
    CHECK(with_literal.what() == "invalid age header: data after header");
}

TEST_CASE("an error as an argument is kept whole, and reclassify keeps the message") {
    auto inner = make_error(some_code(), "line {} is bad", 7);
    auto outer = make_error(some_code(), "signer card: {}", inner);
    CHECK(outer.what() == "signer card: line 7 is bad");
    REQUIRE(outer.args.size() == 1);
    REQUIRE(outer.args[0].error != nullptr);
    CHECK(outer.args[0].error->pattern == "line {} is bad");

    auto other = std::make_error_code(std::errc::io_error);
    auto moved = reclassify(other, outer).error();
    CHECK(moved.code == other);
    CHECK(moved.what() == outer.what());
    CHECK(moved.pattern == outer.pattern);
}

TEST_CASE("substitute never reads past its arguments") {
    CHECK(substitute("{} and {}", {"a"}) == "a and {}");
    CHECK(substitute("{}", {"a", "b"}) == "a");
    CHECK(substitute("no placeholder", {"a"}) == "no placeholder");
    CHECK(substitute("", {}) == "");
}
