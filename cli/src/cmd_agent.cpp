// kolokol agent · lock — the unlock agent (DESIGN §4 "Unlock agent"): unlocks the store once and
// hands its key to this user's commands over a Unix socket until it locks.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "kolokol/core/node.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/store_guard.hpp"
#include "kolokol/storage/unlock_agent.hpp"
#include "node_session.hpp"
#include "terminal.hpp"
#include "unlock_agent_client.hpp"
#include "unlock_agent_socket.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kMinIdle = 1s;
constexpr std::chrono::seconds kMaxIdle = 8h;
// A client has this long to send its request (16 bytes) and to take the reply: a connection
// that stalls holds the agent up no longer than this.
constexpr std::chrono::milliseconds kRequestDeadline{1000};

struct AgentArgs {
    std::string idle = "15m";
    bool foreground = false;
    int ready_fd = -1;
};
AgentArgs& args() {
    static AgentArgs a;
    return a;
}

// "90", "90s", "15m", "2h": a whole number of seconds, minutes or hours.
std::optional<std::chrono::seconds> parse_idle(const std::string& text) {
    if (text.empty() || text.size() > 12) return std::nullopt;
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) return std::nullopt;
    const std::string unit = text.substr(digits);
    const std::uint64_t n = std::stoull(text.substr(0, digits));
    std::uint64_t scale = 0;
    if (unit.empty() || unit == "s")
        scale = 1;
    else if (unit == "m")
        scale = 60;
    else if (unit == "h")
        scale = 3600;
    else
        return std::nullopt;
    if (n > static_cast<std::uint64_t>(kMaxIdle.count())) return std::nullopt;
    const std::chrono::seconds out(n * scale);
    if (out < kMinIdle || out > kMaxIdle) return std::nullopt;
    return out;
}

// What the ending needs, made before anything can end the agent: the ending runs on the main
// thread or on the StoreGuard's and must not allocate.
struct Ending {
    int home_fd = -1;  // the home, open (and flock'ed) for the agent's lifetime
    std::string locked_message;
    std::string gone_message;
    bool foreground = false;
    std::atomic<bool> started{false};
};
Ending& ending() {
    static Ending e;
    return e;
}

// Wipes the key (every secret this process holds), removes the socket so that no command waits
// on a dead agent, answers a `lock` request when `reply_fd` is one, and ends the process.
[[noreturn]] void end_agent(int reply_fd, bool store_gone) {
    Ending& e = ending();
    if (e.started.exchange(true)) {
        // The other thread is ending it already.
        for (;;) ::pause();
    }
    crypto::wipe_all_secrets();
    ::unlinkat(e.home_fd, "agent/socket", 0);
    ::unlinkat(e.home_fd, "agent", AT_REMOVEDIR);
    // The home's lock goes before the reply: an agent started right after `lock` answered
    // finds it free.
    ::close(e.home_fd);
    if (reply_fd >= 0) {
        const auto reply = storage::encode_agent_lock_reply();
        (void)::send(reply_fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (e.foreground) {
        const std::string& m = store_gone ? e.gone_message : e.locked_message;
        (void)!::write(STDERR_FILENO, m.data(), m.size());
    }
    ::_exit(0);
}

// The agent's directory in the home: made 0700 when missing; when present, it must be a real
// directory of this user (not a link someone planted), and is put back to 0700.
void make_agent_directory(const std::filesystem::path& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw CommandError(Exit::failure,
                           subst(_("cannot create {}: {}"), dir.string(), std::strerror(errno)));
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
        ::chmod(dir.c_str(), 0700) != 0)
        throw CommandError(Exit::failure,
                           subst(_("{} is not a private directory of this user"), dir.string()));
}

// Binds through the home's descriptor (/proc/self/fd/N/agent/socket): a long path to the home
// does not matter, and clients reach the socket the same way.
UnixFd listen_on(int home_fd, const std::filesystem::path& path) {
    sockaddr_un addr{};
    if (!unix_address(path_via_fd(home_fd, "agent/socket"), addr))
        throw CommandError(Exit::failure, subst(_("cannot make the agent's socket: {}"),
                                                std::strerror(ENAMETOOLONG)));
    UnixFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.ok())
        throw CommandError(Exit::failure,
                           subst(_("cannot make the agent's socket: {}"), std::strerror(errno)));
    // An agent that ended without removing its socket (killed) leaves it behind. A live agent
    // holds the home's lock, which this process holds now: the socket there is no one's.
    ::unlinkat(home_fd, "agent/socket", 0);
    // Created 0600 from the start: no moment when another user could connect.
    const mode_t old_mask = ::umask(0177);
    const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    ::umask(old_mask);
    if (bound != 0 || ::listen(fd.get(), 16) != 0)
        throw CommandError(Exit::failure, subst(_("cannot listen on {}: {}"), path.string(),
                                                std::strerror(bound != 0 ? bind_errno : errno)));
    return fd;
}

