#include "chat/ui/line_editor.hpp"

#include <doctest/doctest.h>

#include <clocale>

#include "chat/ui/text.hpp"

using namespace kolokol::cli::chat;

namespace {
const bool utf8_locale = std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr;
}

TEST_CASE("typing, moving and deleting work on characters, not bytes") {
    REQUIRE(utf8_locale);
    LineEditor e;
    e.insert(decode_utf8("Првет"));
    e.left();
    e.left();
    e.left();
    e.insert(U'и');
    CHECK(encode_utf8(e.text()) == "Привет");
    e.end();
    e.backspace();
    CHECK(encode_utf8(e.text()) == "Приве");
    e.home();
    e.erase_forward();
    CHECK(encode_utf8(e.text()) == "риве");
    CHECK(e.cursor() == 0);
    e.left();  // at the start: stays
    CHECK(e.cursor() == 0);
    e.end();
    e.right();  // at the end: stays
    CHECK(e.cursor() == 4);
}

TEST_CASE("a letter and its combining mark move and delete together") {
    REQUIRE(utf8_locale);
    LineEditor e;
    e.insert(U"ae\u0301b");
    e.left();  // before b
    e.left();  // before e + acute
    CHECK(e.cursor() == 1);
    e.right();
    CHECK(e.cursor() == 3);
    e.backspace();
    CHECK(e.text() == U"ab");
}

TEST_CASE("control characters and overlong lines are refused") {
    LineEditor e(5);
    CHECK_FALSE(e.insert(U'\x1b'));
    CHECK_FALSE(e.insert(U'\n'));
    CHECK(e.insert(U"abcde"));
    CHECK_FALSE(e.insert(U'f'));
    CHECK(e.text() == U"abcde");
}

TEST_CASE("history recalls sent lines and gives back the draft") {
    LineEditor e;
    e.insert(U"first");
    CHECK(e.take() == "first");
    e.insert(U"second");
    CHECK(e.take() == "second");
    e.insert(U"   ");
    e.take();  // blank lines are not remembered
    CHECK(e.history_size() == 2);
    e.insert(U"draft");
    e.history_up();
    CHECK(e.text() == U"second");
    e.history_up();
    CHECK(e.text() == U"first");
    e.history_up();  // oldest: stays
    CHECK(e.text() == U"first");
    e.history_down();
    e.history_down();
    CHECK(e.text() == U"draft");
    CHECK(e.cursor() == 5);
}

TEST_CASE("history keeps at most its limit") {
    LineEditor e(100, 2);
    for (auto s : {U"a", U"b", U"c"}) {
        e.insert(s);
        e.take();
    }
    CHECK(e.history_size() == 2);
    e.history_up();
    e.history_up();
    CHECK(e.text() == U"b");
}

TEST_CASE("the view scrolls by display width so the cursor always shows") {
    REQUIRE(utf8_locale);
    LineEditor e;
    e.insert(decode_utf8("中文中文中文"));  // 12 columns
    auto v = e.view(8);
    CHECK(display_width(v.visible) <= 8);
    CHECK(v.cursor_column < 8);
    CHECK(v.cursor_column == display_width(v.visible));  // the cursor sits after the text
    e.home();
    v = e.view(8);
    CHECK(v.cursor_column == 0);
    CHECK(v.visible == U"中文中文");
    CHECK(e.view(0).visible.empty());
}
