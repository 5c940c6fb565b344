#pragma once
// Terminal input and output: passphrases without echo, colour that respects NO_COLOR and
// non-terminals, and a progress bar on stderr when it is a terminal.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "kolokol/crypto/secret.hpp"

namespace kolokol::cli {

// Longer passphrases are refused, never cut (CommandError(usage) saying so).
inline constexpr std::size_t kMaxPassphraseBytes = 1024;

// Reads a passphrase: from `file` if given (first line), else KOLOKOL_PASSPHRASE_FILE (first
// line, or line `index`+1 when the file holds several — used for the duress passphrase and new
// passphrases in scripts), else from the terminal without echo. Throws CommandError(usage) when
// there is no terminal and no file.
crypto::SecretBytes read_passphrase(const std::string& prompt, int index = 0);
// As above, asking twice on a terminal and insisting on a match. `check`, when given, sees the
// passphrase as soon as it is first typed (or read) and may refuse it by throwing; a very weak
// one (passphrase_strength.hpp) gets a warning on stderr.
crypto::SecretBytes read_new_passphrase(const std::string& prompt, int index = 0,
                                        const std::function<void(ByteView)>& check = {});
// Line `index`+1 of the passphrase file `path` (a trailing CR dropped; may be empty). Every byte
// read passes through secure memory only. Throws CommandError(usage) when the file cannot be
// read, has no such line, or the line is longer than kMaxPassphraseBytes.
crypto::SecretBytes passphrase_file_line(const std::string& path, int index = 0);

bool stdin_is_tty();
bool stdout_is_tty();
bool stderr_is_tty();
// Colour only when stdout is a terminal, NO_COLOR is unset or empty, and TERM is set and not
// "dumb".
bool colour_enabled();

// A progress bar on stderr; silent when stderr is not a terminal.
class Progress {
public:
    Progress(std::string label, std::uint64_t total);
    ~Progress();
    void update(std::uint64_t done);
    // For work whose size is learnt as it goes (a network sync): a new total, then update(done).
    void update(std::uint64_t done, std::uint64_t total);
    // Ends the bar's line. When the work is `complete` the bar is drawn full (100%) first,
    // whatever the last update said (sizes counted in different units end short of it); when it
    // failed, it stays where it was. The destructor finishes incomplete.
    void finish(bool complete = true);

private:
    void draw(std::uint64_t done);
    std::string m_label;
    std::uint64_t m_total;
    std::uint64_t m_last_drawn = 0;
    bool m_drawn = false;
    bool m_enabled;
    bool m_finished = false;
};

}  // namespace kolokol::cli
