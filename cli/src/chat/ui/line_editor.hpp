#pragma once
// The chat's input line: editing by character (a character and its combining marks move and
// delete together), horizontal scrolling by display width, and a history recalled with
// up/down. Pure: the ncurses layer maps keys to these calls. Not thread-safe.

#include <cstddef>
#include <deque>
#include <string>

namespace kolokol::cli::chat {

class LineEditor {
public:
    // `max_chars`: code points the line may hold (further input is refused). `history_limit`:
    // lines remembered, oldest dropped first.
    explicit LineEditor(std::size_t max_chars = 4000, std::size_t history_limit = 200);

    // Inserts at the cursor. Refuses (returns false) control characters and input past
    // max_chars.
    bool insert(char32_t c);
    bool insert(std::u32string_view text);
    void left();
    void right();
    void home();
    void end();
    void backspace();      // deletes the character before the cursor
    void erase_forward();  // deletes the character under the cursor
    void kill_to_start();  // Ctrl-U
    void history_up();     // replaces the line with the previous history entry
    void history_down();   // the next one, and finally the line being written before

    // The line as UTF-8; clears it, and adds it to the history when not blank.
    std::string take();

    const std::u32string& text() const { return m_text; }
    std::size_t cursor() const { return m_cursor; }  // index in text()
    std::size_t history_size() const { return m_history.size(); }

    // What to draw in `width` columns: the visible part (at most `width` columns, scrolled so
    // the cursor shows) and the cursor's column within it (< width when width > 0).
    struct View {
        std::u32string visible;
        std::size_t cursor_column = 0;
    };
    View view(std::size_t width) const;

private:
    std::size_t previous_boundary(std::size_t i) const;
    std::size_t next_boundary(std::size_t i) const;

    std::u32string m_text;
    std::size_t m_cursor = 0;
    std::size_t m_max_chars;
    std::size_t m_history_limit;
    std::deque<std::u32string> m_history;
    std::size_t m_history_pos = 0;  // == m_history.size(): editing the draft
    std::u32string m_draft;
};

}  // namespace kolokol::cli::chat
