// The server's slot policy (session_slots.hpp) on its own: caps, prefixes, and whose slot a
// newcomer may take.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kolokol/transport/session_slots.hpp"

using namespace kolokol::transport;
using Outcome = SessionSlots::Outcome;

namespace {

asio::ip::address ip(const std::string& text) {
    return asio::ip::make_address(text);
}

SessionSlots::SlotId take(SessionSlots& slots, const std::string& address) {
    auto a = slots.admit(ip(address));
    REQUIRE(a.outcome == Outcome::admitted);
    CHECK_FALSE(a.evicted.has_value());
    return a.slot;
}

}  // namespace

TEST_CASE("slots: prefixes are /24 for IPv4 and IPv4-mapped IPv6, /48 for IPv6") {
    CHECK(SessionSlots::prefix_of(ip("192.0.2.77")) == ip("192.0.2.0"));
    CHECK(SessionSlots::prefix_of(ip("::ffff:192.0.2.77")) == ip("192.0.2.0"));
    CHECK(SessionSlots::normalized(ip("::ffff:192.0.2.77")) == ip("192.0.2.77"));
    CHECK(SessionSlots::prefix_of(ip("2001:db8:1:2:3:4:5:6")) == ip("2001:db8:1::"));
    // The /64s of one site's /56 or /48 are one party.
    CHECK(SessionSlots::prefix_of(ip("2001:db8:1:3::1")) ==
          SessionSlots::prefix_of(ip("2001:db8:1:ff00::1")));
    CHECK(SessionSlots::prefix_of(ip("2001:db8:2::1")) !=
          SessionSlots::prefix_of(ip("2001:db8:1::1")));
}

TEST_CASE("slots: an address, a prefix and the server each have their cap") {
    SessionSlots slots({8, 2, 3});
    take(slots, "10.0.0.1");
    take(slots, "10.0.0.1");
    CHECK(slots.admit(ip("10.0.0.1")).outcome == Outcome::refused_address);
    // The same address written as IPv4-mapped IPv6 is the same address.
    CHECK(slots.admit(ip("::ffff:10.0.0.1")).outcome == Outcome::refused_address);
    take(slots, "10.0.0.2");
    // 10.0.0.0/24 is full; 10.0.0.1 holds two where the newcomer holds none: one goes.
    auto a = slots.admit(ip("10.0.0.3"));
    CHECK(a.outcome == Outcome::admitted);
    CHECK(a.evicted.has_value());
    // Now every address holds one: nobody to evict.
    CHECK(slots.admit(ip("10.0.0.4")).outcome == Outcome::refused_prefix);
    take(slots, "10.0.1.1");
    CHECK(slots.active() == 4);
    CHECK(slots.in_prefix(ip("10.0.0.200")) == 3);
    CHECK(slots.at_address(ip("10.0.0.1")) == 1);
}

TEST_CASE(
    "slots: when full, a newcomer takes the oldest slot of the biggest prefix's biggest "
    "address") {
    SessionSlots slots({6, 8, 8});
    const auto a1 = take(slots, "10.0.1.1");
    take(slots, "10.0.1.1");
    take(slots, "10.0.1.2");
    take(slots, "10.0.1.1");
    take(slots, "10.0.2.1");
    take(slots, "10.0.2.1");
    // 10.0.1.0/24 holds four (10.0.1.1 three of them), 10.0.2.0/24 two.
    auto a = slots.admit(ip("192.0.2.1"));
    REQUIRE(a.outcome == Outcome::admitted);
    REQUIRE(a.evicted.has_value());
    CHECK(*a.evicted == a1);
    CHECK_FALSE(slots.holds(a1));
    CHECK(slots.active() == 6);
    CHECK(slots.at_address(ip("10.0.1.1")) == 2);
    // Releasing an evicted slot later (its connection ending) changes nothing.
    slots.release(a1);
    CHECK(slots.active() == 6);
}

