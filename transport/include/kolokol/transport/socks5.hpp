#pragma once
// A SOCKS5 client (RFC 1928; "no authentication", and RFC 1929 username/password when given
// credentials) as a Dialer (session_connect.hpp), for Tor and other proxies (DESIGN §5).
//
// Privacy contract: the proxy is given as an IP literal, so dialing through it never resolves
// a name on this machine; the target host goes to the proxy as written (ATYP 3, domain name)
// unless it is an IP literal (ATYP 1 or 4). So `.onion` addresses work and no DNS query leaves
// the machine. The dialer never falls back to a direct connection.
//
// Untrusted input: every byte the proxy sends is read with an exact, bounded length (at most
// 4 + 1 + 255 + 2 bytes for the CONNECT reply); anything malformed fails with connect_failed
// and a message that names the proxy, the target and what was wrong. The whole exchange (TCP
// connect to the proxy, greeting, CONNECT and its reply) must finish within the dialer's
// timeout.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kolokol/crypto/error.hpp"
#include "kolokol/transport/session_connect.hpp"

namespace kolokol::transport {

// A proxy address: "socks5://IP:PORT" or "socks5h://IP:PORT" (the same here: names are always
// resolved by the proxy). IP is a dotted quad or a bracketed IPv6 literal; a host name is
// refused, since resolving it would be a DNS lookup. PORT is 1..65535. At most 128 characters.
struct ProxyAddress {
    ProxyAddress() = default;
    ProxyAddress(std::string h, std::uint16_t p) : host(std::move(h)), port(p) {}

    std::string host;  // the IP literal, without brackets
    std::uint16_t port = 0;

    // invalid_address with a message naming what is wrong.
    static Result<ProxyAddress> parse(std::string_view text);
    // "socks5://HOST:PORT" (IPv6 in brackets); parse(to_string()) == *this.
    std::string to_string() const;
    friend bool operator==(const ProxyAddress&, const ProxyAddress&) = default;
};

// The longest host name SOCKS5 can carry (its length is one byte).
inline constexpr std::size_t kSocks5MaxHostChars = 255;

// Username and password (RFC 1929), each 1..255 bytes. They authenticate nothing here: Tor
// (IsolateSOCKSAuth, on by default) puts connections that gave different credentials on
// different circuits, which is what they are for.
struct Socks5Auth {
    std::string username;
    std::string password;
};

// A Dialer that connects to `proxy` and asks it for host:port. With `auth` the greeting offers
// username/password first and "no authentication" second, and the proxy chooses: Tor takes the
// credentials, a proxy that knows no authentication (dante with `socksmethod: none`) goes
// without them. Failures (all connect_failed): the proxy unreachable; a reply that is not
// SOCKS5, or asks for a method not offered; credentials refused; a CONNECT refused (the message
// names the reply code: general failure, not allowed by ruleset, network or host unreachable,
// connection refused, TTL expired, command or address type not supported); a malformed or
// truncated reply; the timeout. invalid_address for credentials of 0 or over 255 bytes. The
// returned socket is positioned right after the proxy's reply: the next byte is the target's.
Dialer socks5_dialer(ProxyAddress proxy, std::optional<Socks5Auth> auth = std::nullopt);

// The text for a SOCKS5 reply code (0x00..0x08; "unknown reply code" otherwise): a message
// literal, English (translated where it is shown).
const char* socks5_reply_text(std::uint8_t code);

}  // namespace kolokol::transport
