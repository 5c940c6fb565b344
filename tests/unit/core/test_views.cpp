// Views compared in direct sessions (docs/design.md §5.12): two members' stores, synced through
// two SyncEngines over their real Replicas, say what they hold of the group and compare.

#include <doctest/doctest.h>

#include "kolokol/storage/envelope.hpp"
#include "kolokol/transport/sync_engine.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {

// Forwards to a member's Replica, except that it takes one envelope without storing it (a
// store that dropped a record the other side holds), and keeps the tokens it said.
class Dropping final : public transport::Replica {
public:
    explicit Dropping(transport::Replica& inner) : m_inner(inner) {}
    std::optional<RecordId> drop;
    std::vector<Bytes> said;
    Result<std::vector<RecordId>> ids(const MailboxId& m) override {
        auto r = m_inner.ids(m);
        if (r && drop) std::erase(*r, *drop);
        return r;
    }
    Result<std::optional<Bytes>> get(const RecordId& id) override { return m_inner.get(id); }
    Result<std::vector<bool>> put(const MailboxId& m, std::span<const Bytes> envelopes) override {
        std::vector<Bytes> kept;
        for (const auto& e : envelopes)
            if (!drop || storage::record_id_of(e) != *drop) kept.push_back(e);
        auto r = m_inner.put(m, kept);
        if (!r) return r;
        return std::vector<bool>(envelopes.size(), true);
    }
    bool offers_views() const override { return m_inner.offers_views(); }
    Result<std::optional<Bytes>> view(const MailboxId& m, ByteView hh, bool server) override {
        auto r = m_inner.view(m, hh, server);
        if (r && *r) said.push_back(**r);
        return r;
    }
    Result<bool> peer_view(const MailboxId& m, ByteView hh, ByteView token, bool server) override {
        return m_inner.peer_view(m, hh, token, server);
    }

private:
    transport::Replica& m_inner;
};

// `client` syncs directly with `server` (whole group), both through their own Replicas.
void direct_sync(Node& client, transport::Replica& client_replica,
                 transport::Replica& server_replica, const GroupId& group,
                 Bytes hash = Bytes(64, 0x5a)) {
    transport::SyncEngine::Config cc, sc;
    cc.side = transport::SyncEngine::Side::client;
    sc.side = transport::SyncEngine::Side::server;
    cc.handshake_hash = sc.handshake_hash = std::move(hash);
    cc.offer_views = sc.offer_views = true;
    transport::SyncEngine c(cc, client_replica), s(sc, server_replica);
    REQUIRE(s.start().has_value());
    REQUIRE(c.start(client.mailbox_keys(&group)).has_value());
    for (int guard = 0; guard < 10'000; ++guard) {
        auto up = c.take_output();
        auto down = s.take_output();
        if (up.empty() && down.empty()) break;
        for (auto& f : up)
            if (!s.closed()) REQUIRE(s.handle(f).has_value());
        for (auto& f : down)
            if (!c.closed()) REQUIRE(c.handle(f).has_value());
    }
    CHECK(c.finished());
}

struct Trio {
    TempDir dir;
    std::unique_ptr<Node> anna = make_node(dir.path() / "anna", "Anna");
    std::unique_ptr<Node> boris = make_node(dir.path() / "boris", "Boris");
    std::unique_ptr<Node> carol = make_node(dir.path() / "carol", "Carol");
    GroupId group{};
    Trio() {
        group = *anna->create_group("Legal support");
        for (auto* n : {boris.get(), carol.get()}) {
            auto token = anna->add_member(group, card_to_text(n->card()), false, true);
            REQUIRE(token.has_value());
            REQUIRE(n->join(*token).has_value());
        }
        deliver(*anna, *boris);
        deliver(*anna, *carol);
    }
};

std::vector<ViewCheck> checks(Node& n) {
    auto r = n.view_checks();
    REQUIRE(r.has_value());
    return *r;
}

}  // namespace

TEST_CASE("views: two members who synced directly find the same view, and each keeps it") {
    Trio t;
    REQUIRE(t.anna->set_retention(t.group, 86400).has_value());
    auto rb = t.boris->replica();
    auto ra = t.anna->replica();
    CHECK(checks(*t.boris).empty());
    direct_sync(*t.boris, *rb, *ra, t.group);
    auto b = checks(*t.boris);
    auto a = checks(*t.anna);
    REQUIRE(b.size() == 1);
    REQUIRE(a.size() == 1);
    CHECK(b[0].peer == t.anna->me());
    CHECK(a[0].peer == t.boris->me());
    CHECK(b[0].group == t.group);
    CHECK(b[0].same);
    CHECK(a[0].same);
    // Boris took the retention record in this session: the comparison is after it.
    CHECK(t.boris->retention(t.group) == 86400);
    auto audit = t.anna->audit(t.group);
    REQUIRE(audit.has_value());
    CHECK(a[0].own_digest == audit->digest);
    CHECK(a[0].peer_count == audit->valid);
}

