// Devices in a group (docs/design.md §4.4, §4.6): the group state knows each member's devices
// from DeviceOp control records, judged at their position, whatever order they arrive in.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "control_dag.hpp"
#include "kolokol/core/devices.hpp"
#include "kolokol/crypto/random.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using kolokol::test::dag::Dag;

namespace {

struct Dev {
    crypto::SignKeyPair sign = crypto::sign_keypair();
    crypto::BoxKeyPair box = crypto::box_keypair();
    MemberKey key() const { return sign.public_key; }
    crypto::SignKeyPair sign_copy() const { return {sign.public_key, sign.secret_key.clone()}; }
    crypto::BoxKeyPair box_copy() const { return {box.public_key, box.secret_key.clone()}; }
};

// A device of `identity`, accepted by the device and issued by the identity (§4.5 without its
// carriers).
std::string cert_of(const crypto::SignKeyPair& identity, const Dev& d,
                    std::string label = "phone") {
    DeviceCertFields f;
    f.identity_key = identity.public_key;
    f.device_sign_key = d.sign.public_key;
    f.device_box_key = d.box.public_key;
    f.device_id[0] = 1;
    f.label = std::move(label);
    f.created_ms = 1'700'000'000'000;
    auto body = device_cert_body(f);
    REQUIRE(body.has_value());
    auto accepted = accept_device_cert(d.sign, *body);
    REQUIRE(accepted.has_value());
    auto cert = issue_device_cert(identity, *body, *accepted);
    REQUIRE(cert.has_value());
    return to_string(cert->signed_bytes);
}

pb::RecordBody add_device(const std::string& cert, bool retire_legacy = false) {
    pb::RecordBody b;
    b.mutable_device_op()->set_kind(pb::DeviceOp::ADD_DEVICE);
    b.mutable_device_op()->set_cert(cert);
    b.mutable_device_op()->set_retire_legacy(retire_legacy);
    return b;
}

pb::RecordBody revoke_device(const MemberKey& device, const std::string& statement = {}) {
    pb::RecordBody b;
    b.mutable_device_op()->set_kind(pb::DeviceOp::REVOKE_DEVICE);
    b.mutable_device_op()->set_device(to_string(device));
    b.mutable_device_op()->set_revocation(statement);
    return b;
}

pb::RecordBody key_update(std::uint8_t fill) {
    pb::RecordBody b;
    b.mutable_key_update()->set_box_key(std::string(32, static_cast<char>(fill)));
    return b;
}

pb::RecordBody add_member(const MemberKey& who, bool admin = false) {
    return kolokol::test::dag::add(who, admin);
}

// A rotation granting exactly `tags` (sealed boxes are not opened by the fold).
pb::RecordBody rotation(const std::vector<MemberKey>& to) {
    pb::RecordBody b;
    for (const auto& k : to) {
        auto* g = b.mutable_rotation()->add_grants();
        g->set_member_tag(std::string(reinterpret_cast<const char*>(k.data()), 8));
        g->set_sealed_secret(std::string(80, 's'));
    }
    return b;
}

// Admin A created the group; P (three devices) and Q are members.
struct World {
    crypto::SignKeyPair a = crypto::sign_keypair();
    crypto::SignKeyPair p = crypto::sign_keypair();
    crypto::SignKeyPair q = crypto::sign_keypair();
    Dev d1, d2, d3, qd;
    Dag dag;
    World() {
        dag.genesis.creator = a.public_key;
        dag.write(a.public_key, add_member(p.public_key));
        dag.write(a.public_key, add_member(q.public_key));
    }
    MemberKey A() const { return a.public_key; }
    MemberKey P() const { return p.public_key; }
    MemberKey Q() const { return q.public_key; }
};

}  // namespace

