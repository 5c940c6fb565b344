#include "kolokol/transport/socks5.hpp"

#include <array>
#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/address.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <charconv>
#include <cstdio>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::transport {

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

constexpr std::size_t kMaxProxyChars = 128;
constexpr std::uint8_t kVersion = 5;
constexpr std::uint8_t kNoAuth = 0;
constexpr std::uint8_t kUserPass = 2;
constexpr std::uint8_t kUserPassVersion = 1;  // RFC 1929's subnegotiation version
constexpr std::uint8_t kNoAcceptable = 0xff;
constexpr std::uint8_t kConnect = 1;
constexpr std::uint8_t kAtypIpv4 = 1;
constexpr std::uint8_t kAtypDomain = 3;
constexpr std::uint8_t kAtypIpv6 = 4;

std::unexpected<Error> bad_proxy(const char* literal) {
    return fail(TransportErrc::invalid_address, "invalid proxy address: {}", literal);
}

std::string hex_byte(std::uint8_t b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", b);
    return buf;
}

// One dial through the proxy; the shared deadline bounds every step.
class Socks5Dial {
public:
    Socks5Dial(asio::any_io_executor executor, const ProxyAddress& proxy,
               std::optional<Socks5Auth> auth, std::string host, std::uint16_t port,
               std::chrono::milliseconds timeout)
        : m_socket(executor),
          m_deadline(executor),
          m_proxy(proxy),
          m_auth(std::move(auth)),
          m_host(std::move(host)),
          m_port(port) {
        m_deadline.expires_after(timeout);
    }

    asio::awaitable<Result<asio::ip::tcp::socket>> run() {
        if (m_host.empty() || m_host.size() > kSocks5MaxHostChars)
            co_return connect_error("the host name must be 1 to 255 characters for SOCKS5");
        std::error_code ec;
        auto proxy_ip = asio::ip::make_address(m_proxy.host, ec);
        if (ec) co_return connect_error("the proxy is not an IP address");
        asio::ip::tcp::endpoint proxy_endpoint(proxy_ip, m_proxy.port);

        auto connected = co_await (m_socket.async_connect(proxy_endpoint, use_tuple) || timer());
        if (connected.index() == 1) co_return connect_error("timed out connecting to the proxy");
        if (auto e = std::get<0>(std::get<0>(connected)); e)
            co_return connect_error("the proxy is unreachable: {}", e.message());

        // Greeting: version 5 and the methods, username/password first when we have
        // credentials (Tor then isolates by them), "no authentication" always.
        const Bytes greeting =
            m_auth ? Bytes{kVersion, 2, kUserPass, kNoAuth} : Bytes{kVersion, 1, kNoAuth};
        if (auto s = co_await write(greeting); !s) co_return std::unexpected(s.error());
        std::array<std::uint8_t, 2> choice{};
        if (auto s = co_await read(choice, KOLOKOL_TEXT("the method choice")); !s)
            co_return std::unexpected(s.error());
        if (choice[0] != kVersion)
            co_return connect_error("the proxy does not speak SOCKS5 (version byte {})",
                                    hex_byte(choice[0]));
        if (choice[1] == kNoAcceptable) {
            if (m_auth)
                co_return connect_error(
                    "the proxy requires authentication other than a username and password, which "
                    "is not supported");
            co_return connect_error("the proxy requires authentication, which is not supported");
        }
        if (choice[1] == kUserPass && m_auth) {
            if (auto s = co_await authenticate(); !s) co_return std::unexpected(s.error());
        } else if (choice[1] != kNoAuth) {
            co_return connect_error("the proxy chose a method that was not offered ({})",
                                    hex_byte(choice[1]));
        }

        if (auto s = co_await write(connect_request()); !s) co_return std::unexpected(s.error());

        // Reply: VER REP RSV ATYP, then the bound address by ATYP, then the port.
        std::array<std::uint8_t, 4> head{};
        if (auto s = co_await read(head, KOLOKOL_TEXT("the CONNECT reply")); !s)
            co_return std::unexpected(s.error());
        if (head[0] != kVersion)
            co_return connect_error("malformed CONNECT reply (version byte {})", hex_byte(head[0]));
        // An unknown code is shown as its byte, so the person can look it up.
        if (head[1] > 0x08)
            co_return connect_error("the proxy refused: unknown reply code {}", hex_byte(head[1]));
        if (head[1] != 0)
            co_return connect_error("the proxy refused: {}", socks5_reply_text(head[1]));
        if (head[2] != 0)
            co_return connect_error("malformed CONNECT reply (reserved byte {})",
                                    hex_byte(head[2]));
        std::size_t address_bytes = 0;
        switch (head[3]) {
            case kAtypIpv4:
                address_bytes = 4;
                break;
            case kAtypIpv6:
                address_bytes = 16;
                break;
            case kAtypDomain: {
                std::array<std::uint8_t, 1> len{};
                if (auto s = co_await read(len, KOLOKOL_TEXT("the bound address")); !s)
                    co_return std::unexpected(s.error());
                if (len[0] == 0)
                    co_return connect_error("malformed CONNECT reply (empty bound name)");
                address_bytes = len[0];
                break;
            }
            default:
                co_return connect_error("malformed CONNECT reply (address type {})",
                                        hex_byte(head[3]));
        }
        // At most 255 + 2 bytes: the bound address and port are read and discarded.
        std::array<std::uint8_t, 255 + 2> rest{};
        if (auto s = co_await read(std::span(rest).first(address_bytes + 2),
                                   KOLOKOL_TEXT("the bound address"));
            !s)
            co_return std::unexpected(s.error());
        co_return std::move(m_socket);
    }

private:
    // RFC 1929: VER 1, ULEN, UNAME, PLEN, PASSWD; the answer is VER, STATUS (0 = success).
    asio::awaitable<Status> authenticate() {
        Bytes request{kUserPassVersion, static_cast<std::uint8_t>(m_auth->username.size())};
        append(request, as_bytes(m_auth->username));
        request.push_back(static_cast<std::uint8_t>(m_auth->password.size()));
        append(request, as_bytes(m_auth->password));
        if (auto s = co_await write(request); !s) co_return s;
        std::array<std::uint8_t, 2> answer{};
        if (auto s = co_await read(answer, KOLOKOL_TEXT("the authentication answer")); !s)
            co_return s;
        if (answer[0] != kUserPassVersion)
            co_return connect_error("malformed authentication answer (version byte {})",
                                    hex_byte(answer[0]));
        if (answer[1] != 0)
            co_return connect_error("the proxy refused the credentials (status {})",
                                    hex_byte(answer[1]));
        co_return Status{};
    }

