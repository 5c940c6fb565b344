// Resumable fetches in short connections (DESIGN §9.14): each connection fetches a mailbox in
// the server's stored order from where the last one stopped, the cursor is saved only once
// what came before it is stored, and the reconciliation that follows still brings everything
// when a server's positions restart or lie.

#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "sync_fixtures.hpp"
#include "sync_frames.hpp"
#include "sync_short.hpp"

using namespace sync_test;

namespace {

// A durable cursor store, as a member's would be: what was saved, and every save in order.
struct Cursors {
    std::map<MailboxId, std::uint64_t> saved;
    std::vector<std::uint64_t> saves;

    std::shared_ptr<PartialEnvelopes> fresh_sync() {
        auto p = std::make_shared<PartialEnvelopes>();
        p->load_cursor = [this](const MailboxId& m) -> std::optional<std::uint64_t> {
            auto it = saved.find(m);
            if (it == saved.end()) return std::nullopt;
            return it->second;
        };
        p->save_cursor = [this](const MailboxId& m, std::uint64_t position) {
            saved[m] = position;
            saves.push_back(position);
        };
        return p;
    }
};

struct Connection {
    bool finished = false;
    std::uint64_t bytes_down = 0;
    std::vector<std::uint64_t> fetches_after;  // the `after` of each FetchAll sent
    Status client_status;
};

// One connection, cut (every later frame dropped) once the client has received its budget or
// wants a new one; the client then stores what arrived, as the session driver does.
Connection one_connection(Replica& local, Replica& remote, const MailboxKey& key,
                          const std::shared_ptr<PartialEnvelopes>& partials) {
    const std::uint64_t budget = kLimit * 3 / 4;
    SyncEngine client(short_client(partials, budget), local);
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(key));
    REQUIRE(client.start(std::move(keys)).has_value());
    Connection c;
    bool cut = false;
    auto ex = run_pair(client, server, [&](bool up, Bytes& f) {
        if (up) {
            auto frame = parse_frame(f);
            if (frame.has_fetch_all()) c.fetches_after.push_back(frame.fetch_all().after());
        } else {
            c.bytes_down += f.size();
        }
        if (!client.finished() && !client.closed() &&
            (client.new_connection_wanted() || client.report().bytes_received >= budget))
            cut = true;
        return !cut;
    });
    c.client_status = ex.client_status;
    if (!client.finished() && !client.closed()) REQUIRE(client.store_received().has_value());
    c.finished = client.finished();
    return c;
}

// Connections until one finishes with nothing left in parts; their number.
int sync_fully(Replica& local, Replica& remote, const MailboxKey& key,
               const std::shared_ptr<PartialEnvelopes>& partials, std::uint64_t* bytes_down,
               int cap = 400) {
    for (int n = 1; n <= cap; ++n) {
        const bool parts_only = !partials->queue.empty();
        auto c = one_connection(local, remote, key, partials);
        REQUIRE(c.client_status.has_value());
        if (bytes_down) *bytes_down += c.bytes_down;
        if (c.finished && !parts_only && partials->queue.empty()) return n;
    }
    FAIL("the sync did not finish");
    return cap;
}

// A server whose stored order hides a lie: positions that start again at `shift` below what
// it said before (a relay whose store was made anew), or that jump `skip` ahead after each read
// (a relay that leaves envelopes out).
class LyingReplica : public MemoryReplica {
public:
    std::uint64_t skip = 0;
    Result<StoredIds> ids_in_stored_order(const MailboxId& mailbox, std::uint64_t from,
                                          std::size_t limit) override {
        auto page = MemoryReplica::ids_in_stored_order(mailbox, from, limit);
        if (page && !page->ids.empty()) page->next += skip;
        return page;
    }
};

}  // namespace