TEST_CASE("devices: a device adds itself or is added by a sibling, and speaks for its identity") {
    World w;
    auto self = w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d1)));
    auto sibling = w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d2)));
    auto legacy = w.dag.write(w.P(), add_device(cert_of(w.p, w.d3)));
    auto ku = w.dag.write(w.d2.key(), key_update(7));
    auto g = w.dag.state();
    CHECK(g.status(self) == OpStatus::valid);
    CHECK(g.status(sibling) == OpStatus::valid);
    CHECK(g.status(legacy) == OpStatus::valid);
    CHECK(g.status(ku) == OpStatus::valid);
    for (const auto* d : {&w.d1, &w.d2, &w.d3}) {
        REQUIRE(g.identity_of(d->key()).has_value());
        CHECK(*g.identity_of(d->key()) == w.P());
        CHECK(g.speaks_for(d->key()) == w.P());
    }
    // The device's key update replaced its own box key, not the member's.
    CHECK(g.devices().devices.at(w.d2.key()).box[0] == 7);
    CHECK(g.members().at(w.P()).box[0] == 'b');
    // The legacy device (the identity key) is still current: 1 + 3 devices of P, A and Q.
    CHECK(g.devices().current(g.members()).size() == 6);
    // A second add of the same device changes nothing and is valid.
    auto again = w.dag.write(w.d2.key(), add_device(cert_of(w.p, w.d1)));
    CHECK(w.dag.state().status(again) == OpStatus::valid);
    CHECK(w.dag.state().devices().devices.size() == 3);
}

TEST_CASE("devices: a key never added, or added under another identity, writes nothing") {
    World w;
    Dev stranger;
    auto ku = w.dag.write(stranger.key(), key_update(3));
    CHECK(w.dag.state().status(ku) == OpStatus::invalid);
    CHECK_FALSE(w.dag.state().identity_of(stranger.key()).has_value());

    // An outsider's device (its identity is no member) cannot add itself.
    crypto::SignKeyPair outsider = crypto::sign_keypair();
    Dev od;
    auto out_add = w.dag.write(od.key(), add_device(cert_of(outsider, od)));
    auto out_ku = w.dag.write(od.key(), key_update(4));
    auto g = w.dag.state();
    CHECK(g.status(out_add) == OpStatus::invalid);
    CHECK(g.status(out_ku) == OpStatus::invalid);

    // d1 is P's; a second cert of it under Q (d1 consented to both) is invalid, whoever adds it,
    // and d1's records speak for P.
    w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d1)));
    auto under_q = w.dag.write(w.Q(), add_device(cert_of(w.q, w.d1)));
    g = w.dag.state();
    CHECK(g.status(under_q) == OpStatus::invalid);
    CHECK(g.identity_of(w.d1.key()) == w.P());
}

TEST_CASE("devices: an ADD_DEVICE of another identity's cert is invalid") {
    World w;
    w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d1)));
    // Q's legacy key, and P's own device, try to add a device certified by the other identity.
    auto by_q = w.dag.write(w.Q(), add_device(cert_of(w.p, w.d2)));
    auto by_d1 = w.dag.write(w.d1.key(), add_device(cert_of(w.q, w.qd)));
    auto g = w.dag.state();
    CHECK(g.status(by_q) == OpStatus::invalid);
    CHECK(g.status(by_d1) == OpStatus::invalid);
    CHECK_FALSE(g.identity_of(w.d2.key()).has_value());
    CHECK_FALSE(g.identity_of(w.qd.key()).has_value());
    // A cert whose signature does not verify is invalid too.
    auto bad = cert_of(w.p, w.d3);
    bad[bad.size() - 1] ^= 1;
    auto flipped = w.dag.write(w.d3.key(), add_device(bad));
    CHECK(w.dag.state().status(flipped) == OpStatus::invalid);
}