    asio::awaitable<std::tuple<asio::error_code>> timer() {
        return m_deadline.async_wait(use_tuple);
    }

    // `literal` is a message literal, with a "{}" for each of `args`.
    template <class... Args>
    std::unexpected<Error> connect_error(const char* literal, Args&&... args) const {
        Error why;
        if constexpr (sizeof...(Args) == 0)
            why = make_error(TransportErrc::connect_failed, literal);
        else
            why = make_error(TransportErrc::connect_failed, literal, std::forward<Args>(args)...);
        return fail(TransportErrc::connect_failed,
                    "could not connect to {}:{} through the SOCKS5 proxy {}: {}", m_host, m_port,
                    m_proxy.to_string(), why);
    }

    Bytes connect_request() const {
        Bytes req{kVersion, kConnect, 0};
        std::error_code ec;
        auto ip = asio::ip::make_address(m_host, ec);
        if (!ec && ip.is_v4()) {
            req.push_back(kAtypIpv4);
            auto b = ip.to_v4().to_bytes();
            req.insert(req.end(), b.begin(), b.end());
        } else if (!ec && ip.is_v6()) {
            req.push_back(kAtypIpv6);
            auto b = ip.to_v6().to_bytes();
            req.insert(req.end(), b.begin(), b.end());
        } else {
            req.push_back(kAtypDomain);
            req.push_back(static_cast<std::uint8_t>(m_host.size()));
            req.insert(req.end(), m_host.begin(), m_host.end());
        }
        req.push_back(static_cast<std::uint8_t>(m_port >> 8));
        req.push_back(static_cast<std::uint8_t>(m_port & 0xff));
        return req;
    }

    asio::awaitable<Status> write(ByteView data) {
        auto r = co_await (
            asio::async_write(m_socket, asio::buffer(data.data(), data.size()), use_tuple) ||
            timer());
        if (r.index() == 1) co_return connect_error("timed out talking to the proxy");
        if (auto e = std::get<0>(std::get<0>(r)); e)
            co_return connect_error("writing to the proxy failed: {}", e.message());
        co_return Status{};
    }

    asio::awaitable<Status> read(std::span<std::uint8_t> out, const char* what) {
        auto r = co_await (
            asio::async_read(m_socket, asio::buffer(out.data(), out.size()), use_tuple) || timer());
        if (r.index() == 1) co_return connect_error("timed out waiting for {}", what);
        if (auto e = std::get<0>(std::get<0>(r)); e) {
            if (e == asio::error::eof)
                co_return connect_error("the proxy closed the connection before {} was complete",
                                        what);
            co_return connect_error("reading {} failed: {}", what, e.message());
        }
        co_return Status{};
    }

    asio::ip::tcp::socket m_socket;
    asio::steady_timer m_deadline;
    ProxyAddress m_proxy;
    std::optional<Socks5Auth> m_auth;
    std::string m_host;
    std::uint16_t m_port;
};

