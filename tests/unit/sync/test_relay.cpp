// The relay over loopback: a real Relay and RelayStore in a temporary directory, clients with
// their own temporary stores, and hand-made sessions for the hostile cases.

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <filesystem>
#include <thread>

#include "kolokol/relay/relay.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/envelope_store.hpp"
#include "kolokol/storage/error.hpp"
#include "kolokol/transport/session_connect.hpp"
#include "relay_fixtures.hpp"
#include "sync.pb.h"
#include "sync_fixtures.hpp"
#include "sync_frames.hpp"

using namespace sync_test;
namespace fs = std::filesystem;

namespace {

// A member's side over its own temporary encrypted store.
class StoreReplica : public Replica {
public:
    explicit StoreReplica(const fs::path& dir) {
        auto key = crypto::SecretBytes::copy_of(Bytes(32, 0x42));
        auto db = storage::Database::open(dir / "member.db", key, true);
        REQUIRE(db.has_value());
        m_db = std::move(*db);
        REQUIRE(storage::EnvelopeStore::migrate(m_db).has_value());
        m_store.emplace(m_db);
    }
    Result<std::vector<RecordId>> ids(const MailboxId& m) override { return m_store->ids(m); }
    Result<std::optional<Bytes>> get(const RecordId& id) override { return m_store->get(id); }
    Result<std::vector<bool>> put(const MailboxId& m, std::span<const Bytes> envs) override {
        std::vector<storage::StoredEnvelope> batch;
        for (auto& e : envs) batch.push_back({storage::record_id_of(e), m, e, 0, 0});
        auto txn = m_db.begin();
        if (!txn) return std::unexpected(txn.error());
        auto r = m_store->put(batch);
        if (!r) return std::unexpected(r.error());
        if (auto s = txn->commit(); !s) return std::unexpected(s.error());
        return std::vector<bool>(envs.size(), true);
    }
    void add(const Bytes& e) {
        auto view = storage::parse_envelope(e);
        REQUIRE(view.has_value());
        REQUIRE(put(view->mailbox, std::span<const Bytes>(&e, 1)).has_value());
    }
    storage::EnvelopeStore& store() { return *m_store; }
    std::set<RecordId> held(const MailboxId& m) {
        auto ids = m_store->ids(m);
        REQUIRE(ids.has_value());
        return {ids->begin(), ids->end()};
    }

private:
    storage::Database m_db;
    std::optional<storage::EnvelopeStore> m_store;
};

// g++ 12 reports -Wmismatched-new-delete on these two coroutines' frames (asio's frame
// allocator inlined into the ramp); see transport/src/sync_session.cpp. A false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// Hello, then opens with proofs for another session, a damaged proof, and the genuine one.
asio::awaitable<void> open_refusals(Session& s, const MailboxKey& key) {
    auto sent_1 = co_await s.send(hello_frame());
    REQUIRE(sent_1.has_value());
    auto their_hello = co_await s.receive();
    REQUIRE(their_hello.has_value());
    CHECK(parse_frame(*their_hello).has_hello());

    auto result = [&]() -> asio::awaitable<kolokol::pb::OpenResult> {
        auto r = co_await s.receive();
        REQUIRE(r.has_value());
        auto f = parse_frame(*r);
        REQUIRE(f.has_open_result());
        co_return f.open_result();
    };
    // A proof recorded on another session (another handshake hash).
    Bytes other_hash(64, 0x5a);
    auto sent_2 = co_await s.send(open_frame(key, other_hash));
    REQUIRE(sent_2.has_value());
    auto r1 = co_await result();
    CHECK_FALSE(r1.accepted());
    CHECK(r1.refusal() == kolokol::pb::OpenResult::BAD_SIGNATURE);
    // A damaged proof for this session.
    const auto& h = s.handshake_hash();
    auto sent_3 = co_await s.send(open_frame(key, h, true));
    REQUIRE(sent_3.has_value());
    auto r2 = co_await result();
    CHECK(r2.refusal() == kolokol::pb::OpenResult::BAD_SIGNATURE);
    // The genuine proof on the same session is accepted.
    auto sent_4 = co_await s.send(open_frame(key, h));
    REQUIRE(sent_4.has_value());
    auto r3 = co_await result();
    CHECK(r3.accepted());
    co_await s.close();
}

// Opens one mailbox, pushes to another, and expects the relay's reason and the end.
asio::awaitable<void> push_unopened(Session& s, const MailboxKey& key, const MailboxKey& other,
                                    crypto::Random& rng) {
    auto sent_5 = co_await s.send(hello_frame());
    REQUIRE(sent_5.has_value());
    auto sent_6 = co_await s.send(open_frame(key, s.handshake_hash()));
    REQUIRE(sent_6.has_value());
    kolokol::pb::SyncFrame push;
    push.mutable_envelopes()->set_mailbox(to_string(other.id));
    push.mutable_envelopes()->add_envelopes(to_string(make_envelope(other.id, rng)));
    push.mutable_envelopes()->set_flush(true);
    auto sent_7 = co_await s.send(frame_bytes(push));
    REQUIRE(sent_7.has_value());
    // Hello, the open result, then the relay's reason, then the end of the session.
    bool saw_close = false;
    for (;;) {
        auto r = co_await s.receive();
        if (!r) {
            CHECK(r.error().code == TransportErrc::closed_cleanly);
            break;
        }
        auto f = parse_frame(*r);
        if (f.has_close()) {
            CHECK(f.close().reason() == kolokol::pb::Close::UNOPENED_MAILBOX);
            saw_close = true;
        }
    }
    CHECK(saw_close);
    co_await s.close();
}
#pragma GCC diagnostic pop

}  // namespace