TEST_CASE("resumable fetch: each short connection goes on where the last one stopped") {
    crypto::DeterministicRandom rng(51);
    auto key = key_for(51);
    MemoryReplica local, remote;
    std::uint64_t total_bytes = 0;
    for (int i = 0; i < 400; ++i) {
        auto e = make_envelope(key.id, rng, 500);
        total_bytes += e.size();
        remote.add(std::move(e));
    }
    Cursors cursors;
    std::uint64_t down = 0;

    // A first sync, dropped after a few connections (the process killed: what it held in
    // memory is gone, the saved cursor stays).
    auto partials = cursors.fresh_sync();
    std::uint64_t last_after = 0;
    for (int i = 0; i < 5; ++i) {
        auto c = one_connection(local, remote, key, partials);
        REQUIRE(c.client_status.has_value());
        REQUIRE_FALSE(c.finished);
        // Each connection carries fewer bytes than the network lets through, and starts its
        // fetch past where the one before started.
        CHECK(c.bytes_down < kLimit);
        REQUIRE_FALSE(c.fetches_after.empty());
        if (i > 0) CHECK(c.fetches_after.front() > last_after);
        last_after = c.fetches_after.front();
        down += c.bytes_down;
    }
    const auto held_at_kill = local.held(key.id).size();
    CHECK(held_at_kill > 0);
    // The cursor saved never goes back, and never past an envelope not stored: a fetch from it
    // brings only envelopes not held yet.
    CHECK(std::is_sorted(cursors.saves.begin(), cursors.saves.end()));
    REQUIRE(cursors.saved.contains(key.id));
    CHECK(cursors.saved[key.id] <= held_at_kill);

    // The next sync starts its fetch at the saved cursor, not at the beginning.
    const auto saved_at_kill = cursors.saved[key.id];
    auto again = cursors.fresh_sync();
    auto first = one_connection(local, remote, key, again);
    REQUIRE(first.client_status.has_value());
    REQUIRE_FALSE(first.fetches_after.empty());
    CHECK(first.fetches_after.front() == saved_at_kill);
    CHECK(first.fetches_after.front() >= last_after);
    down += first.bytes_down;
    const int n = sync_fully(local, remote, key, again, &down);
    CHECK(local.held(key.id) == remote.held(key.id));
    // Nothing fetched twice but the few envelopes of a connection cut before its fetch's end:
    // the bytes down stay within a fifth over the envelopes themselves plus each connection's
    // fixed cost.
    CHECK(down < total_bytes * 6 / 5 + static_cast<std::uint64_t>(n + 6) * 512);
    // And the last connection reconciled sets that were already equal.
    CHECK(again->caught_up.contains(key.id));
}

TEST_CASE("resumable fetch: envelopes passed over for their size hold the cursor until stored") {
    crypto::DeterministicRandom rng(52);
    auto key = key_for(52);
    MemoryReplica local, remote;
    std::vector<Bytes> large;
    for (int i = 0; i < 40; ++i) remote.add(make_envelope(key.id, rng, 400));
    for (int i = 0; i < 3; ++i) {
        large.push_back(make_envelope(key.id, rng, 40 << 10));
        remote.add(large.back());
    }
    Cursors cursors;
    auto partials = cursors.fresh_sync();
    // Fetch until envelopes wait for parts, then drop the sync (killed: the queue is lost).
    for (int i = 0; i < 40 && partials->queue.empty(); ++i)
        REQUIRE(one_connection(local, remote, key, partials).client_status.has_value());
    REQUIRE_FALSE(partials->queue.empty());
    // The saved cursor is not past any of them.
    for (const auto& [id, where] : partials->positions)
        CHECK(cursors.saved[key.id] <= where.second);

    // The next sync learns of them again from the cursor and brings them, unchanged.
    auto again = cursors.fresh_sync();
    sync_fully(local, remote, key, again, nullptr);
    CHECK(local.held(key.id) == remote.held(key.id));
    for (const auto& e : large) {
        auto got = local.get(storage::record_id_of(e));
        REQUIRE(got.has_value());
        REQUIRE(got->has_value());
        CHECK(**got == e);
    }
    CHECK(again->positions.empty());
}

TEST_CASE("resumable fetch: a server whose positions restart or lie still syncs everything") {
    crypto::DeterministicRandom rng(53);
    auto key = key_for(53);
    MemoryReplica local;
    LyingReplica remote;
    for (int i = 0; i < 60; ++i) remote.add(make_envelope(key.id, rng, 300));
    Cursors cursors;
    SUBCASE("a cursor beyond everything the server holds (its store made anew)") {
        cursors.saved[key.id] = 1'000'000;
    }
    SUBCASE("positions that jump past envelopes") {
        remote.skip = 7;
    }
    SUBCASE(
        "a saved cursor in the middle of envelopes never fetched (positions that mean "
        "other things now)") {
        cursors.saved[key.id] = 30;
    }
    auto partials = cursors.fresh_sync();
    sync_fully(local, remote, key, partials, nullptr);
    // Reconciliation brought what the fetch did not.
    CHECK(local.held(key.id) == remote.held(key.id));
    CHECK(partials->caught_up.contains(key.id));
}