TEST_CASE("devices: a sibling revokes a device for good; its concurrent records are dropped") {
    World w;
    w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d1)));
    w.dag.write(w.d2.key(), add_device(cert_of(w.p, w.d2)));
    auto base = w.dag.state().heads();
    auto revoke = w.dag.write(w.d1.key(), revoke_device(w.d2.key()));
    // d2, not having seen the revocation, writes a key update and re-adds itself.
    auto concurrent = w.dag.write(w.d2.key(), key_update(9), base);
    auto readd = w.dag.write(w.d2.key(), add_device(cert_of(w.p, w.d2)), base);
    // After the revocation, d2 writes nothing and cannot come back.
    auto after = w.dag.write(w.d2.key(), key_update(10));
    auto back = w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d2)));
    auto g = w.dag.state();
    CHECK(g.status(revoke) == OpStatus::valid);
    CHECK(g.status(concurrent) == OpStatus::dropped);
    CHECK(g.status(readd) == OpStatus::dropped);
    CHECK(g.status(after) == OpStatus::invalid);
    CHECK(g.status(back) == OpStatus::invalid);
    CHECK_FALSE(g.identity_of(w.d2.key()).has_value());
    CHECK(g.device_revoked(w.d2.key()));
    CHECK(g.identity_of(w.d1.key()) == w.P());
    // A content record of d2 not written after the revocation is dropped too (no cutoff here).
    CHECK(g.dropped(w.d2.key(), RecordId{}, 5, base));
}

TEST_CASE("devices: who may revoke — a sibling, the identity's statement, an admin (quorum 1)") {
    World w;
    w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d1)));
    w.dag.write(w.d2.key(), add_device(cert_of(w.p, w.d2)));
    w.dag.write(w.qd.key(), add_device(cert_of(w.q, w.qd)));
    // Q (a member, not an admin, not P) cannot revoke P's device; a device cannot revoke itself
    // into a sibling revocation; the identity key itself is never revoked this way.
    auto by_q = w.dag.write(w.qd.key(), revoke_device(w.d1.key()));
    auto of_identity = w.dag.write(w.d1.key(), revoke_device(w.P()));
    auto g = w.dag.state();
    CHECK(g.status(by_q) == OpStatus::invalid);
    CHECK(g.status(of_identity) == OpStatus::invalid);
    CHECK(g.identity_of(w.d1.key()) == w.P());

    // The identity's statement, carried by Q, bars even a key the group has not seen yet.
    auto stmt = issue_device_revocation(w.p, w.d3.key(), 1, false, 0);
    REQUIRE(stmt.has_value());
    auto carried =
        w.dag.write(w.qd.key(), revoke_device(w.d3.key(), to_string(stmt->signed_bytes)));
    auto late_add = w.dag.write(w.d3.key(), add_device(cert_of(w.p, w.d3)));
    // A statement of another identity does not revoke P's device.
    auto wrong = issue_device_revocation(w.q, w.d1.key(), 1, false, 0);
    REQUIRE(wrong.has_value());
    auto forged =
        w.dag.write(w.qd.key(), revoke_device(w.d1.key(), to_string(wrong->signed_bytes)));
    g = w.dag.state();
    CHECK(g.status(carried) == OpStatus::valid);
    CHECK(g.status(late_add) == OpStatus::invalid);
    CHECK(g.status(forged) == OpStatus::invalid);

    // The admin revokes d2 in a group with a quorum of one.
    auto by_admin = w.dag.write(w.A(), revoke_device(w.d2.key()));
    g = w.dag.state();
    CHECK(g.status(by_admin) == OpStatus::valid);
    CHECK_FALSE(g.identity_of(w.d2.key()).has_value());
}

TEST_CASE("devices: mutual sibling revocations revoke both") {
    World w;
    w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d1)));
    w.dag.write(w.d2.key(), add_device(cert_of(w.p, w.d2)));
    auto base = w.dag.state().heads();
    auto r1 = w.dag.write(w.d1.key(), revoke_device(w.d2.key()), base);
    auto r2 = w.dag.write(w.d2.key(), revoke_device(w.d1.key()), base);
    auto g = w.dag.state();
    CHECK(g.status(r1) == OpStatus::valid);
    CHECK(g.status(r2) == OpStatus::valid);
    CHECK_FALSE(g.identity_of(w.d1.key()).has_value());
    CHECK_FALSE(g.identity_of(w.d2.key()).has_value());
}