bool same_key_file(const storage::KeyFileSeen& a, const storage::KeyFileSeen& b) {
    return a.device == b.device && a.inode == b.inode && a.bytes == b.bytes;
}

// One connection: its peer must be this user (else it is closed unanswered), its request at
// most kAgentMaxRequestBytes and well-formed (else closed unanswered). Returns when the key was
// sent; ends the process for a lock or a changed key file.
void serve_connection(int fd, const storage::Unlocked& unlocked, const std::filesystem::path& home,
                      Clock::time_point& last_use) {
    // The socket is 0600 in a 0700 directory, but its mode is not what we rely on: whoever
    // connects, only a process of this user gets an answer.
    if (peer_uid(fd) != ::geteuid()) return;
    const auto deadline = Clock::now() + kRequestDeadline;
    ByteArray<storage::kAgentMaxRequestBytes + 1> buf{};
    auto got = read_until_eof(fd, buf, deadline);
    // A stalled, oversized or malformed request ends this connection only.
    if (!got || *got > storage::kAgentMaxRequestBytes) return;
    auto op = storage::decode_agent_request(ByteView(buf).first(*got));
    if (!op) return;
    if (*op == storage::AgentOp::lock) end_agent(fd, false);
    // The key is only as good as the key file it came from: after a passphrase change or an
    // erase, lock rather than hand out a key for a file that is no longer there.
    auto now_seen = storage::KeyFile::look(core::Node::key_file_path(home));
    if (!now_seen || !same_key_file(*now_seen, unlocked.seen)) end_agent(-1, true);
    auto reply = storage::encode_agent_key_reply(unlocked);
    if (write_all_until(fd, reply.view(), deadline)) last_use = Clock::now();
}

[[noreturn]] void serve(const storage::Unlocked& unlocked, const std::filesystem::path& home,
                        int listen_fd, int signal_fd, std::chrono::seconds idle) {
    storage::SuspendWatch suspend;
    auto last_use = Clock::now();
    for (;;) {
        // A suspend locks: a laptop closed and opened again is a laptop someone may have held.
        if (suspend.suspended()) end_agent(-1, false);
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(last_use + idle - Clock::now());
        if (left.count() <= 0) end_agent(-1, false);
        // Woken at least once a second to look at the clocks.
        pollfd fds[2] = {{listen_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
        const int r = ::poll(fds, 2, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
        if (r < 0 && errno != EINTR) end_agent(-1, false);
        if (r <= 0) continue;
        if (fds[1].revents != 0) end_agent(-1, false);
        if (fds[0].revents & POLLIN) {
            UnixFd conn(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
            if (conn.ok()) serve_connection(conn.get(), unlocked, home, last_use);
        }
    }
}

// Starts this command again in the foreground as a child that reports on `ready` once it
// listens, and returns its exit code for this process: 0 once it is ready, its own when it ends
// before (a wrong passphrase). The child asks the passphrase on this terminal, then leaves it.
// A fresh exec rather than a fork of this process: memory locks are not inherited across fork,
// and the key must only ever be in locked memory.
int start_in_background(std::chrono::seconds idle) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw CommandError(Exit::failure,
                           subst(_("cannot start the agent: {}"), std::strerror(errno)));
    std::vector<std::string> argv_s = {"kolokol",
                                       "agent",
                                       "--foreground",
                                       "--ready-fd",
                                       "3",
                                       "--idle",
                                       std::to_string(idle.count()),
                                       "--home",
                                       home_dir()};
    if (!globals().passphrase_file.empty()) {
        argv_s.push_back("--passphrase-file");
        argv_s.push_back(globals().passphrase_file);
    }
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0)
        throw CommandError(Exit::failure,
                           subst(_("cannot start the agent: {}"), std::strerror(errno)));
    if (pid == 0) {
        // Only async-signal-safe calls until exec.
        // dup2 onto itself would keep close-on-exec.
        if (pipe_fds[1] == 3 ? ::fcntl(3, F_SETFD, 0) < 0 : ::dup2(pipe_fds[1], 3) < 0)
            ::_exit(static_cast<int>(Exit::failure));
        ::execv("/proc/self/exe", argv.data());
        ::_exit(static_cast<int>(Exit::failure));
    }
    ::close(pipe_fds[1]);
    std::uint8_t ready = 1;
    ssize_t n;
    do n = ::read(pipe_fds[0], &ready, 1);
    while (n < 0 && errno == EINTR);
    ::close(pipe_fds[0]);
    if (n == 1 && ready == 0) {
        std::cout << subst(_("The agent is running (pid {}): commands for {} need no passphrase "
                             "until `kolokol lock`, a suspend, or {} s without use.\n"),
                           pid, home_dir(), idle.count());
        return 0;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : static_cast<int>(Exit::failure);
}

void run_agent() {
    const auto idle = parse_idle(args().idle);
    if (!idle) throw CommandError(Exit::usage, _("--idle takes 1s to 8h, e.g. 90s, 15m or 2h"));
    const std::filesystem::path home = home_dir();
    if (!core::Node::exists(home))
        throw CommandError(Exit::no_store,
                           subst(_("no store in {} — run `kolokol init` first"), home.string()));
    if (!args().foreground) std::exit(start_in_background(*idle));

    // Stopped (Ctrl-Z, or a write to a terminal it left), the agent's threads could not wipe
    // the key on a panic, a suspend or its idle time: it cannot be stopped but by SIGSTOP.
    for (int sig : {SIGTSTP, SIGTTIN, SIGTTOU}) ::signal(sig, SIG_IGN);

    auto passphrase = read_passphrase(_("Passphrase"));
    // Any unlock with a passphrase ends a running agent first, whatever the passphrase turns
    // out to be: so a duress passphrase, which erases the store, leaves no agent — and neither
    // does a wrong one, so the two still look alike.
    end_agent_before_unlock(home);
    // One agent per home: it holds an exclusive lock on the home for its lifetime. Another one
    // starting at the same moment must not replace this one's socket and leave it running with
    // the key where no `kolokol lock` reaches it.
    UnixFd home_fd(::open(home.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!home_fd.ok())
        throw CommandError(Exit::failure,
                           subst(_("cannot open {}: {}"), home.string(), std::strerror(errno)));
    if (::flock(home_fd.get(), LOCK_EX | LOCK_NB) != 0)
        throw CommandError(Exit::agent_running,
                           subst(_("another agent for {} is starting or running"), home.string()));
    auto unlocked = value_or_raise(core::Node::unlock(home, passphrase.view()));
    passphrase = crypto::SecretBytes();

    const auto socket_path = storage::agent_socket_path(home);
    Ending& e = ending();
    e.home_fd = home_fd.get();
    e.foreground = args().ready_fd < 0;
    e.locked_message = "kolokol: " + std::string(_("the agent is locked")) + "\n";
    e.gone_message =
        "kolokol: " +
        std::string(_("the store's key file changed or is gone; the agent is locked")) + "\n";
    make_agent_directory(socket_path.parent_path());
    UnixFd listener = listen_on(home_fd.get(), socket_path);

    // Signals are taken by the loop (signalfd), on every thread: blocked before the StoreGuard's
    // thread starts, so it inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, sig);
    ::sigprocmask(SIG_BLOCK, &signals, nullptr);
    UnixFd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC));
    if (!signal_fd.ok()) end_agent(-1, false);

    // A panic or a duress erase, typed anywhere, ends the agent within milliseconds.
    auto guard = storage::StoreGuard::start(
        {home, core::Node::key_file_path(home), core::Node::database_path(home)}, unlocked.seen,
        [] { end_agent(-1, true); });
    if (!guard) end_agent(-1, true);

    if (args().ready_fd >= 0) {
        // Leave the terminal: a new session, standard streams on /dev/null; then say it is ready.
        ::setsid();
        const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0)
            for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(devnull, fd);
        const std::uint8_t ready = 0;
        (void)!::write(args().ready_fd, &ready, 1);
        ::close(args().ready_fd);
    } else {
        std::cerr << subst(_("The agent is running (pid {}): commands for {} need no passphrase "
                             "until `kolokol lock`, a suspend, or {} s without use.\n"),
                           ::getpid(), home.string(), idle->count());
    }
    serve(unlocked, home, listener.get(), signal_fd.get(), *idle);
}

}  // namespace

