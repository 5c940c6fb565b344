#include "terminal.hpp"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string_view>

#include "app.hpp"
#include "i18n.hpp"

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

crypto::SecretBytes from_tty(const std::string& prompt) {
    if (!isatty(STDIN_FILENO))
        throw CommandError(Exit::usage,
                           _("no terminal to ask for a passphrase: use --passphrase-file or "
                             "KOLOKOL_PASSPHRASE_FILE"));
    std::fprintf(stderr, "%s: ", prompt.c_str());
    std::fflush(stderr);
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    crypto::SecretBytes buffer(1024);
    std::size_t len = 0;
    int c;
    while ((c = std::getchar()) != EOF && c != '\n') {
        if (len < buffer.size()) buffer.data()[len++] = static_cast<std::uint8_t>(c);
    }
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::fputc('\n', stderr);
    return crypto::SecretBytes::copy_of(buffer.view().first(len));
}

}  // namespace

crypto::SecretBytes read_passphrase(const std::string& prompt, int index) {
    auto path = passphrase_file_path();
    if (!path.empty()) return from_file(path, index);
    return from_tty(prompt);
}

crypto::SecretBytes read_new_passphrase(const std::string& prompt, int index) {
    auto path = passphrase_file_path();
    if (!path.empty()) return from_file(path, index);
    auto first = from_tty(prompt);
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
    finish();
}

void Progress::update(std::uint64_t done) {
    if (!m_enabled || m_total == 0) return;
    // Redraw at most 100 times over the whole run.
    if (done != m_total && done - m_last_drawn < m_total / 100) return;
    m_last_drawn = done;
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

void Progress::finish() {
    if (!m_enabled || m_finished) return;
    m_finished = true;
    if (m_last_drawn > 0) std::fputs("\n", stderr);
}

}  // namespace kolokol::cli
