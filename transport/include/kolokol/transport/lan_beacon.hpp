#pragma once
// LAN discovery (DESIGN §5): members on one link find each other with UDP multicast beacons
// that only holders of a shared epoch beacon key recognise, then sync over the normal Noise
// session.
//
// Beacon (86 bytes, all of them indistinguishable from random to anyone without the key):
//
//   nonce (16, fresh random) ‖ ct (38) ‖ mac (32)
//   k_w  = HMAC-SHA-256(beacon key, "kolokol/lan-beacon/v1/window" ‖ u64be(window))
//   ct   = (u16be(listen port) ‖ IPv4 address (4) ‖ transport static key (32))
//          XOR HKDF-Expand(k_w, "enc" ‖ nonce, 38)
//   mac  = HMAC-SHA-256(k_w, "kolokol/lan-beacon/v1/mac" ‖ nonce ‖ u64be(window) ‖ ct)
//   window = floor(unix seconds / 60)
//
// The window is not sent: a listener tries windows w-1, w, w+1 of its own clock, so the bytes
// hold no counter, no key id and no stable field. The address is the interface's the beacon
// was sent on, and a listener drops a beacon whose datagram came from another address: a
// beacon replayed by an outsider makes no member connect anywhere (which would tell the
// outsider who shares the sender's group). The transport key lets the receiver pin the peer.
//
// What an observer on the link learns: that a host sends 86-byte datagrams to the Kolokol
// multicast group and port at a regular interval (and, from the count per interval, how many
// beacon keys it sends under), and the timing and endpoints of the TCP syncs that follow.
// It learns no group, member or key identity and cannot link two beacons to one group.

#include <array>
#include <asio/any_io_executor.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/address_v4.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/log.hpp"

namespace kolokol::transport::lan {

inline constexpr std::size_t kBeaconKeyBytes = 32;
inline constexpr std::size_t kNonceBytes = 16;
inline constexpr std::size_t kInfoBytes = 2 + 4 + 32;
inline constexpr std::size_t kMacBytes = 32;
inline constexpr std::size_t kBeaconBytes = kNonceBytes + kInfoBytes + kMacBytes;  // 86
inline constexpr std::int64_t kWindowSeconds = 60;
// A recogniser holds at most this many keys, so one datagram costs at most 3 × this many
// HMAC-SHA-256 computations.
inline constexpr std::size_t kMaxBeaconKeys = 256;

// What a beacon carries under its key.
struct BeaconInfo {
    std::uint16_t port = 0;                 // the sender's TCP listen port (1..65535)
    std::array<std::uint8_t, 4> address{};  // the IPv4 address it was sent from
    StaticPublicKey key{};                  // the sender's transport static key
    friend bool operator==(const BeaconInfo&, const BeaconInfo&) = default;
};

// The window of a wall-clock time in ms since the Unix epoch (negative times give window 0).
std::uint64_t window_of(std::int64_t unix_ms);

// Builds one beacon under `beacon_key` (32 bytes) for `window`, with a nonce from `random`.
// Fails with bad_config only when the key is not 32 bytes or the port is 0.
Result<Bytes> make_beacon(ByteView beacon_key, std::uint64_t window, const BeaconInfo& info,
                          crypto::Random& random);

struct RecogniserOptions {
    RecogniserOptions() = default;
    // Authentic nonces remembered to drop replays (oldest forgotten first).
    std::size_t replay_memory = 4096;
    // Token bucket over every datagram offered (the overall budget): at most `burst` at once,
    // refilled at `rate` per second. Datagrams over the limit are dropped unexamined. With 256
    // keys one unknown datagram costs about 7 ms (bench_lan_beacon, debug build), so the default
    // caps a flood at about a third of a core; with a few keys it is negligible. Discovery puts
    // a SourceLimiter in front of it, so one flooding host cannot spend it all.
    double rate_per_second = 50.0;
    double burst = 100.0;
    // The members' budget, the same kind of bucket for datagrams from sources that sent a
    // recognised beacon before (Charge::member): a flood of strangers cannot starve members,
    // and a member forging many addresses still cannot make the listener do unbounded work —
    // both budgets together cap it at twice the overall one.
    double member_rate_per_second = 50.0;
    double member_burst = 100.0;
};

// Which budget a datagram is charged to.
enum class Charge {
    stranger,  // the overall budget: anyone's datagram
    member,    // the members' budget: its source sent a recognised beacon before (SourceLimiter)
};

enum class Verdict {
    recognised,    // authentic, fresh, in window w-1..w+1, not seen before
    unknown,       // no key and window fits: an outsider's datagram, noise, or too old/new
    malformed,     // not kBeaconBytes long
    replayed,      // authentic but its nonce was seen already
    rate_limited,  // dropped by the token bucket before any work
};
const char* to_string(Verdict v);

struct Recognition {
    Verdict verdict = Verdict::unknown;
    std::size_t key_index = 0;  // recognised/replayed: which key (index into the key list)
    std::uint64_t window = 0;
    BeaconInfo info;
};

// Tries every key it holds on each datagram. Not thread-safe (one listener owns one).
class BeaconRecogniser {
public:
    // `keys`: at most kMaxBeaconKeys keys of kBeaconKeyBytes each (extra keys are ignored, a key
    // of another size is skipped). They are copied into locked memory.
    BeaconRecogniser(const std::vector<crypto::SecretBytes>& keys, RecogniserOptions options);