TEST_CASE("devices: retiring the legacy chain ends the identity key's writing") {
    World w;
    auto base = w.dag.state().heads();
    auto add = w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d1), true));
    auto concurrent = w.dag.write(w.P(), key_update(5), base);
    auto after = w.dag.write(w.P(), key_update(6));
    auto g = w.dag.state();
    CHECK(g.status(add) == OpStatus::valid);
    CHECK(g.status(concurrent) == OpStatus::dropped);
    CHECK(g.status(after) == OpStatus::invalid);
    CHECK_FALSE(g.identity_of(w.P()).has_value());
    CHECK(g.identity_of(w.d1.key()) == w.P());
    CHECK(g.is_member(w.P()));
}

TEST_CASE("devices: a rotation grants every current device; a device without the key is owed one") {
    World w;
    // Records written in epoch `e` from now on (the dag writes in the genesis epoch).
    auto in_epoch = [&](RecordId id, const RecordId& e) {
        for (auto& op : w.dag.ops)
            if (op.id == id) op.epoch = e;
        return id;
    };
    auto r1 = w.dag.write(w.A(), rotation({w.A(), w.P(), w.Q()}));
    auto added = in_epoch(w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d1))), r1);
    auto g = w.dag.state();
    CHECK(g.status(added) == OpStatus::valid);
    CHECK(g.rotation_needed(w.A()) == "a member's device lacks the current key");
    auto members_only = in_epoch(w.dag.write(w.A(), rotation({w.A(), w.P(), w.Q()})), r1);
    auto every_device =
        in_epoch(w.dag.write(w.A(), rotation({w.A(), w.P(), w.Q(), w.d1.key()}), {added}), r1);
    g = w.dag.state();
    CHECK(g.status(members_only) == OpStatus::invalid);
    CHECK(g.status(every_device) == OpStatus::valid);
    REQUIRE(g.writer_epoch(w.d1.key()).has_value());
    CHECK(*g.writer_epoch(w.d1.key()) == every_device);
    CHECK(g.rotation_needed(w.A()).empty());
    // Revoking d1 taints the epoch it holds: the admin owes a rotation without it.
    in_epoch(w.dag.write(w.A(), revoke_device(w.d1.key())), every_device);
    g = w.dag.state();
    CHECK(g.tainted(every_device));
    CHECK_FALSE(g.writer_epoch(w.d1.key()).has_value());
    CHECK(g.rotation_needed(w.A()) == "a removed member still holds the current key");
}

TEST_CASE("devices: the devices and membership do not depend on the order records arrive in") {
    World w;
    Dev d4;
    auto stmt = issue_device_revocation(w.p, w.d3.key(), 1, false, 0);
    REQUIRE(stmt.has_value());
    w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d1)));
    auto base = w.dag.state().heads();
    w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d2)), base);
    w.dag.write(w.d1.key(), add_device(cert_of(w.p, w.d3)), base);
    w.dag.write(w.qd.key(), add_device(cert_of(w.q, w.qd)), base);
    w.dag.write(w.d2.key(), revoke_device(w.d3.key()));
    w.dag.write(w.Q(), revoke_device(w.d3.key(), to_string(stmt->signed_bytes)), base);
    w.dag.write(w.d3.key(), add_device(cert_of(w.p, d4)), base);
    w.dag.write(w.d2.key(), key_update(1));
    w.dag.write(w.A(), kolokol::test::dag::remove(w.Q()), base);
    const auto expected = w.dag.state();
    std::mt19937 rng(21);
    for (int round = 0; round < 200; ++round) {
        auto ops = w.dag.ops;
        std::shuffle(ops.begin(), ops.end(), rng);
        auto g = GroupState::compute(w.dag.genesis, ops, nullptr);
        for (const auto& op : ops) CHECK(g.status(op.id) == expected.status(op.id));
        CHECK(g.devices().devices.size() == expected.devices().devices.size());
        CHECK(g.devices().revoked == expected.devices().revoked);
        CHECK(g.members().size() == expected.members().size());
    }
    // d3 is revoked (by its sibling; the statement Q carried went with Q's removal), and what it
    // wrote where it was no device yet is invalid; Q's device is gone with Q.
    CHECK(expected.device_revoked(w.d3.key()));
    CHECK_FALSE(expected.identity_of(d4.key()).has_value());
    CHECK_FALSE(expected.identity_of(w.qd.key()).has_value());
    CHECK(expected.identity_of(w.d2.key()) == w.P());
}

