// Noise handshakes and encrypted sessions on loopback, one thread. Prints JSON:
//   noise_xx_handshakes_per_s   in-memory Noise_XX (both sides), no sockets
//   session_handshakes_per_s    connect + XX handshake + close over TCP loopback, sequential
//   session_throughput_mb_s     one direction, 60 KiB messages, sender and receiver in-process
//   aead_throughput_mb_s        ChaCha20-Poly1305 seal alone on the same messages (the ceiling)
//   echo_round_trip_us          median send → echo → receive of a 100-byte message

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench_support.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/noise.hpp"
#include "kolokol/transport/server.hpp"
#include "kolokol/transport/session.hpp"
#include "kolokol/transport/session_connect.hpp"

using namespace kolokol;
namespace tr = kolokol::transport;
using Clock = std::chrono::steady_clock;

namespace {

using bench::seconds_since;

tr::noise::HandshakeState xx(tr::noise::Role role, const crypto::BoxKeyPair& key) {
    tr::noise::HandshakeConfig c;
    c.protocol_name = std::string(tr::kNoiseProtocol);
    c.role = role;
    c.prologue = to_bytes(tr::kPrologue);
    c.local_static = key.secret_key.clone();
    return std::move(*tr::noise::HandshakeState::create(std::move(c)));
}

double noise_handshakes_per_s() {
    auto a = crypto::box_keypair();
    auto b = crypto::box_keypair();
    constexpr int kRounds = 2000;
    auto start = Clock::now();
    for (int i = 0; i < kRounds; ++i) {
        auto init = xx(tr::noise::Role::initiator, a);
        auto resp = xx(tr::noise::Role::responder, b);
        (void)resp.read_message(*init.write_message({}));
        (void)init.read_message(*resp.write_message({}));
        (void)resp.read_message(*init.write_message({}));
        (void)init.split();
        (void)resp.split();
    }
    return kRounds / seconds_since(start);
}

double aead_mb_s(std::size_t message, int count) {
    tr::noise::CipherState c(crypto::SecretBytes(32));
    Bytes m(message, 0x42);
    auto start = Clock::now();
    for (int i = 0; i < count; ++i) (void)c.encrypt_with_ad({}, m);
    return double(message) * count / seconds_since(start) / 1e6;
}

}  // namespace

int main() {
    crypto::init();
    nlohmann::json out;
    out["noise_xx_handshakes_per_s"] = noise_handshakes_per_s();

    asio::io_context io;
    tr::ServerOptions options;
    options.max_sessions_per_address = 4096;
    options.max_sessions_per_prefix = 4096;
    tr::Server server(io.get_executor(), crypto::box_keypair(), options,
                      [](tr::Session& s) -> asio::awaitable<void> {
                          while (true) {
                              auto m = co_await s.receive();
                              if (!m) co_return;
                              if (m->size() > 1000) continue;  // bulk data is not echoed
                              if (!co_await s.send(std::move(*m))) co_return;
                          }
                      });
    if (!server.listen({asio::ip::make_address("127.0.0.1"), 0}) || !server.start()) return 1;
    auto port = server.local_endpoint().port();
    auto client_key = crypto::box_keypair();

    constexpr int kHandshakes = 500;
    constexpr std::size_t kBulkMessage = 60 * 1024;
    constexpr int kBulkCount = 4000;
    constexpr int kPings = 2000;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto start = Clock::now();
            for (int i = 0; i < kHandshakes; ++i) {
                auto s = co_await tr::connect("127.0.0.1", port, client_key, server.public_key());
                if (!s) co_return;
                co_await s->close();
            }
            out["session_handshakes_per_s"] = kHandshakes / seconds_since(start);

            auto s = co_await tr::connect("127.0.0.1", port, client_key, server.public_key());
            if (!s) co_return;
            std::vector<double> rtts;
            Bytes ping(100, 1);
            for (int i = 0; i < kPings; ++i) {
                auto t = Clock::now();
                if (!co_await s->send(ping)) co_return;
                if (!co_await s->receive()) co_return;
                rtts.push_back(seconds_since(t) * 1e6);
            }
            std::sort(rtts.begin(), rtts.end());
            out["echo_round_trip_us"] = rtts[rtts.size() / 2];

            Bytes bulk(kBulkMessage, 7);
            start = Clock::now();
            for (int i = 0; i < kBulkCount; ++i)
                if (!co_await s->send(bulk)) co_return;
            // The echo of one small message proves everything before it was received.
            if (!co_await s->send(ping) || !co_await s->receive()) co_return;
            out["session_throughput_mb_s"] =
                double(kBulkMessage) * kBulkCount / seconds_since(start) / 1e6;
            co_await s->close();
            server.stop();
        },
        asio::detached);
    io.run();
    out["aead_throughput_mb_s"] = aead_mb_s(kBulkMessage, kBulkCount);
    std::printf("%s\n", out.dump(2).c_str());
    return out.contains("session_throughput_mb_s") ? 0 : 1;
}
