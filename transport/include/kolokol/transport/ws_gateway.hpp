#pragma once
// The relay's side of a wss:// address (DESIGN §8.7). A web server (nginx) terminates TLS and
// proxies the secret path, with its Upgrade and Connection headers, to this gateway on
// loopback. The gateway answers a WebSocket upgrade of exactly that path with 101 and carries
// the frames to the relay's own Server (a TCP connection to `target`, where the Noise session
// runs as on any connection); every other request gets a plain 404 and is closed, so no
// session, log line or byte of Kolokol's is seen by whoever asked.
//
// Every connection the gateway accepts comes from the web server, so the Server's caps per
// address and prefix (server.hpp) would count all clients as one. The gateway names the client
// each of its connections to the Server carries (ClientOrigins): the address in the X-Real-IP
// header when the request comes from loopback or a trusted proxy — the web server sets it from
// the client's own address — else the address the request came from.

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/crypto/error.hpp"
#include "kolokol/transport/log.hpp"
#include "kolokol/transport/server.hpp"

namespace kolokol::transport {

struct WsGatewayOptions {
    WsGatewayOptions() = default;  // not an aggregate: see SessionOptions

    std::string path;                // the secret path, with its leading '/'
    asio::ip::tcp::endpoint target;  // the relay's Server, on loopback
    // Connections at once (reading a request or carrying a session); more are closed at once.
    std::size_t max_connections = 1024;
    // Upgrades carried at once per client address and per client prefix (/24, /48), the client
    // named as client_address() says: over either, the upgrade is answered as any other request
    // (404) and closed, before the Server is dialled. Without them one client behind the web
    // server could hold every connection above, and the Server's own caps per client would
    // never be reached.
    std::size_t per_address = 32;
    std::size_t per_prefix = 128;
    // The request must arrive whole within this.
    std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
    // Set: each connection to `target` is registered with its client's address, for a Server
    // given the same table (ServerOptions::origins).
    std::shared_ptr<ClientOrigins> origins;
    // Web servers on other hosts whose X-Real-IP is believed, as a web server on loopback's is.
    std::vector<asio::ip::address> trusted_proxies;
    LogSink log;
};

// The client a request came from: X-Real-IP of `head` when `peer` (the address the request came
// from) is loopback or one of `trusted` and the header holds one IP address; `peer` otherwise.
// A client that sends its own X-Real-IP through a web server that does not set it could name
// any address: the README's nginx configuration sets it.
asio::ip::address client_address(const asio::ip::address& peer, std::string_view head,
                                 const std::vector<asio::ip::address>& trusted);

struct WsGatewayStats {
    std::uint64_t accepted = 0;
    std::uint64_t upgraded = 0;        // carried to the Server
    std::uint64_t not_found = 0;       // answered 404: another path, not an upgrade, a bad request
    std::uint64_t refused = 0;         // closed at once: max_connections reached
    std::uint64_t refused_client = 0;  // an upgrade over its client's per_address or per_prefix
};

class WsGateway {
public:
    WsGateway(asio::any_io_executor executor, WsGatewayOptions options);
    ~WsGateway();  // stop()
    WsGateway(const WsGateway&) = delete;
    WsGateway& operator=(const WsGateway&) = delete;

    // Binds and listens; listen_failed with the OS's reason.
    Status listen(const asio::ip::tcp::endpoint& endpoint);
    void start();
    // Stops accepting and closes every connection. Idempotent; safe from any thread.
    void stop();
    asio::ip::tcp::endpoint local_endpoint() const;
    WsGatewayStats stats() const;

    struct State;

private:
    std::shared_ptr<State> m_state;
};

}  // namespace kolokol::transport
