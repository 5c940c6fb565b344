// LAN beacons: only key holders recognise them, within w-1..w+1 of their own clock, once; an
// outsider sees bytes with no stable field (DESIGN §5).
#include <doctest/doctest.h>

#include <set>

#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/lan_beacon.hpp"

using namespace kolokol;
namespace lan = kolokol::transport::lan;

namespace {

constexpr std::int64_t kMinute = 60'000;
// 2026-11-22 03:30:10 UTC, inside a window, 10 s after its start.
constexpr std::int64_t kNow = 1'795'318'210'000;

crypto::SecretBytes key_of(std::uint8_t fill) {
    crypto::SecretBytes k(32);
    for (std::size_t i = 0; i < 32; ++i) k.data()[i] = static_cast<std::uint8_t>(fill + i);
    return k;
}

lan::BeaconInfo info() {
    lan::BeaconInfo i;
    i.port = 40123;
    i.address = {10, 77, 0, 1};
    for (std::size_t j = 0; j < i.key.size(); ++j) i.key[j] = static_cast<std::uint8_t>(0xa0 ^ j);
    return i;
}

std::vector<crypto::SecretBytes> keys(std::initializer_list<std::uint8_t> fills) {
    std::vector<crypto::SecretBytes> out;
    for (auto f : fills) out.push_back(key_of(f));
    return out;
}

Bytes beacon(std::uint8_t key_fill, std::int64_t at_ms, crypto::Random& rng) {
    auto b = lan::make_beacon(key_of(key_fill).view(), lan::window_of(at_ms), info(), rng);
    REQUIRE(b.has_value());
    return *b;
}

}  // namespace

TEST_CASE("a member recognises a beacon and learns the port and transport key") {
    crypto::DeterministicRandom rng(1);
    auto b = beacon(7, kNow, rng);
    CHECK(b.size() == lan::kBeaconBytes);
    lan::BeaconRecogniser r(keys({1, 2, 7, 9}), lan::RecogniserOptions{});
    auto got = r.recognise(b, kNow);
    CHECK(got.verdict == lan::Verdict::recognised);
    CHECK(got.key_index == 2);
    CHECK(got.window == lan::window_of(kNow));
    CHECK(got.info == info());  // port, sending address and transport key
}

TEST_CASE("without the key a beacon is not recognised, and the port and key are not in it") {
    crypto::DeterministicRandom rng(2);
    auto b = beacon(7, kNow, rng);
    lan::BeaconRecogniser outsider(keys({1, 2, 3}), lan::RecogniserOptions{});
    CHECK(outsider.recognise(b, kNow).verdict == lan::Verdict::unknown);
    // Neither the port nor the transport key appear in clear.
    auto i = info();
    auto key_at = std::search(b.begin(), b.end(), i.key.begin(), i.key.begin() + 4);
    CHECK(key_at == b.end());
    for (std::size_t j = 0; j + 1 < b.size(); ++j)
        CHECK_FALSE((b[j] == (i.port >> 8) && b[j + 1] == (i.port & 0xff)));
}

TEST_CASE("every changed byte makes the beacon unrecognisable") {
    crypto::DeterministicRandom rng(3);
    auto b = beacon(7, kNow, rng);
    for (std::size_t pos = 0; pos < b.size(); ++pos) {
        lan::BeaconRecogniser r(keys({7}), lan::RecogniserOptions{});
        auto m = b;
        m[pos] ^= 0x01;
        CAPTURE(pos);
        CHECK(r.recognise(m, kNow).verdict == lan::Verdict::unknown);
    }
}

TEST_CASE("datagrams of another size are malformed, before any key work") {
    lan::BeaconRecogniser r(keys({7}), lan::RecogniserOptions{});
    CHECK(r.recognise(Bytes{}, kNow).verdict == lan::Verdict::malformed);
    CHECK(r.recognise(Bytes(lan::kBeaconBytes - 1, 0), kNow).verdict == lan::Verdict::malformed);
    CHECK(r.recognise(Bytes(lan::kBeaconBytes + 1, 0), kNow).verdict == lan::Verdict::malformed);
    CHECK(r.recognise(Bytes(4096, 0x55), kNow).verdict == lan::Verdict::malformed);
}

