#include "kolokol/transport/address.hpp"

#include <asio/ip/address.hpp>
#include <charconv>

#include "kolokol/crypto/encoding.hpp"

namespace kolokol::transport {

namespace {

constexpr std::size_t kKeyChars = 52;  // ceil(256 / 5)
constexpr std::size_t kMaxHostChars = 253;
constexpr std::size_t kMaxLabelChars = 63;
constexpr std::size_t kMaxIpv6Chars = 45;

std::unexpected<Error> bad(const char* literal) {
    return fail(TransportErrc::invalid_address, "invalid address: {}", literal);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

Result<std::string> parse_name_or_ipv4(std::string_view host) {
    if (host.empty()) return bad(KOLOKOL_TEXT("the host is empty"));
    if (host.size() > kMaxHostChars)
        return bad(KOLOKOL_TEXT("the host name is longer than 253 characters"));
    bool all_numeric = true;
    std::string out;
    std::size_t label = 0;
    for (std::size_t i = 0; i < host.size(); ++i) {
        char c = host[i];
        if (c == '.') {
            if (label == 0) return bad(KOLOKOL_TEXT("the host name has an empty label"));
            if (host[i - 1] == '-') return bad(KOLOKOL_TEXT("a host name label ends with '-'"));
            label = 0;
        } else if (is_digit(c) || is_alpha(c) || c == '-') {
            if (c == '-' && label == 0)
                return bad(KOLOKOL_TEXT("a host name label starts with '-'"));
            if (!is_digit(c)) all_numeric = false;
            if (++label > kMaxLabelChars)
                return bad(KOLOKOL_TEXT("a host name label is longer than 63"));
        } else {
            return bad(
                KOLOKOL_TEXT("the host holds a character other than letters, digits, '-' and '.'"));
        }
        out.push_back(lower(c));
    }
    if (label == 0) return bad(KOLOKOL_TEXT("the host name has an empty label"));
    if (host.back() == '-') return bad(KOLOKOL_TEXT("a host name label ends with '-'"));
    if (all_numeric) {
        // Digits and dots only: it must be a valid dotted quad, not a name like "1.2.3".
        std::error_code ec;
        auto v4 = asio::ip::make_address_v4(out, ec);
        if (ec || v4.to_string() != out) return bad(KOLOKOL_TEXT("malformed IPv4 address"));
    }
    return out;
}

Result<std::string> parse_ipv6(std::string_view literal) {
    if (literal.empty() || literal.size() > kMaxIpv6Chars)
        return bad(KOLOKOL_TEXT("malformed IPv6 address"));
    for (char c : literal)
        if (!(is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f') || c == ':' || c == '.'))
            return bad(KOLOKOL_TEXT("malformed IPv6 address (zone ids are not accepted)"));
    std::error_code ec;
    auto v6 = asio::ip::make_address_v6(std::string(literal), ec);
    if (ec) return bad(KOLOKOL_TEXT("malformed IPv6 address"));
    return v6.to_string();
}

Result<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty()) return bad(KOLOKOL_TEXT("the port is missing"));
    if (text.size() > 5 || (text.size() > 1 && text[0] == '0'))
        return bad(KOLOKOL_TEXT("the port must be 1 to 65535 without leading zeros"));
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size())
        return bad(KOLOKOL_TEXT("the port must be decimal digits"));
    if (value == 0 || value > 65535) return bad(KOLOKOL_TEXT("the port must be 1 to 65535"));
    return static_cast<std::uint16_t>(value);
}

Result<StaticPublicKey> parse_key(std::string_view key_text) {
    if (key_text.size() != kKeyChars)
        return bad(KOLOKOL_TEXT("the key must be 52 base32 characters"));
    auto key = crypto::base32_decode(key_text);
    // Re-encoding must give the same text: lower case and canonical trailing bits only, so
    // one key has exactly one address.
    if (!key || key->size() != StaticPublicKey{}.size() || crypto::base32_encode(*key) != key_text)
        return bad(KOLOKOL_TEXT("the key is not lower-case base32 of 32 bytes"));
    return to_array<32>(*key);
}

// The host at the start of `rest` — "[IPv6]", or a name or IPv4 address ending at the first of
// `ends` — normalised, and what follows it. `missing` when nothing in `ends` follows a name.
Result<std::pair<std::string, std::string_view>> parse_host(std::string_view rest,
                                                            std::string_view ends,
                                                            const char* missing) {
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos)
            return bad(KOLOKOL_TEXT("the IPv6 address has no closing ']'"));
        auto host = parse_ipv6(rest.substr(1, close - 1));
        if (!host) return std::unexpected(host.error());
        return std::pair{std::move(*host), rest.substr(close + 1)};
    }
    auto end = rest.find_first_of(ends);
    if (end == std::string_view::npos) return bad(missing);
    auto host = parse_name_or_ipv4(rest.substr(0, end));
    if (!host) return std::unexpected(host.error());
    return std::pair{std::move(*host), rest.substr(end)};
}
}  // namespace

