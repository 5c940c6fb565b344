#include "chat/ui/text.hpp"

#include <doctest/doctest.h>

#include <clocale>

using namespace kolokol::cli::chat;

namespace {
// Widths come from wcwidth(), which needs a UTF-8 LC_CTYPE; every test binary starts in "C".
const bool utf8_locale = std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr;
std::u32string u(std::string_view s) {
    return decode_utf8(s);
}
}  // namespace

TEST_CASE("UTF-8 decodes and re-encodes Cyrillic, combining marks and wide characters") {
    REQUIRE(utf8_locale);
    const std::string s = "Привет, мир! é 中文 😀";
    auto d = decode_utf8(s);
    CHECK(d.size() == 19);
    CHECK(encode_utf8(d) == s);
}

TEST_CASE("invalid UTF-8 becomes U+FFFD, one per bad byte, never a control") {
    CHECK(decode_utf8("\xC0\xAF") == std::u32string{kReplacement, kReplacement});  // overlong '/'
    CHECK(decode_utf8("\xED\xA0\x80") ==
          std::u32string{kReplacement, kReplacement, kReplacement});  // surrogate
    CHECK(decode_utf8("a\xE2\x82") == std::u32string{U'a', kReplacement, kReplacement});
    CHECK(decode_utf8("\xF4\x90\x80\x80").front() == kReplacement);  // past U+10FFFF
    CHECK(decode_utf8("\xFF") == std::u32string{kReplacement});
    CHECK(encode_utf8(std::u32string{char32_t(0xD800)}) == "\xEF\xBF\xBD");
}

TEST_CASE("display width counts columns, not bytes or code points") {
    REQUIRE(utf8_locale);
    CHECK(display_width(std::string_view("hello")) == 5);
    CHECK(display_width(std::string_view("Привет")) == 6);     // 12 bytes
    CHECK(display_width(std::string_view("e\xCC\x81")) == 1);  // e + combining acute
    CHECK(display_width(std::string_view("中文")) == 4);       // wide
    CHECK(display_width(std::string_view("😀")) == 2);
    CHECK(char_width(U'\x1b') == 0);
}

TEST_CASE("sanitize removes what could drive the terminal or reorder the line") {
    auto s = sanitize(u("a\x1b[31mb\tc\u202Ed\x7f\n"), true);
    CHECK(s == U"a\uFFFD[31mb c\uFFFDd\uFFFD\n");
    CHECK(sanitize(u("x\ny"), false) == U"x\uFFFDy");
    CHECK(sanitize(u("\xC2\x9B")) == U"\uFFFD");  // C1 CSI
}

TEST_CASE("wrap breaks at spaces within the width") {
    REQUIRE(utf8_locale);
    auto lines = wrap(u("Привет всем на площади"), 10);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == U"Привет");
    CHECK(lines[1] == U"всем на");
    CHECK(lines[2] == U"площади");
    for (auto& l : lines) CHECK(display_width(l) <= 10);
}

TEST_CASE("wrap splits a long word, never a wide character or a combining mark") {
    REQUIRE(utf8_locale);
    auto lines = wrap(u("中文中文中"), 4);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == U"中文");
    CHECK(lines[2] == U"中");
    lines = wrap(u("中文中"), 3);  // a wide character never straddles the edge
    REQUIRE(lines.size() == 3);
    CHECK(display_width(lines[0]) == 2);
    auto marks = wrap(u("e\u0301e\u0301e\u0301"), 2);
    REQUIRE(marks.size() == 2);
    CHECK(marks[0] == U"e\u0301e\u0301");
    CHECK(marks[1] == U"e\u0301");
}

TEST_CASE("wrap keeps newlines, gives one empty line for empty text, honours first_width") {
    CHECK(wrap(U"", 10) == std::vector<std::u32string>{U""});
    CHECK(wrap(U"a\nb", 10) == std::vector<std::u32string>{U"a", U"b"});
    auto lines = wrap(U"aaa bbb ccc", 8, 3);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == U"aaa");
    CHECK(lines[1] == U"bbb ccc");
}

TEST_CASE("truncate and fit stay within the width by display columns") {
    REQUIRE(utf8_locale);
    CHECK(truncate(U"Привет", 6) == U"Привет");
    CHECK(truncate(U"Привет", 4) == U"При…");
    CHECK(display_width(truncate(U"中文中文", 4)) <= 4);
    CHECK(fit(U"ab", 4) == U"ab  ");
    CHECK(fit(U"中文", 3) == U"中 ");  // the second wide character does not fit: padded
    CHECK(display_width(fit(U"e\u0301xyz", 2)) == 2);
    CHECK(truncate(U"abc", 0).empty());
}
