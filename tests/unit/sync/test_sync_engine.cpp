// The sync protocol engine, two engines wired directly to each other (no sockets).

#include <doctest/doctest.h>

#include "sync.pb.h"
#include "sync_fixtures.hpp"
#include "sync_frames.hpp"

using namespace sync_test;

namespace {

SyncEngine::Config client_config(Bytes hash = fixed_hash(0xaa), bool live = false) {
    SyncEngine::Config c;
    c.side = SyncEngine::Side::client;
    c.handshake_hash = std::move(hash);
    c.live = live;
    return c;
}

SyncEngine::Config server_config(Bytes hash = fixed_hash(0xaa)) {
    SyncEngine::Config c;
    c.side = SyncEngine::Side::server;
    c.handshake_hash = std::move(hash);
    c.live = true;
    return c;
}

std::vector<MailboxKey> keys_of(std::initializer_list<const MailboxKey*> ks) {
    std::vector<MailboxKey> out;
    for (auto* k : ks) out.push_back(copy_key(*k));
    return out;
}

}  // namespace

TEST_CASE("both sides end with the union of their envelopes") {
    crypto::DeterministicRandom rng(1);
    auto key = key_for(1);
    MemoryReplica local, remote;
    std::set<RecordId> all;
    for (int i = 0; i < 300; ++i) {
        auto e = make_envelope(key.id, rng);
        all.insert(storage::record_id_of(e));
        if (i < 100)
            local.add(e);
        else if (i < 250)
            remote.add(e);
        else {
            local.add(e);
            remote.add(e);
        }
    }
    SyncEngine client(client_config(), local);
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    REQUIRE(client.start(keys_of({&key})).has_value());
    auto ex = run_pair(client, server);
    CHECK(ex.client_status.has_value());
    CHECK(ex.server_status.has_value());
    CHECK(client.finished());
    CHECK(server.peer_closed_normally());
    CHECK(local.held(key.id) == all);
    CHECK(remote.held(key.id) == all);
    CHECK(client.report().sent == 100);
    CHECK(client.report().received == 150);
    CHECK(client.report().rejected == 0);
    CHECK(client.report().mailboxes_opened == 1);
    CHECK(client.report().round_trips >= 1);
    CHECK(server.report().received == 100);
    CHECK(server.report().sent == 150);
}

TEST_CASE("already in sync: one reconciliation round and no envelopes") {
    crypto::DeterministicRandom rng(2);
    auto key = key_for(2);
    MemoryReplica local, remote;
    for (int i = 0; i < 1000; ++i) {
        auto e = make_envelope(key.id, rng);
        local.add(e);
        remote.add(e);
    }
    SyncEngine client(client_config(), local);
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    REQUIRE(client.start(keys_of({&key})).has_value());
    run_pair(client, server);
    CHECK(client.finished());
    CHECK(client.report().round_trips == 1);
    CHECK(client.report().sent == 0);
    CHECK(client.report().received == 0);
    CHECK(remote.puts() == 1000);  // only the setup's
}

TEST_CASE("many mailboxes on one session; a refused one is reported and the rest sync") {
    crypto::DeterministicRandom rng(3);
    std::vector<MailboxKey> keys;
    for (int i = 0; i < 12; ++i) keys.push_back(key_for(100 + i));
    MemoryReplica local, remote;
    for (auto& k : keys)
        for (int i = 0; i < 5; ++i) remote.add(make_envelope(k.id, rng));
    const MailboxId closed = keys[3].id;
    auto cfg = server_config();
    cfg.admit = [&](const MailboxId& m) -> std::optional<std::string> {
        if (m == closed) return "this relay keeps that mailbox closed";
        return std::nullopt;
    };
    SyncEngine client(client_config(), local);
    SyncEngine server(cfg, remote);
    REQUIRE(server.start().has_value());
    std::vector<MailboxKey> copies;
    for (auto& k : keys) copies.push_back(copy_key(k));
    REQUIRE(client.start(std::move(copies)).has_value());
    auto ex = run_pair(client, server);
    CHECK(ex.client_status.has_value());
    CHECK(ex.server_status.has_value());
    CHECK(client.finished());
    REQUIRE(client.report().refused.size() == 1);
    CHECK(client.report().refused[0].mailbox == closed);
    CHECK(client.report().refused[0].reason == "this relay keeps that mailbox closed");
    CHECK(client.report().mailboxes_opened == 11);
    CHECK(client.report().received == 55);
    for (auto& k : keys) CHECK(local.held(k.id).size() == (k.id == closed ? 0u : 5u));
}