std::string key_to_text(const StaticPublicKey& key) {
    return crypto::base32_encode(key);
}

Result<Address> Address::parse(std::string_view text) {
    if (text.size() > kMaxAddressChars) return bad(KOLOKOL_TEXT("longer than 512 characters"));
    if (text.starts_with(kWsAddressScheme)) return parse_websocket(text);
    if (!text.starts_with(kAddressScheme))
        return bad(KOLOKOL_TEXT("it must start with kolokol:// or wss://"));
    auto rest = text.substr(kAddressScheme.size());

    Address out;
    auto host = parse_host(rest, ":", KOLOKOL_TEXT("the port is missing"));
    if (!host) return std::unexpected(host.error());
    out.host = std::move(host->first);
    std::string_view after_host = host->second;

    if (!after_host.starts_with(':')) return bad(KOLOKOL_TEXT("the port is missing"));
    auto slash = after_host.find('/');
    if (slash == std::string_view::npos) return bad(KOLOKOL_TEXT("the key is missing"));
    auto port = parse_port(after_host.substr(1, slash - 1));
    if (!port) return std::unexpected(port.error());
    out.port = *port;

    auto key = parse_key(after_host.substr(slash + 1));
    if (!key) return std::unexpected(key.error());
    out.key = *key;
    return out;
}

Result<Address> Address::parse_websocket(std::string_view text) {
    auto rest = text.substr(kWsAddressScheme.size());
    auto hash = rest.find('#');
    if (hash == std::string_view::npos) return bad(KOLOKOL_TEXT("the key is missing"));
    auto key = parse_key(rest.substr(hash + 1));
    if (!key) return std::unexpected(key.error());
    rest = rest.substr(0, hash);

    Address out;
    out.key = *key;
    out.port = kHttpsPort;
    auto host = parse_host(rest, ":/", KOLOKOL_TEXT("the path is missing"));
    if (!host) return std::unexpected(host.error());
    out.host = std::move(host->first);
    std::string_view after_host = host->second;
    auto slash = after_host.find('/');
    if (slash == std::string_view::npos) return bad(KOLOKOL_TEXT("the path is missing"));
    if (slash != 0) {
        if (after_host[0] != ':') return bad(KOLOKOL_TEXT("the path is missing"));
        auto port = parse_port(after_host.substr(1, slash - 1));
        if (!port) return std::unexpected(port.error());
        if (*port == kHttpsPort)
            return bad(KOLOKOL_TEXT("port 443 is left out of a wss:// address"));
        out.port = *port;
    }
    auto path = after_host.substr(slash);
    if (path.size() < 2 || path.size() > kMaxWsPathChars)
        return bad(KOLOKOL_TEXT("the path must be 2 to 200 characters"));
    for (char c : path)
        if (!(is_digit(c) || is_alpha(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
              c == '/'))
            return bad(
                KOLOKOL_TEXT("the path holds a character other than letters, digits and "
                             "-._~/"));
    out.ws_path = std::string(path);
    return out;
}

std::string Address::host_text() const {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

std::string Address::to_string() const {
    if (is_websocket()) {
        std::string out(kWsAddressScheme);
        out += host_text();
        if (port != kHttpsPort) out += ":" + std::to_string(port);
        return out + ws_path + "#" + key_to_text(key);
    }
    std::string out(kAddressScheme);
    out += host_text();
    out += ":" + std::to_string(port) + "/" + key_to_text(key);
    return out;
}

}  // namespace kolokol::transport
