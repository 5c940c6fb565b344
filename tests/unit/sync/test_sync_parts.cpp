// Short connections and envelopes in parts (DESIGN §9.14): a client whose connections carry
// only so many bytes gets everything, large envelopes unchanged, across as many sessions as it
// takes, and a server's part that does not fit what was asked ends the session.

#include <doctest/doctest.h>

#include "sync_fixtures.hpp"
#include "sync_frames.hpp"
#include "sync_short.hpp"

using namespace sync_test;

namespace {

struct Session {
    bool finished = false;
    std::uint64_t bytes_down = 0;  // sync frame bytes the server sent
    std::size_t largest_down = 0;
    Status client_status;
};

// One connection: runs the pair as the session driver would, and cuts it (drops every later
// frame) once the client has received its byte budget or wants a new connection; the client
// then stores what arrived.
Session one_connection(Replica& local, Replica& remote, const MailboxKey& key,
                       const std::shared_ptr<PartialEnvelopes>& partials,
                       FrameFilter hostile = {}) {
    const std::uint64_t budget = partials->queue.empty() ? kLimit / 2 : kLimit * 3 / 4;
    SyncEngine client(short_client(partials, budget), local);
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    std::vector<MailboxKey> keys;
    keys.push_back(copy_key(key));
    REQUIRE(client.start(std::move(keys)).has_value());
    Session s;
    bool cut = false;
    auto ex = run_pair(client, server, [&](bool up, Bytes& f) {
        if (!up) {
            // Sent, so on the wire, whether or not it arrives before the connection is cut.
            s.bytes_down += f.size();
            s.largest_down = std::max(s.largest_down, f.size());
        }
        if (!client.finished() && !client.closed() &&
            (client.new_connection_wanted() || client.report().bytes_received >= budget))
            cut = true;
        if (cut) return false;
        return !hostile || hostile(up, f);
    });
    s.client_status = ex.client_status;
    if (!client.finished() && !client.closed()) REQUIRE(client.store_received().has_value());
    s.finished = client.finished();
    return s;
}

}  // namespace

TEST_CASE("short connections: large envelopes come in parts, unchanged, across connections") {
    crypto::DeterministicRandom rng(41);
    auto key = key_for(41);
    MemoryReplica local, remote;
    std::vector<Bytes> large;
    for (int i = 0; i < 60; ++i) remote.add(make_envelope(key.id, rng, 300));
    for (int i = 0; i < 3; ++i) {
        large.push_back(make_envelope(key.id, rng, 48 << 10));
        remote.add(large.back());
    }
    auto partials = std::make_shared<PartialEnvelopes>();
    int sessions = 0;
    bool done = false;
    while (!done && sessions < 200) {
        // A connection that fetched only parts is followed by one that reconciles.
        const bool parts_only = !partials->queue.empty();
        auto s = one_connection(local, remote, key, partials);
        ++sessions;
        REQUIRE(s.client_status.has_value());
        // Each connection stays under what the network carries, whole frames included.
        CHECK(s.bytes_down < kLimit);
        CHECK(s.largest_down <= kLimit / 2 + 256);
        done = s.finished && !parts_only && partials->queue.empty();
    }
    REQUIRE(done);
    CHECK(sessions > 6);  // 144 KiB cannot come in fewer connections of under 16 KiB
    CHECK(local.held(key.id) == remote.held(key.id));
    for (const auto& e : large) {
        auto got = local.get(storage::record_id_of(e));
        REQUIRE(got.has_value());
        REQUIRE(got->has_value());
        CHECK(**got == e);
    }
    CHECK(partials->held.empty());
}

TEST_CASE("short connections: a part that does not fit what was asked ends the session") {
    crypto::DeterministicRandom rng(42);
    auto key = key_for(42);
    MemoryReplica local, remote;
    remote.add(make_envelope(key.id, rng, 40 << 10));
    // Learn the large id first: a connection that reconciles and queues it.
    auto partials = std::make_shared<PartialEnvelopes>();
    auto rewrite = [](std::function<void(kolokol::pb::Part&)> change) {
        return [change](bool up, Bytes& f) {
            if (up) return true;
            auto frame = parse_frame(f);
            if (!frame.has_part() || frame.part().offset() == 0) return true;
            change(*frame.mutable_part());
            f = frame_bytes(frame);
            return true;
        };
    };
    SUBCASE("a different total") {
        one_connection(local, remote, key, partials);
        auto s = one_connection(local, remote, key, partials,
                                rewrite([](auto& p) { p.set_total(p.total() + 1); }));
        REQUIRE_FALSE(s.client_status.has_value());
        CHECK(s.client_status.error().code == SyncErrc::protocol_violation);
    }
    SUBCASE("more bytes than asked") {
        one_connection(local, remote, key, partials);
        auto s = one_connection(local, remote, key, partials, rewrite([](auto& p) {
                                    p.set_bytes(p.bytes() + std::string(kLimit, 'x'));
                                }));
        REQUIRE_FALSE(s.client_status.has_value());
    }
    SUBCASE("bytes changed: the envelope is not the one asked for") {
        std::size_t changed = 0;
        for (int i = 0; i < 20 && changed == 0; ++i) {
            auto s = one_connection(local, remote, key, partials, [&](bool up, Bytes& f) {
                if (up) return true;
                auto frame = parse_frame(f);
                if (!frame.has_part() ||
                    frame.part().offset() + frame.part().bytes().size() != frame.part().total())
                    return true;
                auto bytes = frame.part().bytes();
                bytes.back() ^= 1;
                frame.mutable_part()->set_bytes(bytes);
                f = frame_bytes(frame);
                ++changed;
                return true;
            });
            if (changed) {
                REQUIRE_FALSE(s.client_status.has_value());
                CHECK(s.client_status.error().code == SyncErrc::protocol_violation);
            }
        }
        REQUIRE(changed == 1);
    }
    // Nothing wrong was stored, and what was gathered of it is dropped.
    CHECK(local.held(key.id).empty());
    CHECK(partials->held.empty());
}

TEST_CASE("short connections: a server refuses part wants out of bounds") {
    MemoryReplica remote;
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    REQUIRE(server.handle(hello_frame()).has_value());
    auto key = key_for(43);
    kolokol::pb::SyncFrame f;
    f.mutable_want_part()->set_mailbox(to_string(key.id));
    f.mutable_want_part()->set_id(std::string(32, 'a'));
    SUBCASE("longer than a part may be") {
        f.mutable_want_part()->set_length(kSyncMaxPartBytes + 1);
        expect_closed(server, frame_bytes(f), SyncErrc::protocol_violation);
    }
    SUBCASE("of a mailbox not open") {
        f.mutable_want_part()->set_length(1024);
        expect_closed(server, frame_bytes(f), SyncErrc::unopened_mailbox);
    }
}
