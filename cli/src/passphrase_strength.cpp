#include "passphrase_strength.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string_view>

#include "kolokol/core/text_match.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

constexpr std::size_t kMinCharacters = 10;
constexpr std::size_t kMinDistinct = 5;
constexpr std::size_t kMinDigitsOnly = 16;

// The passwords people type first, in Latin and Cyrillic, folded (lower case, no spaces).
constexpr std::string_view kCommon[] = {
    "password",   "passw0rd",  "p@ssw0rd",      "qwerty",     "qwertyuiop", "iloveyou", "letmein",
    "welcome",    "admin",     "administrator", "monkey",     "dragon",     "football", "baseball",
    "superman",   "batman",    "trustno1",      "sunshine",   "princess",   "shadow",   "master",
    "freedom",    "secret",    "changeme",      "default",    "login",      "abc123",   "1q2w3e4r",
    "1q2w3e4r5t", "zaq12wsx",  "qazwsx",        "asdfgh",     "zxcvbnm",    "kolokol",  "parol",
    "privet",     "пароль",    "привет",        "свобода",    "любовь",     "колокол",  "йцукен",
    "qwerty123",  "password1", "iloveu",        "football1",  "michael",    "jennifer", "hello",
    "test",       "testtest",  "passphrase",    "mypassword", "letmein1",   "solo",     "starwars",
};

// Keyboard rows (Latin QWERTY and Russian ЙЦУКЕН) and alphabets, for runs of neighbours.
constexpr std::string_view kRuns[] = {
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "йцукенгшщзхъ",
    "фывапролджэ",
    "ячсмитьбю",
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
};

std::u32string code_points(std::string_view s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto lead = static_cast<unsigned char>(s[i]);
        std::size_t n = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : 4;
        if (i + n > s.size()) n = 1;
        char32_t v = n == 1   ? lead
                     : n == 2 ? (lead & 0x1F)
                     : n == 3 ? (lead & 0x0F)
                              : (lead & 0x07);
        for (std::size_t k = 1; k < n; ++k)
            v = (v << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out += v;
        i += n;
    }
    return out;
}

bool is_digit(char32_t c) {
    return c >= U'0' && c <= U'9';
}
bool is_letter(char32_t c) {
    return (c >= U'a' && c <= U'z') || (c >= 0x430 && c <= 0x44F) || c == 0x451;
}

// A common password, alone or followed only by digits and punctuation.
bool is_common(const std::u32string& folded) {
    std::size_t end = folded.size();
    while (end > 0 && !is_letter(folded[end - 1])) --end;
    for (auto word : kCommon) {
        const auto w = code_points(word);
        if (folded == w || (end > 0 && folded.substr(0, end) == w)) return true;
    }
    return false;
}

// The whole passphrase walks along one row or alphabet, forwards or backwards.
bool is_run(const std::u32string& folded) {
    if (folded.size() < 4) return false;
    for (auto row : kRuns) {
        auto r = code_points(row);
        if (r.find(folded) != std::u32string::npos) return true;
        std::reverse(r.begin(), r.end());
        if (r.find(folded) != std::u32string::npos) return true;
    }
    return false;
}

}  // namespace

std::optional<std::string> weakness(ByteView passphrase) {
    const std::string_view text(reinterpret_cast<const char*>(passphrase.data()),
                                passphrase.size());
    const auto all = code_points(text);
    if (all.size() < kMinCharacters)
        return subst(_("it has fewer than {} characters"), kMinCharacters);
    if (std::set<char32_t>(all.begin(), all.end()).size() < kMinDistinct)
        return subst(_("it has fewer than {} different characters"), kMinDistinct);
    const auto folded = code_points(core::fold_loosely(text));
    if (std::all_of(folded.begin(), folded.end(), is_digit) && all.size() < kMinDigitsOnly)
        return std::string(_("it is only digits, like a date or a phone number"));
    if (is_common(folded)) return std::string(_("it is one of the passwords tried first"));
    if (is_run(folded)) return std::string(_("it is a run of neighbouring keys or letters"));
    return std::nullopt;
}

void warn_if_weak(ByteView passphrase) {
    auto why = weakness(passphrase);
    if (!why) return;
    std::fprintf(stderr, "%s\n",
                 subst(_("kolokol: warning: this passphrase is very weak ({}): whoever takes "
                         "this device or file can guess it. Four or more random words are far "
                         "stronger."),
                       *why)
                     .c_str());
}

}  // namespace kolokol::cli
