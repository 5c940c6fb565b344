#pragma once
// Getting what this device wrote off it, and saying so (DESIGN §17.5): `post`, `alert` and
// `report add` send the group's records to its relays at once, and say whether they went; a
// sync that Ctrl-C ends says what it kept.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "app.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/transport/sync.hpp"

namespace kolokol::cli {

// Ends a command's syncs on SIGINT or SIGTERM (Ctrl-C). While it lives, both signals go to a
// handler of its own (whichever thread the kernel picks, none is killed by them) and a thread
// of its own requests stop(). Should the command not end within two seconds of the signal (a
// connection or handshake waiting on its deadline), that thread prints "kolokol: " +
// `stopped_text()` and ends the process with Exit::interrupted. Records are stored a batch a
// transaction, so what arrived before the signal is kept either way. One at a time per
// process; the previous handlers come back when it is destroyed.
class InterruptGuard {
public:
    explicit InterruptGuard(std::function<std::string()> stopped_text);
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

    // Give a copy to every SyncOptions of the command (copies share one state).
    const transport::SyncStop& stop() const { return m_stop; }
    bool interrupted() const { return m_stop.requested(); }

private:
    transport::SyncStop m_stop;
    std::function<std::string()> m_stopped_text;
    int m_pipe[2] = {-1, -1};
    std::atomic<bool> m_done{false};
    std::thread m_waiter;
};

// "HOST:PORT" of a kolokol:// address, for labels (the key is long and says little); the text
// itself when it does not parse.
std::string host_of(const std::string& address);

// The exit code for a failed sync with one peer or relay: a malformed address → bad_input, a
// key that is not the address's → verify_failed, anything else → network.
Exit sync_failure_exit(const Error& error);
// Of two failures' codes, the one to exit with: verify_failed (someone else answered) before
// bad_input before the rest.
Exit graver(Exit a, Exit b);

// Adds --no-send to a command that writes to a group.
void add_send_option(CLI::App* command, bool& no_send);

// After a write to `group`: syncs the group (its mailboxes only) with each relay it lists and
// prints whether it went. Sent to at least one relay: "Sent …" on stdout, a line on stderr for
// each relay that failed, and returns. Not sent because of `no_send` or because the group
// lists no relay: a notice on stderr that it is kept on this device, and returns. Otherwise
// throws CommandError — proxy_required (Tor only, no proxy), network or verify_failed (no
// relay took it), interrupted (Ctrl-C) — whose message says the write is kept and goes with
// the next `kolokol sync`, so it is not written twice.
void send_written(core::Node& node, const core::GroupId& group, bool no_send);

}  // namespace kolokol::cli
