#include "chat/ui/text.hpp"

#include <cwchar>

namespace kolokol::cli::chat {

std::u32string decode_utf8(std::string_view bytes) {
    std::u32string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    const std::size_t n = bytes.size();
    while (i < n) {
        const auto b0 = static_cast<unsigned char>(bytes[i]);
        if (b0 < 0x80) {
            out.push_back(b0);
            ++i;
            continue;
        }
        std::size_t len = 0;
        char32_t cp = 0;
        char32_t min = 0;
        if ((b0 & 0xE0) == 0xC0) {
            len = 2, cp = b0 & 0x1F, min = 0x80;
        } else if ((b0 & 0xF0) == 0xE0) {
            len = 3, cp = b0 & 0x0F, min = 0x800;
        } else if ((b0 & 0xF8) == 0xF0) {
            len = 4, cp = b0 & 0x07, min = 0x10000;
        }
        bool ok = len != 0 && i + len <= n;
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto b = static_cast<unsigned char>(bytes[i + k]);
            if ((b & 0xC0) != 0x80)
                ok = false;
            else
                cp = (cp << 6) | (b & 0x3F);
        }
        // Overlong forms and surrogates are refused: they are how filters get bypassed.
        if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
        if (!ok) {
            out.push_back(kReplacement);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += len;
    }
    return out;
}

void append_utf8(std::string& out, char32_t c) {
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = kReplacement;
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

std::string encode_utf8(std::u32string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text) append_utf8(out, c);
    return out;
}

int char_width(char32_t c) {
    if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;
    int w = ::wcwidth(static_cast<wchar_t>(c));
    // Unassigned or private-use code points: the terminal draws something one column wide.
    return w < 0 ? 1 : w;
}

std::size_t display_width(std::u32string_view text) {
    std::size_t w = 0;
    for (char32_t c : text) w += static_cast<std::size_t>(char_width(c));
    return w;
}

std::size_t display_width(std::string_view utf8) {
    return display_width(decode_utf8(utf8));
}

std::u32string sanitize(std::u32string_view text, bool keep_newlines) {
    std::u32string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (c == U'\n' && keep_newlines)
            out.push_back(c);
        else if (c == U'\t')
            out.push_back(U' ');
        else if (c < 0x20 || (c >= 0x7F && c < 0xA0) || (c >= 0x202A && c <= 0x202E) ||
                 (c >= 0x2066 && c <= 0x2069))
            out.push_back(kReplacement);
        else
            out.push_back(c);
    }
    return out;
}

namespace {

// The code points from `i` that draw as one cell group: a character and the zero-width marks
// that follow it.
std::size_t cluster_end(std::u32string_view text, std::size_t i) {
    std::size_t j = i + 1;
    while (j < text.size() && text[j] != U'\n' && char_width(text[j]) == 0) ++j;
    return j;
}

void trim_trailing_spaces(std::u32string& line) {
    while (!line.empty() && line.back() == U' ') line.pop_back();
}

}  // namespace

std::vector<std::u32string> wrap(std::u32string_view text, std::size_t width,
                                 std::size_t first_width) {
    if (width == 0) width = 1;
    std::vector<std::u32string> lines;
    std::u32string line;
    std::size_t line_width = 0;
    std::size_t break_at = std::u32string::npos;  // index in `line` of the last space
    auto limit = [&] { return lines.empty() && first_width != 0 ? first_width : width; };
    auto emit = [&] {
        trim_trailing_spaces(line);
        lines.push_back(std::move(line));
        line.clear();
        line_width = 0;
        break_at = std::u32string::npos;
    };
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == U'\n') {
            emit();
            ++i;
            continue;
        }
        const std::size_t j = cluster_end(text, i);
        const std::u32string_view cluster = text.substr(i, j - i);
        const std::size_t w = display_width(cluster);
        const bool space = text[i] == U' ';
        i = j;
        if (line_width + w <= limit() || line.empty()) {
            if (space) break_at = line.size();
            line.append(cluster);
            line_width += w;
            continue;
        }
        if (space) {  // the break falls on this space: it is dropped
            emit();
            continue;
        }
        if (break_at != std::u32string::npos && break_at > 0) {
            std::u32string rest = line.substr(break_at + 1);
            line.resize(break_at);
            emit();
            line = std::move(rest);
            line_width = display_width(line);
        } else {
            emit();
        }
        line.append(cluster);
        line_width += w;
    }
    if (!line.empty() || lines.empty() || (!text.empty() && text.back() == U'\n')) emit();
    return lines;
}

std::u32string truncate(std::u32string_view text, std::size_t width) {
    if (display_width(text) <= width) return std::u32string(text);
    std::u32string out;
    if (width == 0) return out;
    std::size_t used = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t j = cluster_end(text, i);
        const std::size_t w = display_width(text.substr(i, j - i));
        if (used + w > width - 1) break;
        out.append(text.substr(i, j - i));
        used += w;
        i = j;
    }
    out.push_back(U'…');
    return out;
}

std::u32string fit(std::u32string_view text, std::size_t width) {
    std::u32string out;
    std::size_t used = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == U'\n') break;
        const std::size_t j = cluster_end(text, i);
        const std::size_t w = display_width(text.substr(i, j - i));
        if (used + w > width) break;
        out.append(text.substr(i, j - i));
        used += w;
        i = j;
    }
    out.append(width - used, U' ');
    return out;
}

}  // namespace kolokol::cli::chat
