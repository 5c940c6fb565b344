// The SOCKS5 dialer against a scripted in-test proxy: every reply code, malformed and truncated
// replies, timeouts; what it sends (names go to the proxy unresolved); and proxy addresses.
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "kolokol/transport/socks5.hpp"

using namespace kolokol;
using namespace std::chrono_literals;
namespace tr = kolokol::transport;
using asio::ip::tcp;

namespace {

// What the scripted proxy does with one connection.
struct Script {
    Bytes method_reply = {5, 0};
    Bytes connect_reply = {5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90};
    Bytes after = {'K'};       // the "target's" first bytes, sent after the reply
    bool read_request = true;  // read the CONNECT request (its length from its own header)
    bool silent = false;       // accept and never answer
    std::optional<tr::Socks5Auth> auth;  // given to the dialer
    Bytes auth_reply;  // non-empty: after method 2, read RFC 1929's request and send this
};

struct Outcome {
    // Whether the dialer connected (the socket itself dies with the test's io_context, inside
    // dial(): one outliving its io_context would touch a destroyed reactor).
    Result<bool> socket = fail(tr::TransportErrc::connect_failed, "did not run");
    Bytes greeting;
    Bytes auth_request;  // RFC 1929's username/password request, when one came
    Bytes request;
    std::string first_byte;  // what the dialer's socket read first, on success
};

// RFC 1929: VER, ULEN, UNAME, PLEN, PASSWD — returned as read.
asio::awaitable<Bytes> read_auth_request(tcp::socket& sock) {
    Bytes out(2);
    co_await asio::async_read(sock, asio::buffer(out), asio::use_awaitable);
    Bytes user(out[1] + 1u);  // the username and PLEN
    co_await asio::async_read(sock, asio::buffer(user), asio::use_awaitable);
    append(out, user);
    Bytes pass(out.back());
    co_await asio::async_read(sock, asio::buffer(pass), asio::use_awaitable);
    append(out, pass);
    co_return out;
}

asio::awaitable<void> proxy_side(tcp::acceptor& acceptor, const Script& script, Outcome& out) {
    auto sock = co_await acceptor.async_accept(asio::use_awaitable);
    if (script.silent) {
        asio::steady_timer t(sock.get_executor());
        t.expires_after(5s);
        auto [ec] = co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        (void)ec;
        co_return;
    }
    out.greeting.resize(2);
    co_await asio::async_read(sock, asio::buffer(out.greeting), asio::use_awaitable);
    Bytes methods(out.greeting[1]);
    co_await asio::async_read(sock, asio::buffer(methods), asio::use_awaitable);
    out.greeting.insert(out.greeting.end(), methods.begin(), methods.end());
    co_await asio::async_write(sock, asio::buffer(script.method_reply), asio::use_awaitable);
    const bool with_auth = script.method_reply == Bytes{5, 2} && !script.auth_reply.empty();
    if (script.method_reply != Bytes{5, 0} && !with_auth) co_return;
    if (with_auth) {
        out.auth_request = co_await read_auth_request(sock);
        co_await asio::async_write(sock, asio::buffer(script.auth_reply), asio::use_awaitable);
        if (script.auth_reply != Bytes{1, 0}) co_return;
    }
    if (script.read_request) {
        Bytes head(5);
        co_await asio::async_read(sock, asio::buffer(head), asio::use_awaitable);
        std::size_t rest = head[3] == 1 ? 3 + 2 : head[3] == 4 ? 15 + 2 : head[4] + 2u;
        Bytes tail(rest);
        co_await asio::async_read(sock, asio::buffer(tail), asio::use_awaitable);
        out.request = head;
        out.request.insert(out.request.end(), tail.begin(), tail.end());
    }
    co_await asio::async_write(sock, asio::buffer(script.connect_reply), asio::use_awaitable);
    if (!script.after.empty())
        co_await asio::async_write(sock, asio::buffer(script.after), asio::use_awaitable);
    // Keep the connection until the dialer side has read what it wants.
    asio::steady_timer t(sock.get_executor());
    t.expires_after(300ms);
    auto [ec] = co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    (void)ec;
}

Outcome dial(Script script, std::string host = "exampleonionaddress.onion",
             std::uint16_t port = 7000, std::chrono::milliseconds timeout = 2s) {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tr::ProxyAddress proxy("127.0.0.1", acceptor.local_endpoint().port());
    Outcome out;
    asio::co_spawn(io, proxy_side(acceptor, script, out), asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto dialer = tr::socks5_dialer(proxy, script.auth);
            auto socket = co_await dialer(io.get_executor(), host, port, timeout);
            if (socket) {
                out.socket = true;
                char c = 0;
                co_await asio::async_read(*socket, asio::buffer(&c, 1), asio::use_awaitable);
                out.first_byte = std::string(1, c);
            } else {
                out.socket = std::unexpected(socket.error());
            }
            io.stop();
        },
        asio::detached);
    io.run_for(10s);
    return out;
}

