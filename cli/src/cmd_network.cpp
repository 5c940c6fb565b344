// The proxy, "Tor only" groups and LAN discovery (network.hpp) · kolokol proxy
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <chrono>
#include <iostream>
#include <map>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/wall_clock.hpp"
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

transport::SyncEngine::Admit held_mailboxes(core::Node& node) {
    return [&node](const core::MailboxId& mailbox) -> std::optional<std::string> {
        for (const auto& m : node.mailboxes())
            if (m == mailbox) return std::nullopt;
        return std::string("not served here");
    };
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

class LanRunner : public std::enable_shared_from_this<LanRunner> {
public:
    LanRunner(asio::io_context& io, core::Node& node, transport::Replica& replica, LanHooks hooks)
        : m_io(io), m_node(node), m_replica(replica), m_hooks(std::move(hooks)) {
        auto lock = node_lock();
        m_local = node.transport_key();
    }

    void start(std::uint16_t listen_port) {
        auto& a = args();
        std::error_code ec;
        auto group = asio::ip::make_address_v4(a.lan_group, ec);
        if (ec || !group.is_multicast())
            throw CommandError(Exit::usage, subst(_("--lan-group {} is not an IPv4 multicast "
                                                    "address (224.0.0.0/4)"),
                                                  a.lan_group));
        transport::lan::DiscoveryOptions options;
        options.group = group;
        options.port = a.lan_port;
        options.interval = std::chrono::milliseconds(a.lan_interval_ms);
        options.interfaces = a.lan_interfaces;
        // A peer that was just synced is left alone for six beacon intervals (at least 5 s).
        m_cooldown =
            std::max<std::chrono::milliseconds>(options.interval * 6, std::chrono::seconds(5));

        std::vector<crypto::SecretBytes> send, listen;
        std::set<core::GroupId> groups;
        std::vector<core::Node::BeaconKey> keys;
        {
            auto lock = node_lock();
            keys = m_node.beacon_keys();
        }
        for (const auto& k : keys) {
            groups.insert(k.group);
            if (k.send) send.push_back(k.key.clone());
        }
        // Listen keys: the send keys first (index < send.size()), then the others; the group
        // of each, by index.
        for (const auto& k : keys)
            if (k.send) m_listen_groups.push_back(k.group);
        for (const auto& k : send) listen.push_back(k.clone());
        for (auto& k : keys)
            if (!k.send) {
                m_listen_groups.push_back(k.group);
                listen.push_back(std::move(k.key));
            }
        m_send_count = send.size();
        if (send.empty())
            throw CommandError(Exit::not_found,
                               _("no group to announce on the LAN (Tor-only groups never are)"));
        transport::lan::BeaconInfo self;
        self.port = listen_port;
        self.key = m_local.public_key;
        std::weak_ptr<LanRunner> weak = shared_from_this();
        m_discovery = std::make_unique<transport::lan::Discovery>(
            m_io.get_executor(), options, std::move(send), listen, self, &storage::wall_clock_ms,
            [weak](const asio::ip::address& from, const transport::lan::Recognition& what) {
                if (auto self = weak.lock()) self->found(from, what);
            });
        if (auto ok = m_discovery->start(); !ok)
            throw CommandError(Exit::network, translated(ok.error()));
        std::string ifs;
        for (const auto& i : m_discovery->interfaces()) ifs += (ifs.empty() ? "" : ", ") + i;
        say(subst(P_("LAN discovery on {}:{} via {} for {} group",
                     "LAN discovery on {}:{} via {} for {} groups", groups.size()),
                  a.lan_group, std::to_string(a.lan_port), ifs, groups.size()),
            false);
    }

    void stop() {
        if (!m_discovery) return;
        m_discovery->stop();
        auto s = m_discovery->stats();
        say(subst(_("LAN: {} beacons sent, {} received: {} from members, {} not "
                    "recognised, {} replayed, {} from a wrong address, {} malformed, "
                    "{} dropped by the rate limit; {} syncs"),
                  std::to_string(s.sent), std::to_string(s.received), std::to_string(s.recognised),
                  std::to_string(s.unknown), std::to_string(s.replayed),
                  std::to_string(s.wrong_source), std::to_string(s.malformed),
                  std::to_string(s.rate_limited), std::to_string(m_syncs)),
            false);
    }

private:
    std::unique_lock<std::mutex> node_lock() {
        return m_hooks.node_mutex ? std::unique_lock(*m_hooks.node_mutex)
                                  : std::unique_lock<std::mutex>();
    }

    void say(const std::string& text, bool error) {
        if (m_hooks.log)
            m_hooks.log(text, error);
        else
            std::cerr << (error ? "kolokol: " : "") << text << std::endl;
    }

    void found(const asio::ip::address& from, const transport::lan::Recognition& what) {
        // Both sides hear each other: the one with the smaller transport key connects, unless
        // the beacon came under a key this side does not send (the other side's epoch is
        // ahead or behind), when it may not recognise ours.
        bool heard_only = what.key_index >= m_send_count;
        if (!heard_only && !(m_local.public_key < what.info.key)) return;
        transport::Address peer(from.to_string(), what.info.port, what.info.key);
        if (what.key_index >= m_listen_groups.size()) return;
        const auto& group = m_listen_groups[what.key_index];
        if (m_hooks.on_member) {
            m_hooks.on_member(peer, group);
            return;
        }
        // One session per member and group: the member is offered only the mailboxes of the
        // group whose beacon it sent, never this member's other groups.
        auto id = peer.to_string() + " " + crypto::hex_encode(group);
        auto now = std::chrono::steady_clock::now();
        if (m_busy.contains(id)) return;
        if (auto it = m_last.find(id); it != m_last.end() && now - it->second < m_cooldown) return;
        m_busy.insert(id);
        asio::co_spawn(m_io, sync_peer(shared_from_this(), peer, group, id), asio::detached);
    }

    // LAN syncs are direct: a Tor-only group is never offered on them.
    static std::vector<transport::MailboxKey> lan_keys(core::Node& node,
                                                       const core::GroupId& group) {
        if (node.tor_only(group)) return {};
        return node.mailbox_keys(&group);
    }

    static asio::awaitable<void> sync_peer(std::shared_ptr<LanRunner> self, transport::Address peer,
                                           core::GroupId group, std::string id) {
        auto host = peer.host + ":" + std::to_string(peer.port);
        // A rotation received here may give us a new mailbox, and one we sent may give the
        // peer one it refused a moment ago: sync again while either makes progress.
        Result<transport::SyncReport> r = fail(transport::SyncErrc::stopped);
        std::uint64_t sent = 0, received = 0;
        std::size_t known = 0;
        std::optional<std::size_t> refused_before;  // refusals of the round before the last
        for (int round = 0; round < 8; ++round) {
            std::vector<transport::MailboxKey> keys;
            {
                auto lock = self->node_lock();
                keys = lan_keys(self->m_node, group);
            }
            if (round > 0) {
                bool more_keys = keys.size() > known;
                auto refused_now = r->refused.size();
                bool progress =
                    refused_now > 0 && (!refused_before || refused_now < *refused_before);
                if (!more_keys && !progress) break;
                refused_before = refused_now;
            }
            known = keys.size();
            transport::SyncOptions options;
            if (keys.empty()) {
                r = fail(transport::SyncErrc::stopped, "the group is no longer announced here");
                break;
            }
            r = co_await transport::async_sync_with(peer, std::move(keys), self->m_replica,
                                                    std::move(options));
            if (!r) break;
            sent += r->sent;
            received += r->received;
        }
        self->m_busy.erase(id);
        self->m_last[id] = std::chrono::steady_clock::now();
        if (!r) {
            self->say(subst(_("LAN sync with {} failed: {}"), host, translated(r.error())), true);
            co_return;
        }
        ++self->m_syncs;
        self->say(subst(_("LAN: synced with {}: sent {}, received {}"), host, std::to_string(sent),
                        std::to_string(received)),
                  false);
        Result<std::vector<std::string>> done;
        {
            auto lock = self->node_lock();
            done = self->m_node.maintain();
        }
        if (done)
            for (const auto& line : *done) self->say(line, false);
    }

    asio::io_context& m_io;
    core::Node& m_node;
    transport::Replica& m_replica;
    LanHooks m_hooks;
    crypto::BoxKeyPair m_local;
    std::vector<core::GroupId> m_listen_groups;  // the group of each listen key, by index
    std::unique_ptr<transport::lan::Discovery> m_discovery;
    std::size_t m_send_count = 0;
    std::chrono::milliseconds m_cooldown{5000};
    std::map<std::string, std::chrono::steady_clock::time_point> m_last;
    std::set<std::string> m_busy;
    std::uint64_t m_syncs = 0;
};

std::shared_ptr<LanRunner> start_lan(asio::io_context& io, core::Node& node,
                                     transport::Replica& replica, std::uint16_t listen_port,
                                     LanHooks hooks) {
    auto runner = std::make_shared<LanRunner>(io, node, replica, std::move(hooks));
    runner->start(listen_port);
    return runner;
}

void stop_lan(const std::shared_ptr<LanRunner>& runner) {
    if (runner) runner->stop();
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
