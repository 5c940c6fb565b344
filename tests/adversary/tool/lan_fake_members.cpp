// An informer on the LAN who makes up members. `lan-fake-members` beacons under the group keys a
// member's home sends under, each beacon naming a transport key and port of its own (made up:
// COUNT listeners on one address), and answers every member who dials one of them with a Noise
// handshake, a Hello and then only a Ping now and then — so each dial stays open for as long as
// the dialler lets it. It writes down how many sessions it holds at once with each member.
#include <sys/socket.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/multicast.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "command.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/lan_beacon.hpp"
#include "kolokol/transport/session.hpp"
#include "relay_flood_client.hpp"

namespace kolokol::adversary {
namespace {

using asio::ip::tcp;
using asio::ip::udp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr const char* kLanGroup = "239.192.75.75";

// Per dialling member (by IP address): sessions that finished the handshake, open now, and
// the most open at once.
struct Counts {
    struct Of {
        std::size_t dials = 0, held = 0, most = 0;
    };
    std::map<std::string, Of> by_member;
    std::ofstream log;
    void note(const std::string& who, const char* what) {
        const auto& c = by_member[who];
        log << what << " from " << who << " held " << c.held << " most " << c.most << " dials "
            << c.dials << "\n";
        log.flush();
    }
};

struct FakeMember {
    crypto::BoxKeyPair key;
    std::unique_ptr<tcp::acceptor> acceptor;
};

// A session answered with a Hello and then a Ping every 20 s: the dialler's idle timeout never
// fires, and nothing it asks is ever answered.
asio::awaitable<void> hold(transport::Session session, std::shared_ptr<Counts> counts) {
    const auto who = session.remote_endpoint().address().to_string();
    auto& c = counts->by_member[who];
    ++c.dials;
    ++c.held;
    c.most = std::max(c.most, c.held);
    counts->note(who, "open");
    auto ex = co_await asio::this_coro::executor;
    auto send = [&session](const pb::SyncFrame& f) -> asio::awaitable<Status> {
        const auto text = f.SerializeAsString();
        co_return co_await session.send(Bytes(text.begin(), text.end()));
    };
    if (co_await send(RawSync::hello(1 << 20))) {
        // Read what comes (so the dialler never waits on TCP) until the session ends.
        auto alive = std::make_shared<bool>(true);
        asio::co_spawn(
            ex,
            [&session, alive]() -> asio::awaitable<void> {
                while (true) {
                    auto m = co_await session.receive();
                    if (!m) break;
                }
                *alive = false;
            },
            asio::detached);
        asio::steady_timer timer(ex);
        while (*alive) {
            timer.expires_after(std::chrono::seconds(1));
            for (int i = 0; i < 20 && *alive; ++i) {
                timer.expires_after(std::chrono::seconds(1));
                co_await timer.async_wait(use_tuple);
            }
            if (!*alive) break;
            pb::SyncFrame ping;
            ping.mutable_ping();
            if (!co_await send(ping)) break;
        }
        while (*alive) {  // the reader still holds a reference to the session
            timer.expires_after(std::chrono::milliseconds(50));
            co_await timer.async_wait(use_tuple);
        }
    }
    --counts->by_member[who].held;
    counts->note(who, "closed");
}

asio::awaitable<void> accept_loop(FakeMember& member, std::shared_ptr<Counts> counts) {
    auto ex = co_await asio::this_coro::executor;
    while (true) {
        auto [ec, socket] = co_await member.acceptor->async_accept(use_tuple);
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;
        transport::SessionOptions options;
        options.idle_timeout = std::chrono::hours(1);
        asio::co_spawn(
            ex,
            [socket = std::move(socket), &member, counts,
             options]() mutable -> asio::awaitable<void> {
                auto s =
                    co_await transport::Session::accept(std::move(socket), member.key, options);
                if (s) co_await hold(std::move(*s), counts);
            },
            asio::detached);
    }
}

int lan_fake_members(std::span<const std::string> args) {
    if (args.size() != 7) usage_error("takes HOME, PASSFILE, GROUP, FROM, LANPORT, COUNT and LOG");
    std::error_code ec;
    const auto from = asio::ip::make_address_v4(args[3], ec);
    if (ec) usage_error("FROM must be an IPv4 address of this host");
    const auto lan_port = number(args[4], "LANPORT");
    const auto count = number(args[5], "COUNT");
    if (lan_port == 0 || lan_port > 65535 || count == 0 || count > 4096)
        usage_error("LANPORT is 1..65535 and COUNT 1..4096");
    std::ifstream pass(args[1]);
    std::string passphrase;
    if (!pass || !std::getline(pass, passphrase))
        throw std::runtime_error("cannot read " + args[1]);
    auto opened = core::Node::open(args[0], as_bytes(passphrase));
    if (!opened) throw std::runtime_error("cannot open " + args[0] + ": " + opened.error().what());
    auto& node = **opened;
    auto group = node.resolve_group(args[2]);
    if (!group) throw std::runtime_error("no group " + args[2]);
    // The keys an honest member of the group beacons under: what any informer holds.
    std::vector<crypto::SecretBytes> keys;
    for (auto& k : node.beacon_keys())
        if (k.group == *group && k.send) keys.push_back(std::move(k.key));
    if (keys.empty()) throw std::runtime_error("the home sends no beacon for the group");

    auto counts = std::make_shared<Counts>();
    counts->log.open(args[6], std::ios::app);
    if (!counts->log) throw std::runtime_error("cannot write " + args[6]);
    asio::io_context io(1);
    std::vector<FakeMember> members(count);
    for (auto& m : members) {
        // A key above almost any other: the member who hears it is the side that dials.
        do {
            m.key = crypto::box_keypair();
        } while (m.key.public_key[0] != 0xff);
        m.acceptor = std::make_unique<tcp::acceptor>(io, tcp::endpoint(from, 0));
        asio::co_spawn(io, accept_loop(m, counts), asio::detached);
    }
    udp::socket socket(io, udp::endpoint(from, 0));
    socket.set_option(asio::ip::multicast::outbound_interface(from));
    socket.set_option(asio::ip::multicast::hops(1));
    const udp::endpoint to(asio::ip::make_address_v4(kLanGroup),
                           static_cast<std::uint16_t>(lan_port));
    // One beacon every 80 ms (under a listener's 16 a second per source), each for the next
    // made-up member in turn, under every key: every member is heard again and again.
    std::size_t sent = 0;
    bool stopping = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer timer(io);
            std::size_t next = 0;
            while (!stopping) {
                const auto& m = members[next++ % members.size()];
                transport::lan::BeaconInfo info;
                info.port = m.acceptor->local_endpoint().port();
                info.address = from.to_bytes();
                info.key = m.key.public_key;
                for (const auto& k : keys) {
                    auto beacon =
                        transport::lan::make_beacon(k.view(), transport::lan::window_of(unix_ms()),
                                                    info, crypto::system_random());
                    if (!beacon) continue;
                    std::error_code ignored;
                    socket.send_to(asio::buffer(*beacon), to, 0, ignored);
                    ++sent;
                }
                timer.expires_after(std::chrono::milliseconds(80 * keys.size()));
                co_await timer.async_wait(use_tuple);
            }
        },
        asio::detached);
    std::cout << "beaconing " << count << " made-up members from " << from.to_string() << std::endl;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code&, int) {
        stopping = true;
        io.stop();
    });
    io.run();
    std::cerr << "lan-fake-members: " << sent << " beacons sent\n";
    for (const auto& [who, c] : counts->by_member)
        std::cerr << "lan-fake-members: " << who << " dialled " << c.dials << ", at most " << c.most
                  << " held at once\n";
    return 0;
}

const Registration fake_members_reg{
    {"lan-fake-members",
     "HOME PASSFILE GROUP FROM LANPORT COUNT LOG — beacons from FROM (an IPv4 address of this "
     "host) under the keys HOME sends for GROUP, as COUNT made-up members each with a key and "
     "port of its own, answers every dial with a handshake, a Hello and a Ping every 20 s, and "
     "writes to LOG how many sessions it holds at once with each member; runs until SIGTERM",
     lan_fake_members}};

}  // namespace
}  // namespace kolokol::adversary