TEST_CASE("an open proof made for another session is refused") {
    auto key = key_for(4);
    MemoryReplica local, remote;
    crypto::DeterministicRandom rng(4);
    remote.add(make_envelope(key.id, rng));
    // The client signs over one handshake hash, the server's session has another: a replayed
    // open from a recorded session looks exactly like this.
    SyncEngine client(client_config(fixed_hash(0x01)), local);
    SyncEngine server(server_config(fixed_hash(0x02)), remote);
    REQUIRE(server.start().has_value());
    REQUIRE(client.start(keys_of({&key})).has_value());
    auto ex = run_pair(client, server);
    CHECK(ex.server_status.has_value());  // the pipelined reconciliation is dropped, not fatal
    CHECK(client.finished());
    REQUIRE(client.report().refused.size() == 1);
    CHECK(client.report().refused[0].reason.find("does not verify") != std::string::npos);
    CHECK(local.held(key.id).empty());
}

TEST_CASE("open refusals: wrong key, bad signature, duplicate, too many") {
    MemoryReplica remote;
    auto cfg = server_config();
    cfg.limits.max_mailboxes = 2;
    SyncEngine server(cfg, remote);
    REQUIRE(server.start().has_value());
    REQUIRE(server.handle(hello_frame()).has_value());
    server.take_output();

    auto open = [&](const MailboxKey& k, bool tamper_sig, bool other_mailbox) {
        kolokol::pb::SyncFrame f;
        auto* o = f.mutable_open();
        MailboxId mb = k.id;
        if (other_mailbox) mb[0] ^= 1;
        o->set_mailbox(to_string(mb));
        o->set_public_key(to_string(k.public_key));
        auto sig = sign_mailbox_open(k, fixed_hash(0xaa));
        if (tamper_sig) sig[5] ^= 1;
        o->set_signature(to_string(sig));
        REQUIRE(server.handle(frame_bytes(f)).has_value());
        auto out = server.take_output();
        REQUIRE(out.size() == 1);
        kolokol::pb::SyncFrame reply;
        REQUIRE(reply.ParseFromArray(out[0].data(), static_cast<int>(out[0].size())));
        REQUIRE(reply.has_open_result());
        return reply.open_result();
    };
    auto k1 = key_for(11), k2 = key_for(12), k3 = key_for(13);
    CHECK(open(k1, false, true).refusal() == kolokol::pb::OpenResult::BAD_KEY);
    CHECK(open(k1, true, false).refusal() == kolokol::pb::OpenResult::BAD_SIGNATURE);
    CHECK(open(k1, false, false).accepted());
    CHECK(open(k1, false, false).refusal() == kolokol::pb::OpenResult::ALREADY_OPEN);
    CHECK(open(k2, false, false).accepted());
    CHECK(open(k3, false, false).refusal() == kolokol::pb::OpenResult::TOO_MANY_MAILBOXES);
}

TEST_CASE("pushing to a mailbox the session did not open closes the session") {
    crypto::DeterministicRandom rng(5);
    auto opened = key_for(21), other = key_for(22);
    MemoryReplica remote;
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    REQUIRE(server.handle(hello_frame()).has_value());

    kolokol::pb::SyncFrame f;
    auto* o = f.mutable_open();
    o->set_mailbox(to_string(opened.id));
    o->set_public_key(to_string(opened.public_key));
    o->set_signature(to_string(sign_mailbox_open(opened, fixed_hash(0xaa))));
    REQUIRE(server.handle(frame_bytes(f)).has_value());

    kolokol::pb::SyncFrame push;
    push.mutable_envelopes()->set_mailbox(to_string(other.id));
    push.mutable_envelopes()->add_envelopes(to_string(make_envelope(other.id, rng)));
    push.mutable_envelopes()->set_flush(true);
    auto st = server.handle(frame_bytes(push));
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code == SyncErrc::unopened_mailbox);
    CHECK(server.closed());
    CHECK(remote.held(other.id).empty());
    auto out = server.take_output();
    REQUIRE_FALSE(out.empty());
    kolokol::pb::SyncFrame last;
    REQUIRE(last.ParseFromArray(out.back().data(), static_cast<int>(out.back().size())));
    REQUIRE(last.has_close());
    CHECK(last.close().reason() == kolokol::pb::Close::UNOPENED_MAILBOX);
    // Nothing more is processed.
    CHECK_FALSE(server.handle(hello_frame()).has_value());
}

