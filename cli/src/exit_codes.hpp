#pragma once
// The one table from library errors to the exit codes of app.hpp, keyed by error category and
// code (exit_codes.cpp): every command maps a failed call the same way, and a new error code is
// given its exit code in one place.

#include "app.hpp"
#include "kolokol/crypto/error.hpp"

namespace kolokol::cli {

// The exit code for `error`: its code's row in the table, else its category's default, else
// Exit::failure.
Exit exit_for(const Error& error);

}  // namespace kolokol::cli
