#pragma once
// The client side: dial, then run the Noise_XX initiator (session.hpp).
//
// Dialing is a seam: a Dialer yields a connected TCP socket for host:port. The default connects
// directly; a SOCKS5 dialer (Tor, DESIGN §5) plugs in here later without touching the rest.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/session.hpp"

namespace kolokol::transport {

// Yields a socket on `executor`, connected (possibly through a proxy) to host:port, within
// `timeout`. Fails with connect_failed and a message that names the host and the reason.
using Dialer = std::function<asio::awaitable<Result<asio::ip::tcp::socket>>(
    asio::any_io_executor executor, std::string host, std::uint16_t port,
    std::chrono::milliseconds timeout)>;

// Resolves `host` (a name or an IP literal) and connects to the first address that answers. An
// onion name (is_onion_host) fails at once, never asked of the resolver: only a proxy reaches it.
Dialer direct_dialer();
// Whether `host` is a name under .onion (any case, with or without the final dot).
bool is_onion_host(std::string_view host);

struct ConnectOptions {
    ConnectOptions() = default;  // not an aggregate: see SessionOptions

    SessionOptions session;
    // Resolving plus connecting; the handshake has its own session.handshake_timeout.
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
    Dialer dialer;  // empty: direct_dialer()
    // wss:// addresses: a PEM file of the CAs to trust for the web server's certificate
    // instead of the system's store (a test CA, a private one). Empty: the system's store.
    std::string tls_ca_file;
};

// Connects and runs the handshake on the calling coroutine's executor (which the session then
// uses: see session.hpp on threading). With `expected_remote_static`, a peer with another key
// fails with remote_key_mismatch: "the relay's key does not match the address (expected …,
// got …)". `local_static` (this installation's transport key) must stay valid until the
// returned awaitable completes. Other failures: connect_failed, and those of
// Session::initiate().
asio::awaitable<Result<Session>> connect(std::string host, std::uint16_t port,
                                         const crypto::BoxKeyPair& local_static,
                                         std::optional<StaticPublicKey> expected_remote_static,
                                         ConnectOptions options = {});
// The same for an address, always pinning the address's key. A wss:// address is dialed the
// same way (through the dialer, so a proxy carries it too), then TLS (SNI and ALPN http/1.1,
// the certificate checked against the host name) and a WebSocket upgrade on its path carry
// the session; failures there are connect_failed ("… TLS: …", "… the web server refused the
// upgrade").
asio::awaitable<Result<Session>> connect(const Address& address,
                                         const crypto::BoxKeyPair& local_static,
                                         ConnectOptions options = {});

}  // namespace kolokol::transport
