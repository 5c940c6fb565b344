// Transport's log lines go to the sink the server's owner injects (log.hpp), and to stderr,
// exactly as before, when none is set.

#include <doctest/doctest.h>

#include <asio/use_awaitable.hpp>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/log.hpp"
#include "kolokol/transport/server.hpp"
#include "kolokol/transport/session_connect.hpp"
#include "session_test_util.hpp"

using namespace kolokol;
using namespace test;

namespace {

struct Captured {
    std::mutex mutex;
    std::vector<std::pair<tr::LogLevel, std::string>> lines;
    tr::LogSink sink() {
        return [this](tr::LogLevel level, std::string_view line) {
            std::lock_guard lock(mutex);
            lines.emplace_back(level, std::string(line));
        };
    }
};

// Swaps std::cerr's buffer for a string while it lives.
struct CerrCapture {
    std::ostringstream text;
    std::streambuf* old = std::cerr.rdbuf(text.rdbuf());
    ~CerrCapture() { std::cerr.rdbuf(old); }
};

}  // namespace

TEST_CASE("log sink: a session handler's exception is logged to the injected sink, not stderr") {
    asio::io_context io;
    Captured captured;
    tr::ServerOptions options;
    options.session.log = captured.sink();
    tr::Server server(io.get_executor(), crypto::box_keypair(), options,
                      [](tr::Session&) -> asio::awaitable<void> {
                          throw std::runtime_error("the handler's bug");
                          co_return;
                      });
    REQUIRE(server.listen(loopback(0)).has_value());
    REQUIRE(server.start().has_value());
    const auto port = server.local_endpoint().port();
    const auto client_key = crypto::box_keypair();

    CerrCapture cerr;
    run(io, [&]() -> asio::awaitable<void> {
        auto s = co_await tr::connect("127.0.0.1", port, client_key, server.public_key());
        REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().what()));
        // The server closes the session once its handler has thrown.
        auto end = co_await s->receive();
        CHECK_FALSE(end.has_value());
        CHECK(co_await eventually([&] { return server.stats().sessions_finished == 1; }));
    });

    CHECK(server.stats().handler_errors == 1);
    std::lock_guard lock(captured.mutex);
    REQUIRE(captured.lines.size() == 1);
    CHECK(captured.lines[0].first == tr::LogLevel::error);
    CHECK(captured.lines[0].second == "server: session handler failed: the handler's bug");
    CHECK(cerr.text.str().empty());
}

TEST_CASE("log sink: with none injected a line goes to stderr as it always has") {
    CerrCapture cerr;
    tr::log_line({}, tr::LogLevel::error, "server: accept loop: out of memory");
    tr::log_exception({}, "transport: session writer",
                      std::make_exception_ptr(std::runtime_error("boom")));
    tr::log_exception({}, "ignored", nullptr);
    CHECK(cerr.text.str() ==
          "kolokol: server: accept loop: out of memory\n"
          "kolokol: transport: session writer: boom\n");
}

TEST_CASE("log sink: an exception escaping a coroutine is logged with where it happened") {
    Captured captured;
    tr::log_exception(captured.sink(), "relay: expiry loop failed",
                      std::make_exception_ptr(std::runtime_error("disk gone")));
    REQUIRE(captured.lines.size() == 1);
    CHECK(captured.lines[0].first == tr::LogLevel::error);
    CHECK(captured.lines[0].second == "relay: expiry loop failed: disk gone");
}
