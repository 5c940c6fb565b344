#include "kolokol/transport/probe.hpp"

#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/session_error.hpp"
#include "run_blocking.hpp"

namespace kolokol::transport {

namespace {
asio::awaitable<Result<std::chrono::milliseconds>> run_probe(Address address,
                                                             ConnectOptions options) {
    // Lives in this coroutine's frame until the session is over.
    const auto key = crypto::box_keypair();
    const auto start = std::chrono::steady_clock::now();
    auto session = co_await connect(address, key, std::move(options));
    if (!session) co_return std::unexpected(session.error());
    const auto rtt = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    co_await session->close();
    co_return rtt;
}
}  // namespace

Result<std::chrono::milliseconds> probe(const Address& address, ConnectOptions options) {
    return detail::run_blocking(run_probe(address, std::move(options)),
                                [](const std::string& what) -> Result<std::chrono::milliseconds> {
                                    return fail(TransportErrc::io_error, "the probe failed: {}",
                                                what);
                                });
}

}  // namespace kolokol::transport
