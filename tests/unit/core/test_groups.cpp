// Groups end to end inside one process: real Nodes with real stores, envelopes handed over as a
// carrier would. The security invariants of SECURITY.md that concern records live here.

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <ostream>

#include "epoch_keys.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/sync_engine.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"
#include "records.hpp"
#include "sync.pb.h"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {
struct Pair {
    TempDir dir;
    std::unique_ptr<Node> a = make_node(dir.path() / "a", "Anna");
    std::unique_ptr<Node> b = make_node(dir.path() / "b", "Boris");
    GroupId group{};
    Pair(bool with_history = false) {
        group = *a->create_group("Legal support");
        auto token = a->add_member(group, card_to_text(b->card()), false, with_history);
        REQUIRE(token.has_value());
        REQUIRE(b->join(*token).has_value());
        deliver(*a, *b);
    }
};

}  // namespace

TEST_CASE("two members exchange messages both ways") {
    Pair p;
    auto members = p.b->members(p.group);
    REQUIRE(members.has_value());
    CHECK(members->size() == 2);
    REQUIRE(p.a->post(p.group, "Привет, Борис").has_value());
    deliver(*p.a, *p.b);
    REQUIRE(p.b->post(p.group, "Hi Anna").has_value());
    deliver(*p.b, *p.a);
    CHECK(texts(*p.a, p.group) == std::vector<std::string>{"Привет, Борис", "Hi Anna"});
    CHECK(texts(*p.b, p.group) == texts(*p.a, p.group));
    auto groups = p.b->groups();
    REQUIRE(groups.size() == 1);
    CHECK(groups[0].name == "Legal support");
}

TEST_CASE("a newcomer without history cannot read what came before; with history can") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto g = *a->create_group("G");
    REQUIRE(a->post(g, "before anyone joined").has_value());
    auto tb = a->add_member(g, card_to_text(b->card()), false, false);
    auto tc = a->add_member(g, card_to_text(c->card()), false, true);
    REQUIRE(b->join(*tb).has_value());
    REQUIRE(c->join(*tc).has_value());
    REQUIRE(a->post(g, "after").has_value());
    auto rb = deliver(*a, *b);
    deliver(*a, *c);
    CHECK(texts(*b, g) == std::vector<std::string>{"after"});
    CHECK(rb.unreadable >= 1);  // the earlier message: held, not readable
    CHECK(texts(*c, g) == std::vector<std::string>{"before anyone joined", "after"});
    CHECK(b->members(g)->size() == 3);
}

TEST_CASE("a removed member holds every envelope written after the rotation and opens none") {
    Pair p;
    REQUIRE(p.a->post(p.group, "before removal").has_value());
    deliver(*p.a, *p.b);
    auto boris = p.b->me();
    REQUIRE(p.a->remove_member(p.group, boris).has_value());
    std::vector<std::string> secrets;
    for (int i = 0; i < 20; ++i) {
        secrets.push_back("after removal " + std::to_string(i));
        REQUIRE(p.a->post(p.group, secrets.back()).has_value());
    }
    auto report = deliver(*p.a, *p.b);
    CHECK(report.unreadable >= 20);  // every post-rotation envelope reached B...
    CHECK(report.over_quota == 0);
    CHECK(p.b->unverified_usage().count >= 20);  // ...and is held unopened, within the quota
    auto seen = texts(*p.b, p.group);
    for (const auto& s : secrets)
        CHECK(std::find(seen.begin(), seen.end(), s) == seen.end());  // ...none opened
    CHECK(std::find(seen.begin(), seen.end(), "before removal") != seen.end());
    // B's view of membership shows the removal (it can read the removal itself).
    auto members = p.b->members(p.group);
    REQUIRE(members.has_value());
    CHECK(members->size() == 1);
    // And B can no longer post.
    auto post = p.b->post(p.group, "let me back in");
    REQUIRE_FALSE(post.has_value());
    CHECK(post.error().code == CoreErrc::not_permitted);
    // None of B's store files contain the plaintext.
    for (const auto& s : secrets) CHECK(files_containing(p.dir.path() / "b", s).empty());
}

