#pragma once
// Quoting of untrusted names and values in error messages: printable ASCII only, cut short, so
// that a hostile change cannot put escape sequences or megabytes into a log line.

#include <string>
#include <string_view>

namespace kolokol::objects::detail {

inline std::string quoted(std::string_view s, std::size_t max = 40) {
    std::string out = "'";
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const char c = s[i];
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    if (s.size() > max) out += "...";
    out += '\'';
    return out;
}

}  // namespace kolokol::objects::detail