TEST_CASE("relay: two clients never online together exchange envelopes") {
    TempDir relay_dir, a_dir, b_dir;
    auto store = open_store(relay_dir.path);
    CHECK(store->created());
    RunningRelay relay(*store);
    StoreReplica alice(a_dir.path), bob(b_dir.path);
    crypto::DeterministicRandom rng(1);
    auto key = key_for(1);
    for (int i = 0; i < 40; ++i) alice.add(make_envelope(key.id, rng));
    for (int i = 0; i < 25; ++i) bob.add(make_envelope(key.id, rng));

    auto a1 = sync_once(relay.address(), alice, key);
    REQUIRE_MESSAGE(a1.has_value(), a1.error().what());
    CHECK(a1->sent == 40);
    auto b1 = sync_once(relay.address(), bob, key);
    REQUIRE_MESSAGE(b1.has_value(), b1.error().what());
    CHECK(b1->sent == 25);
    CHECK(b1->received == 40);
    auto a2 = sync_once(relay.address(), alice, key);
    REQUIRE_MESSAGE(a2.has_value(), a2.error().what());
    CHECK(a2->received == 25);
    CHECK(alice.held(key.id) == bob.held(key.id));
    CHECK(alice.held(key.id).size() == 65);
    CHECK(settles([&] { return relay.relay().stats().syncs_ok == 3; }));
    CHECK(relay.relay().stats().syncs_ok == 3);
}

TEST_CASE("relay: an open with a bad signature or another session's hash is refused") {
    TempDir dir;
    auto store = open_store(dir.path);
    RunningRelay relay(*store);
    auto key = key_for(2);
    raw_client(relay.address(), [&](Session& s) { return open_refusals(s, key); });
}

TEST_CASE("relay: pushing to an unopened mailbox closes that session; others keep syncing") {
    TempDir dir, a_dir, b_dir;
    auto store = open_store(dir.path);
    RunningRelay relay(*store);
    auto key = key_for(3), other = key_for(4);
    crypto::DeterministicRandom rng(3);
    StoreReplica alice(a_dir.path);
    MemoryReplica bob;

    // Bob holds a live session open the whole time.
    SyncOptions live;
    live.live = true;
    SyncStop stop = live.stop;
    std::optional<Result<SyncReport>> bob_result;
    std::thread bob_thread([&] {
        bob_result = sync_with(relay.address(), crypto::box_keypair(), one_key(key), bob, live);
    });
    for (int i = 0; i < 500 && relay.relay().stats().transport.sessions_established == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));

    raw_client(relay.address(), [&](Session& s) { return push_unopened(s, key, other, rng); });
    auto u = store->usage(other.id);
    REQUIRE(u.has_value());
    CHECK(u->count == 0);

    // Alice's sync works as usual and reaches Bob live.
    auto e = make_envelope(key.id, rng);
    alice.add(e);
    auto a = sync_once(relay.address(), alice, key);
    REQUIRE_MESSAGE(a.has_value(), a.error().what());
    CHECK(a->sent == 1);
    for (int i = 0; i < 500 && bob.held(key.id).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(bob.held(key.id).contains(storage::record_id_of(e)));
    stop.request();
    bob_thread.join();
    REQUIRE(bob_result.has_value());
    REQUIRE_MESSAGE(bob_result->has_value(), bob_result->error().what());
    CHECK(settles([&] { return relay.relay().stats().syncs_failed >= 1; }));
}