std::string error_of(const Outcome& o) {
    REQUIRE_FALSE(o.socket.has_value());
    CHECK(o.socket.error().code == tr::TransportErrc::connect_failed);
    return o.socket.error().message;
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a name goes to the proxy as ATYP domain, unresolved, and the stream follows") {
    auto o = dial(Script{}, "abcdefghijklmnop.onion", 7000);
    REQUIRE(o.socket.has_value());
    CHECK(o.greeting == Bytes{5, 1, 0});
    Bytes expect{5, 1, 0, 3, 22};
    std::string name = "abcdefghijklmnop.onion";
    expect.insert(expect.end(), name.begin(), name.end());
    expect.push_back(0x1b);
    expect.push_back(0x58);
    CHECK(o.request == expect);
    CHECK(o.first_byte == "K");
}

TEST_CASE("IP literals go as ATYP 1 and 4") {
    auto v4 = dial(Script{}, "192.0.2.7", 443);
    REQUIRE(v4.socket.has_value());
    CHECK(v4.request == Bytes{5, 1, 0, 1, 192, 0, 2, 7, 1, 187});
    auto v6 = dial(Script{}, "2001:db8::1", 443);
    REQUIRE(v6.socket.has_value());
    REQUIRE(v6.request.size() == 4 + 16 + 2);
    CHECK(v6.request[3] == 4);
    CHECK(v6.request[4] == 0x20);
    CHECK(v6.request[19] == 0x01);
}

TEST_CASE("replies with a bound IPv6 address or a bound name are read exactly") {
    Script s6;
    s6.connect_reply = Bytes{5, 0, 0, 4};
    s6.connect_reply.resize(4 + 16 + 2, 0x11);
    auto o6 = dial(s6);
    REQUIRE(o6.socket.has_value());
    CHECK(o6.first_byte == "K");
    Script sn;
    sn.connect_reply = Bytes{5, 0, 0, 3, 255};
    sn.connect_reply.resize(5 + 255 + 2, 'x');
    auto on = dial(sn);
    REQUIRE(on.socket.has_value());
    CHECK(on.first_byte == "K");
}

TEST_CASE("every refusal code is reported by name") {
    const std::pair<std::uint8_t, const char*> codes[] = {
        {1, "general SOCKS server failure"}, {2, "not allowed by ruleset"},
        {3, "network unreachable"},          {4, "host unreachable"},
        {5, "connection refused"},           {6, "TTL expired"},
        {7, "command not supported"},        {8, "address type not supported"},
        {9, "unknown reply code 0x09"},      {0xff, "unknown reply code 0xff"},
    };
    for (auto [code, text] : codes) {
        Script s;
        s.connect_reply = Bytes{5, code, 0, 1, 0, 0, 0, 0, 0, 0};
        auto msg = error_of(dial(s));
        CAPTURE(msg);
        CHECK(contains(msg, "the proxy refused"));
        CHECK(contains(msg, text));
        CHECK(contains(msg, "exampleonionaddress.onion:7000"));
        CHECK(contains(msg, "socks5://127.0.0.1:"));
    }
}

