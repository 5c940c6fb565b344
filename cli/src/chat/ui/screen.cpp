#include "chat/ui/screen.hpp"

#include <algorithm>

#include "chat/ui/text.hpp"
#include "i18n.hpp"

namespace kolokol::cli::chat {

namespace {

constexpr std::size_t kAuthorMaxWidth = 20;

std::u32string clean(std::string_view utf8, bool keep_newlines) {
    return sanitize(decode_utf8(utf8), keep_newlines);
}

std::size_t span_width(const Row& row) {
    std::size_t w = 0;
    for (const auto& s : row) w += display_width(s.text);
    return w;
}

// Cuts or pads a row to exactly `width` columns.
Row fit_row(Row row, std::size_t width) {
    Row out;
    std::size_t used = 0;
    for (auto& span : row) {
        if (used >= width) break;
        const std::size_t w = display_width(span.text);
        if (used + w <= width) {
            used += w;
            out.push_back(std::move(span));
        } else {
            out.push_back({fit(span.text, width - used), span.style});
            used = width;
        }
    }
    if (used < width) out.push_back({std::u32string(width - used, U' '), Style::normal});
    return out;
}

void append(Row& dest, Row src) {
    for (auto& s : src) dest.push_back(std::move(s));
}

Row group_row(const GroupItem& g, std::size_t width) {
    // Badges on the right: unread count, then "!n" for alerts.
    std::u32string badges;
    if (g.unread > 0)
        badges += U" " + decode_utf8(std::to_string(std::min<std::size_t>(g.unread, 999)));
    std::u32string alerts;
    if (g.alerts > 0)
        alerts = U" !" + decode_utf8(std::to_string(std::min<std::size_t>(g.alerts, 99)));
    const std::size_t badge_w = display_width(badges) + display_width(alerts);
    const std::u32string marker = g.current ? U"▸ " : U"  ";
    const std::size_t name_w = width > badge_w + 3 ? width - badge_w - 3 : 1;
    Row row;
    const Style name_style = g.current ? Style::selected : g.unread ? Style::unread : Style::normal;
    row.push_back({marker, name_style});
    row.push_back({fit(truncate(clean(g.name, false), name_w), name_w), name_style});
    row.push_back({badges, Style::unread});
    row.push_back({alerts, Style::alert});
    return fit_row(std::move(row), width);
}

}  // namespace

Layout compute_layout(int cols, int rows, std::size_t strip_lines) {
    Layout l;
    if (cols < kMinCols || rows < kMinRows) {
        l.too_small = true;
        return l;
    }
    const int middle = rows - 3;  // between the title and the status row
    const int right_left = cols >= kGroupsMinScreen ? kGroupsWidth : 0;
    const int right_width = cols - right_left;
    const int strip_max = std::max(1, middle / 4);
    const int strip =
        std::clamp(static_cast<int>(std::min<std::size_t>(strip_lines, 1000)), 1, strip_max);
    l.title = {0, 0, 1, cols};
    if (right_left > 0) l.groups = {1, 0, middle, right_left};
    l.strip = {1, right_left, strip, right_width};
    l.messages = {1 + strip, right_left, middle - strip, right_width};
    l.status = {rows - 2, 0, 1, cols};
    l.input = {rows - 1, 0, 1, cols};
    return l;
}

std::vector<Row> message_lines(const std::vector<MessageItem>& messages, std::size_t width) {
    std::vector<Row> out;
    if (width < 4) return out;
    for (const auto& m : messages) {
        const std::u32string text = clean(m.text, true);
        if (m.notice) {
            for (auto& line : wrap(text, width - 2)) out.push_back({{U"· " + line, Style::muted}});
            continue;
        }
        Row head;
        head.push_back({decode_utf8(m.time) + U" ", Style::muted});
        head.push_back({m.verified ? U"✓" : U" ", Style::verified});
        head.push_back({truncate(clean(m.author, false), kAuthorMaxWidth) + U": ",
                        m.mine ? Style::mine : Style::title});
        const std::size_t head_w = span_width(head);
        // A prefix wider than the pane leaves the text to the continuation lines.
        const std::size_t first = head_w + 4 <= width ? width - head_w : 0;
        auto lines = first ? wrap(text, width - 2, first) : wrap(text, width - 2);
        std::size_t k = 0;
        if (first) {
            head.push_back({lines.empty() ? U"" : lines[0], Style::normal});
            k = 1;
        }
        out.push_back(fit_row(std::move(head), width));
        for (; k < lines.size(); ++k) out.push_back({{U"  " + lines[k], Style::normal}});
    }
    return out;
}

Screen render(const ViewModel& model, int cols, int rows) {
    Screen screen;
    if (cols <= 0 || rows <= 0) return screen;
    const auto W = static_cast<std::size_t>(cols);
    screen.rows.assign(static_cast<std::size_t>(rows), Row{});
    const Layout l = compute_layout(cols, rows, model.strip.size());
    if (l.too_small) {
        screen.rows[0] = fit_row({{decode_utf8(_("Window too small")), Style::error}}, W);
        for (std::size_t r = 1; r < screen.rows.size(); ++r) screen.rows[r] = fit_row({}, W);
        return screen;
    }

    screen.rows[0] = fit_row({{truncate(clean(model.title, false), W), Style::title}}, W);

    // Right column: the strip, then the messages, bottom-aligned.
    const auto RW = static_cast<std::size_t>(l.strip.width);
    std::vector<Row> right;
    if (model.strip.empty()) {
        right.push_back(
            fit_row({{decode_utf8(_("No alerts, events due or open tasks.")), Style::muted}}, RW));
    }
    for (int i = 0; i < l.strip.height && i < static_cast<int>(model.strip.size()); ++i) {
        const auto& item = model.strip[static_cast<std::size_t>(i)];
        right.push_back(fit_row({{truncate(clean(item.text, false), RW), item.style}}, RW));
    }
    while (static_cast<int>(right.size()) < l.strip.height) right.push_back(fit_row({}, RW));

    auto lines = message_lines(model.messages, RW);
    const auto height = static_cast<std::size_t>(l.messages.height);
    const std::size_t hidden = std::min(model.scroll_back, lines.size());
    const std::size_t end = lines.size() - hidden;
    const std::size_t begin = end > height ? end - height : 0;
    for (std::size_t i = end - begin; i < height; ++i) right.push_back(fit_row({}, RW));
    for (std::size_t i = begin; i < end; ++i) right.push_back(fit_row(std::move(lines[i]), RW));

    const auto GW = static_cast<std::size_t>(l.groups.width);
    for (int r = 0; r < l.strip.height + l.messages.height; ++r) {
        Row row;
        if (GW > 0) {
            if (r == 0) {
                append(row, fit_row({{decode_utf8(_("Groups")), Style::muted}}, GW - 1));
            } else if (static_cast<std::size_t>(r - 1) < model.groups.size()) {
                append(row, group_row(model.groups[static_cast<std::size_t>(r - 1)], GW - 1));
            } else {
                append(row, fit_row({}, GW - 1));
            }
            row.push_back({U"│", Style::muted});
        }
        append(row, std::move(right[static_cast<std::size_t>(r)]));
        screen.rows[static_cast<std::size_t>(1 + r)] = std::move(row);
    }

    screen.rows[static_cast<std::size_t>(l.status.top)] =
        fit_row({{truncate(clean(model.status, false), W),
                  model.status_error ? Style::error : Style::muted}},
                W);

    const std::u32string prompt = clean(model.prompt, false);
    const std::size_t prompt_w = std::min(display_width(prompt), W - 1);
    LineEditor::View view;
    if (model.input) view = model.input->view(W - prompt_w);
    screen.rows[static_cast<std::size_t>(l.input.top)] =
        fit_row({{fit(prompt, prompt_w), Style::title}, {view.visible, Style::normal}}, W);
    screen.cursor_row = l.input.top;
    screen.cursor_col = static_cast<int>(prompt_w + view.cursor_column);
    return screen;
}

std::string row_text(const Row& row) {
    std::string out;
    for (const auto& s : row) out += encode_utf8(s.text);
    return out;
}

}  // namespace kolokol::cli::chat
