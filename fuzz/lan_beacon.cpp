// LAN beacon recognition: the only unauthenticated UDP input (transport/lan_beacon.hpp). Every
// datagram on the multicast group's port reaches BeaconRecogniser::recognise, before any
// key or address is known. Keys, clock and options are fixed (the seeds in
// fuzz/corpus/lan_beacon were made under key 1 for this clock's window), and the rate limits are
// opened wide so the fuzzer reaches the HMACs, the window trials and the replay memory rather
// than the token bucket.
#include "kolokol/transport/lan_beacon.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.hpp"

namespace {

// 2027-01-15T08:00:00Z; gen_corpus.cpp uses the same instant.
constexpr std::int64_t kNowMs = 1'800'000'000'000;

kolokol::transport::lan::BeaconRecogniser& recogniser() {
    static auto* r = [] {
        std::vector<kolokol::crypto::SecretBytes> keys;
        for (std::uint8_t k = 1; k <= 3; ++k) {
            kolokol::crypto::SecretBytes key(kolokol::transport::lan::kBeaconKeyBytes);
            for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = k;
            keys.push_back(std::move(key));
        }
        kolokol::transport::lan::RecogniserOptions options;
        options.rate_per_second = 1e12;
        options.burst = 1e12;
        options.member_rate_per_second = 1e12;
        options.member_burst = 1e12;
        return new kolokol::transport::lan::BeaconRecogniser(keys, options);
    }();
    return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)recogniser().recognise(kolokol::fuzz::input(data, size), kNowMs);
    return 0;
}