TEST_CASE("only the windows next to the listener's clock count (injected clock)") {
    crypto::DeterministicRandom rng(4);
    struct Case {
        std::int64_t sent_at;
        lan::Verdict expect;
    };
    const Case cases[] = {
        {kNow, lan::Verdict::recognised},
        {kNow - kMinute, lan::Verdict::recognised},    // one window old
        {kNow + kMinute, lan::Verdict::recognised},    // sender's clock a minute ahead
        {kNow - 2 * kMinute, lan::Verdict::unknown},   // two windows old: replayed later
        {kNow + 2 * kMinute, lan::Verdict::unknown},   // too far ahead
        {kNow - 60 * kMinute, lan::Verdict::unknown},  // an hour old
        {kNow - 24 * 60 * kMinute, lan::Verdict::unknown},
    };
    for (const auto& c : cases) {
        lan::BeaconRecogniser r(keys({7}), lan::RecogniserOptions{});
        CAPTURE(c.sent_at - kNow);
        CHECK(r.recognise(beacon(7, c.sent_at, rng), kNow).verdict == c.expect);
    }
}

TEST_CASE("a captured beacon replayed later is ignored: at once, and after its windows passed") {
    crypto::DeterministicRandom rng(5);
    auto b = beacon(7, kNow, rng);
    lan::BeaconRecogniser r(keys({7}), lan::RecogniserOptions{});
    REQUIRE(r.recognise(b, kNow).verdict == lan::Verdict::recognised);
    CHECK(r.recognise(b, kNow + 1000).verdict == lan::Verdict::replayed);
    CHECK(r.recognise(b, kNow + kMinute).verdict == lan::Verdict::replayed);
    // Two windows on, the beacon's window is out of range: unknown, whatever the memory holds.
    CHECK(r.recognise(b, kNow + 2 * kMinute).verdict == lan::Verdict::unknown);
    // A fresh listener that never saw it: still refused once the window is old.
    lan::BeaconRecogniser late(keys({7}), lan::RecogniserOptions{});
    CHECK(late.recognise(b, kNow + 2 * kMinute).verdict == lan::Verdict::unknown);
    CHECK(late.recognise(b, kNow + 30 * kMinute).verdict == lan::Verdict::unknown);
}

TEST_CASE("the replay memory is bounded: the oldest nonce is forgotten first") {
    crypto::DeterministicRandom rng(6);
    lan::RecogniserOptions o;
    o.replay_memory = 2;
    lan::BeaconRecogniser r(keys({7}), o);
    auto b1 = beacon(7, kNow, rng), b2 = beacon(7, kNow, rng), b3 = beacon(7, kNow, rng);
    CHECK(r.recognise(b1, kNow).verdict == lan::Verdict::recognised);
    CHECK(r.recognise(b2, kNow).verdict == lan::Verdict::recognised);
    CHECK(r.recognise(b2, kNow).verdict == lan::Verdict::replayed);
    CHECK(r.recognise(b3, kNow).verdict == lan::Verdict::recognised);
    CHECK(r.recognise(b3, kNow).verdict == lan::Verdict::replayed);
    CHECK(r.recognise(b1, kNow).verdict == lan::Verdict::recognised);  // evicted: b1 was oldest
}

TEST_CASE("the rate limit drops datagrams over the budget unexamined, then refills") {
    crypto::DeterministicRandom rng(7);
    lan::RecogniserOptions o;
    o.burst = 5;
    o.rate_per_second = 2;
    lan::BeaconRecogniser r(keys({7}), o);
    for (int i = 0; i < 5; ++i)
        CHECK(r.recognise(Bytes(3, 0), kNow).verdict == lan::Verdict::malformed);
    auto b = beacon(7, kNow, rng);
    CHECK(r.recognise(b, kNow).verdict == lan::Verdict::rate_limited);
    // Half a second later one token is back: the same (unexamined) beacon is now recognised.
    CHECK(r.recognise(b, kNow + 500).verdict == lan::Verdict::recognised);
    CHECK(r.recognise(Bytes(3, 0), kNow + 500).verdict == lan::Verdict::rate_limited);
}

