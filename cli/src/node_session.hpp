#pragma once
// Opening the member's store from the CLI, and raising library errors with their exit codes.

#include <memory>
#include <string>

#include "app.hpp"
#include "exit_codes.hpp"
#include "kolokol/core/node.hpp"

namespace kolokol::cli {

// Unlocks the store at home_dir(), asking for the passphrase, and guards it: should the store
// be destroyed or erased by another process while this one runs, this one ends at once with
// Exit::store_gone, its keys wiped (store_gone.hpp). Throws CommandError.
// Asks the unlock agent (kolokol agent) first, if one runs for this store.
std::unique_ptr<core::Node> open_node();
// Opens the store at home_dir() with a passphrase the caller read, ending a running unlock
// agent first (see unlock_agent_client.hpp): every unlock with a passphrase does, so that a
// duress passphrase, which erases the store, and a wrong one leave the same: no agent. Throws
// CommandError (Exit::agent_running) before the key file is read when an agent runs that could
// not be locked (another user's, stopped or busy).
Result<std::unique_ptr<core::Node>> open_with_passphrase(ByteView passphrase);

[[noreturn]] void raise(const Error& error);

// Unwraps a Result or throws the mapped CommandError.
template <class T>
T value_or_raise(Result<T> r) {
    if (!r) raise(r.error());
    return std::move(*r);
}
inline void check(const Status& s) {
    if (!s) raise(s.error());
}

// Reads an argument that may be "-" (standard input, up to 1 MiB) or literal text.
std::string argument_or_stdin(const std::string& value);

// A card or welcome token given as an argument, or "-" for standard input, without the line
// breaks and spaces a terminal or messenger put in it (core::compact_pasted). When standard
// input is a terminal, first says what to paste (`what`, e.g. "their card (kolokol-card:…)") and
// reads lines up to an empty one or Ctrl-D. Up to 1 MiB.
std::string pasted_argument(const std::string& value, const std::string& what);

std::string hex(ByteView bytes);
std::string short_hex(ByteView bytes);  // first 8 bytes
// A record's wall clock (ms) in local time, "2026-12-05 10:05" (objects::format_local).
std::string format_time(std::int64_t ms);

}  // namespace kolokol::cli