TEST_CASE("malformed method choices fail clearly") {
    Script auth;
    auth.method_reply = {5, 0xff};
    CHECK(contains(error_of(dial(auth)), "requires authentication"));
    Script other;
    other.method_reply = {5, 2};
    CHECK(contains(error_of(dial(other)), "not offered"));
    Script v4;
    v4.method_reply = {4, 0};
    CHECK(contains(error_of(dial(v4)), "does not speak SOCKS5"));
    Script http;
    http.method_reply = {'H', 'T'};
    CHECK(contains(error_of(dial(http)), "does not speak SOCKS5"));
}

TEST_CASE("with credentials the dialer offers username/password first and sends RFC 1929") {
    Script s;
    s.auth = tr::Socks5Auth{"user1", "pw"};
    s.method_reply = {5, 2};
    s.auth_reply = {1, 0};
    auto o = dial(s);
    REQUIRE(o.socket.has_value());
    CHECK(o.greeting == Bytes{5, 2, 2, 0});
    CHECK(o.auth_request == Bytes{1, 5, 'u', 's', 'e', 'r', '1', 2, 'p', 'w'});
    CHECK(o.request.size() == 5 + 25 + 2);  // the CONNECT follows as without credentials
    CHECK(o.first_byte == "K");

    // A proxy that takes no authentication (dante, `socksmethod: none`) goes without them.
    Script none;
    none.auth = tr::Socks5Auth{"user1", "pw"};
    auto n = dial(none);
    REQUIRE(n.socket.has_value());
    CHECK(n.greeting == Bytes{5, 2, 2, 0});
    CHECK(n.auth_request.empty());
    CHECK(n.first_byte == "K");
}

TEST_CASE("refused or malformed authentication answers fail clearly") {
    Script refused;
    refused.auth = tr::Socks5Auth{"u", "p"};
    refused.method_reply = {5, 2};
    refused.auth_reply = {1, 1};
    CHECK(contains(error_of(dial(refused)), "refused the credentials (status 0x01)"));
    Script version;
    version.auth = tr::Socks5Auth{"u", "p"};
    version.method_reply = {5, 2};
    version.auth_reply = {5, 0};
    CHECK(contains(error_of(dial(version)), "malformed authentication answer"));
    Script neither;
    neither.auth = tr::Socks5Auth{"u", "p"};
    neither.method_reply = {5, 0xff};
    CHECK(contains(error_of(dial(neither)), "requires authentication"));
    // Credentials SOCKS5 cannot carry are refused before anything is sent.
    for (const auto& bad : {tr::Socks5Auth{"", "p"}, tr::Socks5Auth{"u", ""},
                            tr::Socks5Auth{std::string(256, 'u'), "p"}}) {
        Script s;
        s.auth = bad;
        auto o = dial(s, "exampleonionaddress.onion", 7000, 500ms);
        REQUIRE_FALSE(o.socket.has_value());
        CHECK(o.socket.error().code == tr::TransportErrc::invalid_address);
        CHECK(o.greeting.empty());
    }
}

