// A member (or a removed one) who holds a member's `kolokol serve`: `member-hold` opens N
// sessions from a list of source addresses, each opening one mailbox the home holds a key to —
// which authorizes it, so the server never evicts it for a newcomer — and then sends only a
// Ping every 30 s, under the server's idle timeout.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <fstream>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "kolokol/core/node.hpp"
#include "relay_flood_client.hpp"

namespace kolokol::adversary {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

struct Held {
    std::size_t open = 0, most = 0, failed = 0;
    std::string last_error;
};

// `key` must outlive the coroutine (the caller's io_context runs inside its scope).
asio::awaitable<void> hold_one(transport::Address address, const transport::MailboxKey& key,
                               asio::ip::address source, std::shared_ptr<Held> held) {
    crypto::BoxKeyPair local = crypto::box_keypair();
    auto s = co_await RawSync::connect(address, local, source);
    if (!s) {
        ++held->failed;
        held->last_error = s.error().message;
        co_return;
    }
    auto opened = co_await hello_and_open(*s, key);
    if (!opened) {
        ++held->failed;
        held->last_error = opened.error().message;
        co_return;
    }
    ++held->open;
    held->most = std::max(held->most, held->open);
    auto ex = co_await asio::this_coro::executor;
    auto alive = std::make_shared<bool>(true);
    RawSync* sync = &*s;
    asio::co_spawn(
        ex,
        [sync, alive]() -> asio::awaitable<void> {
            while (true) {
                auto f = co_await sync->receive();
                if (!f) break;
            }
            *alive = false;
        },
        asio::detached);
    asio::steady_timer timer(ex);
    int ticks = 0;
    while (*alive) {
        timer.expires_after(std::chrono::milliseconds(100));
        co_await timer.async_wait(use_tuple);
        if (++ticks % 300 != 0) continue;
        pb::SyncFrame ping;
        ping.mutable_ping();
        if (!co_await sync->send(ping)) break;
    }
    while (*alive) {  // the reader still uses the session
        timer.expires_after(std::chrono::milliseconds(50));
        co_await timer.async_wait(use_tuple);
    }
    --held->open;
}

int member_hold(std::span<const std::string> args) {
    if (args.size() != 5) usage_error("takes ADDRESS, HOME, PASSFILE, N and SOURCES");
    auto address = transport::Address::parse(args[0]);
    if (!address) usage_error(address.error().what());
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(args[3].data(), args[3].data() + args[3].size(), n);
    if (ec != std::errc{} || n == 0 || n > 4096) usage_error("N is 1..4096");
    const auto sources = parse_sources(args[4]);
    std::ifstream pass(args[2]);
    std::string passphrase;
    if (!pass || !std::getline(pass, passphrase))
        throw std::runtime_error("cannot read " + args[2]);
    auto opened = core::Node::open(args[1], as_bytes(passphrase));
    if (!opened) throw std::runtime_error("cannot open " + args[1] + ": " + opened.error().what());
    auto keys = (*opened)->mailbox_keys();
    if (keys.empty()) throw std::runtime_error("the home holds no mailbox key");
    asio::io_context io(1);
    auto held = std::make_shared<Held>();
    for (std::size_t i = 0; i < n; ++i)
        asio::co_spawn(io, hold_one(*address, keys[0], sources[i % sources.size()], held),
                       asio::detached);
    asio::steady_timer report(io);
    std::function<void()> tick = [&] {
        report.expires_after(std::chrono::seconds(1));
        report.async_wait([&](const asio::error_code& e) {
            if (e) return;
            std::cout << "held " << held->open << " most " << held->most << " failed "
                      << held->failed << std::endl;
            tick();
        });
    };
    tick();
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code&, int) { io.stop(); });
    io.run();
    std::cerr << "member-hold: at most " << held->most << " sessions held, " << held->failed
              << " failed" << (held->last_error.empty() ? "" : " (" + held->last_error + ")")
              << "\n";
    return 0;
}

const Registration member_hold_reg{
    {"member-hold",
     "ADDRESS HOME PASSFILE N SOURCES — opens N sessions to ADDRESS (a member's serve) from the "
     "comma-separated SOURCES in turn, each opening a mailbox HOME holds a key to (so it is "
     "authorized and never evicted), then only pings every 30 s; prints `held N most M failed "
     "F` every second; runs until SIGTERM",
     member_hold}};

}  // namespace
}  // namespace kolokol::adversary