asio::awaitable<Result<asio::ip::tcp::socket>> dial_through(ProxyAddress proxy,
                                                            std::optional<Socks5Auth> auth,
                                                            asio::any_io_executor executor,
                                                            std::string host, std::uint16_t port,
                                                            std::chrono::milliseconds timeout) {
    auto fits = [](const std::string& s) { return !s.empty() && s.size() <= 255; };
    if (auth && (!fits(auth->username) || !fits(auth->password)))
        co_return fail(TransportErrc::invalid_address,
                       "SOCKS5 credentials must be 1 to 255 bytes each");
    Socks5Dial dial(std::move(executor), proxy, std::move(auth), std::move(host), port, timeout);
    co_return co_await dial.run();
}

}  // namespace

Result<ProxyAddress> ProxyAddress::parse(std::string_view text) {
    if (text.size() > kMaxProxyChars) return bad_proxy(KOLOKOL_TEXT("longer than 128 characters"));
    std::string_view rest;
    if (text.starts_with("socks5://"))
        rest = text.substr(9);
    else if (text.starts_with("socks5h://"))
        rest = text.substr(10);
    else
        return bad_proxy(
            KOLOKOL_TEXT("it must start with socks5:// (e.g. socks5://127.0.0.1:9050)"));
    std::string_view host, port_text;
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos)
            return bad_proxy(KOLOKOL_TEXT("the IPv6 address has no ']'"));
        host = rest.substr(1, close - 1);
        auto after = rest.substr(close + 1);
        if (!after.starts_with(':')) return bad_proxy(KOLOKOL_TEXT("the port is missing"));
        port_text = after.substr(1);
    } else {
        auto colon = rest.find(':');
        if (colon == std::string_view::npos) return bad_proxy(KOLOKOL_TEXT("the port is missing"));
        host = rest.substr(0, colon);
        port_text = rest.substr(colon + 1);
    }
    std::error_code ec;
    auto ip = asio::ip::make_address(std::string(host), ec);
    if (ec || host.find('%') != std::string_view::npos)
        return bad_proxy(
            KOLOKOL_TEXT("the proxy must be an IP address (a name would need a DNS lookup)"));
    if (ip.is_v4() && rest.starts_with('['))
        return bad_proxy(KOLOKOL_TEXT("an IPv4 address goes without brackets"));
    if (ip.is_v6() && !rest.starts_with('['))
        return bad_proxy(KOLOKOL_TEXT("an IPv6 address goes in brackets"));
    if (port_text.empty() || port_text.size() > 5 || (port_text.size() > 1 && port_text[0] == '0'))
        return bad_proxy(KOLOKOL_TEXT("the port must be 1 to 65535 without leading zeros"));
    unsigned port = 0;
    auto [end, perr] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (perr != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
        return bad_proxy(KOLOKOL_TEXT("the port must be 1 to 65535"));
    return ProxyAddress(ip.to_string(), static_cast<std::uint16_t>(port));
}

std::string ProxyAddress::to_string() const {
    if (host.find(':') != std::string::npos)
        return "socks5://[" + host + "]:" + std::to_string(port);
    return "socks5://" + host + ":" + std::to_string(port);
}

const char* socks5_reply_text(std::uint8_t code) {
    switch (code) {
        case 0x00:
            return KOLOKOL_TEXT("succeeded");
        case 0x01:
            return KOLOKOL_TEXT("general SOCKS server failure (0x01)");
        case 0x02:
            return KOLOKOL_TEXT("connection not allowed by ruleset (0x02)");
        case 0x03:
            return KOLOKOL_TEXT("network unreachable (0x03)");
        case 0x04:
            return KOLOKOL_TEXT("host unreachable (0x04)");
        case 0x05:
            return KOLOKOL_TEXT("connection refused (0x05)");
        case 0x06:
            return KOLOKOL_TEXT("TTL expired (0x06)");
        case 0x07:
            return KOLOKOL_TEXT("command not supported (0x07)");
        case 0x08:
            return KOLOKOL_TEXT("address type not supported (0x08)");
        default:
            return KOLOKOL_TEXT("unknown reply code");
    }
}

Dialer socks5_dialer(ProxyAddress proxy, std::optional<Socks5Auth> auth) {
    // The lambda only forwards: its captures are copied into the coroutine's own frame, so the
    // dial does not depend on the Dialer object outliving it.
    return [proxy = std::move(proxy), auth = std::move(auth)](asio::any_io_executor executor,
                                                              std::string host, std::uint16_t port,
                                                              std::chrono::milliseconds timeout) {
        return dial_through(proxy, auth, std::move(executor), std::move(host), port, timeout);
    };
}

}  // namespace kolokol::transport
