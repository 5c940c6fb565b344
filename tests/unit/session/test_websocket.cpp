// wss:// addresses and the WebSocket framing and handshake (websocket.hpp): round trips, the
// RFC 6455 example, and every refusal the decoder makes.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kolokol/transport/address.hpp"
#include "kolokol/transport/session_error.hpp"
#include "kolokol/transport/websocket.hpp"
#include "kolokol/transport/ws_gateway.hpp"

using namespace kolokol;
using namespace kolokol::transport;

namespace {

StaticPublicKey sample_key() {
    StaticPublicKey k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i * 5 + 3);
    return k;
}

Result<std::optional<ws::Frame>> decode(ws::Role role, const Bytes& bytes) {
    ws::FrameDecoder d(role, 1000);
    d.feed(bytes);
    return d.next();
}

}  // namespace

TEST_CASE("address: wss:// with and without a port, round trip, key pinned") {
    const auto key = key_to_text(sample_key());
    auto a = Address::parse("wss://Relay.Example.org/k-secret_1.x~y/z#" + key);
    REQUIRE(a);
    CHECK(a->host == "relay.example.org");
    CHECK(a->port == 443);
    CHECK(a->ws_path == "/k-secret_1.x~y/z");
    CHECK(a->key == sample_key());
    CHECK(a->to_string() == "wss://relay.example.org/k-secret_1.x~y/z#" + key);
    auto b = Address::parse("wss://[2001:db8::1]:8443/s#" + key);
    REQUIRE(b);
    CHECK(b->host == "2001:db8::1");
    CHECK(b->port == 8443);
    CHECK(*Address::parse(b->to_string()) == *b);
    CHECK_FALSE(*a == *Address::parse("kolokol://relay.example.org:443/" + key));
}

TEST_CASE("address: malformed wss:// addresses are refused") {
    const auto key = key_to_text(sample_key());
    for (const std::string& bad : std::vector<std::string>{
             "wss://relay.example.org/s", "wss://relay.example.org#" + key,
             "wss://relay.example.org/#" + key, "wss://relay.example.org:443/s#" + key,
             "wss://relay.example.org:0/s#" + key, "wss://relay.example.org/s?q#" + key,
             "wss://relay.example.org/s%20#" + key, "wss://re lay/s#" + key,
             "wss://relay.example.org/s#" + key + "a",
             "wss://relay.example.org/" + std::string(200, 'p') + "#" + key}) {
        auto parsed = Address::parse(bad);
        CHECK_MESSAGE(!parsed, bad);
        if (!parsed) CHECK(parsed.error().code == TransportErrc::invalid_address);
    }
}

TEST_CASE("websocket: frames round-trip masked and unmasked, at each length form") {
    for (std::size_t n : {0u, 1u, 125u, 126u, 65535u, 65536u, 200000u}) {
        Bytes payload(n);
        for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<std::uint8_t>(i * 31);
        auto masked = ws::encode_frame(ws::Opcode::binary, payload, 0x37fa213dU);
        ws::FrameDecoder server(ws::Role::server);
        // Fed a byte at a time for small frames: nothing comes out before the frame is whole.
        if (n < 200) {
            for (std::size_t i = 0; i + 1 < masked.size(); ++i) {
                server.feed(ByteView(masked).subspan(i, 1));
                auto none = server.next();
                REQUIRE(none);
                CHECK_FALSE(*none);
            }
            server.feed(ByteView(masked).last(1));
        } else {
            server.feed(masked);
        }
        auto got = server.next();
        REQUIRE(got);
        REQUIRE(*got);
        CHECK((*got)->payload == payload);
        CHECK(server.buffered() == 0);
        ws::FrameDecoder client(ws::Role::client);
        client.feed(ws::encode_frame(ws::Opcode::binary, payload, std::nullopt));
        auto plain = client.next();
        REQUIRE(plain);
        REQUIRE(*plain);
        CHECK((*plain)->payload == payload);
    }
}

