// Hostile hosts on the LAN. `lan-beacon-as` is a removed member who goes on beaconing under
// every epoch key of the group their own home still holds, and writes down every member who
// dials the address in those beacons. `lan-flood` floods the beacon port from one address with
// datagrams of a beacon's size, to starve everyone else's discovery.
#include <sys/socket.h>

#include <array>
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

#include "command.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/lan_beacon.hpp"
#include "node_access.hpp"

namespace kolokol::adversary {
namespace {

using asio::ip::tcp;
using asio::ip::udp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr const char* kLanGroup = "239.192.75.75";

asio::awaitable<void> log_dials(tcp::acceptor& acceptor, std::ofstream& log) {
    while (true) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;
        std::error_code ignored;
        auto from = socket.remote_endpoint(ignored);
        log << "dialled from " << from.address().to_string() << "\n";
        log.flush();
    }
}

int lan_beacon_as(std::span<const std::string> args) {
    if (args.size() != 6 && args.size() != 7)
        usage_error("takes HOME, PASSFILE, GROUP, LANPORT, INTERVAL_MS, LOG and maybe ADDRESS");
    const auto lan_port = number(args[3], "LANPORT");
    const auto interval = number(args[4], "INTERVAL_MS");
    if (lan_port == 0 || lan_port > 65535 || interval < 100)
        usage_error("LANPORT is 1..65535 and INTERVAL_MS at least 100");
    std::ifstream pass(args[1]);
    std::string passphrase;
    if (!pass || !std::getline(pass, passphrase))
        throw std::runtime_error("cannot read " + args[1]);
    auto opened = core::Node::open(args[0], as_bytes(passphrase));
    if (!opened) throw std::runtime_error("cannot open " + args[0] + ": " + opened.error().what());
    auto& node = **opened;
    auto group = node.resolve_group(args[2]);
    if (!group) throw std::runtime_error("no group " + args[2]);
    // Every epoch of the group this home holds a secret for, whatever the group has decided
    // since: what a removed member keeps.
    std::vector<crypto::SecretBytes> keys;
    for (const auto& [mailbox, epoch] : core::NodeTestAccess::impl(node).epochs)
        if (epoch.group_id == *group && epoch.secret) keys.push_back(epoch.beacon_key());
    if (keys.empty()) throw std::runtime_error("the home holds no epoch secret of the group");

    std::ofstream log(args[5], std::ios::app);
    if (!log) throw std::runtime_error("cannot write " + args[5]);
    asio::io_context io(1);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::any(), 0));
    transport::lan::DiscoveryOptions options;
    options.group = asio::ip::make_address_v4(kLanGroup);
    options.port = static_cast<std::uint16_t>(lan_port);
    options.interval = std::chrono::milliseconds(interval);
    transport::lan::BeaconInfo self;
    self.port = acceptor.local_endpoint().port();
    self.key = crypto::box_keypair().public_key;
    if (args.size() == 7) {  // announce another listener (e.g. a hostile relay) instead
        auto announced = transport::Address::parse(args[6]);
        if (!announced) usage_error(announced.error().what());
        self.port = announced->port;
        self.key = announced->key;
    }
    std::vector<crypto::SecretBytes> listen;
    for (const auto& k : keys) listen.push_back(k.clone());
    const auto key_count = keys.size();
    transport::lan::Discovery discovery(io.get_executor(), options, std::move(keys), listen, self,
                                        &unix_ms, {});
    if (auto ok = discovery.start(); !ok) throw std::runtime_error(ok.error().what());
    std::cout << "beaconing under " << key_count << " key(s), dial port " << self.port << std::endl;
    asio::co_spawn(io, log_dials(acceptor, log), asio::detached);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code&, int) {
        discovery.stop();
        acceptor.close();
        io.stop();
    });
    io.run();
    std::cerr << "lan-beacon-as: " << discovery.stats().sent << " beacons sent\n";
    return 0;
}

// Sends every datagram once with sendmmsg; returns how many went.
int send_batch(udp::socket& socket, const udp::endpoint& to,
               std::vector<std::array<std::uint8_t, transport::lan::kBeaconBytes>>& datagrams) {
    std::vector<iovec> iov(datagrams.size());
    std::vector<mmsghdr> msgs(datagrams.size());
    for (std::size_t i = 0; i < datagrams.size(); ++i) {
        iov[i] = {datagrams[i].data(), datagrams[i].size()};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_name = const_cast<sockaddr*>(to.data());
        msgs[i].msg_hdr.msg_namelen = static_cast<socklen_t>(to.size());
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    return ::sendmmsg(socket.native_handle(), msgs.data(), static_cast<unsigned>(msgs.size()), 0);
}

int lan_flood(std::span<const std::string> args) {
    if (args.size() != 3) usage_error("takes FROM, LANPORT and SECONDS");
    std::error_code ec;
    auto from = asio::ip::make_address_v4(args[0], ec);
    if (ec) usage_error("FROM must be an IPv4 address of this host");
    const auto lan_port = number(args[1], "LANPORT");
    const auto seconds = number(args[2], "SECONDS");
    if (lan_port == 0 || lan_port > 65535) usage_error("LANPORT is 1..65535");
    asio::io_context io;
    udp::socket socket(io, udp::endpoint(from, 0));
    socket.set_option(asio::ip::multicast::outbound_interface(from));
    socket.set_option(asio::ip::multicast::hops(1));
    // A deep send queue: with a shaping qdisc on the interface (tc tbf) the kernel goes on
    // sending at the qdisc's steady rate while this process waits for a CPU. A flood with gaps
    // would let a listener's budget refill for whoever comes next.
    const int deep = 64 << 20;
    if (::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDBUFFORCE, &deep, sizeof deep) != 0)
        socket.set_option(asio::socket_base::send_buffer_size(deep), ec);
    const udp::endpoint to(asio::ip::make_address_v4(kLanGroup),
                           static_cast<std::uint16_t>(lan_port));
    // Random datagrams made up front, sent a batch a system call.
    std::vector<std::array<std::uint8_t, transport::lan::kBeaconBytes>> datagrams(256);
    for (auto& d : datagrams) crypto::system_random().fill(d);
    std::uint64_t sent = 0;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end)
        sent += static_cast<std::uint64_t>(std::max(0, send_batch(socket, to, datagrams)));
    std::cout << "sent " << sent << " datagrams" << std::endl;
    return 0;
}

const Registration beacon_reg{
    {"lan-beacon-as",
     "HOME PASSFILE GROUP LANPORT INTERVAL_MS LOG [ADDRESS] — beacons on the LAN under every "
     "epoch key of GROUP the home holds (a removed member's), and writes `dialled from ADDR` to "
     "LOG for every TCP connection to the port those beacons name; with ADDRESS (kolokol://…) "
     "the beacons name its port and key instead; runs until SIGTERM",
     lan_beacon_as}};

const Registration flood_reg{
    {"lan-flood",
     "FROM LANPORT SECONDS — sends random beacon-sized datagrams as fast as it can from FROM (an "
     "IPv4 address of this host) to the LAN beacon group for SECONDS (shape it with tc)",
     lan_flood}};

}  // namespace
}  // namespace kolokol::adversary