// ---- On nodes: one person (Pavel) with three devices, each a copy of his store signing with
// its own device key, in a group with Anna (admin) and Boris.

namespace {

struct People {
    kolokol::test::TempDir dir;
    std::unique_ptr<Node> a, b;
    std::vector<std::unique_ptr<Node>> p;  // Pavel's three devices
    std::vector<Dev> keys{3};
    GroupId g{};

    People() {
        using kolokol::test::make_node;
        a = make_node(dir.path() / "a", "Anna");
        b = make_node(dir.path() / "b", "Boris");
        auto pavel = make_node(dir.path() / "p0", "Pavel");
        g = *a->create_group("G");
        REQUIRE(b->join(*a->add_member(g, card_to_text(b->card()), false, false)).has_value());
        REQUIRE(
            pavel->join(*a->add_member(g, card_to_text(pavel->card()), false, false)).has_value());
        kolokol::test::deliver(*a, *b);
        kolokol::test::deliver(*a, *pavel);
        pavel.reset();
        for (int i = 1; i < 3; ++i)
            std::filesystem::copy(dir.path() / "p0", dir.path() / ("p" + std::to_string(i)),
                                  std::filesystem::copy_options::recursive);
        for (int i = 0; i < 3; ++i) {
            p.push_back(kolokol::test::reopen(dir.path() / ("p" + std::to_string(i))));
            const auto& identity = NodeTestAccess::impl(*p.back()).identity.sign;
            const auto cert = cert_of(identity, keys[i], "device " + std::to_string(i));
            p.back()->use_device_keys(keys[i].sign_copy(), keys[i].box_copy());
            // Each device adds itself.
            REQUIRE(p.back()->add_device_record(g, as_bytes(cert)).has_value());
        }
        everyone_to_everyone();
        // Anna's maintain owes a rotation: Pavel's devices lack the current key.
        auto done = a->maintain();
        REQUIRE(done.has_value());
        REQUIRE(done->size() == 1);
        CHECK((*done)[0].find("a member's device lacks the current key") != std::string::npos);
        everyone_to_everyone();
    }
    std::vector<Node*> all() {
        std::vector<Node*> out{a.get(), b.get()};
        for (auto& n : p) out.push_back(n.get());
        return out;
    }
    void everyone_to_everyone() {
        for (int round = 0; round < 2; ++round)
            for (auto* from : all())
                for (auto* to : all())
                    if (from != to) kolokol::test::deliver(*from, *to);
    }
    MemberKey pavel() { return NodeTestAccess::impl(*p[0]).identity.sign.public_key; }
};

std::vector<std::string> sorted_texts(Node& n, const GroupId& g) {
    auto t = kolokol::test::texts(n, g);
    std::sort(t.begin(), t.end());
    return t;
}

struct DeviceView {
    std::vector<MemberKey> members;
    std::vector<MemberKey> devices;
    std::set<MemberKey> revoked;
    std::vector<RecordId> messages;
    bool operator==(const DeviceView&) const = default;
};

bool refused_as(Node& n, RejectReason reason) {
    for (const auto& r : n.rejections(1000))
        if (r.reason == reason) return true;
    return false;
}

}  // namespace

