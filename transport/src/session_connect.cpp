#include "kolokol/transport/session_connect.hpp"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cctype>
#include <string_view>

#include "ws_client.hpp"

namespace kolokol::transport {

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::unexpected<Error> connect_error(const std::string& host, std::uint16_t port,
                                     const std::string& why) {
    return fail(TransportErrc::connect_failed, "could not connect to {}:{}: {}", host, port, why);
}

}  // namespace

bool is_onion_host(std::string_view host) {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    constexpr std::string_view kOnion = ".onion";
    if (host.size() < kOnion.size()) return false;
    const auto tail = host.substr(host.size() - kOnion.size());
    for (std::size_t i = 0; i < kOnion.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(tail[i])) != kOnion[i]) return false;
    return true;
}

namespace {

asio::awaitable<Result<asio::ip::tcp::socket>> connect_directly(asio::any_io_executor executor,
                                                                std::string host,
                                                                std::uint16_t port,
                                                                std::chrono::milliseconds timeout) {
    // An onion name resolves nowhere (RFC 7686): asking the system's resolver could only tell
    // whoever watches this member's DNS which relay it uses.
    if (is_onion_host(host))
        co_return connect_error(host, port,
                                "an onion address is reached only through Tor (set a proxy)");
    asio::steady_timer deadline(executor);
    deadline.expires_after(timeout);
    asio::ip::tcp::resolver resolver(executor);
    auto resolved =
        co_await (resolver.async_resolve(host, std::to_string(port),
                                         asio::ip::resolver_base::numeric_service, use_tuple) ||
                  deadline.async_wait(use_tuple));
    if (resolved.index() == 1) co_return connect_error(host, port, "timed out resolving the host");
    auto [rec, endpoints] = std::get<0>(std::move(resolved));
    if (rec) co_return connect_error(host, port, rec.message());

    asio::ip::tcp::socket socket(executor);
    auto connected = co_await (asio::async_connect(socket, endpoints, use_tuple) ||
                               deadline.async_wait(use_tuple));
    if (connected.index() == 1) co_return connect_error(host, port, "timed out");
    if (auto ec = std::get<0>(std::get<0>(connected)); ec)
        co_return connect_error(host, port, ec.message());
    co_return socket;
}

}  // namespace

Dialer direct_dialer() {
    return &connect_directly;
}

asio::awaitable<Result<Session>> connect(std::string host, std::uint16_t port,
                                         const crypto::BoxKeyPair& local_static,
                                         std::optional<StaticPublicKey> expected_remote_static,
                                         ConnectOptions options) {
    if (auto valid = options.session.validate(); !valid) co_return std::unexpected(valid.error());
    auto executor = co_await asio::this_coro::executor;
    auto dial = options.dialer ? options.dialer : direct_dialer();
    auto socket = co_await dial(executor, host, port, options.connect_timeout);
    if (!socket) co_return std::unexpected(socket.error());
    co_return co_await Session::initiate(std::move(*socket), local_static, expected_remote_static,
                                         std::move(options.session));
}

asio::awaitable<Result<Session>> connect(const Address& address,
                                         const crypto::BoxKeyPair& local_static,
                                         ConnectOptions options) {
    if (address.is_websocket())
        return detail::connect_websocket(address, local_static, std::move(options));
    return connect(address.host, address.port, local_static, address.key, std::move(options));
}

}  // namespace kolokol::transport
