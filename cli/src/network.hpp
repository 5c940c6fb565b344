#pragma once
// How the CLI connects out (DESIGN §5): the SOCKS5 proxy (--proxy, or the store's setting from
// `kolokol proxy set`), "Tor only" groups, and the options of LAN discovery (`--lan`).
// Every command that connects to a peer or relay takes its ConnectOptions from here.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/core/sync_service.hpp"
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

// `kolokol serve --lan` and `kolokol chat --lan`, and their options.
void add_lan_options(CLI::App* command);
bool lan_requested();

// The route of a command's sessions under `policy`, fixed for the command: Tor-only groups it
// excludes are refused, the others go through its proxy, if any (NetworkPolicy::apply).
core::SyncRoute route_of(NetworkPolicy policy);
// The route of every outgoing session of a SyncService: through the proxy (--proxy, else
// `kolokol proxy set`) with SOCKS credentials of its own for each address and group
// (NetworkPolicy::apply), and never a Tor-only group without one. A malformed --proxy is
// reported as route_failed.
core::SyncRoute sync_route();
// The LAN discovery options from --lan-port, --lan-group, --lan-interval-ms and
// --lan-interface. Throws CommandError(usage) for a --lan-group that is not IPv4 multicast.
transport::lan::DiscoveryOptions lan_discovery_options();
// The exit code for a SyncService::listen() failure: not_found when there is no group to
// announce on the LAN, network otherwise.
Exit listen_exit(const Error& error);
// One line for a SyncService event, translated; `error` (if given) is set for failures.
std::string sync_event_text(const core::SyncEvent& event, bool* error = nullptr);

// `kolokol proxy set URL | clear | show`.
void register_proxy_command(CLI::App& app);

}  // namespace kolokol::cli
