#include "kolokol/transport/tor_check.hpp"

#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <string>

#include "kolokol/transport/session_error.hpp"
#include "run_blocking.hpp"

namespace kolokol::transport {

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Enough for Tor's status line and its CR LF; nothing longer is read.
constexpr std::size_t kMaxAnswerBytes = 64;

asio::awaitable<Result<bool>> ask(ProxyAddress proxy, std::chrono::milliseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::socket socket(executor);
    asio::steady_timer deadline(executor);
    deadline.expires_after(timeout);
    auto timer = [&deadline] { return deadline.async_wait(use_tuple); };
    std::error_code ec;
    const auto ip = asio::ip::make_address(proxy.host, ec);
    if (ec) co_return fail(TransportErrc::connect_failed, "the proxy is not an IP address");
    auto connected = co_await (
        socket.async_connect(asio::ip::tcp::endpoint(ip, proxy.port), use_tuple) || timer());
    if (connected.index() == 1)
        co_return fail(TransportErrc::connect_failed, "timed out connecting to the proxy {}",
                       proxy.to_string());
    if (auto e = std::get<0>(std::get<0>(connected)); e)
        co_return fail(TransportErrc::connect_failed, "the proxy {} is unreachable: {}",
                       proxy.to_string(), e.message());
    static constexpr std::string_view kRequest = "GET / HTTP/1.0\r\n\r\n";
    auto wrote = co_await (
        asio::async_write(socket, asio::buffer(kRequest.data(), kRequest.size()), use_tuple) ||
        timer());
    if (wrote.index() == 1 || std::get<0>(std::get<0>(wrote))) co_return false;
    std::array<char, kMaxAnswerBytes> buf{};
    std::string answer;
    while (answer.size() < kMaxAnswerBytes && answer.find('\n') == std::string::npos) {
        auto r =
            co_await (socket.async_read_some(
                          asio::buffer(buf.data(), kMaxAnswerBytes - answer.size()), use_tuple) ||
                      timer());
        if (r.index() == 1) break;  // said nothing more in time
        auto [e, n] = std::get<0>(r);
        answer.append(buf.data(), n);
        if (e) break;  // closed, or reset
    }
    const auto line = answer.substr(0, answer.find_first_of("\r\n"));
    co_return line == kTorHttpRefusal;
}

}  // namespace

Result<bool> proxy_answers_as_tor(const ProxyAddress& proxy, std::chrono::milliseconds timeout) {
    return detail::run_blocking(ask(proxy, timeout), [](const std::string& what) -> Result<bool> {
        return fail(TransportErrc::io_error, "the proxy check failed: {}", what);
    });
}

}  // namespace kolokol::transport
