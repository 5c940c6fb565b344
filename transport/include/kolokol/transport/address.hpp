#pragma once
// Relay and peer addresses that pin the peer's transport key (DESIGN §4):
//
//   kolokol://<host>:<port>/<key>
//
// host: a DNS name (letters, digits, '-' and '.', labels of 1..63, ≤ 253 in all; stored in
// lower case), an IPv4 dotted quad, or an IPv6 literal in brackets (no zone id). port: 1..65535,
// decimal, no leading zeros. key: the peer's 32-byte X25519 transport static key in RFC 4648
// base32, lower case, no padding (52 characters). The whole text is at most kMaxAddressChars.
// Nothing else is accepted: no user info, path, query, fragment or trailing slash.
//
// A relay behind a web server (DESIGN §8.7) is reached through TLS and a WebSocket on a secret
// path:
//
//   wss://<host>[:<port>]/<path>#<key>
//
// host and key as above; port 443 when left out (and then left out of the canonical text);
// path: 1..kMaxWsPathChars characters of letters, digits and "-._~/", starting with '/', not
// "/" alone. The key stays pinned: the web server and any CDN carry the Noise session unread.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "kolokol/crypto/error.hpp"
#include "kolokol/transport/noise.hpp"
#include "kolokol/transport/session_error.hpp"

namespace kolokol::transport {

// A transport static public key (X25519): per installation, not the identity key.
using StaticPublicKey = noise::PublicKey;

inline constexpr std::string_view kAddressScheme = "kolokol://";
inline constexpr std::string_view kWsAddressScheme = "wss://";
inline constexpr std::size_t kMaxAddressChars = 512;
inline constexpr std::size_t kMaxWsPathChars = 200;
inline constexpr std::uint16_t kHttpsPort = 443;

struct Address {
    // Constructors rather than aggregate initialization: see SessionOptions in session.hpp.
    Address() = default;
    Address(std::string h, std::uint16_t p, const StaticPublicKey& k)
        : host(std::move(h)), port(p), key(k) {}

    std::string host;  // without brackets, normalised (IPv6 canonical, names lower case)
    std::uint16_t port = 0;
    StaticPublicKey key{};
    // The secret path of a wss:// address (with its leading '/'); empty for kolokol://.
    std::string ws_path;

    bool is_websocket() const { return !ws_path.empty(); }

    // Fails with invalid_address and a message naming the part that is wrong.
    static Result<Address> parse(std::string_view text);
    // The canonical text; parse(a.to_string()) == a.
    std::string to_string() const;
    // The host as it goes before ":port" (IPv6 in brackets).
    std::string host_text() const;

    friend bool operator==(const Address&, const Address&) = default;

private:
    static Result<Address> parse_websocket(std::string_view text);
};

// The key as it appears in addresses (52 lower-case base32 characters), for messages and logs.
std::string key_to_text(const StaticPublicKey& key);

}  // namespace kolokol::transport
