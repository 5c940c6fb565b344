#include "tty_input.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <string>

#include "kolokol/core/text_match.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void note_signal(int sig) {
    g_signal = sig;
}

constexpr std::array kWatched = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Owns the terminal's file descriptor; O_NOCTTY so opening it never makes it ours.
class Terminal {
public:
    Terminal() : m_fd(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) {}
    ~Terminal() {
        if (m_fd >= 0) ::close(m_fd);
    }
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;
    int fd() const { return m_fd; }

private:
    int m_fd;
};

void write_text(int fd, std::string_view text) {
    while (!text.empty()) {
        auto n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

bool has_terminal() {
    return Terminal().fd() >= 0;
}

std::optional<TerminalLine> read_terminal_line(std::string_view prompt, Echo echo,
                                               std::size_t max_bytes) {
    Terminal tty;
    if (tty.fd() < 0) return std::nullopt;
    // Without SA_RESTART, a signal ends the blocking read below with EINTR, so the terminal's
    // echo is switched back on before the signal takes its usual effect.
    std::array<struct sigaction, kWatched.size()> previous{};
    struct sigaction catcher {};
    catcher.sa_handler = note_signal;
    sigemptyset(&catcher.sa_mask);
    g_signal = 0;
    for (std::size_t i = 0; i < kWatched.size(); ++i)
        ::sigaction(kWatched[i], &catcher, &previous[i]);

    termios saved{};
    const bool have_termios = ::tcgetattr(tty.fd(), &saved) == 0;
    if (have_termios && echo == Echo::off) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(tty.fd(), TCSAFLUSH, &quiet);
    }
    write_text(tty.fd(), prompt);

    TerminalLine line;
    crypto::SecretBytes buffer(max_bytes);
    std::size_t len = 0;
    while (true) {
        char c = 0;
        auto n = ::read(tty.fd(), &c, 1);
        if (n < 0 && errno == EINTR && g_signal == 0) continue;
        if (n <= 0 || c == '\n') break;
        if (len < buffer.size())
            buffer.data()[len++] = static_cast<std::uint8_t>(c);
        else
            line.truncated = true;
    }
    if (len > 0 && buffer.data()[len - 1] == '\r') --len;

    if (have_termios && echo == Echo::off) {
        ::tcsetattr(tty.fd(), TCSAFLUSH, &saved);
        write_text(tty.fd(), "\n");  // the Enter the person typed was not echoed
    }
    for (std::size_t i = 0; i < kWatched.size(); ++i)
        ::sigaction(kWatched[i], &previous[i], nullptr);
    if (const int sig = g_signal; sig != 0) {
        g_signal = 0;
        write_text(tty.fd(), "\n");
        std::raise(sig);
        line.interrupted = true;
        return line;
    }
    line.text = crypto::SecretBytes::copy_of(buffer.view().first(len));
    return line;
}

bool confirms(ByteView answer) {
    const auto typed = core::fold_loosely(
        std::string_view(reinterpret_cast<const char*>(answer.data()), answer.size()));
    // TRANSLATORS: the word a person types to confirm destroying the store ("да").
    return !typed.empty() && (typed == "yes" || typed == core::fold_loosely(_("yes")));
}

}  // namespace kolokol::cli