TEST_CASE("members' datagrams draw on a budget of their own, as bounded as the overall one") {
    crypto::DeterministicRandom rng(8);
    lan::RecogniserOptions o;
    o.burst = 1;
    o.rate_per_second = 1;
    o.member_burst = 2;
    o.member_rate_per_second = 1;
    lan::BeaconRecogniser r(keys({7}), o);
    CHECK(r.recognise(Bytes(3, 0), kNow).verdict == lan::Verdict::malformed);
    auto b = beacon(7, kNow, rng);
    // Strangers have spent the overall budget; a member is still examined, twice.
    CHECK(r.recognise(b, kNow).verdict == lan::Verdict::rate_limited);
    CHECK(r.recognise(b, kNow, lan::Charge::member).verdict == lan::Verdict::recognised);
    CHECK(r.recognise(Bytes(3, 0), kNow, lan::Charge::member).verdict == lan::Verdict::malformed);
    // ... and no more: members forging many addresses cannot make it work without bound.
    CHECK(r.recognise(Bytes(3, 0), kNow, lan::Charge::member).verdict ==
          lan::Verdict::rate_limited);
    // Each refills on its own.
    CHECK(r.recognise(Bytes(3, 0), kNow + 1000).verdict == lan::Verdict::malformed);
    CHECK(r.recognise(Bytes(3, 0), kNow + 1000, lan::Charge::member).verdict ==
          lan::Verdict::malformed);
}

TEST_CASE("per source: a flood from one address spends only its own tokens") {
    lan::SourceLimitOptions o;
    o.burst = 4;
    o.rate_per_second = 2;
    lan::SourceLimiter limit(o);
    const auto flooder = asio::ip::make_address("10.0.0.8");
    const auto member = asio::ip::make_address("10.0.0.1");
    for (int i = 0; i < 4; ++i) CHECK(limit.admit(flooder, kNow));
    for (int i = 0; i < 1000; ++i) CHECK_FALSE(limit.admit(flooder, kNow));
    CHECK(limit.admit(member, kNow));
    // Half a second later the flooder has one token again, and only one.
    CHECK(limit.admit(flooder, kNow + 500));
    CHECK_FALSE(limit.admit(flooder, kNow + 500));
    // An IPv6 source is a source of its own.
    CHECK(limit.admit(asio::ip::make_address("fe80::8"), kNow));
}

