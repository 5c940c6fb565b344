#pragma once
// Expected failures are values: std::expected<T, Error>. Each module has its own error enum and
// std::error_category so codes mix with asio::error_code; `message` is one line for the user.

#include <expected>
#include <string>
#include <system_error>
#include <utility>

namespace kolokol {

struct Error {
    std::error_code code;
    std::string message;

    std::string what() const { return message.empty() ? code.message() : message; }
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(std::error_code code, std::string message = {}) {
    return std::unexpected(Error{code, std::move(message)});
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