    // Examines one datagram received at `now_ms` (ms since the Unix epoch; the listener's own
    // clock decides the window). Work is bounded: one size check, then at most
    // 3 × key_count() HMACs, plus one HKDF on success.
    Recognition recognise(ByteView datagram, std::int64_t now_ms, Charge charge = Charge::stranger);

    std::size_t key_count() const { return m_key_count; }

private:
    const std::uint8_t* window_key(std::size_t key, std::uint64_t window);
    struct Bucket {
        double tokens = 0;
        std::int64_t last_refill_ms = 0;
    };
    static bool take_token(Bucket& bucket, double rate, double burst, std::int64_t now_ms);

    crypto::SecretBytes m_keys;  // key_count × 32
    std::size_t m_key_count = 0;
    // Window keys of windows m_base-1, m_base, m_base+1 (3 × key_count × 32), recomputed
    // when the listener's window moves.
    crypto::SecretBytes m_window_keys;
    std::optional<std::uint64_t> m_base;
    RecogniserOptions m_options;
    std::deque<ByteArray<kNonceBytes>> m_seen_order;
    std::set<ByteArray<kNonceBytes>> m_seen;
    Bucket m_strangers;
    Bucket m_members;
};

// Rate limits per source address, checked before the recogniser's overall budget: a host
// flooding the beacon port from one address spends only its own tokens, never the budget that
// other members' beacons need. The table is bounded (the source heard from least recently is
// forgotten first, so a forgotten source comes back with a full bucket). Sources that sent a
// recognised beacon are remembered apart (at most max_members, oldest forgotten first) and
// charged to the members' budget instead (Charge::member), so even a flood from many forged
// addresses, which does drain the overall one, cannot keep known members from finding each
// other again; it can delay a newcomer's first discovery. A host that forges a member's own address
// can drain that member's bucket: source address checks on the switch are the remedy, nothing at
// this layer is. Not thread-safe.
struct SourceLimitOptions {
    SourceLimitOptions() = default;
    // An honest member sends one beacon per group and interface every interval (5 s by
    // default), so these pass 64 groups at once and a 100 ms interval for one group.
    double rate_per_second = 16.0;
    double burst = 64.0;
    std::size_t max_sources = 1024;
    std::size_t max_members = 256;
};

class SourceLimiter {
public:
    explicit SourceLimiter(SourceLimitOptions options);
    // Whether a datagram from `from` at `now_ms` may be examined; takes one of its tokens if so.
    bool admit(const asio::ip::address& from, std::int64_t now_ms);
    // `from` sent a recognised beacon.
    void mark_member(const asio::ip::address& from);
    bool is_member(const asio::ip::address& from) const;
    std::size_t sources() const;  // in the table now (≤ max_sources)

private:
    struct Bucket {
        double tokens = 0;
        std::int64_t last_ms = 0;
        std::list<asio::ip::address>::iterator order;
    };
    SourceLimitOptions m_options;
    std::map<asio::ip::address, Bucket> m_buckets;
    std::list<asio::ip::address> m_order;  // most recently heard first
    std::set<asio::ip::address> m_members;
    std::deque<asio::ip::address> m_member_order;  // oldest first
};

// The sender and listener on the network: one UDP socket bound to the group's port, joined
// to the multicast group on every IPv4 interface that is up, multicast-capable and not
// loopback (or only the named ones). Multicast TTL 1 and no loopback: beacons never leave
// the link and a node does not hear itself.
struct DiscoveryOptions {
    DiscoveryOptions() = default;
    asio::ip::address_v4 group = asio::ip::make_address_v4("239.192.75.75");
    std::uint16_t port = 47475;
    std::chrono::milliseconds interval = std::chrono::seconds(5);
    std::vector<std::string> interfaces;  // empty: all that qualify
    RecogniserOptions recogniser;
    SourceLimitOptions per_source;
    // Where an exception escaping discovery (a PeerFound callback's bug) is logged; it ends
    // discovery.
    LogSink log;
};

// Called on the discovery's executor for every recognised beacon.
using PeerFound = std::function<void(const asio::ip::address& from, const Recognition& what)>;

struct DiscoveryStats {
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    std::uint64_t recognised = 0;
    std::uint64_t unknown = 0;
    std::uint64_t malformed = 0;
    std::uint64_t replayed = 0;
    std::uint64_t rate_limited = 0;  // by either limit
    std::uint64_t own = 0;           // recognised beacons carrying our own transport key
    std::uint64_t wrong_source = 0;  // authentic, but sent from another address: replayed
};

class Discovery {
public:
    // `send_keys` are beaconed every interval (one datagram each, fresh nonce each time);
    // `listen_keys` are tried on what arrives. `self` is this node's listen port and transport
    // key. `clock` gives ms since the Unix epoch. Callbacks run on `executor`, which must be
    // single-threaded (or a strand).
    Discovery(asio::any_io_executor executor, DiscoveryOptions options,
              std::vector<crypto::SecretBytes> send_keys,
              const std::vector<crypto::SecretBytes>& listen_keys, BeaconInfo self,
              std::function<std::int64_t()> clock, PeerFound on_peer);
    ~Discovery();
    Discovery(const Discovery&) = delete;
    Discovery& operator=(const Discovery&) = delete;

    // Binds and joins the group. listen_failed when the socket cannot be bound or no interface
    // could join (the message names each interface's reason).
    Status start();
    // Stops sending and listening. Idempotent; call on the executor.
    void stop();
    // The interfaces joined (names), after start().
    std::vector<std::string> interfaces() const;
    DiscoveryStats stats() const;

    struct State;

private:
    std::shared_ptr<State> m_state;
};

}  // namespace kolokol::transport::lan