TEST_CASE("devices on nodes: three devices and two people write concurrently and converge") {
    People w;
    for (auto* n : w.all()) {
        const auto& g = NodeTestAccess::impl(*n).state(w.g);
        for (const auto& k : w.keys) CHECK(g.identity_of(k.key()) == w.pavel());
    }
    REQUIRE(w.a->post(w.g, "from Anna").has_value());
    REQUIRE(w.b->post(w.g, "from Boris").has_value());
    for (int i = 0; i < 3; ++i)
        REQUIRE(w.p[i]->post(w.g, "from Pavel's device " + std::to_string(i)).has_value());
    w.everyone_to_everyone();
    const std::vector<std::string> expected{"from Anna", "from Boris", "from Pavel's device 0",
                                            "from Pavel's device 1", "from Pavel's device 2"};
    for (auto* n : w.all()) {
        CHECK(sorted_texts(*n, w.g) == expected);
        CHECK(kolokol::test::texts(*n, w.g) == kolokol::test::texts(*w.a, w.g));
        auto msgs = n->messages(w.g, 100);
        REQUIRE(msgs.has_value());
        for (const auto& m : *msgs)
            if (m.text.starts_with("from Pavel")) CHECK(m.author_name == "Pavel");
    }
}

TEST_CASE("devices on nodes: a revoked device reads nothing after the rotation and is refused") {
    People w;
    // Device 2, not having seen its revocation yet, writes; device 0 revokes it.
    REQUIRE(w.p[2]->post(w.g, "concurrent").has_value());
    REQUIRE(w.p[0]->revoke_device_record(w.g, w.keys[2].key()).has_value());
    for (auto* to : {w.a.get(), w.b.get(), w.p[1].get()}) kolokol::test::deliver(*w.p[0], *to);
    auto done = w.a->maintain();
    REQUIRE(done.has_value());
    REQUIRE(done->size() == 1);
    REQUIRE(w.a->post(w.g, "after the revocation").has_value());
    // Device 2 writes again, still without the revocation: concurrent with it.
    REQUIRE(w.p[2]->post(w.g, "later").has_value());
    w.everyone_to_everyone();
    for (auto* n : w.all()) {
        auto t = kolokol::test::texts(*n, w.g);
        CHECK(std::find(t.begin(), t.end(), "concurrent") == t.end());
        CHECK(std::find(t.begin(), t.end(), "later") == t.end());
    }
    for (auto* n : {w.a.get(), w.b.get(), w.p[0].get(), w.p[1].get()}) {
        CHECK(refused_as(*n, RejectReason::revoked_device));
        auto t = kolokol::test::texts(*n, w.g);
        CHECK(std::find(t.begin(), t.end(), "after the revocation") != t.end());
    }
    // The revoked device holds the revocation now, cannot open what was written after the
    // rotation, and writes nothing more.
    auto t = kolokol::test::texts(*w.p[2], w.g);
    CHECK(std::find(t.begin(), t.end(), "after the revocation") == t.end());
    CHECK_FALSE(w.p[2]->post(w.g, "once more").has_value());
}

TEST_CASE("devices on nodes: a device key never added writes nothing at any member") {
    People w;
    // Pavel's store signs a post with a key no ADD_DEVICE names (its own chain, seq 1).
    Dev stray;
    auto& m = NodeTestAccess::impl(*w.p[0]);
    pb::RecordBody body;
    body.mutable_message()->set_text("stray");
    auto epoch = m.prepare(w.g, body, std::nullopt);
    REQUIRE(epoch.has_value());
    body.set_author(to_string(stray.key()));
    body.clear_prev();
    body.set_seq(1);
    auto own = std::exchange(m.device_sign, stray.sign_copy());
    const Bytes envelope[] = {m.seal(body, *epoch)};
    m.device_sign = std::move(own);
    for (auto* n : {w.a.get(), w.b.get(), w.p[1].get()}) {
        REQUIRE(n->ingest(envelope).has_value());
        auto t = kolokol::test::texts(*n, w.g);
        CHECK(std::find(t.begin(), t.end(), "stray") == t.end());
        CHECK(refused_as(*n, RejectReason::not_member));
    }
    // Nor does the store write with it through the API.
    w.p[0]->use_device_keys(stray.sign_copy(), stray.box_copy());
    CHECK_FALSE(w.p[0]->post(w.g, "stray again").has_value());
}