void register_agent_commands(CLI::App& app) {
    auto* agent = app.add_subcommand(
        "agent", _("Unlock the store once and let your commands use it without the passphrase"));
    agent->add_option("--idle", args().idle,
                      _("Lock after this long without use: 1s to 8h (default 15m)"));
    agent->add_flag("--foreground", args().foreground,
                    _("Stay in the foreground (Ctrl-C locks) instead of running in the "
                      "background"));
    agent->add_option("--ready-fd", args().ready_fd)->group("");
    agent->footer(
        _("Example:\n  kolokol agent --idle 30m\n\nAsks the passphrase once and keeps the store's "
          "key in locked memory. Only your own user's processes can reach it (a socket in the "
          "home, peer checked). It locks — wipes the key and ends — after the idle time, on "
          "`kolokol lock`, `kolokol panic`, `kolokol passwd`, any other unlock with a passphrase "
          "(a duress one too), a suspend of the machine, or a change of the key file."));
    agent->callback(run_agent);

    auto* lock = app.add_subcommand("lock", _("Lock the agent: wipe its key and end it"));
    lock->footer(_("Example:\n  kolokol lock"));
    lock->callback([] {
        switch (lock_agent(home_dir())) {
            case AgentLock::locked:
                std::cout << _("The agent is locked: commands ask for the passphrase again.\n");
                break;
            case AgentLock::none:
                std::cout << subst(_("No agent is running for {}.\n"), home_dir());
                break;
            case AgentLock::unreachable:
                throw CommandError(Exit::agent_running,
                                   subst(_("the agent for {} did not lock (stopped, busy, or "
                                           "another user's)"),
                                         home_dir()));
        }
    });
}

}  // namespace kolokol::cli
