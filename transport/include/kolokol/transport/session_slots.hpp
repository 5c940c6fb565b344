#pragma once
// Who holds a server's connection slots, and whose slot a newcomer takes when they are full
// (server.hpp). A policy without I/O or clock: the Server asks it and acts on the answers.
//
// Slots are capped in all, per source address and per address prefix: /24 for IPv4 (IPv4-mapped
// IPv6 addresses count as IPv4), /48 for IPv6, the blocks one party typically holds. A slot is
// *authorized* once its session has proved a right to the service (a relay: it opened a mailbox);
// until then it is the cheapest thing an attacker can hold, and it may be evicted.
//
// A newcomer that would pass a cap may take the slot of one unauthorized session, chosen in the
// narrowest full scope: when the server is full, from the prefix holding the most unauthorized
// sessions; when the newcomer's prefix is full, from its address holding the most; in either,
// from that prefix's busiest address, the oldest. It may do so only if that group holds at
// least two more unauthorized sessions than the newcomer's own (its prefix, its address) —
// max-min fairness: a flood cannot push out a client of a prefix that holds fewer, and once its
// groups are even its own newcomers are refused at once, before any handshake, instead of
// churning through slots at the server's expense. An address at its cap is refused outright
// (another of its own sessions is all it could replace).
//
// An authorized session is never evicted on a relay. On a member's listener
// (`SlotLimits::evict_authorized`), where every member and removed member holds keys the server
// admits, authorized sessions are weighed too, once no unauthorized one may go: the newcomer
// takes the oldest session of the address holding the most sessions in the full scope (its
// prefix; when the server is full, the prefix holding the most), if that address holds at least
// two more sessions than the newcomer's own address (and, the server full, that prefix two more
// than the newcomer's prefix). So an address holding one session never loses it, and one party
// whose few addresses hold a prefix's slots gives them up to each newcomer of another address
// until the addresses are even.
//
// Not thread-safe: the Server holds its mutex around every call.

#include <asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

namespace kolokol::transport {

struct SlotLimits {
    std::size_t max_sessions = 1024;
    std::size_t per_address = 32;
    std::size_t per_prefix = 128;
    // A member's listener: authorized sessions may be evicted too, by the rule above.
    bool evict_authorized = false;
};

class SessionSlots {
public:
    using SlotId = std::uint64_t;  // increasing: a smaller id is an older slot

    enum class Outcome { admitted, refused_capacity, refused_address, refused_prefix };
    struct Admission {
        Outcome outcome = Outcome::admitted;
        SlotId slot = 0;                // when admitted
        std::optional<SlotId> evicted;  // the slot given up for it: abort that session
    };

    explicit SessionSlots(SlotLimits limits) : m_limits(limits) {}

    Admission admit(const asio::ip::address& address);
    // The session proved its right to the service; it is never evicted from now on, unless
    // `evict_authorized`. A slot that is unknown (released or evicted) is ignored.
    void authorize(SlotId slot);
    // The session ended. An unknown slot (evicted earlier) is ignored.
    void release(SlotId slot);
    bool holds(SlotId slot) const { return m_slots.contains(slot); }

    std::size_t active() const { return m_slots.size(); }
    std::size_t unauthorized() const;
    std::size_t at_address(const asio::ip::address& address) const;
    std::size_t in_prefix(const asio::ip::address& address) const;

    // The address as slots count it (IPv4-mapped IPv6 as IPv4), and its prefix as an address
    // with the host bits cleared.
    static asio::ip::address normalized(const asio::ip::address& address);
    static asio::ip::address prefix_of(const asio::ip::address& address);

private:
    struct Slot {
        asio::ip::address address;
        asio::ip::address prefix;
        bool authorized = false;
    };
    struct Group {
        std::set<SlotId> all;           // oldest first
        std::set<SlotId> unauthorized;  // oldest first
    };
    struct Prefix : Group {
        std::set<asio::ip::address> addresses;  // those holding a slot
    };

    std::size_t unauthorized_at(const asio::ip::address& address) const;
    std::size_t unauthorized_in(const asio::ip::address& prefix) const;
    const Group* biggest_address_in(const Prefix& prefix) const;
    std::optional<SlotId> victim_in_prefix(const asio::ip::address& prefix,
                                           const asio::ip::address& newcomer) const;
    std::optional<SlotId> victim_anywhere(const asio::ip::address& newcomer_prefix) const;
    const Group* busiest_address_in(const Prefix& prefix) const;
    std::optional<SlotId> any_victim_in_prefix(const asio::ip::address& prefix,
                                               const asio::ip::address& newcomer) const;
    std::optional<SlotId> any_victim_anywhere(const asio::ip::address& newcomer,
                                              const asio::ip::address& newcomer_prefix) const;
    void remove(SlotId slot);

    SlotLimits m_limits;
    SlotId m_next = 1;
    std::map<SlotId, Slot> m_slots;
    std::map<asio::ip::address, Group> m_addresses;
    std::map<asio::ip::address, Prefix> m_prefixes;
};

}  // namespace kolokol::transport
