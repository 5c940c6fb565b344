#pragma once
// Translation of user-facing strings with gettext, in the "kolokol" text domain.
//
//   _("text")            the translation of a literal, looked up at run time (const char*,
//                        owned by gettext: valid for the life of the process, never free it).
//   N_("text")           marks a literal for extraction without translating it — for static
//                        tables; translate the entry where it is shown with _(entry).
//   P_("one", "many", n) the plural form for n (ngettext).
//   subst(fmt, a, b...)  replaces each "{}" in a translated pattern with the next argument, so
//                        translators can move the arguments: subst(_("No group {}"), name).
//
// Include this header after the other headers of a file: `_` is a function-like macro.
// xgettext extracts with: --keyword=_ --keyword=N_ --keyword=P_:1,2 (see po/CMakeLists.txt).
// Thread-safety: gettext lookups are safe from any thread once init_i18n() has returned.

#include <libintl.h>

#include <string>
#include <string_view>
#include <type_traits>

#define _(text) ::gettext(text)
#define N_(text) text
#define P_(singular, plural, n) ::ngettext(singular, plural, static_cast<unsigned long>(n))

namespace CLI {
class App;
}
namespace kolokol {
struct Error;
}

namespace kolokol::cli {

inline constexpr const char* text_domain = "kolokol";

// Sets the process locale from the environment (LC_ALL, LC_MESSAGES, LANG), keeping LC_NUMERIC
// at "C" so numbers are always parsed and printed the same way, and binds the text domain to
// the compiled catalogues: those beside the build tree's binary when run from the build tree
// (tests), else the installed share/locale. KOLOKOL_LOCALEDIR overrides both. Call once, first
// thing in main, before any other thread starts. Never fails: without a catalogue or a usable
// locale, strings stay in English.
void init_i18n();

// Translates what CLI11 itself prints in --help ("Usage", "Options", "Subcommands", "REQUIRED",
// the help flag's text, type names) for `app` and all its subcommands. Call once after every
// command is registered.
void translate_cli_help(CLI::App& app);

// A library error in the user's language: its pattern (or literal message) looked up in the
// catalogue, each argument substituted — a nested error translated the same way, a message
// literal looked up, other text as it is (kolokol/crypto/error.hpp). A message the catalogue
// lacks stays English.
std::string translated(const Error& error);

namespace detail {
inline void append_arg(std::string& out, std::string_view value) {
    out += value;
}
inline void append_arg(std::string& out, const char* value) {
    out += value ? value : "";
}
inline void append_arg(std::string& out, const std::string& value) {
    out += value;
}
inline void append_arg(std::string& out, char value) {
    out += value;
}
template <typename T>
requires std::is_arithmetic_v<T>
void append_arg(std::string& out, T value) {
    out += std::to_string(value);
}
}  // namespace detail

// Replaces the placeholders "{}" of `pattern` in order with the arguments. Extra placeholders
// (a translation with more than the original) stay as "{}"; extra arguments are dropped, so a
// faulty translation never reads past the arguments.
template <typename... Args>
std::string subst(std::string_view pattern, const Args&... args) {
    std::string out;
    out.reserve(pattern.size() + 16 * sizeof...(Args));
    std::size_t pos = 0;
    auto one = [&](const auto& arg) {
        std::size_t at = pattern.find("{}", pos);
        if (at == std::string_view::npos) return;
        out.append(pattern.substr(pos, at - pos));
        detail::append_arg(out, arg);
        pos = at + 2;
    };
    (one(args), ...);
    out.append(pattern.substr(pos));
    return out;
}

}  // namespace kolokol::cli