TEST_CASE("a removed member holds no key to the new mailbox, and a server refuses every try") {
    Pair p;
    deliver(*p.a, *p.b);
    REQUIRE(p.a->remove_member(p.group, p.b->me()).has_value());
    REQUIRE(p.a->post(p.group, "after removal").has_value());
    deliver(*p.a, *p.b);  // B has the rotation record, and cannot open what it grants
    auto a_boxes = p.a->mailboxes(&p.group);
    auto b_boxes = p.b->mailboxes(&p.group);
    std::vector<MailboxId> fresh;
    for (const auto& m : a_boxes)
        if (std::find(b_boxes.begin(), b_boxes.end(), m) == b_boxes.end()) fresh.push_back(m);
    REQUIRE(fresh.size() == 1);  // the mailbox of the epoch after the rotation
    const MailboxId new_mailbox = fresh[0];
    auto b_keys = p.b->mailbox_keys(&p.group);
    REQUIRE_FALSE(b_keys.empty());
    for (const auto& k : b_keys) CHECK(k.id != new_mailbox);

    // A serves its store; B opens the new mailbox with each key it holds, proving it properly.
    auto served = p.a->replica();
    transport::SyncEngine::Config cfg;
    cfg.side = transport::SyncEngine::Side::server;
    cfg.handshake_hash = Bytes(64, 0xab);
    transport::SyncEngine server(cfg, *served);
    REQUIRE(server.start().has_value());
    auto encode = [](const pb::SyncFrame& f) {
        Bytes out(f.ByteSizeLong());
        f.SerializeToArray(out.data(), static_cast<int>(out.size()));
        return out;
    };
    pb::SyncFrame hello;
    hello.mutable_hello()->set_version(transport::kSyncVersion);
    hello.mutable_hello()->set_window_bytes(1 << 20);
    REQUIRE(server.handle(encode(hello)).has_value());
    server.take_output();
    for (const auto& k : b_keys) {
        transport::MailboxKey claim;
        claim.id = new_mailbox;
        claim.public_key = k.public_key;
        claim.secret_key = k.secret_key.clone();
        pb::SyncFrame open;
        open.mutable_open()->set_mailbox(to_string(new_mailbox));
        open.mutable_open()->set_public_key(to_string(k.public_key));
        open.mutable_open()->set_signature(
            to_string(transport::sign_mailbox_open(claim, cfg.handshake_hash)));
        REQUIRE(server.handle(encode(open)).has_value());
        auto out = server.take_output();
        REQUIRE(out.size() == 1);
        pb::SyncFrame reply;
        REQUIRE(reply.ParseFromArray(out[0].data(), static_cast<int>(out[0].size())));
        REQUIRE(reply.has_open_result());
        CHECK_FALSE(reply.open_result().accepted());
        CHECK(reply.open_result().refusal() == pb::OpenResult::BAD_KEY);
    }
    CHECK(server.report().mailboxes_opened == 0);
}

namespace {
using kolokol::core::NodeTestAccess;

// B's latest message in `group`, as B prepared it (white-box), for tampering.
pb::RecordBody prepared_message(Node& n, const GroupId& group, std::optional<EpochId> epoch,
                                const std::string& text) {
    pb::RecordBody body;
    body.mutable_message()->set_text(text);
    auto e = NodeTestAccess::impl(n).prepare(group, body, epoch);
    REQUIRE(e.has_value());
    return body;
}

RejectReason ingest_one(Node& n, const Bytes& env) {
    auto before = n.rejections(1000).size();
    auto r = n.ingest(std::vector<Bytes>{env});
    REQUIRE(r.has_value());
    REQUIRE(r->rejected == 1);
    auto after = n.rejections(1000);
    REQUIRE(after.size() == before + 1);
    auto id = storage::record_id_of(env);
    for (const auto& x : after)
        if (x.id == id) return x.reason;
    FAIL("rejection not listed");
    return RejectReason::invalid_op;
}
}  // namespace

TEST_CASE("a record by someone who is not a member, even with a stolen key, is rejected") {
    Pair p;
    TempDir other;
    auto mallory = make_node(other.path() / "m", "Mallory");
    auto& a = NodeTestAccess::impl(*p.a);
    auto epoch = a.state(p.group).writer_epoch(p.a->me());
    REQUIRE(epoch);
    // A body that looks exactly like A's next message, but authored and signed by Mallory.
    auto body = prepared_message(*p.a, p.group, std::nullopt, "I am Anna, trust me");
    body.set_author(to_string(mallory->me()));
    body.clear_prev();
    body.set_seq(1);
    auto env = seal_record(body, NodeTestAccess::impl(*mallory).identity.sign.secret_key,
                           *a.keys_for_epoch(*epoch), crypto::system_random());
    CHECK(ingest_one(*p.b, env) == RejectReason::not_member);
}

