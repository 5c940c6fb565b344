// FetchAll: a client that holds (almost) nothing of a mailbox gets all of it in the order the
// server stored it, instead of reconciling (proto/sync.proto, DESIGN §5).

#include <doctest/doctest.h>

#include "sync_fixtures.hpp"
#include "sync_frames.hpp"

using namespace sync_test;

namespace {

SyncEngine::Config config(SyncEngine::Side side) {
    SyncEngine::Config c;
    c.side = side;
    c.handshake_hash = fixed_hash(0xaa);
    c.live = side == SyncEngine::Side::server;
    return c;
}

// Remembers the order envelopes were stored in, and pages through it as a relay does.
class OrderedReplica : public MemoryReplica {
public:
    Result<std::vector<bool>> put(const MailboxId& mailbox,
                                  std::span<const Bytes> envelopes) override {
        auto r = MemoryReplica::put(mailbox, envelopes);
        if (r)
            for (std::size_t i = 0; i < envelopes.size(); ++i) {
                auto id = storage::record_id_of(envelopes[i]);
                if ((*r)[i] && m_seen.insert(id).second) m_order[mailbox].push_back(id);
            }
        return r;
    }
    Result<StoredIds> ids_in_stored_order(const MailboxId& mailbox, std::uint64_t from,
                                          std::size_t limit) override {
        ++pages;
        const auto& order = m_order[mailbox];
        StoredIds page;
        page.total = order.size();
        for (std::uint64_t i = from; i < order.size() && page.ids.size() < limit; ++i)
            page.ids.push_back(order[i]);
        page.next = from + page.ids.size();
        page.more = page.next < order.size();
        return page;
    }
    Status order_for_sending(const MailboxId& mailbox, std::vector<RecordId>& ids) override {
        const auto& order = m_order[mailbox];
        std::map<RecordId, std::size_t> rank;
        for (std::size_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
        // Every id here is held, so ranks are unique and the order is total.
        std::sort(ids.begin(), ids.end(),
                  [&](const RecordId& a, const RecordId& b) { return rank[a] < rank[b]; });
        return {};
    }
    const std::vector<RecordId>& order(const MailboxId& mailbox) { return m_order[mailbox]; }
    std::size_t pages = 0;

private:
    std::map<MailboxId, std::vector<RecordId>> m_order;
    std::set<RecordId> m_seen;
};

// A client and a server engine, started, the client opening `key`'s mailbox.
struct Pair {
    Pair(Replica& local, Replica& remote, const MailboxKey& key,
         SyncEngine::Config client_config = config(SyncEngine::Side::client))
        : client(std::move(client_config), local),
          server(config(SyncEngine::Side::server), remote) {
        REQUIRE(server.start().has_value());
        std::vector<MailboxKey> keys;
        keys.push_back(copy_key(key));
        REQUIRE(client.start(std::move(keys)).has_value());
    }
    SyncEngine client;
    SyncEngine server;
};

// Runs the two engines until quiet, like run_pair, and returns the server's peak memory
// estimate, sampled right after its output is taken so that frames waiting to go out (bounded
// by the window) do not count.
std::size_t run_for_server_peak(SyncEngine& client, SyncEngine& server) {
    std::size_t peak = 0;
    for (int guard = 0; guard < 100'000; ++guard) {
        auto up = client.take_output();
        for (auto& f : up) REQUIRE(server.handle(f).has_value());
        auto down = server.take_output();
        peak = std::max(peak, server.memory_estimate());
        if (up.empty() && down.empty()) return peak;
        for (auto& f : down) REQUIRE(client.handle(f).has_value());
    }
    FAIL("the engines never went quiet");
    return peak;
}

// Counts the frames of each kind going up (client → server) and down.
struct Kinds {
    std::map<int, int> up, down;
    FrameFilter filter() {
        return [this](bool to_server, const Bytes& b) {
            ++(to_server ? up : down)[parse_frame(b).kind_case()];
            return true;
        };
    }
};

Bytes open_frame(const MailboxKey& key) {
    kolokol::pb::SyncFrame f;
    f.mutable_open()->set_mailbox(to_string(key.id));
    f.mutable_open()->set_public_key(to_string(key.public_key));
    f.mutable_open()->set_signature(to_string(sign_mailbox_open(key, fixed_hash(0xaa))));
    return frame_bytes(f);
}

Bytes fetch_all(const MailboxId& mailbox, std::vector<std::string> have = {}) {
    kolokol::pb::SyncFrame f;
    f.mutable_fetch_all()->set_mailbox(to_string(mailbox));
    for (auto& h : have) f.mutable_fetch_all()->add_have(h);
    return frame_bytes(f);
}

Bytes fetched(const MailboxId& mailbox, bool done, std::vector<RecordId> lacking = {}) {
    kolokol::pb::SyncFrame f;
    f.mutable_fetched()->set_mailbox(to_string(mailbox));
    f.mutable_fetched()->set_total(3);
    f.mutable_fetched()->set_done(done);
    for (auto& id : lacking) f.mutable_fetched()->add_lacking(to_string(id));
    return frame_bytes(f);
}

}  // namespace

TEST_CASE("fetch: a client holding nothing gets the mailbox in the server's stored order") {
    crypto::DeterministicRandom rng(11);
    auto key = key_for(11);
    OrderedReplica local, remote;
    // More than two pages, stored in an order unrelated to the ids'.
    for (int i = 0; i < 2'500; ++i) remote.add(make_envelope(key.id, rng));
    REQUIRE_FALSE(std::is_sorted(remote.order(key.id).begin(), remote.order(key.id).end()));

    Pair p(local, remote, key);
    auto& client = p.client;
    auto& server = p.server;
    Kinds kinds;
    auto ex = run_pair(client, server, kinds.filter());
    CHECK(ex.client_status.has_value());
    CHECK(ex.server_status.has_value());
    CHECK(client.finished());
    CHECK(local.order(key.id) == remote.order(key.id));
    CHECK(client.report().received == 2'500);
    CHECK(client.report().to_receive == 2'500);
    CHECK(client.report().sent == 0);
    CHECK(client.report().round_trips == 1);
    CHECK(kinds.up[kolokol::pb::SyncFrame::kFetchAll] == 1);
    CHECK(kinds.up[kolokol::pb::SyncFrame::kReconcile] == 0);
    CHECK(kinds.up[kolokol::pb::SyncFrame::kWant] == 0);
    CHECK(kinds.down[kolokol::pb::SyncFrame::kFetched] == 2);
    CHECK(remote.pages == 4);  // the count, then a page at a time
}

TEST_CASE("fetch: what the client holds is not sent back, and what the server lacks is sent") {
    crypto::DeterministicRandom rng(12);
    auto key = key_for(12);
    MemoryReplica local, remote;
    std::set<RecordId> all;
    for (int i = 0; i < 210; ++i) {
        auto e = make_envelope(key.id, rng);
        all.insert(storage::record_id_of(e));
        if (i < 6) local.add(e);  // both
        if (i < 200) remote.add(e);
        if (i >= 200) local.add(e);  // only the client
    }
    // The client also holds an envelope of another mailbox under the same session's keys: it
    // is not in this mailbox's `have`, so it plays no part.
    Pair p(local, remote, key);
    auto& client = p.client;
    auto& server = p.server;
    Kinds kinds;
    auto ex = run_pair(client, server, kinds.filter());
    CHECK(ex.client_status.has_value());
    CHECK(ex.server_status.has_value());
    CHECK(client.finished());
    CHECK(local.held(key.id) == all);
    CHECK(remote.held(key.id) == all);
    CHECK(client.report().received == 194);
    CHECK(client.report().sent == 10);
    CHECK(server.report().sent == 194);
    CHECK(kinds.up[kolokol::pb::SyncFrame::kFetchAll] == 1);
    CHECK(kinds.up[kolokol::pb::SyncFrame::kReconcile] == 0);
}

TEST_CASE("fetch: used only below the threshold, and not at all when turned off") {
    crypto::DeterministicRandom rng(13);
    auto key = key_for(13);
    MemoryReplica remote;
    for (int i = 0; i < 100; ++i) remote.add(make_envelope(key.id, rng));
    auto run = [&](std::size_t held, std::size_t below) {
        MemoryReplica local;
        crypto::DeterministicRandom own(14);
        for (std::size_t i = 0; i < held; ++i) local.add(make_envelope(key.id, own));
        auto ccfg = config(SyncEngine::Side::client);
        ccfg.fetch_all_below = below;
        Pair p(local, remote, key, ccfg);
        auto& client = p.client;
        auto& server = p.server;
        Kinds kinds;
        run_pair(client, server, kinds.filter());
        CHECK(client.finished());
        CHECK(local.held(key.id).size() == 100 + held);
        return kinds;
    };
    SUBCASE("64 held: fetched") {
        auto k = run(kSyncMaxFetchHave, kSyncMaxFetchHave + 1);
        CHECK(k.up[kolokol::pb::SyncFrame::kFetchAll] == 1);
        CHECK(k.up[kolokol::pb::SyncFrame::kReconcile] == 0);
    }
    SUBCASE("65 held: reconciled") {
        auto k = run(kSyncMaxFetchHave + 1, kSyncMaxFetchHave + 1);
        CHECK(k.up[kolokol::pb::SyncFrame::kFetchAll] == 0);
        CHECK(k.up[kolokol::pb::SyncFrame::kReconcile] >= 1);
    }
    SUBCASE("a larger threshold is capped at what a FetchAll may carry") {
        auto k = run(kSyncMaxFetchHave + 1, 10'000);
        CHECK(k.up[kolokol::pb::SyncFrame::kFetchAll] == 0);
    }
    SUBCASE("turned off") {
        auto k = run(0, 0);
        CHECK(k.up[kolokol::pb::SyncFrame::kFetchAll] == 0);
        CHECK(k.up[kolokol::pb::SyncFrame::kReconcile] >= 1);
    }
}

TEST_CASE("a size cap: the server sends nothing larger, by fetch or by want") {
    crypto::DeterministicRandom rng(15);
    auto key = key_for(15);
    MemoryReplica remote;
    std::set<RecordId> small, large;
    for (int i = 0; i < 90; ++i) {
        // Envelopes of exactly the cap and just over it, as well as small ones.
        const std::size_t bytes = i % 3 == 0 ? 49'152 - 57 : (i % 3 == 1 ? 49'153 - 57 : 200);
        auto e = make_envelope(key.id, rng, bytes);
        (e.size() > 49'152 ? large : small).insert(storage::record_id_of(e));
        remote.add(e);
    }
    REQUIRE(large.size() == 30);
    auto run = [&](std::uint32_t cap, std::size_t fetch_below) {
        MemoryReplica local;
        auto capped = copy_key(key);
        capped.max_envelope_bytes = cap;
        auto ccfg = config(SyncEngine::Side::client);
        ccfg.fetch_all_below = fetch_below;
        Pair p(local, remote, capped, ccfg);
        Kinds kinds;
        auto ex = run_pair(p.client, p.server, kinds.filter());
        CHECK(ex.client_status.has_value());
        CHECK(ex.server_status.has_value());
        CHECK(p.client.finished());
        return std::pair{local.held(key.id), kinds};
    };
    SUBCASE("fetch") {
        auto [held, kinds] = run(49'152, kSyncMaxFetchHave + 1);
        CHECK(kinds.up[kolokol::pb::SyncFrame::kFetchAll] == 1);
        CHECK(held == small);
    }
    SUBCASE("reconciliation: the larger ones come back as missing") {
        auto [held, kinds] = run(49'152, 0);
        CHECK(kinds.up[kolokol::pb::SyncFrame::kReconcile] >= 1);
        CHECK(kinds.down[kolokol::pb::SyncFrame::kMissing] >= 1);
        CHECK(held == small);
    }
    SUBCASE("a server that ignores the cap: the client ends the session, storing nothing over it") {
        // The Open loses its cap on the way, as if the relay never read it: the server then
        // sends everything, and the client closes at the first envelope over its cap.
        MemoryReplica local;
        auto capped = copy_key(key);
        capped.max_envelope_bytes = 49'152;
        auto ccfg = config(SyncEngine::Side::client);
        ccfg.fetch_all_below = kSyncMaxFetchHave + 1;
        Pair p(local, remote, capped, ccfg);
        int stripped = 0;
        auto strip = [&](bool to_server, Bytes& b) {
            auto f = parse_frame(b);
            if (to_server && f.has_open() && f.open().max_envelope_bytes() != 0) {
                f.mutable_open()->set_max_envelope_bytes(0);
                b = frame_bytes(f);
                ++stripped;
            }
            return true;
        };
        auto ex = run_pair(p.client, p.server, strip);
        CHECK(stripped == 1);
        REQUIRE_FALSE(ex.client_status.has_value());
        CHECK(ex.client_status.error().code == SyncErrc::protocol_violation);
        for (const auto& id : local.held(key.id)) CHECK(small.contains(id));
    }
    SUBCASE("no cap: everything") {
        auto [held, kinds] = run(0, kSyncMaxFetchHave + 1);
        CHECK(held.size() == 90);
    }
}

TEST_CASE("fetch: the server holds a bounded amount, whatever the mailbox's size") {
    crypto::DeterministicRandom rng(15);
    auto key = key_for(15);
    OrderedReplica remote;
    for (int i = 0; i < 20'000; ++i) remote.add(make_envelope(key.id, rng, 100));
    // The server's peak estimate over the session, with and without FetchAll.
    auto peak_of = [&](std::size_t fetch_all_below) {
        OrderedReplica local;
        auto ccfg = config(SyncEngine::Side::client);
        ccfg.fetch_all_below = fetch_all_below;
        Pair p(local, remote, key, ccfg);
        auto& client = p.client;
        auto& server = p.server;
        const std::size_t peak = run_for_server_peak(client, server);
        CHECK(client.finished());
        CHECK(local.held(key.id).size() == 20'000);
        if (fetch_all_below > 0) CHECK(local.order(key.id) == remote.order(key.id));
        return peak;
    };
    const std::size_t fetching = peak_of(kSyncMaxFetchHave + 1);
    const std::size_t reconciling = peak_of(0);
    // A fetch holds about a page and a quarter of queued ids (~1,280 × 72 B) and the record of
    // what is in flight (a 1 MiB window of 160-byte envelopes: ~6,500 × 16 B); a
    // reconciliation 34 bytes per id (680 kB here).
    CHECK(fetching < 250'000);
    CHECK(reconciling > fetching + 400'000);
}

TEST_CASE("fetch: hostile frames to a server") {
    crypto::DeterministicRandom rng(16);
    auto key = key_for(16);
    MemoryReplica remote;
    for (int i = 0; i < 5; ++i) remote.add(make_envelope(key.id, rng));
    auto server = [&] {
        auto s = std::make_unique<SyncEngine>(config(SyncEngine::Side::server), remote);
        REQUIRE(s->start().has_value());
        REQUIRE(s->handle(hello_frame()).has_value());
        return s;
    };
    SUBCASE("a mailbox never opened") {
        auto s = server();
        expect_closed(*s, fetch_all(key.id), SyncErrc::unopened_mailbox);
    }
    SUBCASE("twice") {
        auto s = server();
        REQUIRE(s->handle(open_frame(key)).has_value());
        REQUIRE(s->handle(fetch_all(key.id)).has_value());
        expect_closed(*s, fetch_all(key.id), SyncErrc::protocol_violation);
    }
    SUBCASE("a reconciliation after it") {
        auto s = server();
        REQUIRE(s->handle(open_frame(key)).has_value());
        REQUIRE(s->handle(fetch_all(key.id)).has_value());
        kolokol::pb::SyncFrame f;
        f.mutable_reconcile()->set_mailbox(to_string(key.id));
        f.mutable_reconcile()->set_message(std::string(1, '\x01'));
        expect_closed(*s, frame_bytes(f), SyncErrc::protocol_violation);
    }
    SUBCASE("more ids held than a fetch may name") {
        auto s = server();
        REQUIRE(s->handle(open_frame(key)).has_value());
        std::vector<std::string> have(kSyncMaxFetchHave + 1, std::string(32, 'h'));
        expect_closed(*s, fetch_all(key.id, have), SyncErrc::protocol_violation);
    }
    SUBCASE("an id of the wrong size") {
        auto s = server();
        REQUIRE(s->handle(open_frame(key)).has_value());
        expect_closed(*s, fetch_all(key.id, {std::string(31, 'h')}), SyncErrc::protocol_violation);
    }
    SUBCASE("a server never fetches from a client") {
        auto s = server();
        expect_closed(*s, fetched(key.id, true), SyncErrc::protocol_violation);
    }
    SUBCASE("an id of another mailbox is reported lacking, and not sent") {
        auto other = key_for(17);
        auto foreign = make_envelope(other.id, rng);
        remote.add(foreign);
        auto s = server();
        REQUIRE(s->handle(open_frame(key)).has_value());
        s->take_output();
        REQUIRE(
            s->handle(fetch_all(key.id, {to_string(storage::record_id_of(foreign))})).has_value());
        std::size_t envelopes = 0;
        std::vector<std::string> lacking;
        for (auto& b : s->take_output()) {
            auto f = parse_frame(b);
            if (f.has_envelopes()) {
                for (auto& e : f.envelopes().envelopes()) {
                    CHECK(storage::parse_envelope(as_bytes(e))->mailbox == key.id);
                    ++envelopes;
                }
            }
            if (f.has_fetched() && f.fetched().done())
                lacking.assign(f.fetched().lacking().begin(), f.fetched().lacking().end());
        }
        CHECK(envelopes == 5);
        REQUIRE(lacking.size() == 1);
        CHECK(lacking[0] == to_string(storage::record_id_of(foreign)));
    }
}

TEST_CASE("fetch: hostile frames to a client") {
    crypto::DeterministicRandom rng(18);
    auto key = key_for(18);
    MemoryReplica local;
    auto client = [&] {
        auto c = std::make_unique<SyncEngine>(config(SyncEngine::Side::client), local);
        std::vector<MailboxKey> keys;
        keys.push_back(copy_key(key));
        REQUIRE(c->start(std::move(keys)).has_value());
        bool sent_fetch = false;
        for (auto& b : c->take_output()) sent_fetch |= parse_frame(b).has_fetch_all();
        REQUIRE(sent_fetch);
        REQUIRE(c->handle(hello_frame()).has_value());
        kolokol::pb::SyncFrame r;
        r.mutable_open_result()->set_mailbox(to_string(key.id));
        r.mutable_open_result()->set_accepted(true);
        REQUIRE(c->handle(frame_bytes(r)).has_value());
        return c;
    };
    auto expect = [](SyncEngine& c, const Bytes& frame) {
        auto st = c.handle(frame);
        REQUIRE_FALSE(st.has_value());
        CHECK(st.error().code == SyncErrc::protocol_violation);
        CHECK(c.closed());
    };
    auto envelopes = [&](const Bytes& env) {
        kolokol::pb::SyncFrame f;
        f.mutable_envelopes()->set_mailbox(to_string(key.id));
        f.mutable_envelopes()->add_envelopes(to_string(env));
        f.mutable_envelopes()->set_flush(true);
        return frame_bytes(f);
    };
    SUBCASE("an end before the start") {
        auto c = client();
        expect(*c, fetched(key.id, true));
    }
    SUBCASE("two starts") {
        auto c = client();
        REQUIRE(c->handle(fetched(key.id, false)).has_value());
        expect(*c, fetched(key.id, false));
    }
    SUBCASE("an id reported lacking that the client never named") {
        auto c = client();
        REQUIRE(c->handle(fetched(key.id, false)).has_value());
        expect(*c, fetched(key.id, true, {storage::record_id_of(make_envelope(key.id, rng))}));
    }
    SUBCASE("envelopes after the fetch ended") {
        auto c = client();
        REQUIRE(c->handle(fetched(key.id, false)).has_value());
        REQUIRE(c->handle(envelopes(make_envelope(key.id, rng))).has_value());
        REQUIRE(c->handle(fetched(key.id, true)).has_value());
        CHECK(local.held(key.id).size() == 1);
        expect(*c, envelopes(make_envelope(key.id, rng)));
    }
    SUBCASE("a reply for a mailbox not being fetched") {
        auto c = client();
        expect(*c, fetched(key_for(19).id, false));
    }
}

TEST_CASE("reconciled envelopes travel in the order the sender's store gives them") {
    crypto::DeterministicRandom rng(20);
    auto key = key_for(20);
    OrderedReplica local, remote;
    for (int i = 0; i < 3'000; ++i) local.add(make_envelope(key.id, rng));
    REQUIRE_FALSE(std::is_sorted(local.order(key.id).begin(), local.order(key.id).end()));
    Pair p(local, remote, key);
    auto& client = p.client;
    auto& server = p.server;
    run_pair(client, server);
    CHECK(client.finished());
    CHECK(client.report().sent == 3'000);
    CHECK(remote.order(key.id) == local.order(key.id));
}

TEST_CASE("fetch: many mailboxes fetched on one session are read one after another") {
    crypto::DeterministicRandom rng(21);
    OrderedReplica local, remote;
    std::vector<MailboxKey> keys;
    for (int m = 0; m < 8; ++m) {
        keys.push_back(key_for(300 + m));
        for (int i = 0; i < 3'000; ++i) remote.add(make_envelope(keys.back().id, rng, 100));
    }
    SyncEngine client(config(SyncEngine::Side::client), local);
    SyncEngine server(config(SyncEngine::Side::server), remote);
    REQUIRE(server.start().has_value());
    std::vector<MailboxKey> copies;
    for (auto& k : keys) copies.push_back(copy_key(k));
    REQUIRE(client.start(std::move(copies)).has_value());
    const std::size_t peak = run_for_server_peak(client, server);
    CHECK(client.finished());
    CHECK(client.report().received == 24'000);
    CHECK(client.report().round_trips == 8);
    for (auto& k : keys) CHECK(local.order(k.id) == remote.order(k.id));
    // As for one mailbox (see above): not eight pages at once.
    CHECK(peak < 250'000);
}
