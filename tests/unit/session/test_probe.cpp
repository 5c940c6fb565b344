// transport::probe (`kolokol doctor`): blocking, on an io_context of its own; an exception in
// it becomes an error, never escapes.

#include <doctest/doctest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/ip/tcp.hpp>
#include <stdexcept>
#include <thread>

#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/probe.hpp"
#include "kolokol/transport/server.hpp"
#include "session_test_util.hpp"

using namespace kolokol;
using namespace test;
using tr::TransportErrc;
using tcp = asio::ip::tcp;

TEST_CASE("probe: a server that proves its key answers; a closed port and a throwing dialer fail") {
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    tr::Server server(io.get_executor(), crypto::box_keypair(), {}, echo_handler());
    REQUIRE(server.listen(loopback(0)).has_value());
    REQUIRE(server.start().has_value());
    std::thread runner([&io] { io.run(); });
    const tr::Address at("127.0.0.1", server.local_endpoint().port(), server.public_key());

    tr::ConnectOptions options;
    options.connect_timeout = std::chrono::seconds(5);
    options.session.handshake_timeout = std::chrono::seconds(5);
    auto rtt = tr::probe(at, options);
    CHECK_MESSAGE(rtt.has_value(), (rtt ? "" : rtt.error().what()));

    // Someone else's key at the address: the handshake says so.
    const tr::Address wrong("127.0.0.1", at.port, crypto::box_keypair().public_key);
    auto mismatch = tr::probe(wrong, options);
    REQUIRE_FALSE(mismatch.has_value());
    CHECK(mismatch.error().code == TransportErrc::remote_key_mismatch);

    std::uint16_t closed_port = 0;
    {
        asio::io_context other;
        tcp::acceptor taken(other, loopback(0));
        closed_port = taken.local_endpoint().port();
    }
    auto refused = tr::probe(tr::Address("127.0.0.1", closed_port, at.key), options);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == TransportErrc::connect_failed);

    tr::ConnectOptions buggy = options;
    buggy.dialer = [](asio::any_io_executor, std::string, std::uint16_t,
                      std::chrono::milliseconds) -> asio::awaitable<Result<tcp::socket>> {
        throw std::runtime_error("dialer bug");
        co_return fail(TransportErrc::connect_failed, "unreached");
    };
    auto thrown = tr::probe(at, buggy);
    REQUIRE_FALSE(thrown.has_value());
    CHECK(thrown.error().code == TransportErrc::io_error);
    CHECK(thrown.error().message.find("dialer bug") != std::string::npos);

    server.stop();
    work.reset();
    runner.join();
}
