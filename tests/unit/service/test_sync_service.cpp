// SyncService: two or three members in one process, each with a service of its own, talking
// over loopback TCP (a Session is built on a TCP socket, so a pipe will not carry it). The
// waits below are liveness deadlines, not speed checks: each passes as soon as the thing
// happens.

#include <doctest/doctest.h>

#include <asio/ip/tcp.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "kolokol/core/identity.hpp"
#include "kolokol/core/sync_service.hpp"
#include "kolokol/transport/address.hpp"
#include "service_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;
using namespace std::chrono_literals;
using Kind = SyncEvent::Kind;

namespace {

constexpr auto kDeadline = 30s;

// Keeps every event; `hook` runs after it was kept (and may throw, as a buggy screen would).
class Recorder final : public SyncObserver {
public:
    void on_event(const SyncEvent& event) override {
        {
            std::lock_guard lock(m_mutex);
            m_events.push_back(event);
        }
        m_changed.notify_all();
        if (hook) hook(event);
    }
    void on_arrived() override {
        std::lock_guard lock(m_mutex);
        ++m_arrivals;
    }
    std::size_t count(Kind kind) {
        std::lock_guard lock(m_mutex);
        return static_cast<std::size_t>(std::count_if(
            m_events.begin(), m_events.end(), [&](const auto& e) { return e.kind == kind; }));
    }
    std::vector<SyncEvent> of(Kind kind) {
        std::lock_guard lock(m_mutex);
        std::vector<SyncEvent> out;
        for (const auto& e : m_events)
            if (e.kind == kind) out.push_back(e);
        return out;
    }
    // Waits until there are at least `n` events of `kind`.
    bool wait_for(Kind kind, std::size_t n = 1) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, kDeadline, [&] {
            return static_cast<std::size_t>(
                       std::count_if(m_events.begin(), m_events.end(),
                                     [&](const auto& e) { return e.kind == kind; })) >= n;
        });
    }
    std::function<void(const SyncEvent&)> hook;

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<SyncEvent> m_events;
    std::size_t m_arrivals = 0;
};

// Polls `done` until it holds or the deadline passes.
bool eventually(const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

SyncServiceOptions fast() {
    SyncServiceOptions o;
    o.backoff_min = 1s;
    o.backoff_max = 2s;
    o.lan_retry_pause = 200ms;
    return o;
}

// Anna lists Boris's listener as G's relay.
void list_relay(Node& a, const GroupId& g, const std::string& address) {
    REQUIRE(a.set_relays(g, {address}).has_value());
}

}  // namespace

TEST_CASE("a member's write is pushed to a live session at once") {
    Pair p;
    Recorder ra, rb;
    SyncService bs(*p.b, &rb, fast());
    auto address = bs.listen(loopback());
    REQUIRE(address.has_value());
    list_relay(*p.a, p.g, *address);
    SyncService as(*p.a, &ra, fast());
    as.update();
    REQUIRE(ra.wait_for(Kind::connected));
    // Boris's side of the session asks for pushes once Anna opened G's mailbox.
    REQUIRE(eventually([&] { return bs.watching() > 0; }));
    REQUIRE(eventually([&] { return as.watching() > 0; }));

    REQUIRE(bs.with_node([&](Node& n) { return n.post(p.g, "from Boris"); }).has_value());
    bs.written();
    CHECK(eventually([&] { return has_text(as, p.g, "from Boris"); }));

    REQUIRE(as.with_node([&](Node& n) { return n.post(p.g, "from Anna"); }).has_value());
    as.written();
    CHECK(eventually([&] { return has_text(bs, p.g, "from Anna"); }));
    // One session, and no failure on the way.
    CHECK(ra.count(Kind::connected) == 1);
    CHECK(ra.count(Kind::unreachable) == 0);
    CHECK(ra.count(Kind::crashed) == 0);
}

