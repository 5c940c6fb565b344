#include "kolokol/transport/lan_beacon.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/multicast.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string_view>

#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/transport/session_error.hpp"

namespace kolokol::transport::lan {

namespace {

constexpr std::string_view kWindowDomain = "kolokol/lan-beacon/v1/window";
constexpr std::string_view kMacDomain = "kolokol/lan-beacon/v1/mac";
constexpr std::string_view kEncLabel = "enc";

ByteView text_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void put_u64be(Bytes& out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// k_w into `out` (32 bytes).
void derive_window_key(ByteView beacon_key, std::uint64_t window, std::uint8_t* out) {
    Bytes msg(kWindowDomain.begin(), kWindowDomain.end());
    put_u64be(msg, window);
    auto k = crypto::hmac_sha256(beacon_key, msg);
    std::memcpy(out, k.data(), k.size());
    crypto::memzero(k);
}

crypto::Hash32 beacon_mac(ByteView window_key, ByteView nonce, std::uint64_t window,
                          ByteView ciphertext) {
    crypto::HmacSha256 mac(window_key);
    mac.update(text_bytes(kMacDomain));
    mac.update(nonce);
    Bytes w;
    put_u64be(w, window);
    mac.update(w);
    mac.update(ciphertext);
    return mac.finish();
}

crypto::SecretBytes keystream(ByteView window_key, ByteView nonce) {
    Bytes info(kEncLabel.begin(), kEncLabel.end());
    append(info, nonce);
    return crypto::hkdf_sha256_expand(window_key, info, kInfoBytes);
}

}  // namespace

std::uint64_t window_of(std::int64_t unix_ms) {
    if (unix_ms < 0) return 0;
    return static_cast<std::uint64_t>(unix_ms / 1000 / kWindowSeconds);
}

Result<Bytes> make_beacon(ByteView beacon_key, std::uint64_t window, const BeaconInfo& info,
                          crypto::Random& random) {
    if (beacon_key.size() != kBeaconKeyBytes)
        return fail(TransportErrc::bad_config, "a beacon key must be 32 bytes");
    if (info.port == 0) return fail(TransportErrc::bad_config, "a beacon needs a listen port");
    crypto::SecretBytes wk(32);
    derive_window_key(beacon_key, window, wk.data());
    Bytes out(kNonceBytes);
    random.fill(out);
    auto stream = keystream(wk.view(), ByteView(out).first(kNonceBytes));
    std::array<std::uint8_t, kInfoBytes> plain{};
    plain[0] = static_cast<std::uint8_t>(info.port >> 8);
    plain[1] = static_cast<std::uint8_t>(info.port & 0xff);
    std::copy(info.address.begin(), info.address.end(), plain.begin() + 2);
    std::copy(info.key.begin(), info.key.end(), plain.begin() + 6);
    for (std::size_t i = 0; i < kInfoBytes; ++i)
        out.push_back(static_cast<std::uint8_t>(plain[i] ^ stream.data()[i]));
    auto mac = beacon_mac(wk.view(), ByteView(out).first(kNonceBytes), window,
                          ByteView(out).subspan(kNonceBytes, kInfoBytes));
    out.insert(out.end(), mac.begin(), mac.end());
    return out;
}

const char* to_string(Verdict v) {
    switch (v) {
        case Verdict::recognised:
            return "recognised";
        case Verdict::unknown:
            return "unknown";
        case Verdict::malformed:
            return "malformed";
        case Verdict::replayed:
            return "replayed";
        case Verdict::rate_limited:
            return "rate limited";
    }
    return "?";
}

BeaconRecogniser::BeaconRecogniser(const std::vector<crypto::SecretBytes>& keys,
                                   RecogniserOptions options)
    : m_options(options) {
    std::size_t usable = 0;
    for (const auto& k : keys)
        if (k.size() == kBeaconKeyBytes && usable < kMaxBeaconKeys) ++usable;
    m_keys = crypto::SecretBytes(std::max<std::size_t>(usable, 1) * kBeaconKeyBytes);
    for (const auto& k : keys) {
        if (k.size() != kBeaconKeyBytes || m_key_count == usable) continue;
        std::memcpy(m_keys.data() + m_key_count * kBeaconKeyBytes, k.data(), kBeaconKeyBytes);
        ++m_key_count;
    }
    m_window_keys = crypto::SecretBytes(std::max<std::size_t>(m_key_count, 1) * 3 * 32);
    m_strangers.tokens = m_options.burst;
    m_members.tokens = m_options.member_burst;
}

const std::uint8_t* BeaconRecogniser::window_key(std::size_t key, std::uint64_t window) {
    // Slot 0: base-1, 1: base, 2: base+1. The caller only asks for windows in that range.
    std::size_t slot = static_cast<std::size_t>(window + 1 - *m_base);
    return m_window_keys.data() + (slot * m_key_count + key) * 32;
}

bool BeaconRecogniser::take_token(Bucket& bucket, double rate, double burst, std::int64_t now_ms) {
    if (now_ms > bucket.last_refill_ms)
        bucket.tokens =
            std::min(burst, bucket.tokens + static_cast<double>(now_ms - bucket.last_refill_ms) *
                                                rate / 1000.0);
    bucket.last_refill_ms = now_ms;
    if (bucket.tokens < 1.0) return false;
    bucket.tokens -= 1.0;
    return true;
}

Recognition BeaconRecogniser::recognise(ByteView datagram, std::int64_t now_ms, Charge charge) {
    Recognition out;
    const bool admitted =
        charge == Charge::member
            ? take_token(m_members, m_options.member_rate_per_second, m_options.member_burst,
                         now_ms)
            : take_token(m_strangers, m_options.rate_per_second, m_options.burst, now_ms);
    if (!admitted) {
        out.verdict = Verdict::rate_limited;
        return out;
    }
    if (datagram.size() != kBeaconBytes) {
        out.verdict = Verdict::malformed;
        return out;
    }
    auto base = window_of(now_ms);
    if (m_base != base) {
        m_base = base;
        for (std::uint64_t slot = 0; slot < 3; ++slot) {
            if (base + slot == 0) continue;  // window -1 does not exist
            for (std::size_t k = 0; k < m_key_count; ++k)
                derive_window_key(ByteView(m_keys.data() + k * kBeaconKeyBytes, kBeaconKeyBytes),
                                  base + slot - 1,
                                  m_window_keys.data() + (slot * m_key_count + k) * 32);
        }
    }
    ByteReader reader(datagram);
    auto nonce = *reader.take(kNonceBytes);
    auto ct = *reader.take(kInfoBytes);
    auto mac = *reader.take(kMacBytes);

    // Current window first, then the neighbours.
    std::array<std::uint64_t, 3> order{base, base + 1, base - 1};
    const std::size_t windows = base == 0 ? 2 : 3;  // window -1 does not exist
    for (std::size_t wi = 0; wi < windows; ++wi) {
        const std::uint64_t window = order[wi];
        for (std::size_t k = 0; k < m_key_count; ++k) {
            ByteView wk(window_key(k, window), 32);
            auto expect = beacon_mac(wk, nonce, window, ct);
            if (!crypto::equal_ct(expect, mac)) continue;

            auto n = to_array<kNonceBytes>(nonce);
            out.key_index = k;
            out.window = window;
            if (m_seen.contains(n)) {
                out.verdict = Verdict::replayed;
                return out;
            }
            m_seen.insert(n);
            m_seen_order.push_back(n);
            while (m_seen_order.size() > std::max<std::size_t>(m_options.replay_memory, 1)) {
                m_seen.erase(m_seen_order.front());
                m_seen_order.pop_front();
            }
            auto stream = keystream(wk, nonce);
            std::array<std::uint8_t, kInfoBytes> plain{};
            for (std::size_t i = 0; i < kInfoBytes; ++i)
                plain[i] = static_cast<std::uint8_t>(ct[i] ^ stream.data()[i]);
            out.info.port = static_cast<std::uint16_t>((plain[0] << 8) | plain[1]);
            std::copy(plain.begin() + 2, plain.begin() + 6, out.info.address.begin());
            std::copy(plain.begin() + 6, plain.end(), out.info.key.begin());
            out.verdict = out.info.port == 0 ? Verdict::malformed : Verdict::recognised;
            return out;
        }
    }
    out.verdict = Verdict::unknown;
    return out;
}

SourceLimiter::SourceLimiter(SourceLimitOptions options) : m_options(options) {
    m_options.max_sources = std::max<std::size_t>(m_options.max_sources, 1);
}

bool SourceLimiter::admit(const asio::ip::address& from, std::int64_t now_ms) {
    auto it = m_buckets.find(from);
    if (it == m_buckets.end()) {
        if (m_buckets.size() >= m_options.max_sources) {
            m_buckets.erase(m_order.back());
            m_order.pop_back();
        }
        m_order.push_front(from);
        it = m_buckets.emplace(from, Bucket{m_options.burst, now_ms, m_order.begin()}).first;
    } else {
        m_order.splice(m_order.begin(), m_order, it->second.order);
    }
    Bucket& b = it->second;
    if (now_ms > b.last_ms)
        b.tokens = std::min(m_options.burst, b.tokens + static_cast<double>(now_ms - b.last_ms) *
                                                            m_options.rate_per_second / 1000.0);
    b.last_ms = now_ms;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

void SourceLimiter::mark_member(const asio::ip::address& from) {
    if (m_options.max_members == 0 || !m_members.insert(from).second) return;
    m_member_order.push_back(from);
    while (m_member_order.size() > m_options.max_members) {
        m_members.erase(m_member_order.front());
        m_member_order.pop_front();
    }
}

bool SourceLimiter::is_member(const asio::ip::address& from) const {
    return m_members.contains(from);
}

std::size_t SourceLimiter::sources() const {
    return m_buckets.size();
}

// ---------------------------------------------------------------------------------------------

struct Discovery::State : std::enable_shared_from_this<Discovery::State> {
    State(asio::any_io_executor executor, DiscoveryOptions o, std::vector<crypto::SecretBytes> send,
          const std::vector<crypto::SecretBytes>& listen, BeaconInfo s,
          std::function<std::int64_t()> c, PeerFound p)
        : socket(executor),
          timer(executor),
          options(std::move(o)),
          send_keys(std::move(send)),
          recogniser(listen, options.recogniser),
          limiter(options.per_source),
          self(s),
          clock(std::move(c)),
          on_peer(std::move(p)) {}

    asio::ip::udp::socket socket;
    asio::steady_timer timer;
    DiscoveryOptions options;
    std::vector<crypto::SecretBytes> send_keys;
    BeaconRecogniser recogniser;
    SourceLimiter limiter;
    BeaconInfo self;
    std::function<std::int64_t()> clock;
    PeerFound on_peer;
    std::vector<std::pair<std::string, asio::ip::address_v4>> joined;
    bool stopped = false;

    mutable std::mutex stats_mutex;
    DiscoveryStats counters;

    // Both loops end at their next wake; idempotent.
    void halt() {
        if (stopped) return;
        stopped = true;
        std::error_code ec;
        timer.cancel();
        socket.close(ec);
    }

    void count(std::uint64_t DiscoveryStats::*field) {
        std::lock_guard lock(stats_mutex);
        ++(counters.*field);
    }

    asio::awaitable<void> send_loop(std::shared_ptr<State> keep) {
        (void)keep;
        asio::ip::udp::endpoint to(options.group, options.port);
        while (!stopped) {
            auto window = window_of(clock());
            for (const auto& key : send_keys) {
                for (const auto& [name, addr] : joined) {
                    // One beacon per interface: each names the address it leaves from.
                    auto info = self;
                    info.address = addr.to_bytes();
                    auto beacon = make_beacon(key.view(), window, info, crypto::system_random());
                    if (!beacon) continue;
                    std::error_code ec;
                    socket.set_option(asio::ip::multicast::outbound_interface(addr), ec);
                    if (ec) continue;
                    socket.send_to(asio::buffer(*beacon), to, 0, ec);
                    if (!ec) count(&DiscoveryStats::sent);
                }
            }
            timer.expires_after(options.interval);
            auto [ec] =
                co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            if (ec) break;
        }
    }

    asio::awaitable<void> receive_loop(std::shared_ptr<State> keep) {
        (void)keep;
        std::array<std::uint8_t, 512> buffer{};
        asio::ip::udp::endpoint from;
        while (!stopped) {
            auto [ec, n] = co_await socket.async_receive_from(
                asio::buffer(buffer), from, asio::experimental::as_tuple(asio::use_awaitable));
            if (stopped || ec == asio::error::operation_aborted) break;
            if (ec) continue;  // a transient error (e.g. ICMP) does not end discovery
            count(&DiscoveryStats::received);
            const auto now = clock();
            // The source's own budget first: a flood from one host stops here, before it
            // can spend the overall budget everyone else's beacons need.
            if (!limiter.admit(from.address(), now)) {
                count(&DiscoveryStats::rate_limited);
                continue;
            }
            auto r = recogniser.recognise(
                ByteView(buffer.data(), n), now,
                limiter.is_member(from.address()) ? Charge::member : Charge::stranger);
            switch (r.verdict) {
                case Verdict::recognised:
                    if (r.info.key == self.key) {
                        count(&DiscoveryStats::own);
                        break;
                    }
                    if (!from.address().is_v4() ||
                        from.address().to_v4().to_bytes() != r.info.address) {
                        count(&DiscoveryStats::wrong_source);
                        break;
                    }
                    limiter.mark_member(from.address());
                    count(&DiscoveryStats::recognised);
                    if (on_peer) on_peer(from.address(), r);
                    break;
                case Verdict::unknown:
                    count(&DiscoveryStats::unknown);
                    break;
                case Verdict::malformed:
                    count(&DiscoveryStats::malformed);
                    break;
                case Verdict::replayed:
                    count(&DiscoveryStats::replayed);
                    break;
                case Verdict::rate_limited:
                    count(&DiscoveryStats::rate_limited);
                    break;
            }
        }
    }
};

namespace {
// IPv4 interfaces that are up and multicast-capable, not loopback; or only `wanted` by name.
std::vector<std::pair<std::string, asio::ip::address_v4>> candidate_interfaces(
    const std::vector<std::string>& wanted) {
    std::vector<std::pair<std::string, asio::ip::address_v4>> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (auto* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_name) continue;
        std::string name = i->ifa_name;
        if (!wanted.empty()) {
            if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
        } else if (!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_MULTICAST) ||
                   (i->ifa_flags & IFF_LOOPBACK)) {
            continue;
        }
        sockaddr_in sin{};
        std::memcpy(&sin, i->ifa_addr, sizeof sin);
        asio::ip::address_v4 addr(ntohl(sin.sin_addr.s_addr));
        bool seen = false;
        for (const auto& [n, a] : out) seen = seen || n == name;
        if (!seen) out.emplace_back(name, addr);
    }
    freeifaddrs(list);
    return out;
}
}  // namespace

Discovery::Discovery(asio::any_io_executor executor, DiscoveryOptions options,
                     std::vector<crypto::SecretBytes> send_keys,
                     const std::vector<crypto::SecretBytes>& listen_keys, BeaconInfo self,
                     std::function<std::int64_t()> clock, PeerFound on_peer)
    : m_state(std::make_shared<State>(std::move(executor), std::move(options), std::move(send_keys),
                                      listen_keys, self, std::move(clock), std::move(on_peer))) {}

Discovery::~Discovery() {
    stop();
}

Status Discovery::start() {
    auto& s = *m_state;
    if (!s.options.group.is_multicast())
        return fail(TransportErrc::bad_config, "the LAN group must be a multicast address");
    if (s.options.port == 0)
        return fail(TransportErrc::bad_config, "the LAN port must be 1..65535");
    if (s.options.interval < std::chrono::milliseconds(100))
        return fail(TransportErrc::bad_config, "the beacon interval must be at least 100 ms");
    if (s.self.port == 0) return fail(TransportErrc::bad_config, "no listen port to announce");
    std::error_code ec;
    s.socket.open(asio::ip::udp::v4(), ec);
    if (!ec) s.socket.set_option(asio::ip::udp::socket::reuse_address(true), ec);
    if (!ec)
        s.socket.bind(asio::ip::udp::endpoint(asio::ip::address_v4::any(), s.options.port), ec);
    if (!ec) s.socket.set_option(asio::ip::multicast::hops(1), ec);
    if (!ec) s.socket.set_option(asio::ip::multicast::enable_loopback(true), ec);
    if (ec)
        return fail(TransportErrc::listen_failed,
                    "cannot listen for LAN beacons on UDP port {}: {}", s.options.port,
                    ec.message());
    std::string reasons;
    for (const auto& [name, addr] : candidate_interfaces(s.options.interfaces)) {
        std::error_code jec;
        s.socket.set_option(asio::ip::multicast::join_group(s.options.group, addr), jec);
        if (jec) {
            reasons += (reasons.empty() ? "" : "; ") + name + ": " + jec.message();
            continue;
        }
        s.joined.emplace_back(name, addr);
    }
    if (s.joined.empty()) {
        s.socket.close(ec);
        if (reasons.empty())
            return fail(TransportErrc::listen_failed,
                        "no network interface could join the LAN discovery group (no "
                        "multicast-capable IPv4 interface is up)");
        return fail(TransportErrc::listen_failed,
                    "no network interface could join the LAN discovery group ({})", reasons);
    }
    // A loop that throws (a PeerFound callback's bug) is logged and ends discovery, both loops,
    // rather than leave one side beaconing with nothing listening.
    auto done = [state = m_state](std::string_view where) {
        return [state, where](std::exception_ptr e) {
            if (!e) return;
            log_exception(state->options.log, where, e);
            state->halt();
        };
    };
    asio::co_spawn(s.socket.get_executor(), s.send_loop(m_state), done("lan: send loop"));
    asio::co_spawn(s.socket.get_executor(), s.receive_loop(m_state), done("lan: receive loop"));
    return {};
}

void Discovery::stop() {
    m_state->halt();
}

std::vector<std::string> Discovery::interfaces() const {
    std::vector<std::string> out;
    for (const auto& [name, addr] : m_state->joined) out.push_back(name);
    return out;
}

DiscoveryStats Discovery::stats() const {
    std::lock_guard lock(m_state->stats_mutex);
    return m_state->counters;
}

}  // namespace kolokol::transport::lan
