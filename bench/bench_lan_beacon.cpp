// The cost of LAN beacons (DESIGN §5): building one, and recognising a datagram when the
// listener holds 1, 16 or 256 (the cap) beacon keys — for a member's beacon (found under the
// current window) and for an outsider's datagram (every key, three windows: the worst case a
// flood can force before the rate limit) — and the per-source limit in front of it, for one
// flooding address and for a forged address per datagram. Prints JSON.
// Usage: bench_lan_beacon [iterations].

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/lan_beacon.hpp"

using namespace kolokol;
namespace lan = kolokol::transport::lan;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    crypto::init();
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 2000;
    if (iterations <= 0) return 2;
    constexpr std::int64_t now = 1'795'318'210'000;
    auto& rng = crypto::system_random();
    lan::BeaconInfo info;
    info.port = 47000;

    nlohmann::json out;
    out["iterations"] = iterations;
    crypto::SecretBytes key(32);
    rng.fill(key.mutable_view());
    {
        auto start = Clock::now();
        std::size_t bytes = 0;
        for (int i = 0; i < iterations; ++i)
            bytes += lan::make_beacon(key.view(), lan::window_of(now), info, rng)->size();
        double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
        out["make_beacon_us"] = us / iterations;
        out["beacon_bytes"] = bytes / static_cast<std::size_t>(iterations);
    }
    for (std::size_t n : {std::size_t{1}, std::size_t{16}, lan::kMaxBeaconKeys}) {
        std::vector<crypto::SecretBytes> keys;
        for (std::size_t i = 0; i < n; ++i) {
            crypto::SecretBytes k(32);
            rng.fill(k.mutable_view());
            keys.push_back(std::move(k));
        }
        lan::RecogniserOptions options;
        options.rate_per_second = 1e12;  // measure the work, not the limit
        options.burst = 1e12;
        options.replay_memory = static_cast<std::size_t>(iterations) + 1;
        lan::BeaconRecogniser recogniser(keys, options);
        // Members' beacons under the last key (the slowest to find in the current window).
        std::vector<Bytes> member;
        for (int i = 0; i < iterations; ++i)
            member.push_back(*lan::make_beacon(keys.back().view(), lan::window_of(now), info, rng));
        Bytes noise(lan::kBeaconBytes);
        (void)recogniser.recognise(noise, now);  // derive the window keys outside the timing
        auto start = Clock::now();
        std::size_t recognised = 0;
        for (const auto& b : member)
            recognised += recogniser.recognise(b, now).verdict == lan::Verdict::recognised;
        double member_us =
            std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations;
        start = Clock::now();
        std::size_t unknown = 0;
        for (int i = 0; i < iterations; ++i) {
            rng.fill(noise);
            unknown += recogniser.recognise(noise, now).verdict == lan::Verdict::unknown;
        }
        double outsider_us =
            std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations;
        if (recognised != static_cast<std::size_t>(iterations) ||
            unknown != static_cast<std::size_t>(iterations)) {
            std::fprintf(stderr, "bench_lan_beacon: wrong verdicts\n");
            return 1;
        }
        out["recognise"].push_back({{"keys", n},
                                    {"member_beacon_us", member_us},
                                    {"outsider_datagram_us", outsider_us},
                                    {"outsider_datagrams_per_core_second", 1e6 / outsider_us}});
    }
    {
        // The per-source limit every datagram meets first: one flooding address (refused once
        // its burst is spent), and a forged address per datagram (the table at its cap, the
        // least recent source forgotten each time).
        lan::SourceLimiter one(lan::SourceLimitOptions{});
        const auto flooder = asio::ip::make_address("10.0.0.8");
        const int n = iterations * 100;
        auto start = Clock::now();
        int admitted = 0;
        for (int i = 0; i < n; ++i) admitted += one.admit(flooder, now);
        double one_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / n;
        lan::SourceLimiter many(lan::SourceLimitOptions{});
        start = Clock::now();
        for (int i = 0; i < n; ++i)
            (void)many.admit(asio::ip::make_address_v4(0x0a000000u + static_cast<unsigned>(i)),
                             now);
        double many_us =
            std::chrono::duration<double, std::micro>(Clock::now() - start).count() / n;
        out["per_source"] = {{"one_address_us", one_us},
                             {"one_address_admitted", admitted},
                             {"forged_addresses_us", many_us},
                             {"sources_held", many.sources()}};
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}
