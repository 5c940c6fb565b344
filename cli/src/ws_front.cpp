#include "ws_front.hpp"

#include <CLI/CLI.hpp>

#include "app.hpp"
#include "exit_codes.hpp"
#include "i18n.hpp"

namespace kolokol::cli {

void add_ws_options(CLI::App& command, WsFrontArgs& args) {
    command
        .add_option("--ws-path", args.path,
                    _("Serve behind a web server: the secret path it proxies as a WebSocket to "
                      "--listen (e.g. /k7-3f9a…); see the README"))
        ->check([](const std::string& p) {
            return p.size() >= 2 && p[0] == '/' ? std::string() : _("a path such as /secret");
        });
    command.add_option("--ws-host", args.host,
                       _("With --ws-path: the web server's public name, NAME or NAME:PORT, as in "
                         "its certificate"));
    command.add_option("--ws-proxy", args.proxies,
                       _("With --ws-path: the address of a web server on another host whose "
                         "X-Real-IP header names the client (one on loopback is always "
                         "believed); repeatable"));
}

namespace {
std::vector<asio::ip::address> parse_proxies(const WsFrontArgs& args) {
    std::vector<asio::ip::address> out;
    if (args.path.empty() != args.host.empty())
        throw CommandError(Exit::usage, _("--ws-path and --ws-host go together"));
    if (!args.proxies.empty() && args.path.empty())
        throw CommandError(Exit::usage, _("--ws-proxy goes with --ws-path"));
    for (const auto& p : args.proxies) {
        std::error_code ec;
        auto address = asio::ip::make_address(p, ec);
        if (ec)
            throw CommandError(Exit::usage, subst(_("--ws-proxy: \"{}\" is not an IP address"), p));
        out.push_back(address);
    }
    return out;
}
}  // namespace

void WsFront::check(const WsFrontArgs& args) {
    parse_proxies(args);
}

WsFront::WsFront(const WsFrontArgs& args)
    : m_args(args),
      m_proxies(parse_proxies(args)),
      m_origins(std::make_shared<transport::ClientOrigins>()) {}

asio::ip::tcp::endpoint WsFront::server_endpoint() {
    return asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0);
}

void WsFront::open(asio::any_io_executor executor, const asio::ip::tcp::endpoint& listen,
                   std::uint16_t target_port, const transport::StaticPublicKey& key,
                   const transport::SlotLimits& limits, transport::LogSink log) {
    // The host is "NAME" or "NAME:PORT" (443 when left out), checked by parsing the whole
    // address.
    auto parsed = transport::Address::parse(std::string(transport::kWsAddressScheme) + m_args.host +
                                            m_args.path + "#" + transport::key_to_text(key));
    if (!parsed) throw CommandError(Exit::usage, translated(parsed.error()));
    m_address = *parsed;
    transport::WsGatewayOptions gw;
    gw.path = m_address->ws_path;
    gw.target = asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), target_port);
    gw.max_connections = limits.max_sessions;
    gw.per_address = limits.per_address;
    // A member's listener evicts authorized sessions for a newcomer of another address of a
    // full prefix (session_slots.hpp): the gateway leaves the prefix to the Server, or a party
    // holding a prefix's upgrades would lock the rest of it out at the gateway.
    gw.per_prefix = limits.evict_authorized ? limits.max_sessions : limits.per_prefix;
    gw.origins = m_origins;
    gw.trusted_proxies = m_proxies;
    gw.log = std::move(log);
    m_gateway.emplace(executor, std::move(gw));
    if (auto st = m_gateway->listen(listen); !st)
        throw CommandError(Exit::network, translated(st.error()));
}

void WsFront::start() {
    if (m_gateway) m_gateway->start();
}

void WsFront::stop() {
    if (m_gateway) m_gateway->stop();
}

std::string WsFront::stats_line(const std::string& command) const {
    if (!m_gateway) return {};
    const auto g = m_gateway->stats();
    return subst(_("kolokol: {}: web server: {} upgraded to sessions, {} answered 404, {} refused "
                   "at the cap\n"),
                 command, g.upgraded, g.not_found, g.refused + g.refused_client);
}

}  // namespace kolokol::cli
