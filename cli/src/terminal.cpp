#include "terminal.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
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

crypto::SecretBytes from_file(const std::string& path, int index) {
    std::ifstream in(path);
    if (!in) throw CommandError(Exit::usage, subst(_("cannot read passphrase file {}"), path));
    std::string line;
    for (int i = 0; i <= index; ++i) {
        if (!std::getline(in, line)) {
            crypto::memzero(line);
            throw CommandError(Exit::usage,
                               subst(_("passphrase file {} has no line {}"), path, index + 1));
        }
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto secret = crypto::SecretBytes::copy_of(as_bytes(line));
    crypto::memzero(line);
    return secret;
}

// On the controlling terminal, like ssh and gpg: standard input may be a card or a token
// (`kolokol group add G - < card`), and the prompt must not end up in redirected output.
crypto::SecretBytes from_tty(const std::string& prompt) {
    auto line = read_terminal_line(prompt + ": ", Echo::off, 1024);
    if (!line)
        throw CommandError(Exit::usage,
                           _("no terminal to ask for a passphrase: use --passphrase-file or "
                             "KOLOKOL_PASSPHRASE_FILE"));
    if (line->interrupted) throw CommandError(Exit::failure, _("interrupted"));
    return std::move(line->text);
}

}  // namespace

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
