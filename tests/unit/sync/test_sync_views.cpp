// Views (DESIGN §5.12, frame View): exchanged at the end of a session only when both Hellos
// offered them, one answer per View, and every malformed or unasked View ends the session.

#include <doctest/doctest.h>

#include "sync.pb.h"
#include "sync_fixtures.hpp"
#include "sync_frames.hpp"

using namespace sync_test;

namespace {

// A MemoryReplica that says "side:mailbox-byte" as its view and keeps what the peer said.
class ViewReplica : public MemoryReplica {
public:
    explicit ViewReplica(bool offers, std::string name)
        : m_offers(offers), m_name(std::move(name)) {}
    bool offers_views() const override { return m_offers; }
    Result<std::optional<Bytes>> view(const MailboxId& mailbox, ByteView hh, bool server) override {
        ++asked;
        if (silent) return std::nullopt;
        std::string s = m_name + (server ? ":server:" : ":client:") + std::to_string(mailbox[0]) +
                        ":" + std::to_string(hh.empty() ? 0 : hh[0]);
        return Bytes(s.begin(), s.end());
    }
    Result<bool> peer_view(const MailboxId& mailbox, ByteView hh, ByteView token,
                           bool server) override {
        (void)hh;
        heard.emplace_back(mailbox, std::string(token.begin(), token.end()) +
                                        (server ? " (heard as server)" : " (heard as client)"));
        return accept;
    }
    std::vector<std::pair<MailboxId, std::string>> heard;
    int asked = 0;
    bool silent = false;
    bool accept = true;  // the peer's view is a current member's

private:
    bool m_offers;
    std::string m_name;
};

SyncEngine::Config config(SyncEngine::Side side, bool live = false) {
    SyncEngine::Config c;
    c.side = side;
    c.handshake_hash = fixed_hash(0xaa);
    c.live = live;
    c.offer_views = true;
    return c;
}

std::size_t views_in(const std::vector<Bytes>& frames) {
    std::size_t n = 0;
    for (const auto& f : frames) n += parse_frame(f).has_view() ? 1 : 0;
    return n;
}

}  // namespace

TEST_CASE("views: exchanged once everything is, when both sides offer them") {
    crypto::DeterministicRandom rng(71);
    auto k1 = key_for(71), k2 = key_for(72);
    ViewReplica local(true, "anna"), remote(true, "boris");
    for (int i = 0; i < 20; ++i) local.add(make_envelope(k1.id, rng));
    for (int i = 0; i < 30; ++i) remote.add(make_envelope(k2.id, rng));
    SyncEngine client(config(SyncEngine::Side::client), local);
    SyncEngine server(config(SyncEngine::Side::server), remote);
    REQUIRE(server.start().has_value());
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(k1));
    keys.push_back(copy_key(k2));
    REQUIRE(client.start(std::move(keys)).has_value());
    std::size_t views_up = 0, views_down = 0;
    bool envelopes_after_view = false;
    auto ex = run_pair(client, server, [&](bool up, Bytes& f) {
        auto p = parse_frame(f);
        if (p.has_view()) (up ? views_up : views_down)++;
        if (p.has_envelopes() && views_up > 0) envelopes_after_view = true;
        return true;
    });
    CHECK(ex.client_status.has_value());
    CHECK(ex.server_status.has_value());
    CHECK(client.finished());
    CHECK(server.peer_closed_normally());
    CHECK_FALSE(envelopes_after_view);
    // Every mailbox was settled before the views: both sides hold all 50 envelopes.
    CHECK(local.held(k2.id).size() == 30);
    CHECK(remote.held(k1.id).size() == 20);
    CHECK(views_up == 2);
    CHECK(views_down == 2);
    REQUIRE(remote.heard.size() == 2);
    REQUIRE(local.heard.size() == 2);
    for (const auto& [mb, s] : remote.heard) {
        CHECK(s.starts_with("anna:client:"));
        CHECK(s.ends_with(":170 (heard as server)"));  // the session's handshake hash (0xaa)
    }
    for (const auto& [mb, s] : local.heard) CHECK(s.starts_with("boris:server:"));
    CHECK(client.report().views == 2);
    CHECK(server.report().views == 2);
}