TEST_CASE("slots: a session that opened a mailbox is never evicted") {
    SessionSlots slots({3, 8, 8});
    for (int i = 0; i < 3; ++i) slots.authorize(take(slots, "10.0.1.1"));
    CHECK(slots.unauthorized() == 0);
    CHECK(slots.admit(ip("192.0.2.1")).outcome == Outcome::refused_capacity);
    CHECK(slots.active() == 3);
}

TEST_CASE("slots: once the groups are even, a flood's newcomers are refused, not churned") {
    // Eight prefixes holding one unauthorized session each fill the server.
    SessionSlots slots({8, 8, 8});
    for (int p = 1; p <= 8; ++p) take(slots, "10.0." + std::to_string(p) + ".1");
    // A newcomer of one of them would hold two where the biggest holds one: refused.
    CHECK(slots.admit(ip("10.0.3.2")).outcome == Outcome::refused_capacity);
    // So is a newcomer of a new prefix: the biggest holds one, it would hold one.
    CHECK(slots.admit(ip("192.0.2.1")).outcome == Outcome::refused_capacity);
    // A prefix holding two can lose one to a prefix holding none.
    SessionSlots uneven({3, 8, 8});
    take(uneven, "10.0.1.1");
    const auto second = take(uneven, "10.0.1.2");
    (void)second;
    take(uneven, "10.0.2.1");
    auto a = uneven.admit(ip("192.0.2.1"));
    CHECK(a.outcome == Outcome::admitted);
    CHECK(a.evicted.has_value());
    // …but not to one that already holds one: 1 + 2 > 1.
    CHECK(uneven.admit(ip("10.0.2.9")).outcome == Outcome::refused_capacity);
}

TEST_CASE("slots: in a full prefix, a newcomer takes from the address holding the most") {
    SessionSlots slots({100, 8, 4});
    const auto first = take(slots, "10.0.0.5");
    take(slots, "10.0.0.5");
    take(slots, "10.0.0.5");
    take(slots, "10.0.0.6");
    auto a = slots.admit(ip("10.0.0.1"));
    REQUIRE(a.outcome == Outcome::admitted);
    CHECK(a.evicted == first);
    // The newcomer now holds one; 10.0.0.5 two, 10.0.0.6 one: 10.0.0.6 may not take from 10.0.0.5
    // (it would hold two, as many as 10.0.0.5 keeps), and 10.0.0.1 may not either.
    CHECK(slots.admit(ip("10.0.0.6")).outcome == Outcome::refused_prefix);
    CHECK(slots.admit(ip("10.0.0.1")).outcome == Outcome::refused_prefix);
    // An authorized session does not count against its address or prefix as a victim.
    slots.authorize(a.slot);
    CHECK(slots.unauthorized() == 3);
}

TEST_CASE("slots: counts come back to zero as sessions end") {
    SessionSlots slots({4, 4, 4});
    auto x = take(slots, "2001:db8::1");
    auto y = take(slots, "2001:db8::2");
    slots.authorize(x);
    slots.release(x);
    slots.release(y);
    slots.release(y);
    CHECK(slots.active() == 0);
    CHECK(slots.unauthorized() == 0);
    CHECK(slots.in_prefix(ip("2001:db8::9")) == 0);
    take(slots, "2001:db8::1");
    CHECK(slots.active() == 1);
}