TEST_CASE("devices on nodes: device records delivered in any order give the same state") {
    People w;
    // Boris's store as it is now: every trial starts from a copy of it.
    auto snapshot = w.dir.path() / "b_snapshot";
    w.b.reset();
    std::filesystem::copy(w.dir.path() / "b", snapshot, std::filesystem::copy_options::recursive);

    // Concurrent phase: nobody syncs. Device 0 revokes device 2, which writes; device 1 adds a
    // fourth device (a sibling add) and writes; Anna writes.
    Dev fourth;
    const auto& identity = NodeTestAccess::impl(*w.p[1]).identity.sign;
    REQUIRE(w.p[0]->revoke_device_record(w.g, w.keys[2].key()).has_value());
    REQUIRE(w.p[2]->post(w.g, "device 2 during").has_value());
    REQUIRE(w.p[1]->add_device_record(w.g, as_bytes(cert_of(identity, fourth))).has_value());
    REQUIRE(w.p[1]->post(w.g, "device 1 during").has_value());
    REQUIRE(w.a->post(w.g, "Anna during").has_value());

    std::map<RecordId, Bytes> everything;
    for (auto* n : {w.a.get(), w.p[0].get(), w.p[1].get(), w.p[2].get()})
        for (auto& e : kolokol::test::all_envelopes(*n)) everything[storage::record_id_of(e)] = e;
    std::vector<Bytes> pool;
    for (auto& [id, e] : everything) pool.push_back(e);

    auto view_of = [&](Node& n) {
        DeviceView v;
        const auto& g = NodeTestAccess::impl(n).state(w.g);
        for (const auto& [k, m] : g.members()) v.members.push_back(k);
        for (const auto& [k, d] : g.devices().devices) v.devices.push_back(k);
        v.revoked = g.devices().revoked;
        auto msgs = n.messages(w.g, 100000);
        REQUIRE(msgs.has_value());
        for (const auto& m : *msgs) v.messages.push_back(m.id);
        return v;
    };
    crypto::DeterministicRandom rng(20261208);
    std::optional<DeviceView> first;
    for (int trial = 0; trial < 200; ++trial) {
        auto home = w.dir.path() / ("trial" + std::to_string(trial));
        std::filesystem::copy(snapshot, home, std::filesystem::copy_options::recursive);
        auto replica = kolokol::test::reopen(home);
        auto order = pool;
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.uniform(i)]);
        for (std::size_t i = 0, n = order.size() / 3; i < n; ++i)
            order.push_back(order[rng.uniform(order.size())]);
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.uniform(i)]);
        for (std::size_t at = 0; at < order.size();) {
            std::size_t n = std::min<std::size_t>(order.size() - at, 1 + rng.uniform(6));
            std::vector<Bytes> batch(order.begin() + static_cast<std::ptrdiff_t>(at),
                                     order.begin() + static_cast<std::ptrdiff_t>(at + n));
            REQUIRE(replica->ingest(batch).has_value());
            at += n;
        }
        auto v = view_of(*replica);
        if (!first) first = v;
        REQUIRE_MESSAGE(v == *first, "trial " << trial << " diverged");
        replica.reset();
        std::filesystem::remove_all(home);
    }
    // The result is the one the rules say: device 2 revoked, its concurrent post gone; the
    // fourth device added; the others' posts shown.
    REQUIRE(first.has_value());
    CHECK(first->revoked == std::set<MemberKey>{w.keys[2].key()});
    CHECK(std::find(first->devices.begin(), first->devices.end(), fourth.key()) !=
          first->devices.end());
    auto replica = kolokol::test::reopen(snapshot);
    REQUIRE(replica->ingest(pool).has_value());
    const auto t = sorted_texts(*replica, w.g);
    CHECK(std::find(t.begin(), t.end(), "device 2 during") == t.end());
    CHECK(std::find(t.begin(), t.end(), "device 1 during") != t.end());
    CHECK(std::find(t.begin(), t.end(), "Anna during") != t.end());
}