TEST_CASE("views: none when either side does not offer them, or in live mode") {
    auto k = key_for(73);
    for (int which = 0; which < 3; ++which) {
        CAPTURE(which);
        ViewReplica local(which != 0, "anna"), remote(which != 1, "boris");
        SyncEngine client(config(SyncEngine::Side::client, which == 2), local);
        SyncEngine server(config(SyncEngine::Side::server, true), remote);
        REQUIRE(server.start().has_value());
        std::vector<MailboxKey> keys;
        keys.push_back(copy_key(k));
        REQUIRE(client.start(std::move(keys)).has_value());
        std::size_t views = 0;
        auto ex = run_pair(client, server, [&](bool, Bytes& f) {
            views += parse_frame(f).has_view() ? 1 : 0;
            return true;
        });
        CHECK(ex.client_status.has_value());
        CHECK(ex.server_status.has_value());
        CHECK(views == 0);
        CHECK(local.heard.empty());
        CHECK(remote.heard.empty());
        if (which != 2) CHECK(client.finished());
    }
}

TEST_CASE("views: not offered where the session is told not to (a client towards a relay)") {
    auto k = key_for(77);
    ViewReplica local(true, "anna"), remote(true, "boris");
    auto cc = config(SyncEngine::Side::client);
    cc.offer_views = false;
    SyncEngine client(cc, local);
    SyncEngine server(config(SyncEngine::Side::server), remote);
    REQUIRE(server.start().has_value());
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(k));
    REQUIRE(client.start(std::move(keys)).has_value());
    std::size_t views = 0;
    bool offered = false;
    run_pair(client, server, [&](bool up, Bytes& f) {
        auto p = parse_frame(f);
        if (up && p.has_hello()) offered = p.hello().views();
        views += p.has_view() ? 1 : 0;
        return true;
    });
    CHECK(client.finished());
    CHECK_FALSE(offered);
    CHECK(views == 0);
    CHECK(local.asked == 0);
}

TEST_CASE("views: a server answers only a view its store took as a current member's") {
    auto k = key_for(78);
    ViewReplica local(true, "mallory"), remote(true, "boris");
    remote.accept = false;
    SyncEngine client(config(SyncEngine::Side::client), local);
    SyncEngine server(config(SyncEngine::Side::server), remote);
    REQUIRE(server.start().has_value());
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(k));
    REQUIRE(client.start(std::move(keys)).has_value());
    std::size_t answered_with_token = 0;
    auto ex = run_pair(client, server, [&](bool up, Bytes& f) {
        auto p = parse_frame(f);
        if (!up && p.has_view() && !p.view().token().empty()) ++answered_with_token;
        return true;
    });
    CHECK(ex.client_status.has_value());
    CHECK(client.finished());
    CHECK(remote.heard.size() == 1);  // handed to the store, which refused it
    CHECK(remote.asked == 0);         // and the server never said its own
    CHECK(answered_with_token == 0);
    CHECK(local.heard.empty());
    CHECK(server.report().views == 0);
}

TEST_CASE(
    "views: a store without a view for the group sends none, and an empty answer is no view") {
    auto k = key_for(74);
    ViewReplica local(true, "anna"), remote(true, "boris");
    remote.silent = true;
    SyncEngine client(config(SyncEngine::Side::client), local);
    SyncEngine server(config(SyncEngine::Side::server), remote);
    REQUIRE(server.start().has_value());
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(k));
    REQUIRE(client.start(std::move(keys)).has_value());
    auto ex = run_pair(client, server);
    CHECK(ex.client_status.has_value());
    CHECK(client.finished());
    CHECK(remote.heard.size() == 1);  // the client's view
    CHECK(local.heard.empty());       // the server had none: its answer was empty
    CHECK(client.report().views == 0);

    ViewReplica quiet(true, "carol");
    quiet.silent = true;
    ViewReplica remote2(true, "boris");
    SyncEngine client2(config(SyncEngine::Side::client), quiet);
    SyncEngine server2(config(SyncEngine::Side::server), remote2);
    REQUIRE(server2.start().has_value());
    keys.clear();
    keys.push_back(copy_key(k));
    REQUIRE(client2.start(std::move(keys)).has_value());
    std::size_t views = 0;
    run_pair(client2, server2, [&](bool, Bytes& f) {
        views += parse_frame(f).has_view() ? 1 : 0;
        return true;
    });
    CHECK(client2.finished());
    CHECK(views == 0);
    CHECK(remote2.asked == 0);
}