TEST_CASE("views: a record one store dropped makes both sides find different views") {
    Trio t;
    REQUIRE(t.anna->set_retention(t.group, 86400).has_value());
    auto audit = t.anna->audit(t.group);
    REQUIRE(audit.has_value());
    const auto retention_record = audit->records.back().id;
    auto rb = t.boris->replica();
    auto ra = t.anna->replica();
    Dropping boris(*rb);
    boris.drop = retention_record;
    direct_sync(*t.boris, boris, *ra, t.group);
    CHECK(t.boris->retention(t.group) == 0);
    auto b = checks(*t.boris);
    auto a = checks(*t.anna);
    REQUIRE(b.size() == 1);
    REQUIRE(a.size() == 1);
    CHECK_FALSE(b[0].same);
    CHECK_FALSE(a[0].same);
    CHECK(b[0].peer_count == b[0].own_count + 1);
    CHECK(a[0].own_count == a[0].peer_count + 1);
    CHECK(b[0].peer_digest == audit->digest);
    // Only those from a time on, and of one group.
    auto later = t.boris->view_checks(nullptr, b[0].at_ms + 1);
    REQUIRE(later.has_value());
    CHECK(later->empty());
    GroupId other{};
    auto none = t.boris->view_checks(&other);
    REQUIRE(none.has_value());
    CHECK(none->empty());
}

TEST_CASE(
    "views: a statement from another session, from the same side, or sealed elsewhere is "
    "ignored") {
    Trio t;
    auto& bi = NodeTestAccess::impl(*t.boris);
    auto& ci = NodeTestAccess::impl(*t.carol);
    auto mb = bi.view_mailbox(t.group);
    REQUIRE(mb.has_value());
    const Bytes hh(64, 0x11), other_hh(64, 0x22);
    // Carol as a server, answering Boris in the session `hh`.
    auto carol_server = ci.view_token(*mb, hh, true);
    REQUIRE(carol_server.has_value());
    REQUIRE(carol_server->has_value());
    // Carol as a client in the same session: the wrong side for Boris the client to hear.
    auto carol_client = ci.view_token(*mb, hh, false);
    REQUIRE(carol_client.has_value());
    REQUIRE(carol_client->has_value());
    auto boris_client = bi.view_token(*mb, hh, false);
    REQUIRE(boris_client.has_value());
    REQUIRE(boris_client->has_value());

    // Another session's statement.
    REQUIRE(bi.take_peer_view(*mb, other_hh, **carol_server, false).has_value());
    CHECK(checks(*t.boris).empty());
    // The same side's.
    REQUIRE(bi.take_peer_view(*mb, hh, **carol_client, false).has_value());
    CHECK(checks(*t.boris).empty());
    // His own, reflected back as the server's answer.
    REQUIRE(bi.take_peer_view(*mb, hh, **boris_client, true).has_value());
    CHECK(checks(*t.boris).empty());
    // One flipped byte.
    Bytes flipped = **carol_server;
    flipped[40] ^= 1;
    REQUIRE(bi.take_peer_view(*mb, hh, flipped, false).has_value());
    CHECK(checks(*t.boris).empty());
    // The same statement on a mailbox of another epoch: sealed to the other's key.
    REQUIRE(t.anna->rotate(t.group).has_value());
    deliver(*t.anna, *t.boris);
    auto newer = bi.view_mailbox(t.group);
    REQUIRE(newer.has_value());
    REQUIRE(*newer != *mb);
    REQUIRE(bi.take_peer_view(*newer, hh, **carol_server, false).has_value());
    CHECK(checks(*t.boris).empty());
    // And the genuine one is heard.
    REQUIRE(bi.take_peer_view(*mb, hh, **carol_server, false).has_value());
    auto heard = checks(*t.boris);
    REQUIRE(heard.size() == 1);
    CHECK(heard[0].peer == t.carol->me());
}

TEST_CASE("views: a removed member's store says nothing of the group") {
    Trio t;
    auto mb = NodeTestAccess::impl(*t.carol).view_mailbox(t.group);
    REQUIRE(mb.has_value());
    REQUIRE(t.anna->remove_member(t.group, t.carol->me()).has_value());
    deliver(*t.anna, *t.carol);
    auto token = NodeTestAccess::impl(*t.carol).view_token(*mb, Bytes(64, 1), true);
    REQUIRE(token.has_value());
    CHECK_FALSE(token->has_value());
}

TEST_CASE("views: a statement by someone who is no member any more is not a comparison") {
    Trio t;
    auto& bi = NodeTestAccess::impl(*t.boris);
    auto mb = bi.view_mailbox(t.group);
    REQUIRE(mb.has_value());
    const Bytes hh(64, 0x33);
    auto carol = NodeTestAccess::impl(*t.carol).view_token(*mb, hh, true);
    REQUIRE(carol.has_value());
    REQUIRE(carol->has_value());
    REQUIRE(t.anna->remove_member(t.group, t.carol->me()).has_value());
    deliver(*t.anna, *t.boris);
    auto heard = bi.take_peer_view(*mb, hh, **carol, false);
    REQUIRE(heard.has_value());
    CHECK_FALSE(*heard);
    CHECK(checks(*t.boris).empty());
}

TEST_CASE("views: what another process of the member wrote counts (a serve beside a command)") {
    Trio t;
    // Anna's serve opened her store; then another process of hers sets the retention.
    auto rb = t.boris->replica();
    auto ra = t.anna->replica();
    {
        auto other = reopen(t.dir.path() / "anna");
        REQUIRE(other->set_retention(t.group, 86400).has_value());
    }
    direct_sync(*t.boris, *rb, *ra, t.group);
    CHECK(t.boris->retention(t.group) == 86400);
    auto b = checks(*t.boris);
    auto a = checks(*t.anna);
    REQUIRE(b.size() == 1);
    REQUIRE(a.size() == 1);
    CHECK(b[0].same);
    CHECK(a[0].same);
}