TEST_CASE("hostile frames close the session with an error") {
    MemoryReplica remote;
    auto fresh = [&] {
        auto s = std::make_unique<SyncEngine>(server_config(), remote);
        REQUIRE(s->start().has_value());
        return s;
    };
    SUBCASE("garbage") {
        auto s = fresh();
        expect_closed(*s, Bytes{0xff, 0xff, 0xff}, SyncErrc::protocol_violation);
    }
    SUBCASE("oversized") {
        auto s = fresh();
        expect_closed(*s, Bytes(kSyncFrameMaxBytes + 1, 0), SyncErrc::protocol_violation);
    }
    SUBCASE("empty frame: no kind") {
        auto s = fresh();
        REQUIRE(s->handle(hello_frame()).has_value());
        expect_closed(*s, Bytes{}, SyncErrc::protocol_violation);
    }
    SUBCASE("anything before hello") {
        auto s = fresh();
        kolokol::pb::SyncFrame f;
        f.mutable_ping();
        expect_closed(*s, frame_bytes(f), SyncErrc::protocol_violation);
    }
    SUBCASE("second hello") {
        auto s = fresh();
        REQUIRE(s->handle(hello_frame()).has_value());
        expect_closed(*s, hello_frame(), SyncErrc::protocol_violation);
    }
    SUBCASE("another version") {
        auto s = fresh();
        expect_closed(*s, hello_frame(kSyncVersion + 1), SyncErrc::version_mismatch);
    }
    SUBCASE("window out of bounds") {
        auto s = fresh();
        expect_closed(*s, hello_frame(kSyncVersion, 1024), SyncErrc::protocol_violation);
    }
    SUBCASE("frames only a server sends") {
        auto s = fresh();
        REQUIRE(s->handle(hello_frame()).has_value());
        kolokol::pb::SyncFrame f;
        f.mutable_missing()->set_mailbox(std::string(32, 'x'));
        expect_closed(*s, frame_bytes(f), SyncErrc::protocol_violation);
    }
    SUBCASE("reconciliation for a mailbox never opened") {
        auto s = fresh();
        REQUIRE(s->handle(hello_frame()).has_value());
        kolokol::pb::SyncFrame f;
        f.mutable_reconcile()->set_mailbox(std::string(32, 'x'));
        f.mutable_reconcile()->set_message(std::string(1, '\x01'));
        expect_closed(*s, frame_bytes(f), SyncErrc::unopened_mailbox);
    }
    SUBCASE("an ack for envelopes never sent") {
        auto s = fresh();
        REQUIRE(s->handle(hello_frame()).has_value());
        kolokol::pb::SyncFrame f;
        f.mutable_ack()->set_through(5);
        expect_closed(*s, frame_bytes(f), SyncErrc::protocol_violation);
    }
    SUBCASE("too many ids in one want") {
        auto s = fresh();
        REQUIRE(s->handle(hello_frame()).has_value());
        kolokol::pb::SyncFrame f;
        f.mutable_want()->set_mailbox(std::string(32, 'x'));
        for (std::size_t i = 0; i <= kSyncMaxIdsPerFrame; ++i)
            f.mutable_want()->add_ids(std::string(32, 'y'));
        expect_closed(*s, frame_bytes(f), SyncErrc::protocol_violation);
    }
    SUBCASE("open fields of the wrong size") {
        auto s = fresh();
        REQUIRE(s->handle(hello_frame()).has_value());
        kolokol::pb::SyncFrame f;
        f.mutable_open()->set_mailbox(std::string(31, 'x'));
        expect_closed(*s, frame_bytes(f), SyncErrc::protocol_violation);
    }
    SUBCASE("an open flood") {
        auto cfg = server_config();
        cfg.limits.max_mailboxes = 3;
        SyncEngine s(cfg, remote);
        REQUIRE(s.start().has_value());
        REQUIRE(s.handle(hello_frame()).has_value());
        auto k = key_for(30);
        kolokol::pb::SyncFrame f;
        f.mutable_open()->set_mailbox(to_string(k.id));
        f.mutable_open()->set_public_key(to_string(k.public_key));
        f.mutable_open()->set_signature(std::string(64, 'z'));
        // Refused opens (bad signature) are allowed up to a cap, then the session ends.
        int accepted = 0;
        while (s.handle(frame_bytes(f)).has_value()) REQUIRE(++accepted < 100);
        CHECK(accepted >= 6);
        CHECK(s.closed());
    }
}

