#pragma once
// Expected failures are values: std::expected<T, Error>. Each module has its own error enum and
// std::error_category so codes mix with asio::error_code; `message` is one line for the user.
//
// Messages are English. So that the command line can show them in the user's language, a
// message with arguments keeps its pattern apart from them:
//
//   return fail(CoreErrc::not_found, "no group called \"{}\"", name);
//   return fail(BundleErrc::bad_input, "signer card: {}", card.error());  // nested, translated too
//
// The pattern (and every literal message: `fail(code, "the card is too long")`) is a msgid of
// the "kolokol" gettext domain: po/update.sh extracts the second argument of fail() and
// make_error(), and KOLOKOL_TEXT("…") wherever a message literal is kept elsewhere (a table, a
// category's message()). Arguments of type `const char*` are such literals too (they are looked
// up as msgids when shown); std::string and string_view arguments are shown as they are, numbers
// in decimal. The libraries never translate: cli/src/i18n.hpp `translated(error)` does, at the
// edge. Never build a message by concatenation: translators could not see it, and a test
// (tests/integration/i18n_complete.sh) refuses it.

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

// Marks a message literal for extraction into the translation template; it stays English here.
#define KOLOKOL_TEXT(text) text

namespace kolokol {

struct Error;

// One argument of a message with a pattern.
struct ErrorArg {
    std::string text;                    // as substituted into the English message
    bool literal = false;                // text is a message literal (a msgid) of its own
    std::shared_ptr<const Error> error;  // set when the argument is an error, shown translated
};

struct Error {
    std::error_code code;
    std::string message;  // English, arguments substituted; empty: code.message() says it
    std::string pattern;  // for a message with arguments: the message with "{}" for each
    std::vector<ErrorArg> args;

    std::string what() const { return message.empty() ? code.message() : message; }
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

namespace detail {
inline ErrorArg error_arg(const Error& e) {
    return {e.what(), false, std::make_shared<const Error>(e)};
}
inline ErrorArg error_arg(const char* literal) {
    return {literal ? literal : "", true, nullptr};
}
inline ErrorArg error_arg(std::string text) {
    return {std::move(text), false, nullptr};
}
inline ErrorArg error_arg(std::string_view text) {
    return {std::string(text), false, nullptr};
}
template <class T>
requires std::is_arithmetic_v<T> ErrorArg error_arg(T value) {
    return {std::to_string(value), false, nullptr};
}
}  // namespace detail

// Replaces each "{}" of `pattern` in order with the next of `args`. Placeholders beyond the
// arguments stay "{}"; arguments beyond the placeholders are dropped — so a faulty translation
// never reads past them.
inline std::string substitute(std::string_view pattern, const std::vector<std::string>& args) {
    std::string out;
    std::size_t pos = 0;
    for (const auto& arg : args) {
        auto at = pattern.find("{}", pos);
        if (at == std::string_view::npos) break;
        out.append(pattern.substr(pos, at - pos));
        out += arg;
        pos = at + 2;
    }
    out.append(pattern.substr(pos));
    return out;
}

inline std::unexpected<Error> fail(std::error_code code, std::string message = {}) {
    return std::unexpected(Error{code, std::move(message), {}, {}});
}

// The same message under another code (a lower layer's error, classified by this one).
inline std::unexpected<Error> reclassify(std::error_code code, const Error& cause) {
    return std::unexpected(Error{code, cause.message, cause.pattern, cause.args});
}

// An Error with a literal message (for a helper that returns one rather than failing).
inline Error make_error(std::error_code code, const char* message) {
    return Error{code, message, {}, {}};
}

// A message with arguments: `pattern` holds a "{}" for each.
template <class... Args>
requires(sizeof...(Args) > 0) Error
    make_error(std::error_code code, const char* pattern, Args&&... args) {
    Error e{code, {}, pattern, {detail::error_arg(std::forward<Args>(args))...}};
    std::vector<std::string> texts;
    texts.reserve(e.args.size());
    for (const auto& a : e.args) texts.push_back(a.text);
    e.message = substitute(e.pattern, texts);
    return e;
}

template <class... Args>
requires(sizeof...(Args) > 0) std::unexpected<Error> fail(std::error_code code, const char* pattern,
                                                          Args&&... args) {
    return std::unexpected(make_error(code, pattern, std::forward<Args>(args)...));
}

// Helper to declare a module's error category in one place.
//   enum class FooErrc { ok = 0, bad = 1 };  KOLOKOL_ERROR_ENUM(FooErrc)
//   const std::error_category& foo_category();
#define KOLOKOL_ERROR_ENUM(Enum)                         \
    const std::error_category& Enum##_category();        \
    inline std::error_code make_error_code(Enum e) {     \
        return {static_cast<int>(e), Enum##_category()}; \
    }

}  // namespace kolokol

#define KOLOKOL_ERROR_ENUM_TRAITS(Ns, Enum) \
    template <>                             \
    struct std::is_error_code_enum<Ns::Enum> : std::true_type {};
