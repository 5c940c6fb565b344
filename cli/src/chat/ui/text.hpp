#pragma once
// Text as the chat screen sees it: UTF-8 decoded to code points, the columns each one takes on
// a terminal, and lines wrapped and cut by display width (not bytes, not code points).
//
// Widths come from wcwidth(), so LC_CTYPE must be a UTF-8 locale (the chat sets one). Text
// from other members is untrusted: sanitize() it before it reaches the terminal.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kolokol::cli::chat {

inline constexpr char32_t kReplacement = U'\uFFFD';

// Decodes UTF-8. Each byte of an invalid, overlong, surrogate or truncated sequence becomes
// U+FFFD, so the result never holds anything a terminal could misread.
std::u32string decode_utf8(std::string_view bytes);
// Encodes code points; surrogates and values past U+10FFFF become U+FFFD.
std::string encode_utf8(std::u32string_view text);
void append_utf8(std::string& out, char32_t c);

// Columns one code point takes: 0 (combining marks, zero-width), 1 or 2 (wide CJK, emoji).
// Control characters count 0: sanitize() removes them first.
int char_width(char32_t c);
std::size_t display_width(std::u32string_view text);
std::size_t display_width(std::string_view utf8);

// Replaces what could move the cursor, change colours or reorder the line on a terminal: C0
// and C1 controls, DEL, and the bidirectional overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), with U+FFFD. Tabs become one space; newlines stay when `keep_newlines`.
std::u32string sanitize(std::u32string_view text, bool keep_newlines = true);

// Splits `text` into lines of at most `width` columns (width ≥ 1): at newlines, at the last
// space that fits, else mid-word. Combining marks stay with their base character; a wide
// character is never split; spaces at a break are dropped. An empty text gives one empty line.
// `first_width`, when non-zero, is the width of the first line only (for a prefix on it).
std::vector<std::u32string> wrap(std::u32string_view text, std::size_t width,
                                 std::size_t first_width = 0);

// At most `width` columns of `text`; when cut, the last column is "…".
std::u32string truncate(std::u32string_view text, std::size_t width);
// `text` cut to `width` columns and padded with spaces to exactly `width` columns (a wide
// character that would straddle the edge is replaced by a space).
std::u32string fit(std::u32string_view text, std::size_t width);

}  // namespace kolokol::cli::chat