TEST_CASE("resumable fetch: a server answers within the budget and says where to resume") {
    crypto::DeterministicRandom rng(54);
    auto key = key_for(54);
    MemoryReplica remote;
    for (int i = 0; i < 20; ++i) remote.add(make_envelope(key.id, rng, 1'000));
    remote.add(make_envelope(key.id, rng, 20'000));
    // A client that opened the mailbox for envelopes of at most 2 KiB asks for 4 KiB from the
    // start: four envelopes (the first always goes), then Fetched(done) resuming at the fifth.
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    REQUIRE(server.handle(hello_frame(kSyncVersion, 2 << 10)).has_value());
    kolokol::pb::SyncFrame open;
    open.mutable_open()->set_mailbox(to_string(key.id));
    open.mutable_open()->set_public_key(to_string(key.public_key));
    open.mutable_open()->set_signature(to_string(sign_mailbox_open(key, fixed_hash(0xaa))));
    open.mutable_open()->set_max_envelope_bytes(2 << 10);
    REQUIRE(server.handle(frame_bytes(open)).has_value());
    kolokol::pb::SyncFrame fa;
    fa.mutable_fetch_all()->set_mailbox(to_string(key.id));
    fa.mutable_fetch_all()->set_max_bytes(4 << 10);
    REQUIRE(server.handle(frame_bytes(fa)).has_value());
    std::size_t envelopes = 0;
    std::optional<kolokol::pb::Fetched> done;
    for (int round = 0; round < 20 && !done; ++round) {
        std::uint64_t through = 0;
        for (auto& out : server.take_output()) {
            auto f = parse_frame(out);
            if (f.has_envelopes()) {
                envelopes += static_cast<std::size_t>(f.envelopes().envelopes_size());
                through = envelopes;
            }
            if (f.has_fetched() && f.fetched().done()) done = f.fetched();
        }
        if (through > 0) {
            kolokol::pb::SyncFrame ack;
            ack.mutable_ack()->set_through(through);
            REQUIRE(server.handle(frame_bytes(ack)).has_value());
        }
    }
    REQUIRE(done.has_value());
    CHECK(done->more());
    CHECK(envelopes >= 3);
    CHECK(envelopes <= 4);
    CHECK(done->next() > 0);
    // A second bounded fetch on the same session goes on from there.
    fa.mutable_fetch_all()->set_after(done->next());
    fa.mutable_fetch_all()->set_max_bytes(64 << 10);
    REQUIRE(server.handle(frame_bytes(fa)).has_value());
    std::size_t more = 0;
    done.reset();
    for (int round = 0; round < 40 && !done; ++round) {
        std::uint64_t through = 0;
        for (auto& out : server.take_output()) {
            auto f = parse_frame(out);
            if (f.has_envelopes()) {
                more += static_cast<std::size_t>(f.envelopes().envelopes_size());
                through = envelopes + more;
            }
            if (f.has_fetched() && f.fetched().done()) done = f.fetched();
        }
        if (through > 0) {
            kolokol::pb::SyncFrame ack;
            ack.mutable_ack()->set_through(through);
            REQUIRE(server.handle(frame_bytes(ack)).has_value());
        }
    }
    REQUIRE(done.has_value());
    CHECK_FALSE(done->more());
    CHECK(envelopes + more == 20);
    // The large one was listed, not sent.
    REQUIRE(done->too_large_size() == 1);
    SUBCASE("a bounded fetch that lists ids is refused") {
        kolokol::pb::SyncFrame bad;
        bad.mutable_fetch_all()->set_mailbox(to_string(key.id));
        bad.mutable_fetch_all()->set_max_bytes(4 << 10);
        bad.mutable_fetch_all()->add_have(std::string(32, 'a'));
        expect_closed(server, frame_bytes(bad), SyncErrc::protocol_violation);
    }
}

namespace {

// Short connections at once (DESIGN §9.14): `width` sessions share one sync's partials, their
// frames interleaved one exchange at a time, as coroutines on one thread interleave them. Each
// is cut at its budget (what arrived whole is stored) and replaced while envelopes wait for
// parts; all but the first only fetch parts. Checks that no part is asked for twice, and that
// two sessions never wait on parts of the same envelope. Stops after `steps` exchanges (0: when
// the queue is empty and every session ended); returns the bytes of the parts received.
std::size_t parts_at_once(Replica& local, Replica& remote, const MailboxKey& key,
                          const std::shared_ptr<PartialEnvelopes>& partials, int width, int steps) {
    const std::uint64_t budget = kLimit * 3 / 4;
    struct Live {
        std::unique_ptr<SyncEngine> client, server;
        std::optional<RecordId> waiting;  // the envelope of its part asked for
    };
    std::vector<Live> live;
    std::set<std::pair<RecordId, std::uint64_t>> asked;  // (envelope, offset) of each WantPart
    std::size_t part_bytes = 0;
    auto open = [&](bool parts_only) {
        auto config = short_client(partials, budget);
        config.parts_only = parts_only;
        Live l{std::make_unique<SyncEngine>(config, local),
               std::make_unique<SyncEngine>(server_config(), remote), std::nullopt};
        REQUIRE(l.server->start().has_value());
        std::vector<MailboxKey> keys;
        keys.push_back(copy_key(key));
        REQUIRE(l.client->start(std::move(keys)).has_value());
        live.push_back(std::move(l));
    };
    for (int step = 0; steps == 0 || step < steps; ++step) {
        while (static_cast<int>(live.size()) < width && partials->queue.size() > live.size())
            open(!live.empty());
        if (live.empty()) break;
        for (std::size_t i = 0; i < live.size();) {
            auto& l = live[i];
            auto up = l.client->take_output();
            auto down = l.server->take_output();
            bool ended = up.empty() && down.empty();
            for (auto& f : up) {
                auto frame = parse_frame(f);
                if (frame.has_want_part()) {
                    RecordId id{};
                    REQUIRE(frame.want_part().id().size() == id.size());
                    std::memcpy(id.data(), frame.want_part().id().data(), id.size());
                    CHECK(asked.emplace(id, frame.want_part().offset()).second);
                    for (const auto& other : live)
                        if (&other != &l) CHECK(other.waiting != id);
                    l.waiting = id;
                }
                if (!l.server->closed()) REQUIRE(l.server->handle(f).has_value());
            }
            for (auto& f : down) {
                auto frame = parse_frame(f);
                if (frame.has_part()) {
                    part_bytes += frame.part().bytes().size();
                    l.waiting.reset();
                }
                if (!l.client->closed()) REQUIRE(l.client->handle(f).has_value());
            }
            if (!l.client->finished() && !l.client->closed() &&
                (l.client->new_connection_wanted() ||
                 l.client->report().bytes_received >= budget)) {
                REQUIRE(l.client->store_received().has_value());
                ended = true;
            }
            if (ended || l.client->finished()) {
                live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
                continue;
            }
            ++i;
        }
    }
    // Killed (steps) or done: every session dropped, releasing the envelopes it waited on.
    live.clear();
    CHECK(partials->claimed.empty());
    return part_bytes;
}

}  // namespace

TEST_CASE(
    "short connections at once: parts of different envelopes, none twice, a kill loses "
    "nothing") {
    crypto::DeterministicRandom rng(55);
    auto key = key_for(55);
    MemoryReplica local, remote;
    std::vector<Bytes> large;
    for (int i = 0; i < 30; ++i) remote.add(make_envelope(key.id, rng, 400));
    for (int i = 0; i < 8; ++i) {
        large.push_back(make_envelope(key.id, rng, 40 << 10));
        remote.add(large.back());
    }
    for (int i = 0; i < 30; ++i) remote.add(make_envelope(key.id, rng, 400));
    Cursors cursors;
    auto partials = cursors.fresh_sync();
    for (int i = 0; i < 40 && partials->queue.size() < 3; ++i)
        REQUIRE(one_connection(local, remote, key, partials).client_status.has_value());
    REQUIRE(partials->queue.size() >= 3);

    // Three at once for a while, then the process is killed: what it held in memory is lost.
    CHECK(parts_at_once(local, remote, key, partials, 3, 12) > 0);
    const auto held_at_kill = local.held(key.id);
    CHECK(held_at_kill.size() < remote.held(key.id).size());
    // The saved cursor is not past any envelope still waiting for its parts.
    for (const auto& [id, where] : partials->positions)
        CHECK(cursors.saved[key.id] <= where.second);

    // The next sync learns of them again from the cursor and brings them all, three at once,
    // each part once, then reconciles.
    auto again = cursors.fresh_sync();
    for (int i = 0; i < 40 && again->queue.empty() && !again->caught_up.contains(key.id); ++i)
        REQUIRE(one_connection(local, remote, key, again).client_status.has_value());
    REQUIRE(again->queue.size() >= 3);
    // What the queued envelopes lack, each byte of which comes once (no part asked twice,
    // checked inside).
    std::size_t lacking = 0;
    for (const auto& [mailbox, id] : again->queue) {
        lacking += (*remote.get(id))->size();
        if (auto h = again->held.find(id); h != again->held.end())
            lacking -= h->second.bytes.size();
    }
    CHECK(parts_at_once(local, remote, key, again, 3, 0) == lacking);
    CHECK(again->queue.empty());
    sync_fully(local, remote, key, again, nullptr);
    CHECK(local.held(key.id) == remote.held(key.id));
    for (const auto& e : large) {
        auto got = local.get(storage::record_id_of(e));
        REQUIRE(got.has_value());
        REQUIRE(got->has_value());
        CHECK(**got == e);
    }
    CHECK(again->positions.empty());
    CHECK(again->claimed.empty());
}