TEST_CASE("views: unasked, repeated, unopened or oversized views end the session") {
    auto k = key_for(75);
    auto view_frame = [&](const MailboxId& mb, std::size_t bytes) {
        kolokol::pb::SyncFrame f;
        f.mutable_view()->set_mailbox(to_string(mb));
        f.mutable_view()->set_token(std::string(bytes, 'x'));
        return frame_bytes(f);
    };
    auto hello_with_views = [](bool views) {
        kolokol::pb::SyncFrame f = parse_frame(hello_frame());
        f.mutable_hello()->set_views(views);
        return frame_bytes(f);
    };
    // A server that opened `k` for a client whose Hello said `views`.
    auto opened_server = [&](ViewReplica& r, bool client_views) {
        auto s = std::make_unique<SyncEngine>(config(SyncEngine::Side::server), r);
        REQUIRE(s->start().has_value());
        REQUIRE(s->handle(hello_with_views(client_views)).has_value());
        // Open the mailbox as a real client would.
        ViewReplica scratch(true, "x");
        SyncEngine c(config(SyncEngine::Side::client), scratch);
        std::vector<MailboxKey> keys;
        keys.push_back(copy_key(k));
        REQUIRE(c.start(std::move(keys)).has_value());
        for (auto& f : c.take_output()) {
            auto p = parse_frame(f);
            if (p.has_open()) REQUIRE(s->handle(f).has_value());
        }
        s->take_output();
        return s;
    };
    SUBCASE("from a client whose Hello did not offer views") {
        ViewReplica r(true, "boris");
        auto s = opened_server(r, false);
        expect_closed(*s, view_frame(k.id, 10), SyncErrc::protocol_violation);
        CHECK(r.heard.empty());
    }
    SUBCASE("to a server that did not offer views") {
        ViewReplica r(false, "boris");
        auto s = opened_server(r, true);
        expect_closed(*s, view_frame(k.id, 10), SyncErrc::protocol_violation);
    }
    SUBCASE("a second view of one mailbox") {
        ViewReplica r(true, "boris");
        auto s = opened_server(r, true);
        REQUIRE(s->handle(view_frame(k.id, 10)).has_value());
        CHECK(views_in(s->take_output()) == 1);
        expect_closed(*s, view_frame(k.id, 10), SyncErrc::protocol_violation);
        CHECK(r.heard.size() == 1);
    }
    SUBCASE("a view of a mailbox not open") {
        ViewReplica r(true, "boris");
        auto s = opened_server(r, true);
        expect_closed(*s, view_frame(key_for(76).id, 10), SyncErrc::protocol_violation);
        CHECK(r.heard.empty());
    }
    SUBCASE("a token over the cap") {
        ViewReplica r(true, "boris");
        auto s = opened_server(r, true);
        expect_closed(*s, view_frame(k.id, kSyncMaxViewBytes + 1), SyncErrc::protocol_violation);
        CHECK(r.heard.empty());
    }
    SUBCASE("a view a client never asked for") {
        ViewReplica r(true, "anna");
        SyncEngine c(config(SyncEngine::Side::client), r);
        std::vector<MailboxKey> keys;
        keys.push_back(copy_key(k));
        REQUIRE(c.start(std::move(keys)).has_value());
        REQUIRE(c.handle(hello_with_views(true)).has_value());
        kolokol::pb::SyncFrame ok;
        ok.mutable_open_result()->set_mailbox(to_string(k.id));
        ok.mutable_open_result()->set_accepted(true);
        REQUIRE(c.handle(frame_bytes(ok)).has_value());
        expect_closed(c, view_frame(k.id, 10), SyncErrc::protocol_violation);
        CHECK(r.heard.empty());
    }
}