TEST_CASE("relay: quotas by count and by bytes") {
    TempDir dir, a_dir;
    crypto::DeterministicRandom rng(5);
    SUBCASE("count") {
        RelayQuotas q;
        q.mailbox_max_count = 10;
        auto store = open_store(dir.path, q);
        RunningRelay relay(*store);
        StoreReplica alice(a_dir.path);
        auto key = key_for(5);
        for (int i = 0; i < 15; ++i) alice.add(make_envelope(key.id, rng));
        auto r = sync_once(relay.address(), alice, key);
        REQUIRE_MESSAGE(r.has_value(), r.error().what());
        CHECK(r->sent == 10);
        CHECK(r->peer_rejected == 5);
        CHECK(store->usage(key.id)->count == 10);
        // Another mailbox is not affected.
        auto key2 = key_for(6);
        alice.add(make_envelope(key2.id, rng));
        auto r2 = sync_once(relay.address(), alice, key2);
        REQUIRE(r2.has_value());
        CHECK(r2->sent == 1);
    }
    SUBCASE("bytes") {
        RelayQuotas q;
        q.mailbox_max_bytes = 5 * 1'057;  // five envelopes of 1,057 bytes
        auto store = open_store(dir.path, q);
        RunningRelay relay(*store);
        StoreReplica alice(a_dir.path);
        auto key = key_for(7);
        for (int i = 0; i < 8; ++i) alice.add(make_envelope(key.id, rng, 1'000));
        auto r = sync_once(relay.address(), alice, key);
        REQUIRE_MESSAGE(r.has_value(), r.error().what());
        CHECK(r->sent == 5);
        CHECK(r->peer_rejected == 3);
        CHECK(store->usage(key.id)->bytes == 5 * 1'057);
    }
}

TEST_CASE("relay: a restart keeps everything acknowledged, and the same key") {
    TempDir dir, a_dir, b_dir;
    auto key = key_for(8);
    crypto::DeterministicRandom rng(8);
    StoreReplica alice(a_dir.path), bob(b_dir.path);
    for (int i = 0; i < 100; ++i) alice.add(make_envelope(key.id, rng));
    std::string first_address;
    {
        auto store = open_store(dir.path);
        RunningRelay relay(*store);
        first_address = relay.address();
        auto r = sync_once(relay.address(), alice, key);
        REQUIRE_MESSAGE(r.has_value(), r.error().what());
        CHECK(r->sent == 100);
    }
    auto wrong = RelayStore::open(dir.path, to_bytes("not it"), RelayKdf::fast, {});
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().code == storage::StorageErrc::wrong_passphrase);

    auto store = open_store(dir.path);
    CHECK_FALSE(store->created());
    RunningRelay relay(*store);
    CHECK(relay.relay().address().key == Address::parse(first_address)->key);
    auto r = sync_once(relay.address(), bob, key);
    REQUIRE_MESSAGE(r.has_value(), r.error().what());
    CHECK(r->received == 100);
    CHECK(bob.held(key.id) == alice.held(key.id));
}

TEST_CASE("relay: envelopes expire after the TTL") {
    TempDir dir, a_dir;
    std::atomic<std::int64_t> now{1'000'000};
    RelayQuotas q;
    q.ttl = std::chrono::hours(1);
    auto store = open_store(dir.path, q, [&] { return now.load(); });
    auto key = key_for(9);
    crypto::DeterministicRandom rng(9);
    std::vector<Bytes> envs;
    for (int i = 0; i < 3; ++i) envs.push_back(make_envelope(key.id, rng));
    REQUIRE(store->put(key.id, envs).has_value());
    now += 30 * 60 * 1000;
    CHECK(*store->expire() == 0);
    envs.clear();
    envs.push_back(make_envelope(key.id, rng));
    REQUIRE(store->put(key.id, envs).has_value());
    now += 31 * 60 * 1000;  // the first three are 61 minutes old, the last 31
    CHECK(*store->expire() == 3);
    CHECK(store->ids(key.id)->size() == 1);
}

TEST_CASE("relay: a mailbox's ids page in arrival order, for FetchAll") {
    TempDir dir;
    auto store = open_store(dir.path);
    auto key = key_for(31), other = key_for(32);
    crypto::DeterministicRandom rng(31);
    std::vector<RecordId> arrival;
    for (int i = 0; i < 7; ++i) {
        std::vector<Bytes> one{make_envelope(key.id, rng)};
        arrival.push_back(storage::record_id_of(one[0]));
        REQUIRE(store->put(key.id, one).has_value());
        std::vector<Bytes> noise{make_envelope(other.id, rng)};
        REQUIRE(store->put(other.id, noise).has_value());
    }
    REQUIRE_FALSE(std::is_sorted(arrival.begin(), arrival.end()));
    std::vector<RecordId> paged;
    std::uint64_t from = 0;
    for (int page = 0;; ++page) {
        REQUIRE(page < 10);
        auto p = store->ids_in_stored_order(key.id, from, 3);
        REQUIRE(p.has_value());
        if (from == 0) CHECK(p->total == 7);
        CHECK(p->ids.size() <= 3);
        paged.insert(paged.end(), p->ids.begin(), p->ids.end());
        from = p->next;
        if (!p->more) break;
    }
    CHECK(paged == arrival);
    auto empty = store->ids_in_stored_order(key_for(33).id, 0, 3);
    REQUIRE(empty.has_value());
    CHECK(empty->ids.empty());
    CHECK_FALSE(empty->more);
    CHECK(empty->total == 0);
}

TEST_CASE("an envelope store sorts ids by the order it stored them") {
    TempDir dir;
    StoreReplica member(dir.path);
    auto key = key_for(34);
    crypto::DeterministicRandom rng(34);
    std::vector<RecordId> arrival;
    for (int i = 0; i < 5'000; ++i) {  // more than one page of the scan
        auto e = make_envelope(key.id, rng);
        arrival.push_back(storage::record_id_of(e));
        member.add(e);
    }
    member.add(make_envelope(key_for(35).id, rng));
    // Every third id, in id order, plus two ids the store does not hold.
    std::vector<RecordId> want, ids;
    for (std::size_t i = 0; i < arrival.size(); i += 3) want.push_back(arrival[i]);
    ids = want;
    std::sort(ids.begin(), ids.end());
    const RecordId unknown1{}, unknown2 = storage::record_id_of(make_envelope(key.id, rng));
    ids.push_back(unknown1);
    ids.insert(ids.begin(), unknown2);
    REQUIRE(sort_by_stored_order(member.store(), key.id, ids).has_value());
    REQUIRE(ids.size() == want.size() + 2);
    CHECK(std::vector<RecordId>(ids.begin(), ids.end() - 2) == want);
    CHECK(std::set<RecordId>(ids.end() - 2, ids.end()) == std::set<RecordId>{unknown1, unknown2});
}

TEST_CASE("relay: a closed mailbox is refused") {
    TempDir dir, a_dir;
    auto store = open_store(dir.path);
    auto key = key_for(10);
    REQUIRE(store->close_mailbox(key.id).has_value());
    RunningRelay relay(*store);
    StoreReplica alice(a_dir.path);
    crypto::DeterministicRandom rng(10);
    alice.add(make_envelope(key.id, rng));
    auto r = sync_once(relay.address(), alice, key);
    REQUIRE_MESSAGE(r.has_value(), r.error().what());
    REQUIRE(r->refused.size() == 1);
    CHECK(r->refused[0].reason == "this relay keeps that mailbox closed");
    CHECK(store->usage(key.id)->count == 0);
}

TEST_CASE("relay: sessions per address are capped") {
    TempDir dir;
    auto store = open_store(dir.path);
    RelayOptions opts;
    opts.per_address = 1;
    RunningRelay relay(*store, opts);
    auto key = key_for(11);
    MemoryReplica bob, alice;
    SyncOptions live;
    live.live = true;
    SyncStop stop = live.stop;
    std::thread bob_thread([&] {
        auto r = sync_with(relay.address(), crypto::box_keypair(), one_key(key), bob, live);
        CHECK(r.has_value());
    });
    for (int i = 0; i < 500 && relay.relay().stats().transport.sessions_established == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto second = sync_once(relay.address(), alice, key);
    CHECK_FALSE(second.has_value());
    CHECK(relay.relay().stats().transport.refused_per_address >= 1);
    stop.request();
    bob_thread.join();
}

TEST_CASE("relay: listen addresses") {
    CHECK(parse_listen_address("127.0.0.1:0").has_value());
    CHECK(parse_listen_address("[::1]:7000")->port() == 7000);
    CHECK(parse_listen_address("0.0.0.0:65535").has_value());
    CHECK_FALSE(parse_listen_address("127.0.0.1").has_value());
    CHECK_FALSE(parse_listen_address("127.0.0.1:65536").has_value());
    CHECK_FALSE(parse_listen_address("127.0.0.1:07").has_value());
    CHECK_FALSE(parse_listen_address("::1:7000").has_value());
    CHECK_FALSE(parse_listen_address("example.org:7000").has_value());
    CHECK_FALSE(parse_listen_address("127.0.0.1:-1").has_value());
}
