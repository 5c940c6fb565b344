// `socks-record`: a SOCKS5 proxy that writes down what each client offers and sends — the
// authentication methods, the username and password (RFC 1929) and the target — and then
// carries the connection, so a script can see which connections a Tor client would put on
// one circuit (Tor's IsolateSOCKSAuth keeps streams with different credentials apart).
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fstream>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/relay/relay.hpp"

namespace kolokol::adversary {
namespace {

using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

struct ProxyLog {
    std::ofstream out;
    std::uint64_t next = 0;
    void line(const std::string& text) {
        out << text << "\n";
        out.flush();
    }
};

// Reads exactly out.size() bytes (at most 255 at a time here); false on EOF or error.
asio::awaitable<bool> read_exact(tcp::socket& s, std::span<std::uint8_t> out) {
    auto [ec, n] = co_await asio::async_read(s, asio::buffer(out.data(), out.size()), use_tuple);
    co_return !ec && n == out.size();
}

asio::awaitable<void> pipe(tcp::socket& from, tcp::socket& to) {
    std::array<std::uint8_t, 16384> buf{};
    while (true) {
        auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
        if (ec || n == 0) break;
        auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple);
        if (wec) break;
    }
    std::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
}

std::string printable(std::span<const std::uint8_t> bytes) {
    std::string s(bytes.begin(), bytes.end());
    for (auto& c : s)
        if (c < 0x21 || c > 0x7e) c = '?';
    return s.empty() ? "-" : s;
}

asio::awaitable<void> serve_client(tcp::socket client, std::shared_ptr<ProxyLog> log) {
    const auto n = std::to_string(++log->next);
    std::array<std::uint8_t, 2> head{};
    if (!co_await read_exact(client, head) || head[0] != 5 || head[1] == 0) co_return;
    std::vector<std::uint8_t> methods(head[1]);
    if (!co_await read_exact(client, methods)) co_return;
    const bool userpass = std::find(methods.begin(), methods.end(), 2) != methods.end();
    const bool none = std::find(methods.begin(), methods.end(), 0) != methods.end();
    std::string user = "-", pass = "-";
    if (userpass) {
        std::array<std::uint8_t, 2> choice{5, 2};
        co_await asio::async_write(client, asio::buffer(choice), use_tuple);
        std::array<std::uint8_t, 2> ver_len{};
        if (!co_await read_exact(client, ver_len) || ver_len[0] != 1) co_return;
        std::vector<std::uint8_t> u(ver_len[1]);
        if (!co_await read_exact(client, u)) co_return;
        std::array<std::uint8_t, 1> plen{};
        if (!co_await read_exact(client, plen)) co_return;
        std::vector<std::uint8_t> p(plen[0]);
        if (!co_await read_exact(client, p)) co_return;
        user = printable(u);
        pass = printable(p);
        std::array<std::uint8_t, 2> ok{1, 0};
        co_await asio::async_write(client, asio::buffer(ok), use_tuple);
    } else if (none) {
        std::array<std::uint8_t, 2> choice{5, 0};
        co_await asio::async_write(client, asio::buffer(choice), use_tuple);
    } else {
        std::array<std::uint8_t, 2> choice{5, 0xff};
        co_await asio::async_write(client, asio::buffer(choice), use_tuple);
        co_return;
    }
    std::array<std::uint8_t, 4> req{};
    if (!co_await read_exact(client, req) || req[0] != 5 || req[1] != 1) co_return;
    std::string host;
    if (req[3] == 1) {
        std::array<std::uint8_t, 4> a{};
        if (!co_await read_exact(client, a)) co_return;
        host = asio::ip::address_v4(a).to_string();
    } else if (req[3] == 3) {
        std::array<std::uint8_t, 1> len{};
        if (!co_await read_exact(client, len)) co_return;
        std::vector<std::uint8_t> name(len[0]);
        if (!co_await read_exact(client, name)) co_return;
        host = printable(name);
    } else if (req[3] == 4) {
        std::array<std::uint8_t, 16> a{};
        if (!co_await read_exact(client, a)) co_return;
        host = asio::ip::address_v6(a).to_string();
    } else {
        co_return;
    }
    std::array<std::uint8_t, 2> port_bytes{};
    if (!co_await read_exact(client, port_bytes)) co_return;
    const auto port = static_cast<std::uint16_t>((port_bytes[0] << 8) | port_bytes[1]);
    std::string offered;
    for (auto m : methods) offered += (offered.empty() ? "" : ",") + std::to_string(m);
    log->line("connect " + n + " methods " + offered + " user " + user + " pass " + pass +
              " target " + host + ":" + std::to_string(port));

    tcp::socket upstream(client.get_executor());
    tcp::resolver resolver(client.get_executor());
    auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), use_tuple);
    bool connected = false;
    if (!rec) {
        auto [cec, ep] = co_await asio::async_connect(upstream, results, use_tuple);
        connected = !cec;
    }
    std::array<std::uint8_t, 10> reply{5, static_cast<std::uint8_t>(connected ? 0 : 5), 0, 1};
    co_await asio::async_write(client, asio::buffer(reply), use_tuple);
    if (!connected) co_return;
    co_await (pipe(client, upstream) && pipe(upstream, client));
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<ProxyLog> log) {
    while (true) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;
        asio::co_spawn(acceptor.get_executor(), serve_client(std::move(socket), log),
                       asio::detached);
    }
}

const Registration reg{
    {"socks-record",
     "LISTEN LOG — a SOCKS5 proxy on LISTEN (HOST:PORT) that prints its socks5:// URL, takes "
     "username/password when offered, and writes `connect N methods M user U pass P target T` "
     "for every connection to LOG; runs until SIGTERM",
     [](std::span<const std::string> args) {
         if (args.size() != 2) usage_error("takes LISTEN and LOG");
         auto endpoint = transport::parse_listen_address(args[0]);
         if (!endpoint) usage_error(endpoint.error().what());
         auto log = std::make_shared<ProxyLog>();
         log->out.open(args[1], std::ios::app);
         if (!log->out) throw std::runtime_error("cannot write " + args[1]);
         asio::io_context io(1);
         tcp::acceptor acceptor(io, *endpoint);
         const auto ep = acceptor.local_endpoint();
         std::cout << "socks5://" << ep.address().to_string() << ":" << ep.port() << std::endl;
         asio::co_spawn(io, accept_loop(acceptor, log), asio::detached);
         asio::signal_set signals(io, SIGINT, SIGTERM);
         signals.async_wait([&](const asio::error_code&, int) { io.stop(); });
         io.run();
         return 0;
     }}};

}  // namespace
}  // namespace kolokol::adversary
