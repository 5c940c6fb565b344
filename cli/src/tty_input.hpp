#pragma once
// The controlling terminal (/dev/tty), for what must come from the person at the keyboard even
// when standard input and output are files or pipes — passphrases and confirmations — as ssh
// and gpg ask them: `kolokol group add G - < card > token` still asks for the passphrase.

#include <cstddef>
#include <optional>
#include <string_view>

#include "kolokol/crypto/secret.hpp"

namespace kolokol::cli {

// Whether this process has a controlling terminal it can open for reading and writing.
bool has_terminal();

enum class Echo { off, on };

struct TerminalLine {
    crypto::SecretBytes text;  // the line, without its newline
    bool truncated = false;    // the line was longer than max_bytes; the rest was dropped
    bool interrupted = false;  // a signal ended the wait (text is then empty)
};

// Writes `prompt` to the controlling terminal and reads one line there. At most `max_bytes` are
// kept. With Echo::off the typed characters are not shown. The terminal's settings are restored
// before returning, also when SIGINT, SIGTERM, SIGHUP or SIGQUIT arrives while waiting: the
// signal is then raised again under the handler the process had before, and if the process
// survives that, the call returns with `interrupted`. Returns nullopt when there is no
// controlling terminal. Not thread-safe (it swaps signal handlers while it waits): call it from
// the main thread before other threads start.
std::optional<TerminalLine> read_terminal_line(std::string_view prompt, Echo echo,
                                               std::size_t max_bytes);

// Whether `answer` to a "Type yes" question confirms: "yes", or the word the user's language
// uses for it (the translation of "yes", e.g. "да"), in any case and with spaces around.
bool confirms(ByteView answer);

}  // namespace kolokol::cli
