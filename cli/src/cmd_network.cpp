// The proxy, "Tor only" groups and LAN discovery (network.hpp) · kolokol proxy
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>

#include "kolokol/core/errors.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/lan_beacon.hpp"
#include "network.hpp"
#include "node_session.hpp"
// i18n.hpp last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

struct NetworkArgs {
    std::string proxy;
    bool lan = false;
    std::uint16_t lan_port = transport::lan::DiscoveryOptions{}.port;
    std::string lan_group = "239.192.75.75";
    unsigned lan_interval_ms = 5000;
    std::vector<std::string> lan_interfaces;
    std::string proxy_action, proxy_url;
};
NetworkArgs& args() {
    static NetworkArgs a;
    return a;
}

// The SOCKS5 credentials apply() gives for this address and group (32 hex digits each).
transport::Socks5Auth isolation_credentials(std::string_view address, const core::GroupId* group) {
    // One secret per process: credentials stay the same for a relay and group while kolokol
    // runs (a chat's reconnections reuse the circuit) and are new the next time.
    static const crypto::SecretBytes secret = [] {
        crypto::SecretBytes s(32);
        crypto::system_random().fill(MutableByteView(s.data(), s.size()));
        return s;
    }();
    auto canonical = transport::Address::parse(address);
    Bytes what = to_bytes("kolokol/socks-isolation/v1");
    what.push_back(0);
    append(what, as_bytes(canonical ? canonical->to_string() : std::string(address)));
    what.push_back(0);
    if (group) append(what, ByteView(*group));
    const auto tag = crypto::blake2b(32, what, secret.view());
    transport::Socks5Auth auth;
    auth.username = crypto::hex_encode(ByteView(tag).first(16));
    auth.password = crypto::hex_encode(ByteView(tag).last(16));
    return auth;
}

}  // namespace

void NetworkPolicy::apply(transport::ConnectOptions& options, std::string_view address,
                          const core::GroupId* group) const {
    // wss:// relays whose web server has a certificate from a CA of the user's own (a test CA,
    // a private one): trusted instead of the system's store.
    if (const char* ca = std::getenv("KOLOKOL_CA_FILE"); ca && *ca) options.tls_ca_file = ca;
    if (proxy)
        options.dialer = transport::socks5_dialer(*proxy, isolation_credentials(address, group));
}

void add_proxy_option(CLI::App* command) {
    command->add_option("--proxy", args().proxy,
                        _("Connect through this SOCKS5 proxy (socks5://IP:PORT, e.g. Tor's "
                          "socks5://127.0.0.1:9050); host names are resolved by the proxy. "
                          "Default: the one set with `kolokol proxy set`"));
}

NetworkPolicy network_policy(core::Node& node) {
    NetworkPolicy policy;
    auto text = args().proxy.empty() ? node.proxy() : std::optional<std::string>(args().proxy);
    if (text) {
        auto parsed = transport::ProxyAddress::parse(*text);
        if (!parsed) throw CommandError(Exit::bad_input, translated(parsed.error()));
        policy.proxy = *parsed;
        return policy;
    }
    for (const auto& g : node.groups()) {
        if (!node.tor_only(g.id)) continue;
        policy.excluded.insert(g.id);
        policy.excluded_names.push_back(g.name);
    }
    return policy;
}

void refuse_tor_only(const NetworkPolicy& policy) {
    std::string names;
    for (const auto& n : policy.excluded_names) names += (names.empty() ? "" : ", ") + n;
    throw CommandError(
        Exit::proxy_required,
        subst(_("refusing to connect: {} is Tor only and no proxy is set (give --proxy "
                "socks5://127.0.0.1:9050 or run `kolokol proxy set socks5://127.0.0.1:9050`)"),
              names));
}

void warn_excluded(const NetworkPolicy& policy) {
    for (const auto& n : policy.excluded_names)
        std::cerr << "kolokol: "
                  << subst(_("{} is Tor only and no proxy is set: not synced this time"), n)
                  << "\n";
}

// ---- LAN ------------------------------------------------------------------------------------

void add_lan_options(CLI::App* serve) {
    auto& a = args();
    serve->add_flag("--lan", a.lan,
                    _("Find other members on the local network (UDP multicast beacons only they "
                      "recognise) and sync with them. Listens on 0.0.0.0 unless --listen says "
                      "otherwise; Tor-only groups are never announced"));
    serve->add_option("--lan-port", a.lan_port, _("UDP port of the beacons (default 47475)"))
        ->check(CLI::Range(1, 65535));
    serve->add_option("--lan-group", a.lan_group,
                      _("IPv4 multicast group of the beacons (default 239.192.75.75)"));
    serve
        ->add_option("--lan-interval-ms", a.lan_interval_ms,
                     _("Milliseconds between beacons (default 5000)"))
        ->check(CLI::Range(100, 3600000));
    serve->add_option("--lan-interface", a.lan_interfaces,
                      _("Only beacon on this interface (repeatable; default: every IPv4 "
                        "multicast interface that is up)"));
}

bool lan_requested() {
    return args().lan;
}

transport::lan::DiscoveryOptions lan_discovery_options() {
    auto& a = args();
    std::error_code ec;
    auto group = asio::ip::make_address_v4(a.lan_group, ec);
    if (ec || !group.is_multicast())
        throw CommandError(
            Exit::usage,
            subst(_("--lan-group {} is not an IPv4 multicast address (224.0.0.0/4)"), a.lan_group));
    transport::lan::DiscoveryOptions options;
    options.group = group;
    options.port = a.lan_port;
    options.interval = std::chrono::milliseconds(a.lan_interval_ms);
    options.interfaces = a.lan_interfaces;
    return options;
}

