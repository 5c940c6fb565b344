#include "delivery.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <optional>

#include "kolokol/core/sync_once.hpp"
#include "kolokol/transport/session_error.hpp"
#include "network.hpp"
#include "node_session.hpp"
// i18n.hpp last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

// The write end of the running guard's pipe, for the handler (-1: none).
std::atomic<int> g_signal_pipe{-1};
struct sigaction g_old_int, g_old_term;

void on_stop_signal(int sig) {
    const int saved = errno;
    const int fd = g_signal_pipe.load();
    const char byte = static_cast<char>(sig);
    if (fd >= 0) (void)!::write(fd, &byte, 1);
    errno = saved;
}

}  // namespace

std::string host_of(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    if (!parsed) return address;
    return parsed->host + ":" + std::to_string(parsed->port);
}

InterruptGuard::InterruptGuard(std::function<std::string()> stopped_text)
    : m_stopped_text(std::move(stopped_text)) {
    if (::pipe2(m_pipe, O_CLOEXEC) != 0) return;  // then Ctrl-C ends the process as before
    g_signal_pipe = m_pipe[1];
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &g_old_int);
    ::sigaction(SIGTERM, &sa, &g_old_term);
    m_waiter = std::thread([this] {
        char byte = 0;
        for (;;) {
            auto n = ::read(m_pipe[0], &byte, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0 || byte == 0) return;  // 0: the guard is going away
            break;
        }
        m_stop.request();
        // The sync ends at its next frame; a connection or handshake still waiting for the
        // other side would hold the command until its own deadline, so it gets two seconds.
        pollfd p{m_pipe[0], POLLIN, 0};
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (!m_done.load()) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
                if (::read(m_pipe[0], &byte, 1) == 1 && byte == 0) return;
            }
        }
        if (m_done.load()) return;
        const auto text = "kolokol: " + m_stopped_text() + "\n";
        (void)!::write(STDERR_FILENO, text.data(), text.size());
        ::_exit(static_cast<int>(Exit::interrupted));
    });
}

InterruptGuard::~InterruptGuard() {
    if (m_pipe[0] < 0) return;
    ::sigaction(SIGINT, &g_old_int, nullptr);
    ::sigaction(SIGTERM, &g_old_term, nullptr);
    g_signal_pipe = -1;
    m_done = true;
    const char zero = 0;
    (void)!::write(m_pipe[1], &zero, 1);
    m_waiter.join();
    ::close(m_pipe[0]);
    ::close(m_pipe[1]);
}

Exit sync_failure_exit(const Error& error) {
    const auto code = exit_for(error);
    return code == Exit::bad_input || code == Exit::verify_failed ? code : Exit::network;
}

Exit graver(Exit a, Exit b) {
    for (auto e : {Exit::verify_failed, Exit::bad_input})
        if (a == e || b == e) return e;
    return a;
}

void add_send_option(CLI::App* command, bool& no_send) {
    command->add_flag("--no-send", no_send,
                      _("Keep it on this device: do not send it to the group's relays now (it "
                        "goes with the next `kolokol sync`)"));
}

void send_written(core::Node& node, const core::GroupId& group, bool no_send) {
    if (no_send) {
        std::cerr << "kolokol: "
                  << _("not sent (--no-send): kept on this device; it goes with the next "
                       "`kolokol sync`")
                  << "\n";
        return;
    }
    const auto relays = node.relays(group);
    if (relays.empty()) {
        std::cerr << "kolokol: "
                  << _("not sent: the group has no relay. It is kept on this device and goes to "
                       "the others when you sync with one of them (`kolokol sync ADDRESS`, or "
                       "a sync file)")
                  << "\n";
        return;
    }
    auto policy = network_policy(node);
    if (!policy.allows(group))
        throw CommandError(Exit::proxy_required,
                           _("not sent: the group is Tor only and no proxy is set. It is kept on "
                             "this device and goes with the next `kolokol sync` through Tor "
                             "(`kolokol proxy set socks5://127.0.0.1:9050`)"));
    // Each relay in turn, the group's mailboxes only, once: said as it goes.
    class Relays final : public core::SyncOnceObserver {
    public:
        std::atomic<std::size_t> sent_to{0};
        std::optional<Exit> failed;
        void on_address(const core::SyncAddressReport& done) override {
            if (done.synced > 0) ++sent_to;
            for (const auto& error : done.errors) {
                const auto code = sync_failure_exit(error);
                failed = failed ? graver(*failed, code) : code;
                std::cerr << "kolokol: "
                          << subst(_("{} did not take it: {}"), host_of(done.address),
                                   translated(error))
                          << "\n";
            }
        }
    } relays_done;
    auto& sent_to = relays_done.sent_to;
    auto stopped_text = [&sent_to] {
        if (sent_to.load() > 0)
            return subst(_("stopped (Ctrl-C): sent to {} of the group's relays; the others get "
                           "it with the next `kolokol sync`"),
                         sent_to.load());
        return std::string(
            _("stopped (Ctrl-C) before it was sent: it is kept on this device "
              "and goes with the next `kolokol sync`"));
    };
    InterruptGuard interrupt(stopped_text);
    const auto route = route_of(policy);
    const core::GroupId groups[] = {group};
    auto plan = value_or_raise(core::plan_sync(node, groups, {}, route));
    core::SyncOnceOptions options;
    options.route = route;
    options.stop = interrupt.stop();
    options.observer = &relays_done;
    options.max_rounds = 1;
    options.maintain = false;
    (void)core::sync_once(node, plan, options);
    auto& failed = relays_done.failed;
    if (interrupt.interrupted()) throw CommandError(Exit::interrupted, stopped_text());
    if (sent_to == 0)
        throw CommandError(*failed,
                           _("NOT SENT: no relay of the group took it. It is kept on this device "
                             "and goes with the next `kolokol sync` — do not write it again"));
    if (sent_to == relays.size())
        std::cout << subst(
            P_("Sent to the group's relay.\n", "Sent to the group's {} relays.\n", sent_to.load()),
            sent_to.load());
    else
        std::cout << subst(_("Sent to {} of the group's {} relays.\n"), sent_to.load(),
                           relays.size());
}

}  // namespace kolokol::cli