TEST_CASE("websocket: RFC 6455 §5.7 examples decode") {
    // A single-frame unmasked "Hello" and a masked one (binary: text is refused).
    auto plain = decode(ws::Role::client, Bytes{0x82, 0x05, 'H', 'e', 'l', 'l', 'o'});
    REQUIRE(plain);
    REQUIRE(*plain);
    CHECK((*plain)->payload == Bytes{'H', 'e', 'l', 'l', 'o'});
    auto masked = decode(ws::Role::server,
                         Bytes{0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    REQUIRE(masked);
    REQUIRE(*masked);
    CHECK((*masked)->payload == Bytes{'H', 'e', 'l', 'l', 'o'});
    CHECK(ws::accept_for_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("websocket: the decoder refuses what RFC 6455 and this side do not allow") {
    const std::uint8_t m = 0x80;  // mask bit
    struct Case {
        const char* what;
        ws::Role role;
        Bytes bytes;
        TransportErrc code;
    };
    const Case cases[] = {
        {"unmasked from a client",
         ws::Role::server,
         {0x82, 0x01, 'x'},
         TransportErrc::malformed_frame},
        {"masked from a server",
         ws::Role::client,
         {0x82, m | 1, 0, 0, 0, 0, 'x'},
         TransportErrc::malformed_frame},
        {"reserved bit", ws::Role::client, {0xc2, 0x00}, TransportErrc::malformed_frame},
        {"text", ws::Role::client, {0x81, 0x00}, TransportErrc::malformed_frame},
        {"unknown opcode", ws::Role::client, {0x83, 0x00}, TransportErrc::malformed_frame},
        {"continuation first", ws::Role::client, {0x80, 0x00}, TransportErrc::malformed_frame},
        {"long ping", ws::Role::client, {0x89, 126, 0x00, 0x7e}, TransportErrc::malformed_frame},
        {"fragmented close", ws::Role::client, {0x08, 0x00}, TransportErrc::malformed_frame},
        {"short length in 16 bits",
         ws::Role::client,
         {0x82, 126, 0x00, 0x05},
         TransportErrc::malformed_frame},
        {"short length in 64 bits",
         ws::Role::client,
         {0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
         TransportErrc::malformed_frame},
        {"top bit of 64",
         ws::Role::client,
         {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0},
         TransportErrc::malformed_frame},
        {"over the bound",
         ws::Role::client,
         {0x82, 126, 0x03, 0xe9},
         TransportErrc::frame_too_large},
        {"far over the bound",
         ws::Role::server,
         {0x82, m | 127, 0, 0, 0, 0, 0x40, 0, 0, 0},
         TransportErrc::frame_too_large},
        {"data inside a message",
         ws::Role::client,
         {0x02, 0x00, 0x82, 0x00},
         TransportErrc::malformed_frame},
    };
    for (const auto& c : cases) {
        ws::FrameDecoder d(c.role, 1000);
        d.feed(c.bytes);
        Result<std::optional<ws::Frame>> r = d.next();
        while (r && *r) r = d.next();  // a fragment before the bad frame is fine
        REQUIRE_MESSAGE(!r, c.what);
        CHECK_MESSAGE(r.error().code == c.code, c.what);
        // A failed decoder stays failed.
        d.feed(Bytes{0x82, 0x00});
        CHECK_MESSAGE(!d.next(), c.what);
    }
}

TEST_CASE("websocket: fragments, ping between them, then a new message") {
    ws::FrameDecoder d(ws::Role::client);
    d.feed(
        Bytes{0x02, 0x01, 'a', 0x89, 0x01, 'p', 0x00, 0x01, 'b', 0x80, 0x01, 'c', 0x82, 0x01, 'd'});
    std::string seen;
    for (;;) {
        auto f = d.next();
        REQUIRE(f);
        if (!*f) break;
        seen += static_cast<char>((*f)->payload.at(0));
        if ((*f)->opcode == ws::Opcode::ping) seen += '!';
    }
    CHECK(seen == "ap!bcd");
}

TEST_CASE("websocket: the upgrade request is taken only as exactly asked") {
    const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
    const auto good = ws::client_request("relay.example.org", "/secret", key);
    REQUIRE(ws::check_upgrade_request(good, "/secret"));
    CHECK(*ws::check_upgrade_request(good, "/secret") == key);
    CHECK_FALSE(ws::check_upgrade_request(good, "/other"));
    CHECK_FALSE(ws::check_upgrade_request(ws::client_request("h", "/secret/", key), "/secret"));
    CHECK_FALSE(
        ws::check_upgrade_request(ws::client_request("h", "/secret", "short=="), "/secret"));
    CHECK_FALSE(ws::check_upgrade_request("GET /secret HTTP/1.1\r\nHost: h\r\n\r\n", "/secret"));
    CHECK_FALSE(ws::check_upgrade_request(good.substr(0, good.size() - 2), "/secret"));
    auto post = good;
    post.replace(0, 3, "PUT");
    CHECK_FALSE(ws::check_upgrade_request(post, "/secret"));
    auto twice = good;
    twice.insert(twice.size() - 2, "Sec-WebSocket-Key: " + key + "\r\n");
    CHECK_FALSE(ws::check_upgrade_request(twice, "/secret"));
    CHECK(ws::check_upgrade_response(ws::upgrade_response(key), key));
    CHECK_FALSE(ws::check_upgrade_response(ws::upgrade_response(key), "AAAAAAAAAAAAAAAAAAAAAA=="));
    CHECK_FALSE(ws::check_upgrade_response(ws::not_found_response(), key));
}

TEST_CASE("websocket gateway: X-Real-IP is believed only from loopback or a trusted proxy") {
    const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
    auto with = [&](const std::string& headers) {
        auto head = ws::client_request("relay.example.org", "/secret", key);
        head.insert(head.size() - 2, headers);
        return head;
    };
    const auto named = with("X-Real-IP: 203.0.113.7\r\n");
    CHECK(ws::real_ip(named) == std::optional<std::string>("203.0.113.7"));
    CHECK_FALSE(ws::real_ip(with("")));
    CHECK_FALSE(ws::real_ip(with("X-Real-IP: 203.0.113.7\r\nX-Real-IP: 198.51.100.1\r\n")));

    const auto lo = asio::ip::make_address("127.0.0.1");
    const auto lo6 = asio::ip::make_address("::1");
    const auto proxy = asio::ip::make_address("192.0.2.10");
    const auto stranger = asio::ip::make_address("198.51.100.99");
    const auto client = asio::ip::make_address("203.0.113.7");
    CHECK(client_address(lo, named, {}) == client);
    CHECK(client_address(lo6, named, {}) == client);
    CHECK(client_address(asio::ip::make_address("::ffff:127.0.0.1"), named, {}) == client);
    CHECK(client_address(proxy, named, {proxy}) == client);
    // Anyone else may name any address it likes: its own counts.
    CHECK(client_address(stranger, named, {proxy}) == stranger);
    CHECK(client_address(proxy, named, {}) == proxy);
    // No header, a header that is no address, or two headers: the web server's own address.
    CHECK(client_address(lo, with(""), {}) == lo);
    CHECK(client_address(lo, with("X-Real-IP: unknown\r\n"), {}) == lo);
    CHECK(client_address(lo, with("X-Real-IP: 203.0.113.7, 198.51.100.1\r\n"), {}) == lo);
    CHECK(client_address(lo, with("X-Real-IP: 203.0.113.7\r\nX-Real-IP: 198.51.100.1\r\n"), {}) ==
          lo);
    CHECK(client_address(lo, with("x-real-ip:   2001:db8::5  \r\n"), {}) ==
          asio::ip::make_address("2001:db8::5"));
}

TEST_CASE("client origins: a registered local endpoint names its client until removed") {
    ClientOrigins origins;
    const asio::ip::tcp::endpoint a(asio::ip::make_address("127.0.0.1"), 40001);
    const asio::ip::tcp::endpoint b(asio::ip::make_address("127.0.0.1"), 40002);
    origins.add(a, asio::ip::make_address("203.0.113.7"));
    CHECK(origins.find(a) == asio::ip::make_address("203.0.113.7"));
    CHECK_FALSE(origins.find(b));
    CHECK(origins.size() == 1);
    origins.remove(a);
    origins.remove(a);
    CHECK_FALSE(origins.find(a));
    CHECK(origins.size() == 0);
}
