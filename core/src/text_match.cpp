#include "kolokol/core/text_match.hpp"

#include <locale.h>
#include <wctype.h>

#include <algorithm>

namespace kolokol::core {

namespace {

// Decodes one UTF-8 sequence at the front of `s`; an invalid byte comes back as itself, flagged.
struct CodePoint {
    char32_t value;
    std::size_t bytes;
    bool valid;
};
CodePoint next_code_point(std::string_view s) {
    auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = b(0);
    std::size_t n = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xE  ? 3
                    : (lead >> 3) == 0x1E ? 4
                                          : 0;
    if (n == 0 || n > s.size()) return {lead, 1, false};
    char32_t v = n == 1 ? lead : n == 2 ? (lead & 0x1F) : n == 3 ? (lead & 0x0F) : (lead & 0x07);
    for (std::size_t i = 1; i < n; ++i) {
        if ((b(i) & 0xC0) != 0x80) return {lead, 1, false};
        v = (v << 6) | (b(i) & 0x3F);
    }
    return {v, n, true};
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// The case mapping of C.UTF-8, whatever the process's own locale (LANG=C folds only ASCII).
// Created once and never freed: locale_t objects are safe to share between threads.
locale_t folding_locale() {
    static const locale_t loc = [] {
        locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
        return l ? l : newlocale(LC_CTYPE_MASK, "C", static_cast<locale_t>(nullptr));
    }();
    return loc;
}

bool is_space(char32_t c) {
    return c == U' ' || (c >= U'\t' && c <= U'\r') || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

std::u32string code_points(std::string_view folded) {
    std::u32string out;
    while (!folded.empty()) {
        auto cp = next_code_point(folded);
        out += cp.value;
        folded.remove_prefix(cp.bytes);
    }
    return out;
}

std::size_t edit_distance(const std::u32string& a, const std::u32string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

}  // namespace

std::string fold_loosely(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    const locale_t loc = folding_locale();
    while (!name.empty()) {
        auto cp = next_code_point(name);
        name.remove_prefix(cp.bytes);
        if (!cp.valid) {
            out += static_cast<char>(cp.value);
            continue;
        }
        if (is_space(cp.value)) continue;
        append_utf8(out, static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp.value), loc)));
    }
    return out;
}

std::optional<std::string> closest_name(std::string_view typed,
                                        const std::vector<std::string>& names) {
    // Names of a few hundred bytes at most (groups are 1–128 bytes): the quadratic distance is
    // cheap, and a typed text longer than any name is cut before it is compared.
    const auto want = code_points(fold_loosely(typed.substr(0, 256)));
    if (want.empty()) return std::nullopt;
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    bool tie = false;
    for (const auto& name : names) {
        const auto have = code_points(fold_loosely(name));
        const std::size_t d = edit_distance(want, have);
        const std::size_t limit = std::max<std::size_t>(1, std::max(want.size(), have.size()) / 3);
        if (d > limit) continue;
        if (!best || d < best_distance) {
            best = name;
            best_distance = d;
            tie = false;
        } else if (d == best_distance) {
            tie = true;
        }
    }
    if (best && !tie) return best;
    if (best) return std::nullopt;
    // "legal" for "Legal support": a part of the name, long enough not to be a coincidence.
    if (want.size() < 3) return std::nullopt;
    std::optional<std::string> part;
    for (const auto& name : names) {
        if (code_points(fold_loosely(name)).find(want) == std::u32string::npos) continue;
        if (part) return std::nullopt;
        part = name;
    }
    return part;
}

}  // namespace kolokol::core