TEST_CASE("a dropped session is dialled again and carries writes again") {
    Pair p;
    Recorder ra, rb1, rb2;
    auto bs = std::make_unique<SyncService>(*p.b, &rb1, fast());
    auto address = bs->listen(loopback());
    REQUIRE(address.has_value());
    const auto port = transport::Address::parse(*address)->port;
    list_relay(*p.a, p.g, *address);
    SyncService as(*p.a, &ra, fast());
    as.update();
    REQUIRE(ra.wait_for(Kind::connected));

    // Boris goes away (his listener aborts the session) and comes back on the same port.
    bs.reset();
    REQUIRE(ra.wait_for(Kind::unreachable));
    REQUIRE(as.sessions().size() == 1);
    CHECK_FALSE(as.sessions()[0].connected);
    bs = std::make_unique<SyncService>(*p.b, &rb2, fast());
    REQUIRE(bs->listen(loopback(port)).has_value());
    REQUIRE(ra.wait_for(Kind::connected, 2));
    REQUIRE(eventually([&] { return bs->watching() > 0; }));

    REQUIRE(bs->with_node([&](Node& n) { return n.post(p.g, "after the drop"); }).has_value());
    bs->written();
    CHECK(eventually([&] { return has_text(as, p.g, "after the drop"); }));
    CHECK(as.sessions().size() == 1);
}

TEST_CASE("of two LAN members who hear each other, the one with the smaller key dials") {
    Pair p;
    Recorder ra, rb;
    SyncService as(*p.a, &ra, fast());
    SyncService bs(*p.b, &rb, fast());
    auto a_address = as.listen(loopback());
    auto b_address = bs.listen(loopback());
    REQUIRE(a_address.has_value());
    REQUIRE(b_address.has_value());
    auto a_at = *transport::Address::parse(*a_address);
    auto b_at = *transport::Address::parse(*b_address);
    const bool a_smaller = a_at.key < b_at.key;
    SyncService& small = a_smaller ? as : bs;
    SyncService& large = a_smaller ? bs : as;
    Recorder& small_events = a_smaller ? ra : rb;

    // Both hear the other's beacon, sent under a key both send.
    as.lan_member_heard(b_at, p.g, false);
    bs.lan_member_heard(a_at, p.g, false);
    REQUIRE(small_events.wait_for(Kind::connected));
    CHECK(small_events.of(Kind::connected)[0].lan);
    REQUIRE(eventually([&] { return large.incoming() == 1; }));
    CHECK(small.sessions().size() == 1);
    CHECK(large.sessions().empty());

    // A beacon under a key the hearer does not send (its epoch differs): it may not recognise
    // ours, so the larger key dials too.
    large.lan_member_heard(a_smaller ? a_at : b_at, p.g, true);
    CHECK(eventually([&] { return large.sessions().size() == 1; }));
}

TEST_CASE("a LAN member found gets a live session, and lost, is forgotten until heard again") {
    Pair p;
    Recorder ra, rb;
    auto as = std::make_unique<SyncService>(*p.a, &ra, fast());
    auto bs = std::make_unique<SyncService>(*p.b, &rb, fast());
    auto a_address = as->listen(loopback());
    auto b_address = bs->listen(loopback());
    REQUIRE(a_address.has_value());
    REQUIRE(b_address.has_value());
    auto a_at = *transport::Address::parse(*a_address);
    auto b_at = *transport::Address::parse(*b_address);
    // The smaller key dials: make Anna the one who hears (heard_only when she must not dial).
    const bool a_dials = a_at.key < b_at.key;
    as->lan_member_heard(b_at, p.g, !a_dials);
    REQUIRE(ra.wait_for(Kind::connected));
    REQUIRE(eventually([&] { return bs->watching() > 0; }));
    REQUIRE(bs->with_node([&](Node& n) { return n.post(p.g, "over the LAN"); }).has_value());
    bs->written();
    CHECK(eventually([&] { return has_text(*as, p.g, "over the LAN"); }));

    // Boris leaves the LAN: the session ends and is not dialled again on its own.
    bs.reset();
    REQUIRE(eventually([&] { return ra.count(Kind::lan_gone) + ra.count(Kind::lan_ended) == 1; }));
    CHECK(eventually([&] { return as->sessions().empty(); }));
    CHECK(ra.count(Kind::unreachable) == 0);

    // He is back and beacons again: found again after the pause.
    bs = std::make_unique<SyncService>(*p.b, &rb, fast());
    REQUIRE(bs->listen(loopback(b_at.port)).has_value());
    CHECK(eventually([&] {
        as->lan_member_heard(b_at, p.g, !a_dials);
        return ra.count(Kind::connected) == 2;
    }));
}