TEST_CASE("envelopes that do not belong are a violation") {
    crypto::DeterministicRandom rng(6);
    auto key = key_for(40), other = key_for(41);
    MemoryReplica remote;
    auto open_server = [&] {
        auto s = std::make_unique<SyncEngine>(server_config(), remote);
        REQUIRE(s->start().has_value());
        REQUIRE(s->handle(hello_frame()).has_value());
        kolokol::pb::SyncFrame f;
        f.mutable_open()->set_mailbox(to_string(key.id));
        f.mutable_open()->set_public_key(to_string(key.public_key));
        f.mutable_open()->set_signature(to_string(sign_mailbox_open(key, fixed_hash(0xaa))));
        REQUIRE(s->handle(frame_bytes(f)).has_value());
        return s;
    };
    auto push = [&](SyncEngine& s, const Bytes& env) {
        kolokol::pb::SyncFrame f;
        f.mutable_envelopes()->set_mailbox(to_string(key.id));
        f.mutable_envelopes()->add_envelopes(to_string(env));
        f.mutable_envelopes()->set_flush(true);
        return s.handle(frame_bytes(f));
    };
    SUBCASE("another mailbox's envelope") {
        auto s = open_server();
        CHECK_FALSE(push(*s, make_envelope(other.id, rng)).has_value());
    }
    SUBCASE("too short") {
        auto s = open_server();
        auto e = make_envelope(key.id, rng, 0);
        e.resize(storage::kEnvelopeMinBytes - 1);
        CHECK_FALSE(push(*s, e).has_value());
    }
    SUBCASE("unknown version") {
        auto s = open_server();
        auto e = make_envelope(key.id, rng);
        e[0] = 9;
        CHECK_FALSE(push(*s, e).has_value());
    }
    SUBCASE("a good one is stored and acknowledged") {
        auto s = open_server();
        s->take_output();
        REQUIRE(push(*s, make_envelope(key.id, rng)).has_value());
        CHECK(remote.held(key.id).size() == 1);
        auto out = s->take_output();
        REQUIRE(out.size() == 1);
        kolokol::pb::SyncFrame ack;
        REQUIRE(ack.ParseFromArray(out[0].data(), static_cast<int>(out[0].size())));
        REQUIRE(ack.has_ack());
        CHECK(ack.ack().through() == 1);
        CHECK(ack.ack().rejected_size() == 0);
    }
    SUBCASE("overrunning the window") {
        auto cfg = server_config();
        cfg.limits.window_bytes = kSyncMinWindowBytes;
        SyncEngine srv(cfg, remote);
        REQUIRE(srv.start().has_value());
        REQUIRE(srv.handle(hello_frame()).has_value());
        kolokol::pb::SyncFrame op;
        op.mutable_open()->set_mailbox(to_string(key.id));
        op.mutable_open()->set_public_key(to_string(key.public_key));
        op.mutable_open()->set_signature(to_string(sign_mailbox_open(key, fixed_hash(0xaa))));
        REQUIRE(srv.handle(frame_bytes(op)).has_value());
        auto* s = &srv;
        // A 128 KiB window: three envelopes of 60 kB cannot be outstanding (no flush marks).
        for (int round = 0; round < 20; ++round) {
            kolokol::pb::SyncFrame one;
            one.mutable_envelopes()->set_mailbox(to_string(key.id));
            one.mutable_envelopes()->add_envelopes(to_string(make_envelope(key.id, rng, 60'000)));
            auto st = s->handle(frame_bytes(one));
            if (!st) {
                CHECK(st.error().code == SyncErrc::limit_exceeded);
                return;
            }
        }
        FAIL("the window was never enforced");
    }
}

TEST_CASE("a large transfer stays inside the window and batches its stores") {
    crypto::DeterministicRandom rng(7);
    auto key = key_for(50);
    MemoryReplica local, remote;
    for (int i = 0; i < 2'000; ++i) local.add(make_envelope(key.id, rng, 1'000));
    auto scfg = server_config();
    scfg.limits.window_bytes = kSyncMinWindowBytes;  // 128 KiB: ~125 envelopes per burst
    SyncEngine client(client_config(), local);
    SyncEngine server(scfg, remote);
    REQUIRE(server.start().has_value());
    REQUIRE(client.start(keys_of({&key})).has_value());
    const auto puts_before = remote.puts();
    auto ex = run_pair(client, server);
    CHECK(ex.server_status.has_value());  // the server would have failed on an overrun
    CHECK(client.report().sent == 2'000);
    CHECK(remote.held(key.id).size() == 2'000);
    // Stored in batches, not one transaction per envelope.
    CHECK(remote.puts() - puts_before < 100);
    CHECK(remote.puts() - puts_before >= 2'000 * 1'057 / kSyncMinWindowBytes);
}

TEST_CASE("what the peer declines is counted, and resent on the next sync") {
    crypto::DeterministicRandom rng(8);
    auto key = key_for(60);
    MemoryReplica local, remote;
    for (int i = 0; i < 50; ++i) local.add(make_envelope(key.id, rng));
    int accepted = 0;
    remote.set_accept([&](const Bytes&) { return accepted++ < 30; });  // a quota of 30
    {
        SyncEngine client(client_config(), local);
        SyncEngine server(server_config(), remote);
        REQUIRE(server.start().has_value());
        REQUIRE(client.start(keys_of({&key})).has_value());
        run_pair(client, server);
        CHECK(client.finished());
        CHECK(client.report().sent == 30);
        CHECK(client.report().peer_rejected == 20);
        CHECK(server.report().rejected == 20);
    }
    remote.set_accept({});
    SyncEngine client(client_config(), local);
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    REQUIRE(client.start(keys_of({&key})).has_value());
    run_pair(client, server);
    CHECK(client.report().sent == 20);
    CHECK(remote.held(key.id).size() == 50);
}

TEST_CASE("a session cut before the acks: nothing unacknowledged is counted, all is resent") {
    crypto::DeterministicRandom rng(9);
    auto key = key_for(70);
    MemoryReplica local, remote;
    for (int i = 0; i < 40; ++i) local.add(make_envelope(key.id, rng));
    {
        SyncEngine client(client_config(), local);
        SyncEngine server(server_config(), remote);
        REQUIRE(server.start().has_value());
        REQUIRE(client.start(keys_of({&key})).has_value());
        // The line goes dead for envelopes: none reach the server.
        run_pair(client, server, [](bool up, const Bytes& f) {
            kolokol::pb::SyncFrame frame;
            frame.ParseFromArray(f.data(), static_cast<int>(f.size()));
            return !(up && frame.has_envelopes());
        });
        CHECK_FALSE(client.finished());
        CHECK(client.report().sent == 0);
    }
    SyncEngine client(client_config(), local);
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    REQUIRE(client.start(keys_of({&key})).has_value());
    run_pair(client, server);
    CHECK(client.finished());
    CHECK(client.report().sent == 40);
    CHECK(remote.held(key.id) == local.held(key.id));
}

TEST_CASE("a failing store ends the session with an error, not a crash") {
    crypto::DeterministicRandom rng(10);
    auto key = key_for(80);
    MemoryReplica local, remote;
    for (int i = 0; i < 5; ++i) local.add(make_envelope(key.id, rng));
    remote.set_failing(true);
    SyncEngine client(client_config(), local);
    SyncEngine server(server_config(), remote);
    REQUIRE(server.start().has_value());
    REQUIRE(client.start(keys_of({&key})).has_value());
    auto ex = run_pair(client, server);
    REQUIRE_FALSE(ex.server_status.has_value());
    CHECK(ex.server_status.error().code == SyncErrc::replica_failed);
    REQUIRE_FALSE(ex.client_status.has_value());
    CHECK(ex.client_status.error().code == SyncErrc::peer_closed);
    CHECK_FALSE(client.finished());
}

TEST_CASE("a mailbox key that does not match its id is refused locally") {
    MemoryReplica local;
    SyncEngine client(client_config(), local);
    auto k = key_for(90);
    k.id[0] ^= 1;
    std::vector<MailboxKey> keys;
    keys.push_back(std::move(k));
    auto st = client.start(std::move(keys));
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code == SyncErrc::invalid_key);
}

TEST_CASE("live mode pushes what is written after the reconciliation, without echoes") {
    crypto::DeterministicRandom rng(11);
    auto key = key_for(100);
    MemoryReplica a_store, relay_store, b_store;
    // Notifications are delivered after each step, as the session drivers post them.
    struct Pending {
        SyncEngine* engine;
        MailboxId mailbox;
        std::vector<RecordId> ids;
    };
    std::vector<Pending> pending;
    SyncEngine* a_ptr = nullptr;
    SyncEngine* ra_ptr = nullptr;
    SyncEngine* rb_ptr = nullptr;
    SyncEngine* b_ptr = nullptr;
    auto sink_for = [&](SyncEngine** target) {
        return [&pending, target](const MailboxId& m, std::vector<RecordId> ids) {
            pending.push_back({*target, m, std::move(ids)});
        };
    };
    auto ccfg_a = client_config(fixed_hash(0xaa), true);
    ccfg_a.live_sink = sink_for(&a_ptr);
    auto ccfg_b = client_config(fixed_hash(0xbb), true);
    ccfg_b.live_sink = sink_for(&b_ptr);
    auto scfg_a = server_config(fixed_hash(0xaa));
    scfg_a.live_sink = sink_for(&ra_ptr);
    auto scfg_b = server_config(fixed_hash(0xbb));
    scfg_b.live_sink = sink_for(&rb_ptr);

    SyncEngine a(ccfg_a, a_store), ra(scfg_a, relay_store);
    SyncEngine b(ccfg_b, b_store), rb(scfg_b, relay_store);
    a_ptr = &a;
    ra_ptr = &ra;
    b_ptr = &b;
    rb_ptr = &rb;
    REQUIRE(ra.start().has_value());
    REQUIRE(rb.start().has_value());
    REQUIRE(a.start(keys_of({&key})).has_value());
    REQUIRE(b.start(keys_of({&key})).has_value());

    auto settle = [&] {
        for (int i = 0; i < 50; ++i) {
            run_pair(a, ra);
            run_pair(b, rb);
            auto batch = std::exchange(pending, {});
            if (batch.empty()) return;
            for (auto& p : batch) REQUIRE(p.engine->local_written(p.mailbox, p.ids).has_value());
        }
        FAIL("live notifications never settled");
    };
    settle();
    CHECK_FALSE(a.finished());  // live sessions stay open
    CHECK(relay_store.watchers() == 2);

    // A member writes while both are connected; it reaches the other through the relay.
    auto e = make_envelope(key.id, rng);
    a_store.add(e);
    settle();
    CHECK(b_store.held(key.id).contains(storage::record_id_of(e)));
    CHECK(b.report().received == 1);
    // Nobody received their own envelope back.
    CHECK(a.report().received == 0);
    CHECK(ra.report().sent == 0);

    a.close(SyncEngine::CloseReason::normal);
    run_pair(a, ra);
    CHECK(ra.peer_closed_normally());
}
