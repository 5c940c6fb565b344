#pragma once
// The client side of a wss:// address (session_connect.hpp): TLS, the WebSocket upgrade, then
// the Noise initiator over a loopback pair whose other end the tunnel (ws_tunnel.hpp) carries.

#include <asio/awaitable.hpp>

#include "kolokol/transport/session_connect.hpp"

namespace kolokol::transport::detail {

asio::awaitable<Result<Session>> connect_websocket(Address address,
                                                   const crypto::BoxKeyPair& local_static,
                                                   ConnectOptions options);

// Two connected TCP sockets on 127.0.0.1 (the second is the accepted end). A stranger that
// connects to the short-lived listener first is refused: the accepted end must come from the
// first's local port.
Result<std::pair<asio::ip::tcp::socket, asio::ip::tcp::socket>> loopback_pair(
    asio::any_io_executor executor);

}  // namespace kolokol::transport::detail
