#pragma once
// How the CLI connects out (DESIGN §5): the SOCKS5 proxy (--proxy, or the store's setting from
// `kolokol proxy set`), "Tor only" groups, and LAN discovery for `kolokol serve --lan`.
// Every command that connects to a peer or relay takes its ConnectOptions from here.

#include <asio/io_context.hpp>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/transport/socks5.hpp"
#include "kolokol/transport/sync.hpp"

namespace kolokol::cli {

struct NetworkPolicy {
    std::optional<transport::ProxyAddress> proxy;  // every outgoing TCP connection goes here
    // Tor-only groups that cannot be synced now (no proxy): their mailboxes and relays are
    // left out. Empty when a proxy is set.
    std::set<core::GroupId> excluded;
    std::vector<std::string> excluded_names;

    bool allows(const core::GroupId& group) const { return !excluded.contains(group); }
    // Routes `options` through the proxy, if any (never falls back to a direct connection),
    // with SOCKS5 credentials of their own for this address and group (`group` null: for no
    // group, e.g. a probe), so Tor (IsolateSOCKSAuth) puts the connections of different groups,
    // and of one group to different relays, on different circuits: an exit or a relay cannot
    // link them by circuit. The credentials are a keyed hash under a secret of this process:
    // they name no group, and two runs of kolokol share none.
    void apply(transport::ConnectOptions& options, std::string_view address,
               const core::GroupId* group) const;
};

// Adds --proxy to a command that connects out.
void add_proxy_option(CLI::App* command);
// The proxy from --proxy, else the store's setting; tor-only groups without one are excluded.
// Throws CommandError(bad_input) for an invalid --proxy.
NetworkPolicy network_policy(core::Node& node);
// The error for "everything asked for is Tor only and there is no proxy" (Exit::proxy_required).
[[noreturn]] void refuse_tor_only(const NetworkPolicy& policy);
// A stderr notice naming the groups left out, if any.
void warn_excluded(const NetworkPolicy& policy);

// A serve admission that serves every mailbox the Node holds at the time of asking, so one
// learnt while serving (a rotation synced in over the LAN) is served too. Runs on the
// server's thread; `node` must outlive it and be used from that thread only.
transport::SyncEngine::Admit held_mailboxes(core::Node& node);

// `kolokol serve --lan` and `kolokol chat --lan`, and their options.
void add_lan_options(CLI::App* command);
bool lan_requested();

// How LAN discovery shares a Node and reports, for `kolokol chat` (serve leaves them empty).
struct LanHooks {
    // When set, held around every Node call discovery makes.
    std::mutex* node_mutex = nullptr;
    // When set, a member whose beacon is recognised (and who is this side's to dial: the
    // smaller transport key connects) is handed here with the group the beacon named, on the
    // io_context's thread, instead of being synced once.
    std::function<void(const transport::Address&, const core::GroupId&)> on_member;
    // When set, notices go here (error true for failures) instead of to stderr.
    std::function<void(std::string, bool)> log;
};

// Starts LAN discovery for a running `serve` or chat listener: beacons every group that is not
// Tor only and syncs (pinned Noise sessions, sync_with) with every member whose beacon it
// recognises, in the group of that beacon only (one session a member and group). Runs on `io`
// (single-threaded) until `io` stops; `node` and `replica` must outlive it. Throws CommandError
// when discovery cannot start.
class LanRunner;
std::shared_ptr<LanRunner> start_lan(asio::io_context& io, core::Node& node,
                                     transport::Replica& replica, std::uint16_t listen_port,
                                     LanHooks hooks = {});
// Stops beaconing and prints (or logs) the statistics. Call on `io`'s thread.
void stop_lan(const std::shared_ptr<LanRunner>& runner);

// `kolokol proxy set URL | clear | show`.
void register_proxy_command(CLI::App& app);

}  // namespace kolokol::cli