TEST_CASE("malformed CONNECT replies fail clearly") {
    Script version;
    version.connect_reply = {4, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    CHECK(contains(error_of(dial(version)), "version byte 0x04"));
    Script reserved;
    reserved.connect_reply = {5, 0, 7, 1, 0, 0, 0, 0, 0, 0};
    CHECK(contains(error_of(dial(reserved)), "reserved byte 0x07"));
    Script atyp;
    atyp.connect_reply = {5, 0, 0, 5, 0, 0, 0, 0, 0, 0};
    CHECK(contains(error_of(dial(atyp)), "address type 0x05"));
    Script empty_name;
    empty_name.connect_reply = {5, 0, 0, 3, 0, 0, 0};
    CHECK(contains(error_of(dial(empty_name)), "empty bound name"));
}

TEST_CASE("truncated replies fail without hanging") {
    Script short_method;
    short_method.method_reply = {5};
    short_method.read_request = false;
    CHECK(contains(error_of(dial(short_method)), "closed the connection before"));
    Script short_head;
    short_head.connect_reply = {5, 0};
    short_head.after = {};
    CHECK(contains(error_of(dial(short_head)), "closed the connection before the CONNECT reply"));
    Script short_addr;
    short_addr.connect_reply = {5, 0, 0, 4, 1, 2, 3};
    short_addr.after = {};
    CHECK(contains(error_of(dial(short_addr)), "the bound address"));
    Script short_name;
    short_name.connect_reply = {5, 0, 0, 3, 200, 'a', 'b'};
    short_name.after = {};
    CHECK(contains(error_of(dial(short_name)), "the bound address"));
}

TEST_CASE("a silent proxy times out within the dialer's timeout") {
    Script silent;
    silent.silent = true;
    auto start = std::chrono::steady_clock::now();
    auto msg = error_of(dial(silent, "a.onion", 1, 300ms));
    CHECK(contains(msg, "timed out waiting for the method choice"));
    CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("an unreachable proxy fails, and nothing is tried directly") {
    asio::io_context io;
    std::uint16_t closed_port;
    {
        tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        closed_port = a.local_endpoint().port();
    }
    Result<tcp::socket> r = fail(tr::TransportErrc::connect_failed, "did not run");
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            r = co_await tr::socks5_dialer(tr::ProxyAddress("127.0.0.1", closed_port))(
                io.get_executor(), "localhost", 22, 2s);
        },
        asio::detached);
    io.run_for(5s);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().message, "the proxy is unreachable"));
}

TEST_CASE("a host name over 255 characters is refused before connecting") {
    Script s;
    auto o = dial(s, std::string(256, 'a'), 1, 300ms);
    CHECK(contains(error_of(o), "1 to 255 characters"));
    CHECK(o.greeting.empty());
}

TEST_CASE("proxy addresses: IP literals only, canonical text") {
    auto a = tr::ProxyAddress::parse("socks5://127.0.0.1:9050");
    REQUIRE(a.has_value());
    CHECK(a->host == "127.0.0.1");
    CHECK(a->port == 9050);
    CHECK(a->to_string() == "socks5://127.0.0.1:9050");
    auto h = tr::ProxyAddress::parse("socks5h://[::1]:1080");
    REQUIRE(h.has_value());
    CHECK(h->to_string() == "socks5://[::1]:1080");
    CHECK(tr::ProxyAddress::parse(h->to_string()).value() == *h);
    const char* bad[] = {
        "",
        "127.0.0.1:9050",
        "http://127.0.0.1:8080",
        "socks4://127.0.0.1:9050",
        "socks5://localhost:9050",  // a name would need a DNS lookup
        "socks5://tor.example:9050",
        "socks5://127.0.0.1",
        "socks5://127.0.0.1:",
        "socks5://127.0.0.1:0",
        "socks5://127.0.0.1:65536",
        "socks5://127.0.0.1:09050",
        "socks5://127.0.0.1:90x0",
        "socks5://::1:9050",
        "socks5://[127.0.0.1]:9050",
        "socks5://[::1:9050",
        "socks5://[fe80::1%eth0]:9050",
    };
    for (const char* text : bad) {
        CAPTURE(text);
        auto r = tr::ProxyAddress::parse(text);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == tr::TransportErrc::invalid_address);
    }
    CHECK_FALSE(tr::ProxyAddress::parse("socks5://127.0.0.1:9050" + std::string(200, '0')));
}