TEST_CASE("a removed member's records written after the removal are rejected") {
    Pair p;
    REQUIRE(p.b->post(p.group, "hello from Boris").has_value());
    deliver(*p.b, *p.a);
    auto& b = NodeTestAccess::impl(*p.b);
    auto old_epoch = b.state(p.group).writer_epoch(p.b->me());
    REQUIRE(old_epoch);
    // Boris prepares a record before he learns of his removal (stale control heads)...
    auto stale = prepared_message(*p.b, p.group, old_epoch, "written while being removed");
    REQUIRE(p.a->remove_member(p.group, p.b->me()).has_value());
    deliver(*p.a, *p.b);
    // ...and one after he learned of it, in the old epoch he still holds.
    pb::RecordBody fresh;
    fresh.mutable_message()->set_text("written after the removal");
    // prepare() refuses (he is no longer a member), so fill it by hand from the stale one.
    fresh = stale;
    fresh.mutable_message()->set_text("written after the removal");
    fresh.clear_control_heads();
    for (const auto& h : b.state(p.group).heads()) fresh.add_control_heads(to_string(h));
    fresh.set_lamport(fresh.lamport() + 100);

    auto env_stale = b.seal(stale, *old_epoch);
    auto env_fresh = b.seal(fresh, *old_epoch);
    CHECK(ingest_one(*p.a, env_fresh) == RejectReason::not_member);
    CHECK(ingest_one(*p.a, env_stale) == RejectReason::removed_author);
    // What he wrote before the removal still stands.
    auto seen = texts(*p.a, p.group);
    CHECK(std::find(seen.begin(), seen.end(), "hello from Boris") != seen.end());
}

TEST_CASE("a record replayed into another group is rejected") {
    Pair p;
    auto g2 = *p.a->create_group("Second");
    auto token = p.a->add_member(g2, card_to_text(p.b->card()), false, false);
    REQUIRE(p.b->join(*token).has_value());
    deliver(*p.a, *p.b);
    // B takes A's signed record from group 1 and seals it, unchanged, into group 2's mailbox.
    auto id = *p.a->post(p.group, "only for group one");
    auto env = *p.a->envelope(id);
    auto& b = NodeTestAccess::impl(*p.b);
    auto opened = open_record(*env, *b.keys_for_epoch(*b.state(p.group).writer_epoch(p.b->me())));
    REQUIRE(opened.has_value());
    const auto* keys2 = b.keys_for_epoch(*b.state(g2).writer_epoch(p.b->me()));
    Bytes replay{storage::kEnvelopeVersion};
    append(replay, keys2->mailbox);
    auto nonce = crypto::system_random().bytes(24);
    append(replay, nonce);
    append(replay, crypto::xchacha_seal(keys2->content_key->view(), nonce,
                                        ByteView(replay).first(33), opened->signed_record));
    CHECK(ingest_one(*p.a, replay) == RejectReason::wrong_group);
}

TEST_CASE("any flipped byte in an envelope is caught") {
    Pair p;
    auto id = *p.a->post(p.group, "integrity");
    auto env = **p.a->envelope(id);
    // Version byte → malformed; nonce and ciphertext → AEAD fails.
    auto flip = [&](std::size_t i) {
        auto bad = env;
        bad[i] ^= 0x01;
        return bad;
    };
    CHECK(ingest_one(*p.b, flip(0)) == RejectReason::malformed_envelope);
    for (std::size_t i = 33; i < env.size(); i += 13)
        CHECK(ingest_one(*p.b, flip(i)) == RejectReason::undecryptable);
    CHECK(ingest_one(*p.b, flip(env.size() - 1)) == RejectReason::undecryptable);
    // A flipped mailbox byte addresses a mailbox nobody holds: kept as unreadable (within the
    // unverified quota), never opened.
    auto r = p.b->ingest(std::vector<Bytes>{flip(5)});
    REQUIRE(r.has_value());
    CHECK(r->unreadable == 1);
    CHECK(r->added == 0);
    // The untouched envelope still goes in.
    auto ok = p.b->ingest(std::vector<Bytes>{env});
    CHECK(ok->added == 1);
}

TEST_CASE("a bad signature is rejected") {
    Pair p;
    auto& a = NodeTestAccess::impl(*p.a);
    auto epoch = *a.state(p.group).writer_epoch(p.a->me());
    auto body = prepared_message(*p.a, p.group, epoch, "signed?");
    auto env = a.seal(body, epoch);
    auto opened = open_record(env, *a.keys_for_epoch(epoch));
    REQUIRE(opened.has_value());
    pb::SignedRecord sr;
    REQUIRE(sr.ParseFromString(to_string(opened->signed_record)));
    auto sig = sr.signature();
    sig[10] ^= 0x40;
    sr.set_signature(sig);
    auto plain = sr.SerializeAsString();
    const auto* keys = a.keys_for_epoch(epoch);
    Bytes forged{storage::kEnvelopeVersion};
    append(forged, keys->mailbox);
    auto nonce = crypto::system_random().bytes(24);
    append(forged, nonce);
    append(forged, crypto::xchacha_seal(keys->content_key->view(), nonce,
                                        ByteView(forged).first(33), as_bytes(plain)));
    CHECK(ingest_one(*p.b, forged) == RejectReason::bad_signature);
}

