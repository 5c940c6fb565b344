#pragma once
// Whether a SOCKS5 proxy is Tor (`kolokol doctor`).

#include <chrono>

#include "kolokol/crypto/error.hpp"
#include "kolokol/transport/socks5.hpp"

namespace kolokol::transport {

// The status line Tor's SOCKS port sends to anything that starts like an HTTP request.
inline constexpr std::string_view kTorHttpRefusal = "HTTP/1.0 501 Tor is not an HTTP Proxy";

// Connects to `proxy` and, instead of a SOCKS greeting, sends "GET / HTTP/1.0\r\n\r\n". Tor
// (proto_socks.c) answers that at once with kTorHttpRefusal as its status line, before any
// circuit and without touching the network, then closes; a plain SOCKS5 proxy (dante, ssh -D)
// closes or answers something else. Reads at most 64 bytes, up to the first line's end.
// Returns true when that line is Tor's; false when the proxy answered otherwise, closed, or
// said nothing within `timeout`. Fails with connect_failed when the proxy cannot be reached
// within `timeout`. Blocking: an io_context of its own on the calling thread; never throws.
Result<bool> proxy_answers_as_tor(const ProxyAddress& proxy, std::chrono::milliseconds timeout);

}  // namespace kolokol::transport
