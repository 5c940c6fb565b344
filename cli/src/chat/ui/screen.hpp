#pragma once
// The chat screen as data: where each pane goes for a terminal size, and every row of the
// screen rendered from a view model, each exactly `cols` columns wide. Pure — the ncurses layer
// draws the rows as they are, so what the tests check is what the terminal shows.
//
//   row 0            title: the group, its members, the sync state
//   left column      groups with unread counts and alert badges (hidden under 60 columns)
//   right, top       the strip: alerts, events due soon, open tasks (at most a quarter)
//   right            messages, newest at the bottom
//   row rows-2       status: the last notice or error
//   row rows-1       the input line

#include <cstddef>
#include <string>
#include <vector>

#include "chat/ui/line_editor.hpp"

namespace kolokol::cli::chat {

struct Rect {
    int top = 0, left = 0, height = 0, width = 0;
    bool empty() const { return height <= 0 || width <= 0; }
};

struct Layout {
    bool too_small = false;  // under kMinCols × kMinRows: only a notice is drawn
    Rect title, groups, strip, messages, status, input;
};

inline constexpr int kMinCols = 30;
inline constexpr int kMinRows = 8;
inline constexpr int kGroupsWidth = 22;      // including the border column
inline constexpr int kGroupsMinScreen = 60;  // narrower screens hide the group list

// `strip_lines`: how many strip entries there are; the strip takes that many rows, at least
// one and at most a quarter of the screen.
Layout compute_layout(int cols, int rows, std::size_t strip_lines);

enum class Style { normal, title, selected, unread, alert, muted, mine, error, verified };

struct Span {
    std::u32string text;
    Style style = Style::normal;
};
using Row = std::vector<Span>;

struct GroupItem {
    std::string name;
    std::size_t unread = 0;
    std::size_t alerts = 0;
    bool current = false;
};

struct MessageItem {
    std::string time;  // already formatted, e.g. "14:05"
    std::string author;
    bool verified = false;
    bool mine = false;
    bool notice = false;  // a line from the chat itself (command output), not a member
    std::string text;
};

struct StripItem {
    Style style = Style::normal;  // alert for alerts
    std::string text;
};

struct ViewModel {
    std::string title;
    std::vector<GroupItem> groups;
    std::vector<StripItem> strip;
    std::vector<MessageItem> messages;  // oldest first
    std::size_t scroll_back = 0;        // message lines hidden below the pane (Page Up)
    std::string status;
    bool status_error = false;
    std::string prompt;                 // before the input, e.g. "> "
    const LineEditor* input = nullptr;  // may be null: an empty line
};

struct Screen {
    std::vector<Row> rows;  // exactly `rows` rows of exactly `cols` columns each
    int cursor_row = 0, cursor_col = 0;
};

Screen render(const ViewModel& model, int cols, int rows);

// The message pane's lines for `width` columns, oldest first: "HH:MM ✓Author: text", wrapped
// with continuation lines indented by two columns.
std::vector<Row> message_lines(const std::vector<MessageItem>& messages, std::size_t width);

// The plain text of a row (for tests and logs).
std::string row_text(const Row& row);

}  // namespace kolokol::cli::chat
