#pragma once
// A relay or a member's `serve` behind a web server (DESIGN §8.7): the options --ws-path,
// --ws-host and --ws-proxy, the wss:// address to hand out, and the gateway that carries the
// secret path's WebSocket upgrades to the command's own Server on loopback.
//
// Use: WsFront front(args); give front.origins() to the Server (ServerOptions::origins) and let
// it listen on loopback port 0; then front.open(…) with its port and key; start(); print
// address(); stop() on the way out, then print stats_line().

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kolokol/transport/address.hpp"
#include "kolokol/transport/log.hpp"
#include "kolokol/transport/ws_gateway.hpp"

namespace CLI {
class App;
}

namespace kolokol::cli {

struct WsFrontArgs {
    std::string path;
    std::string host;
    std::vector<std::string> proxies;

    bool given() const { return !path.empty() || !host.empty() || !proxies.empty(); }
};

// Adds --ws-path, --ws-host and --ws-proxy to `command`, filling `args`.
void add_ws_options(CLI::App& command, WsFrontArgs& args);

class WsFront {
public:
    // Checks that the options go together and parse: CommandError (Exit::usage) otherwise.
    static void check(const WsFrontArgs& args);
    // check(args) first. Construct it after the io_context it will run on: its gateway's
    // sockets must go before that.
    explicit WsFront(const WsFrontArgs& args);

    // The table the Server must be given, so that it caps each client by its own address.
    std::shared_ptr<const transport::ClientOrigins> origins() const { return m_origins; }
    // The Server's address on loopback where the gateway's connections go.
    static asio::ip::tcp::endpoint server_endpoint();

    // Listens on `listen` (the command's --listen) for the web server and carries upgrades of
    // the secret path to `target_port` on loopback, within the Server's own caps (`limits`: in
    // all, and per client address and prefix). CommandError (usage or network) on failure.
    void open(asio::any_io_executor executor, const asio::ip::tcp::endpoint& listen,
              std::uint16_t target_port, const transport::StaticPublicKey& key,
              const transport::SlotLimits& limits, transport::LogSink log);
    void start();
    // Idempotent; safe from any thread.
    void stop();

    // wss://HOST[:PORT]/PATH#KEY, once open().
    const transport::Address& address() const { return *m_address; }
    // One line for stderr: what the web server brought, prefixed with "kolokol: COMMAND: ".
    std::string stats_line(const std::string& command) const;

private:
    WsFrontArgs m_args;
    std::vector<asio::ip::address> m_proxies;
    std::shared_ptr<transport::ClientOrigins> m_origins;
    std::optional<transport::Address> m_address;
    std::optional<transport::WsGateway> m_gateway;
};

}  // namespace kolokol::cli