TEST_CASE("slots: on a member's listener, a prefix held from a few addresses gives way") {
    // The informer of serve_member_slots.sh: four addresses of one /24 hold its 128 slots with
    // sessions that each opened a mailbox.
    auto fill = [](SessionSlots& slots) {
        std::vector<SessionSlots::SlotId> held;
        for (int i = 0; i < 128; ++i) {
            held.push_back(take(slots, "10.0.0." + std::to_string(2 + i % 4)));
            slots.authorize(held.back());
        }
        return held;
    };
    SUBCASE("a relay keeps them") {
        SessionSlots relay({1024, 32, 128});
        fill(relay);
        CHECK(relay.admit(ip("10.0.0.77")).outcome == Outcome::refused_prefix);
    }
    SUBCASE("a member's listener gives a newcomer of another address the busiest one's oldest") {
        SessionSlots slots({1024, 32, 128, true});
        const auto held = fill(slots);
        auto clara = slots.admit(ip("10.0.0.77"));
        REQUIRE(clara.outcome == Outcome::admitted);
        CHECK(clara.evicted == held.front());
        slots.authorize(clara.slot);
        // His addresses holding 31 and 32 take nothing back from each other…
        CHECK(slots.admit(ip("10.0.0.2")).outcome == Outcome::refused_prefix);
        CHECK(slots.admit(ip("10.0.0.3")).outcome == Outcome::refused_address);
        // …and a fresh address of his takes one of his own, never Clara's only one.
        auto fresh = slots.admit(ip("10.0.0.99"));
        REQUIRE(fresh.outcome == Outcome::admitted);
        CHECK(fresh.evicted != clara.slot);
        CHECK(slots.holds(clara.slot));
        // A second member of the LAN gets in as well.
        auto dan = slots.admit(ip("10.0.0.78"));
        CHECK(dan.outcome == Outcome::admitted);
        CHECK(slots.holds(clara.slot));
        CHECK(slots.in_prefix(ip("10.0.0.1")) == 128);
    }
}

TEST_CASE("slots: on a member's listener, cycling addresses never takes an address's one session") {
    SessionSlots slots({1024, 32, 16, true});
    const auto clara = take(slots, "10.0.0.1");
    slots.authorize(clara);
    // A device of Boris holds two sessions.
    const auto boris1 = take(slots, "10.0.0.2");
    const auto boris2 = take(slots, "10.0.0.2");
    slots.authorize(boris1);
    slots.authorize(boris2);
    // The informer comes from ever new addresses of the prefix and keeps what he gets.
    std::size_t admitted = 0;
    for (int i = 10; i < 250; ++i) {
        auto a = slots.admit(ip("10.0.0." + std::to_string(i)));
        if (a.outcome != Outcome::admitted) continue;
        ++admitted;
        slots.authorize(a.slot);
        CHECK(a.evicted != clara);
    }
    CHECK(admitted > 0);
    CHECK(slots.holds(clara));
    // Boris's device keeps at least one of its two.
    CHECK(slots.at_address(ip("10.0.0.2")) >= 1);
    CHECK(slots.in_prefix(ip("10.0.0.1")) == 16);
    // Every address now holds one: the next is refused, before any handshake.
    CHECK(slots.admit(ip("10.0.0.251")).outcome == Outcome::refused_prefix);
}

TEST_CASE("slots: on a member's listener, a full server takes from the prefix holding the most") {
    SessionSlots slots({4, 8, 8, true});
    const auto first = take(slots, "10.0.1.1");
    slots.authorize(first);
    slots.authorize(take(slots, "10.0.1.1"));
    slots.authorize(take(slots, "10.0.1.2"));
    const auto other = take(slots, "10.0.2.1");
    slots.authorize(other);
    // 10.0.1.0/24 holds three, 10.0.1.1 two of them: its oldest goes.
    auto a = slots.admit(ip("192.0.2.1"));
    REQUIRE(a.outcome == Outcome::admitted);
    CHECK(a.evicted == first);
    slots.authorize(a.slot);
    // Now 10.0.1.0/24 holds two, each of its addresses one: nothing to take.
    CHECK(slots.admit(ip("198.51.100.1")).outcome == Outcome::refused_capacity);
    CHECK(slots.holds(other));
    // An unauthorized session still goes first, by the relay's rule.
    SessionSlots mixed({4, 8, 8, true});
    mixed.authorize(take(mixed, "10.0.1.1"));
    mixed.authorize(take(mixed, "10.0.1.1"));
    const auto silent = take(mixed, "10.0.3.1");
    take(mixed, "10.0.3.1");
    auto b = mixed.admit(ip("192.0.2.1"));
    REQUIRE(b.outcome == Outcome::admitted);
    CHECK(b.evicted == silent);
    CHECK(mixed.at_address(ip("10.0.1.1")) == 2);
}
