#include "chat/ui/line_editor.hpp"

#include "chat/ui/text.hpp"

namespace kolokol::cli::chat {

LineEditor::LineEditor(std::size_t max_chars, std::size_t history_limit)
    : m_max_chars(max_chars), m_history_limit(history_limit) {}

bool LineEditor::insert(char32_t c) {
    if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return false;
    if (m_text.size() >= m_max_chars) return false;
    m_text.insert(m_text.begin() + static_cast<std::ptrdiff_t>(m_cursor), c);
    ++m_cursor;
    return true;
}

bool LineEditor::insert(std::u32string_view text) {
    bool all = true;
    for (char32_t c : text) all = insert(c) && all;
    return all;
}

// A boundary is any index whose character is not a zero-width mark: the cursor never lands
// between a letter and its accent.
std::size_t LineEditor::previous_boundary(std::size_t i) const {
    while (i > 0) {
        --i;
        if (char_width(m_text[i]) != 0 || i == 0) break;
    }
    return i;
}

std::size_t LineEditor::next_boundary(std::size_t i) const {
    if (i >= m_text.size()) return m_text.size();
    ++i;
    while (i < m_text.size() && char_width(m_text[i]) == 0) ++i;
    return i;
}

void LineEditor::left() {
    m_cursor = previous_boundary(m_cursor);
}
void LineEditor::right() {
    m_cursor = next_boundary(m_cursor);
}
void LineEditor::home() {
    m_cursor = 0;
}
void LineEditor::end() {
    m_cursor = m_text.size();
}

void LineEditor::backspace() {
    if (m_cursor == 0) return;
    const std::size_t from = previous_boundary(m_cursor);
    m_text.erase(from, m_cursor - from);
    m_cursor = from;
}

void LineEditor::erase_forward() {
    if (m_cursor >= m_text.size()) return;
    m_text.erase(m_cursor, next_boundary(m_cursor) - m_cursor);
}

void LineEditor::kill_to_start() {
    m_text.erase(0, m_cursor);
    m_cursor = 0;
}

void LineEditor::history_up() {
    if (m_history_pos == 0) return;
    if (m_history_pos == m_history.size()) m_draft = m_text;
    --m_history_pos;
    m_text = m_history[m_history_pos];
    m_cursor = m_text.size();
}

void LineEditor::history_down() {
    if (m_history_pos >= m_history.size()) return;
    ++m_history_pos;
    m_text = m_history_pos == m_history.size() ? m_draft : m_history[m_history_pos];
    m_cursor = m_text.size();
}

std::string LineEditor::take() {
    std::string out = encode_utf8(m_text);
    if (m_text.find_first_not_of(U' ') != std::u32string::npos) {
        if (m_history.empty() || m_history.back() != m_text) m_history.push_back(m_text);
        while (m_history.size() > m_history_limit) m_history.pop_front();
    }
    m_text.clear();
    m_draft.clear();
    m_cursor = 0;
    m_history_pos = m_history.size();
    return out;
}

LineEditor::View LineEditor::view(std::size_t width) const {
    View v;
    if (width == 0) return v;
    // Scroll just enough that the text before the cursor, plus the cursor cell, fits.
    std::size_t start = 0;
    while (start < m_cursor &&
           display_width(std::u32string_view(m_text).substr(start, m_cursor - start)) + 1 > width)
        start = next_boundary(start);
    const std::u32string_view before = std::u32string_view(m_text).substr(start, m_cursor - start);
    v.cursor_column = display_width(before);
    if (v.cursor_column >= width) v.cursor_column = width - 1;
    std::u32string_view rest = std::u32string_view(m_text).substr(start);
    std::size_t used = 0;
    std::size_t i = 0;
    while (i < rest.size()) {
        std::size_t j = i + 1;
        while (j < rest.size() && char_width(rest[j]) == 0) ++j;
        const std::size_t w = display_width(rest.substr(i, j - i));
        if (used + w > width) break;
        v.visible.append(rest.substr(i, j - i));
        used += w;
        i = j;
    }
    return v;
}

}  // namespace kolokol::cli::chat
