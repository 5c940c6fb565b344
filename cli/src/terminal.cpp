#include "terminal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "app.hpp"
#include "i18n.hpp"
#include "passphrase_strength.hpp"
#include "tty_input.hpp"

namespace kolokol::cli {

namespace {

std::string passphrase_file_path() {
    if (!globals().passphrase_file.empty()) return globals().passphrase_file;
    if (const char* env = std::getenv("KOLOKOL_PASSPHRASE_FILE"); env && *env) return env;
    return {};
}

// One byte at a time straight into `slot`: no stdio or stream buffer ever holds passphrase
// bytes, so nothing is left unwiped. 1 for a byte, 0 at the end, -1 on an error.
int read_byte(int fd, std::uint8_t* slot) {
    while (true) {
        auto n = ::read(fd, slot, 1);
        if (n >= 0) return static_cast<int>(n);
        if (errno != EINTR) return -1;
    }
}

// Reads one line from `fd` into `buffer` (kMaxPassphraseBytes + 2 bytes: the longest line, a
// CR, and one more to tell a line that is too long). Returns the line's length — past the
// buffer's size when it is too long (the bytes beyond are read and not kept) — or nullopt at
// the end of the input before any byte; `*newline` says whether the line ended with one.
std::optional<std::size_t> read_line(int fd, crypto::SecretBytes& buffer, bool* newline,
                                     bool* failed) {
    std::size_t len = 0;
    *newline = false;
    std::uint8_t* const last = buffer.data() + buffer.size() - 1;
    while (true) {
        std::uint8_t* slot = len < buffer.size() ? buffer.data() + len : last;
        const std::uint8_t kept = *last;
        int got = read_byte(fd, slot);
        if (got < 0) {
            *failed = true;
            return std::nullopt;
        }
        if (got == 0) return len == 0 ? std::nullopt : std::optional<std::size_t>(len);
        if (*slot == '\n') {
            if (slot == last) *last = kept;
            *newline = true;
            return len;
        }
        ++len;
    }
}

std::size_t without_cr(const crypto::SecretBytes& buffer, std::size_t len) {
    if (len > 0 && len <= buffer.size() && buffer.data()[len - 1] == '\r') return len - 1;
    return len;
}

crypto::SecretBytes from_file(const std::string& path, int index) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw CommandError(Exit::usage, subst(_("cannot read passphrase file {}"), path));
    crypto::SecretBytes buffer(kMaxPassphraseBytes + 2);
    bool failed = false;
    for (int i = 0;; ++i) {
        bool newline = false;
        auto len = read_line(fd, buffer, &newline, &failed);
        if (!len) {
            ::close(fd);
            if (failed)
                throw CommandError(Exit::usage, subst(_("cannot read passphrase file {}"), path));
            throw CommandError(Exit::usage,
                               subst(_("passphrase file {} has no line {}"), path, index + 1));
        }
        if (i < index) {
            if (!newline) {
                ::close(fd);
                throw CommandError(Exit::usage,
                                   subst(_("passphrase file {} has no line {}"), path, index + 1));
            }
            continue;
        }
        ::close(fd);
        const auto n = without_cr(buffer, *len);
        if (n > kMaxPassphraseBytes)
            throw CommandError(Exit::usage,
                               subst(_("line {} of passphrase file {} is longer than {} bytes: "
                                       "passphrases are at most {} bytes"),
                                     index + 1, path, kMaxPassphraseBytes, kMaxPassphraseBytes));
        return crypto::SecretBytes::copy_of(buffer.view().first(n));
    }
}

// On the controlling terminal, like ssh and gpg: standard input may be a card or a token
// (`kolokol group add G - < card`), and the prompt must not end up in redirected output.
crypto::SecretBytes from_tty(const std::string& prompt) {
    auto line = read_terminal_line(prompt + ": ", Echo::off, kMaxPassphraseBytes + 1);
    if (!line)
        throw CommandError(Exit::usage,
                           _("no terminal to ask for a passphrase: use --passphrase-file or "
                             "KOLOKOL_PASSPHRASE_FILE"));
    if (line->interrupted) throw CommandError(Exit::failure, _("interrupted"));
    // Cutting it would lock the store with a passphrase the user never typed in full.
    if (line->truncated || line->text.size() > kMaxPassphraseBytes)
        throw CommandError(Exit::usage, subst(_("the passphrase is longer than {} bytes: "
                                                "passphrases are at most {} bytes"),
                                              kMaxPassphraseBytes, kMaxPassphraseBytes));
    return std::move(line->text);
}

}  // namespace

crypto::SecretBytes passphrase_file_line(const std::string& path, int index) {
    return from_file(path, index);
}

crypto::SecretBytes read_passphrase(const std::string& prompt, int index) {
    auto path = passphrase_file_path();
    if (!path.empty()) return from_file(path, index);
    return from_tty(prompt);
}

crypto::SecretBytes read_new_passphrase(const std::string& prompt, int index,
                                        const std::function<void(ByteView)>& check) {
    auto path = passphrase_file_path();
    auto first = path.empty() ? from_tty(prompt) : from_file(path, index);
    if (check) check(first.view());
    warn_if_weak(first.view());
    if (!path.empty()) return first;
    auto second = from_tty(_("Repeat it"));
    if (!crypto::equal_ct(first.view(), second.view()))
        throw CommandError(Exit::usage, _("the two passphrases differ"));
    return first;
}

bool stdin_is_tty() {
    return isatty(STDIN_FILENO) == 1;
}
bool stdout_is_tty() {
    return isatty(STDOUT_FILENO) == 1;
}
bool stderr_is_tty() {
    return isatty(STDERR_FILENO) == 1;
}
bool colour_enabled() {
    // https://no-color.org: any non-empty NO_COLOR turns colour off. A dumb terminal (Emacs
    // shells, some serial consoles) shows escape codes as text.
    const char* no_colour = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    if (no_colour != nullptr && *no_colour != '\0') return false;
    if (term == nullptr || *term == '\0' || std::string_view(term) == "dumb") return false;
    return stdout_is_tty();
}

Progress::Progress(std::string label, std::uint64_t total)
    : m_label(std::move(label)), m_total(total), m_enabled(stderr_is_tty()) {}

Progress::~Progress() {
    finish(false);
}

void Progress::update(std::uint64_t done) {
    if (!m_enabled || m_total == 0) return;
    // Redraw at most 100 times over the whole run.
    if (done != m_total && done - m_last_drawn < m_total / 100) return;
    draw(done);
}

void Progress::draw(std::uint64_t done) {
    m_last_drawn = done;
    m_drawn = true;
    const int width = 30;
    int filled = static_cast<int>(width * done / m_total);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s [%s] %3d%%", m_label.c_str(), bar.c_str(),
                 static_cast<int>(100 * done / m_total));
    std::fflush(stderr);
}

void Progress::update(std::uint64_t done, std::uint64_t total) {
    if (total != m_total) {
        m_total = total;
        m_last_drawn = 0;
    }
    update(std::min(done, total));
}

void Progress::finish(bool complete) {
    if (!m_enabled || m_finished) return;
    m_finished = true;
    if (complete && m_drawn && m_last_drawn != m_total) draw(m_total);
    if (m_drawn) std::fputs("\n", stderr);
}

}  // namespace kolokol::cli