TEST_CASE("a session whose handler throws is cleaned up and dialled again") {
    Pair p;
    Recorder ra, rb;
    SyncService bs(*p.b, &rb, fast());
    auto address = bs.listen(loopback());
    REQUIRE(address.has_value());
    list_relay(*p.a, p.g, *address);
    // The screen fails on the first "connected" it is told about.
    std::atomic<int> thrown{0};
    ra.hook = [&](const SyncEvent& e) {
        if (e.kind == Kind::connected && thrown++ == 0) throw std::runtime_error("screen broke");
    };
    SyncService as(*p.a, &ra, fast());
    as.update();
    REQUIRE(ra.wait_for(Kind::crashed));
    CHECK(ra.of(Kind::crashed)[0].text == "screen broke");
    // Dialled again, and the new session works: one session, no leftover.
    REQUIRE(ra.wait_for(Kind::connected, 2));
    CHECK(as.sessions().size() == 1);
    REQUIRE(eventually([&] { return bs.watching() > 0; }));
    REQUIRE(bs.with_node([&](Node& n) { return n.post(p.g, "after the crash"); }).has_value());
    bs.written();
    CHECK(eventually([&] { return has_text(as, p.g, "after the crash"); }));
}

TEST_CASE("a relay two groups list gets one session a group, each with that group only") {
    Pair p;
    auto h = *p.a->create_group("H");
    auto token = p.a->add_member(h, card_to_text(p.b->card()), false, true);
    REQUIRE(token.has_value());
    REQUIRE(p.b->join(*token).has_value());
    deliver(*p.a, *p.b);
    Recorder ra, rb;
    SyncService bs(*p.b, &rb, fast());
    auto address = bs.listen(loopback());
    REQUIRE(address.has_value());
    list_relay(*p.a, p.g, *address);
    list_relay(*p.a, h, *address);
    SyncService as(*p.a, &ra, fast());
    as.update();
    REQUIRE(ra.wait_for(Kind::connected, 2));
    auto sessions = as.sessions();
    REQUIRE(sessions.size() == 2);
    std::set<GroupId> carried;
    for (const auto& s : sessions) {
        CHECK(s.groups.size() == 1);
        carried.insert(s.groups.begin(), s.groups.end());
    }
    CHECK(carried == std::set<GroupId>{p.g, h});
}

namespace {

// Listeners that accept every connection and answer nothing, so a dial to one stays in its
// handshake for the dialler's whole handshake timeout: how many were dialled, at once.
class SilentListeners {
public:
    SilentListeners(const std::string& host, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            auto& a = m_acceptors.emplace_back(
                m_io, asio::ip::tcp::endpoint(asio::ip::make_address(host), 0));
            accept(a);
        }
        m_thread = std::thread([this] { m_io.run(); });
    }
    ~SilentListeners() {
        m_io.stop();
        m_thread.join();
    }
    std::uint16_t port(std::size_t i) const { return m_acceptors[i].local_endpoint().port(); }
    std::size_t dialled() const { return m_dialled.load(); }

private:
    void accept(asio::ip::tcp::acceptor& a) {
        a.async_accept([this, &a](const asio::error_code& ec, asio::ip::tcp::socket s) {
            if (ec) return;
            ++m_dialled;
            m_held.push_back(std::move(s));
            accept(a);
        });
    }
    asio::io_context m_io;
    std::deque<asio::ip::tcp::acceptor> m_acceptors;
    std::vector<asio::ip::tcp::socket> m_held;
    std::atomic<std::size_t> m_dialled{0};
    std::thread m_thread;
};