core::SyncRoute route_of(NetworkPolicy policy) {
    return [policy = std::move(policy)](core::Node&, const core::GroupId& group,
                                        std::string_view address,
                                        transport::ConnectOptions& options) -> Result<bool> {
        if (!policy.allows(group)) return false;
        policy.apply(options, address, &group);
        return true;
    };
}

core::SyncRoute sync_route() {
    return [](core::Node& node, const core::GroupId& group, std::string_view address,
              transport::ConnectOptions& options) -> Result<bool> {
        NetworkPolicy policy;
        try {
            policy = network_policy(node);
        } catch (const CommandError& e) {
            return std::unexpected(Error{core::CoreErrc::bad_input, e.what(), {}, {}});
        }
        if (!policy.allows(group)) return false;
        policy.apply(options, address, &group);
        return true;
    };
}

Exit listen_exit(const Error& error) {
    return error.code == core::CoreErrc::not_found ? Exit::not_found : Exit::network;
}

std::string sync_event_text(const core::SyncEvent& e, bool* error) {
    using Kind = core::SyncEvent::Kind;
    const auto reason = [&] { return e.error ? translated(*e.error) : std::string(); };
    bool failed = false;
    std::string text;
    switch (e.kind) {
        case Kind::connected:
            text = subst(e.lan ? _("Live with {} (LAN)") : _("Live with {}"), e.peer);
            break;
        case Kind::unreachable:
            failed = true;
            text = subst(_("{} unreachable ({}); retrying in {} s"), e.peer, reason(),
                         static_cast<int>(e.retry_in.count()));
            break;
        case Kind::lan_ended:
            text = subst(_("{} ended the LAN session"), e.peer);
            break;
        case Kind::lan_gone:
            failed = true;
            text = subst(_("LAN member {} is gone ({})"), e.peer, reason());
            break;
        case Kind::crashed:
            failed = true;
            text = subst(_("The session with {} failed unexpectedly ({}); reconnecting"), e.peer,
                         e.text);
            break;
        case Kind::tor_only:
            failed = true;
            text = subst(_("{} is Tor only and no proxy is set: not connecting (see `kolokol "
                           "proxy set`)"),
                         e.text);
            break;
        case Kind::route_failed:
            failed = true;
            text = reason();
            break;
        case Kind::lan_started: {
            auto& a = args();
            std::string ifs;
            for (const auto& i : e.interfaces) ifs += (ifs.empty() ? "" : ", ") + i;
            text = subst(P_("LAN discovery on {}:{} via {} for {} group",
                            "LAN discovery on {}:{} via {} for {} groups", e.groups),
                         a.lan_group, std::to_string(a.lan_port), ifs, e.groups);
            break;
        }
        case Kind::lan_stopped: {
            const auto& s = e.lan_stats;
            text = subst(_("LAN: {} beacons sent, {} received: {} from members, {} not "
                           "recognised, {} replayed, {} from a wrong address, {} malformed, "
                           "{} dropped by the rate limit; {} syncs"),
                         std::to_string(s.sent), std::to_string(s.received),
                         std::to_string(s.recognised), std::to_string(s.unknown),
                         std::to_string(s.replayed), std::to_string(s.wrong_source),
                         std::to_string(s.malformed), std::to_string(s.rate_limited),
                         std::to_string(e.lan_syncs));
            break;
        }
        case Kind::maintained:
            text = e.text;
            break;
        case Kind::lan_synced:
            text = subst(_("LAN: synced with {}: sent {}, received {}"), e.peer,
                         std::to_string(e.sent), std::to_string(e.received));
            break;
        case Kind::ended:
            text = subst(_("{} ended the session"), e.peer);
            break;
        case Kind::lan_sync_failed:
            failed = true;
            text = subst(_("LAN sync with {} failed: {}"), e.peer, reason());
            break;
    }
    if (error) *error = failed;
    return text;
}

// ---- kolokol proxy --------------------------------------------------------------------------

void register_proxy_command(CLI::App& app) {
    auto& a = args();
    auto* proxy = app.add_subcommand(
        "proxy", _("Show, set or clear the SOCKS5 proxy (Tor) used for every connection"));
    proxy->add_option("ACTION", a.proxy_action, _("show, set or clear"))
        ->required()
        ->check(CLI::IsMember({"show", "set", "clear"}));
    proxy->add_option("URL", a.proxy_url, _("socks5://IP:PORT (for set)"));
    proxy->footer(
        _("Examples:\n  kolokol proxy set socks5://127.0.0.1:9050\n  kolokol proxy clear\n\n"
          "The setting is kept in the encrypted store. With a proxy, no connection goes out "
          "directly and host names (also .onion) are resolved by the proxy; `kolokol serve "
          "--lan` still talks directly on the local network."));
    proxy->callback([] {
        auto& a = args();
        auto node = open_node();
        if (a.proxy_action == "show") {
            auto p = node->proxy();
            std::cout << (p ? *p : std::string(_("No proxy: connections go out directly.")))
                      << "\n";
            return;
        }
        if (a.proxy_action == "set") {
            if (a.proxy_url.empty()) throw CommandError(Exit::usage, _("give the proxy's URL"));
            check(node->set_proxy(a.proxy_url));
            std::cout << subst(_("Proxy set: {}"), *node->proxy()) << "\n";
            return;
        }
        check(node->set_proxy(std::nullopt));
        std::cout << _("Proxy cleared: connections go out directly.") << "\n";
    });
}

}  // namespace kolokol::cli
