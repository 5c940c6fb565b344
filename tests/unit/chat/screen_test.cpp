#include "chat/ui/screen.hpp"

#include <doctest/doctest.h>

#include <clocale>

#include "chat/ui/text.hpp"

using namespace kolokol::cli::chat;

namespace {
const bool utf8_locale = std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr;

std::size_t row_width(const Row& row) {
    std::size_t w = 0;
    for (const auto& s : row) w += display_width(s.text);
    return w;
}

ViewModel sample(const LineEditor* input) {
    ViewModel m;
    m.title = "Legal support · 3 members";
    m.groups = {{"Legal support", 0, 1, true}, {"Штаб", 4, 0, false}, {"中文群", 0, 0, false}};
    m.strip = {{Style::alert, "ALERT Задержан у метро"}, {Style::normal, "Task: buy water"}};
    for (int i = 0; i < 40; ++i)
        m.messages.push_back({"14:05", "Аня", i % 2 == 0, false, false,
                              "Сообщение номер " + std::to_string(i) + " — всё хорошо"});
    m.messages.push_back({"14:06", "me", true, true, false, "中文 and e\xCC\x81 and Привет"});
    m.status = "Synced with relay";
    m.prompt = "> ";
    m.input = input;
    return m;
}

bool contains(const Screen& s, std::string_view text) {
    for (const auto& r : s.rows)
        if (row_text(r).find(text) != std::string::npos) return true;
    return false;
}
}  // namespace

TEST_CASE("layout at 80x24: groups on the left, strip and messages on the right") {
    auto l = compute_layout(80, 24, 2);
    CHECK_FALSE(l.too_small);
    CHECK(l.groups.width == kGroupsWidth);
    CHECK(l.strip.left == kGroupsWidth);
    CHECK(l.strip.height == 2);
    CHECK(l.messages.top == 3);
    CHECK(l.messages.height == 19);
    CHECK(l.status.top == 22);
    CHECK(l.input.top == 23);
    CHECK(l.strip.width + l.groups.width == 80);
}

TEST_CASE("layout hides the groups when narrow, caps the strip, refuses tiny screens") {
    auto l = compute_layout(50, 20, 100);
    CHECK(l.groups.empty());
    CHECK(l.messages.width == 50);
    CHECK(l.strip.height == 17 / 4);
    CHECK(compute_layout(29, 24, 0).too_small);
    CHECK(compute_layout(80, 7, 0).too_small);
    CHECK(compute_layout(80, 24, 0).strip.height == 1);
}

TEST_CASE("every rendered row is exactly as wide as the screen, at any size") {
    REQUIRE(utf8_locale);
    LineEditor input;
    input.insert(decode_utf8("Пишу ответ 中文"));
    for (auto [cols, rows] :
         {std::pair{80, 24}, {120, 40}, {59, 20}, {30, 8}, {20, 5}, {200, 60}}) {
        auto s = render(sample(&input), cols, rows);
        REQUIRE(s.rows.size() == static_cast<std::size_t>(rows));
        for (const auto& r : s.rows) CHECK(row_width(r) == static_cast<std::size_t>(cols));
        CHECK(s.cursor_col < cols);
    }
}

TEST_CASE("the 80x24 screen shows groups with badges, the strip, the newest messages, input") {
    REQUIRE(utf8_locale);
    LineEditor input;
    input.insert(decode_utf8("Пишу"));
    auto s = render(sample(&input), 80, 24);
    CHECK(row_text(s.rows[0]).starts_with("Legal support · 3 members"));
    CHECK(row_text(s.rows[2]).find("▸ Legal support") != std::string::npos);
    CHECK(row_text(s.rows[2]).find("!1") != std::string::npos);
    CHECK(row_text(s.rows[3]).find("Штаб") != std::string::npos);
    CHECK(row_text(s.rows[3]).find(" 4") != std::string::npos);
    CHECK(row_text(s.rows[1]).find("ALERT Задержан у метро") != std::string::npos);
    CHECK(contains(s, "✓me: 中文 and e\xCC\x81 and Привет"));
    CHECK(contains(s, "Сообщение номер 39"));
    CHECK_FALSE(contains(s, "Сообщение номер 0 "));  // scrolled off the top
    CHECK(row_text(s.rows[22]).starts_with("Synced with relay"));
    CHECK(row_text(s.rows[23]).starts_with("> Пишу"));
    CHECK(s.cursor_row == 23);
    CHECK(s.cursor_col == 6);
}

TEST_CASE("scrolling back shows older messages") {
    auto model = sample(nullptr);
    model.scroll_back = 15;
    auto s = render(model, 80, 24);
    CHECK_FALSE(contains(s, "Сообщение номер 39"));
    CHECK(contains(s, "Сообщение номер 20"));
    model.scroll_back = 100000;  // past the oldest: the oldest lines, no crash
    s = render(model, 80, 24);
    CHECK(s.rows.size() == 24);
}

TEST_CASE("long messages wrap by display width with indented continuation lines") {
    REQUIRE(utf8_locale);
    std::vector<MessageItem> ms{{"09:00", "Борис", false, false, false,
                                 std::string(30, 'x') + " " + "中文中文中文中文中文中文中文中文"}};
    auto lines = message_lines(ms, 30);
    REQUIRE(lines.size() >= 3);
    CHECK(row_text(lines[0]).starts_with("09:00  Борис: "));
    for (std::size_t i = 1; i < lines.size(); ++i) CHECK(row_text(lines[i]).starts_with("  "));
    for (const auto& l : lines) CHECK(row_width(l) <= 30);
}

TEST_CASE("a hostile author or text cannot inject terminal controls") {
    std::vector<MessageItem> ms{{"09:00", "Eve\x1b[2J", false, false, false, "hi\x1b]0;x\x07"}};
    auto lines = message_lines(ms, 60);
    for (const auto& l : lines)
        for (const auto& span : l)
            for (char32_t c : span.text) CHECK((c >= 0x20 || c == U'\n') == true);
}

TEST_CASE("a screen too small says so instead of drawing a broken layout") {
    auto s = render(sample(nullptr), 20, 5);
    CHECK(row_text(s.rows[0]).starts_with("Window too small"));
}