TEST_CASE("records whose references are missing wait, then apply when they arrive") {
    Pair p;
    std::vector<RecordId> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(*p.a->post(p.group, "m" + std::to_string(i)));
    // Deliver newest first.
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        auto r = p.b->ingest(std::vector<Bytes>{**p.a->envelope(*it)});
        REQUIRE(r.has_value());
        if (it + 1 != ids.rend())
            CHECK(r->pending == 1);
        else
            CHECK(r->added == 5);  // the oldest unblocks the whole chain
    }
    CHECK(texts(*p.b, p.group) == std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"});
}

TEST_CASE("held records outlast a restart and apply when their references come") {
    Pair p;
    std::vector<RecordId> ids;
    for (int i = 0; i < 60; ++i) ids.push_back(*p.a->post(p.group, "m" + std::to_string(i)));
    std::vector<Bytes> envelopes;
    for (const auto& id : ids) envelopes.push_back(**p.a->envelope(id));
    // Every other record first, newest first: each waits for the one before it.
    std::vector<Bytes> odd, even;
    for (std::size_t i = 0; i < envelopes.size(); ++i) (i % 2 ? odd : even).push_back(envelopes[i]);
    std::reverse(odd.begin(), odd.end());
    auto r = p.b->ingest(odd);
    REQUIRE(r.has_value());
    CHECK(r->added == 0);
    CHECK(r->pending == 30);
    // A new process: what waits is read back from the store.
    const auto home = p.dir.path() / "b";
    p.b.reset();
    p.b = reopen(home);
    r = p.b->ingest(even);
    REQUIRE(r.has_value());
    CHECK(r->added == 60);
    CHECK(r->pending == 0);
    auto got = texts(*p.b, p.group);
    REQUIRE(got.size() == 60);
    CHECK(got.front() == "m0");
    CHECK(got.back() == "m59");
    // Nothing is left waiting: a duplicate of an odd record is only a duplicate.
    r = p.b->ingest(std::vector<Bytes>{odd.front()});
    REQUIRE(r.has_value());
    CHECK(r->duplicate == 1);
}

TEST_CASE("garbage welcome tokens and sync files change nothing") {
    Pair p;
    for (const std::string& junk : std::vector<std::string>{
             "", "kolokol-welcome:", "kolokol-welcome:AAAA", "hello", "kolokol-card:xyz"}) {
        auto r = p.b->join(junk);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::bad_input);
    }
    // A token for someone else.
    TempDir other;
    auto c = make_node(other.path() / "c", "Clara");
    auto token = *p.a->add_member(p.group, card_to_text(c->card()), false, false);
    auto wrong = p.b->join(token);
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().code == CoreErrc::bad_input);
    // An expired one.
    c->set_clock([] { return std::int64_t{4102444800000}; });  // 2100-01-01
    auto expired = c->join(token);
    REQUIRE_FALSE(expired.has_value());
    CHECK(expired.error().message.find("expired") != std::string::npos);

    auto file = p.dir.path() / "x.sync";
    REQUIRE(p.a->write_sync_file(file, {}).has_value());
    auto before = texts(*p.b, p.group);
    // Truncated, garbage and wrong-magic files.
    auto bytes = read_tree(p.dir.path());
    std::string content;
    for (auto& [path, data] : bytes)
        if (path == file) content = data;
    REQUIRE(content.size() > 100);
    auto write = [&](const std::string& data) {
        auto f = p.dir.path() / "bad.sync";
        std::ofstream(f, std::ios::binary) << data;
        return p.b->read_sync_file(f);
    };
    for (const std::string& bad : std::vector<std::string>{
             content.substr(0, content.size() - 7), std::string(200, 'x'),
             std::string("KKSYNC01") + std::string(50, '\xff'), std::string()}) {
        auto r = write(bad);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::bad_input);
    }
    auto flipped = content;
    flipped[flipped.size() - 20] ^= 1;
    CHECK_FALSE(write(flipped).has_value());
    CHECK(texts(*p.b, p.group) == before);
    // The real file works.
    auto good = p.b->read_sync_file(file);
    REQUIRE(good.has_value());
}