// A made-up member's transport key, above any real one: the hearer is the side that dials.
transport::StaticPublicKey made_up_key(std::size_t i) {
    transport::StaticPublicKey k{};
    k.fill(0xff);
    k[31] = static_cast<std::uint8_t>(i);
    k[30] = static_cast<std::uint8_t>(i >> 8);
    return k;
}

void made_up_members_get_the_caps(bool live) {
    Pair p;
    Recorder ra;
    SyncServiceOptions o = fast();
    o.max_lan_sessions = 6;
    o.max_lan_per_host = 2;
    // The dials below wait in their handshake for this long: well past the counts taken.
    o.sync.connect.session.handshake_timeout = 5s;
    SyncService as(*p.a, &ra, o);
    ListenOptions l = loopback();
    l.lan_live = live;
    REQUIRE(as.listen(l).has_value());
    // One host beacons as 40 members, each with a key and port of its own.
    SilentListeners one("127.0.0.1", 40);
    for (std::size_t i = 0; i < 40; ++i)
        as.lan_member_heard(transport::Address("127.0.0.1", one.port(i), made_up_key(i)), p.g,
                            false);
    REQUIRE(eventually([&] { return one.dialled() >= 2; }));
    std::this_thread::sleep_for(500ms);
    CHECK(one.dialled() == 2);
    // Three more hosts do the same: all of them together get the overall cap.
    std::vector<std::unique_ptr<SilentListeners>> more;
    for (int h = 2; h <= 4; ++h) {
        const auto host = "127.0.0." + std::to_string(h);
        auto& m = *more.emplace_back(std::make_unique<SilentListeners>(host, 10));
        for (std::size_t i = 0; i < 10; ++i)
            as.lan_member_heard(transport::Address(host, m.port(i), made_up_key(100 + i)), p.g,
                                false);
    }
    REQUIRE(eventually([&] {
        std::size_t all = one.dialled();
        for (auto& m : more) all += m->dialled();
        return all >= 6;
    }));
    std::this_thread::sleep_for(500ms);
    std::size_t all = one.dialled();
    for (auto& m : more) {
        CHECK(m->dialled() <= 2);
        all += m->dialled();
    }
    CHECK(all == 6);
}

}  // namespace

TEST_CASE("made-up LAN members from one address get a few syncs of `serve --lan`, not more") {
    made_up_members_get_the_caps(false);
}

TEST_CASE("made-up LAN members from one address get a few of a chat's live sessions, not more") {
    made_up_members_get_the_caps(true);
}

TEST_CASE("a relay listed first at a dead address is reached at its next one, remembered") {
    Pair p;
    Recorder ra, rb;
    SyncService bs(*p.b, &rb, fast());
    auto live = bs.listen(loopback());
    REQUIRE(live.has_value());
    // The same key at a port nothing listens on (taken, then let go), listed first.
    std::string dead;
    {
        asio::io_context io;
        asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
        auto at = *transport::Address::parse(*live);
        dead = transport::Address(at.host, acceptor.local_endpoint().port(), at.key).to_string();
    }
    REQUIRE(p.a->set_relays(p.g, {dead}, {*live}).has_value());
    SyncService as(*p.a, &ra, fast());
    as.update();
    REQUIRE(ra.wait_for(Kind::connected));
    // One link for the relay, not one an address; the dead address was passed over at once.
    CHECK(as.sessions().size() == 1);
    CHECK(ra.count(Kind::unreachable) == 1);
    REQUIRE(bs.with_node([&](Node& n) { return n.post(p.g, "from Boris"); }).has_value());
    bs.written();
    CHECK(eventually([&] { return has_text(as, p.g, "from Boris"); }));
    auto routes = as.with_node([&](Node& n) { return n.relay_routes(p.g); });
    REQUIRE(routes.size() == 1);
    CHECK(routes[0].addresses == std::vector<std::string>{*live, dead});
}