TEST_CASE("per source: the table is bounded and forgets the source heard from least recently") {
    lan::SourceLimitOptions o;
    o.burst = 1;
    o.rate_per_second = 0.001;
    o.max_sources = 3;
    lan::SourceLimiter limit(o);
    auto at = [](int i) {
        return asio::ip::make_address_v4(0x0a000001u + static_cast<unsigned>(i));
    };
    for (int i = 0; i < 3; ++i) CHECK(limit.admit(at(i), kNow));
    CHECK(limit.sources() == 3);
    // Heard again (refused, its bucket is empty), 0 is now the most recent; 1 is forgotten.
    CHECK_FALSE(limit.admit(at(0), kNow));
    CHECK(limit.admit(at(3), kNow));
    CHECK(limit.sources() == 3);
    CHECK_FALSE(limit.admit(at(0), kNow));  // still known, still empty
    CHECK(limit.admit(at(1), kNow));        // forgotten, back with a full bucket
    for (int i = 0; i < 10'000; ++i) (void)limit.admit(at(100 + i), kNow);
    CHECK(limit.sources() == 3);
}

TEST_CASE("per source: members are remembered apart, at most max_members of them") {
    lan::SourceLimitOptions o;
    o.max_members = 2;
    lan::SourceLimiter limit(o);
    const auto a = asio::ip::make_address("10.0.0.1");
    const auto b = asio::ip::make_address("10.0.0.2");
    const auto c = asio::ip::make_address("10.0.0.3");
    CHECK_FALSE(limit.is_member(a));
    limit.mark_member(a);
    limit.mark_member(a);
    limit.mark_member(b);
    CHECK(limit.is_member(a));
    CHECK(limit.is_member(b));
    limit.mark_member(c);  // the oldest, a, is forgotten
    CHECK_FALSE(limit.is_member(a));
    CHECK(limit.is_member(b));
    CHECK(limit.is_member(c));
}

TEST_CASE("a recogniser holds at most kMaxBeaconKeys keys and skips keys of the wrong size") {
    std::vector<crypto::SecretBytes> many;
    many.push_back(crypto::SecretBytes(16));
    for (std::size_t i = 0; i < lan::kMaxBeaconKeys + 10; ++i)
        many.push_back(key_of(static_cast<std::uint8_t>(i)));
    lan::BeaconRecogniser r(many, lan::RecogniserOptions{});
    CHECK(r.key_count() == lan::kMaxBeaconKeys);
    crypto::DeterministicRandom rng(8);
    CHECK(lan::make_beacon(crypto::SecretBytes(31).view(), 1, info(), rng).error().code ==
          transport::TransportErrc::bad_config);
    auto zero_port = info();
    zero_port.port = 0;
    CHECK_FALSE(lan::make_beacon(key_of(1).view(), 1, zero_port, rng).has_value());
}

TEST_CASE("beacons of one minute share no bytes beyond chance with the next") {
    // The same sender (same key, port and transport key) in two consecutive windows.
    auto& rng = crypto::system_random();
    constexpr int kCount = 300;
    std::vector<Bytes> now, next;
    for (int i = 0; i < kCount; ++i) {
        now.push_back(beacon(7, kNow, rng));
        next.push_back(beacon(7, kNow + kMinute, rng));
    }
    // Equal bytes at equal offsets: about 1/256 of all positions compared.
    std::size_t equal = 0, compared = 0;
    for (int i = 0; i < kCount; ++i)
        for (std::size_t p = 0; p < lan::kBeaconBytes; ++p, ++compared)
            equal += now[static_cast<std::size_t>(i)][p] == next[static_cast<std::size_t>(i)][p];
    double expected = static_cast<double>(compared) / 256.0;  // ≈ 96
    CAPTURE(equal);
    CAPTURE(expected);
    CHECK(static_cast<double>(equal) < expected * 1.6);
    CHECK(static_cast<double>(equal) > expected * 0.4);
    // No 4-byte string at any fixed offset occurs in both minutes (chance: ~ 8e-4 overall).
    std::size_t common = 0;
    for (std::size_t p = 0; p + 4 <= lan::kBeaconBytes; ++p) {
        std::set<std::uint32_t> seen;
        auto gram = [&](const Bytes& b) {
            return (std::uint32_t{b[p]} << 24) | (std::uint32_t{b[p + 1]} << 16) |
                   (std::uint32_t{b[p + 2]} << 8) | b[p + 3];
        };
        for (const auto& b : now) seen.insert(gram(b));
        for (const auto& b : next) common += seen.contains(gram(b));
    }
    CHECK(common == 0);
    // Within one minute too, two beacons of the same sender share nothing stable.
    std::size_t same_minute = 0;
    for (std::size_t p = 0; p < lan::kBeaconBytes; ++p) same_minute += now[0][p] == now[1][p];
    CHECK(same_minute < 8);
}

TEST_CASE("window_of counts minutes since the epoch and clamps negative times") {
    CHECK(lan::window_of(0) == 0);
    CHECK(lan::window_of(-5) == 0);
    CHECK(lan::window_of(59'999) == 0);
    CHECK(lan::window_of(60'000) == 1);
    CHECK(lan::window_of(kNow) == static_cast<std::uint64_t>(kNow / kMinute));
    // Near window 0 the listener does not wrap around to window 2^64-1.
    crypto::DeterministicRandom rng(9);
    lan::BeaconRecogniser r(keys({7}), lan::RecogniserOptions{});
    CHECK(r.recognise(beacon(7, 1000, rng), 1000).verdict == lan::Verdict::recognised);
    CHECK(r.recognise(beacon(7, 61'000, rng), 1000).verdict == lan::Verdict::recognised);
}
