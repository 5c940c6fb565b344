// Groups end to end inside one process: real Nodes with real stores, envelopes handed over as a
// carrier would. The security invariants of SECURITY.md that concern records live here.

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <ostream>

#include "epoch_keys.hpp"
#include "group.pb.h"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"
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

TEST_CASE("a record refused for its author's removal is kept within the quota; beyond, its row") {
    Pair p;
    auto& a = NodeTestAccess::impl(*p.a);
    auto& b = NodeTestAccess::impl(*p.b);
    auto old_epoch = b.state(p.group).writer_epoch(p.b->me());
    REQUIRE(old_epoch);
    auto first = prepared_message(*p.b, p.group, old_epoch, "concurrent one");
    auto second = first;
    second.mutable_message()->set_text("concurrent two");
    auto third = first;
    third.mutable_message()->set_text("concurrent three");
    REQUIRE(p.a->remove_member(p.group, p.b->me()).has_value());
    auto env_first = b.seal(first, *old_epoch);
    auto env_second = b.seal(second, *old_epoch);
    auto env_third = b.seal(third, *old_epoch);
    const auto before = p.a->unverified_usage();
    // Kept (the envelope, counted unverified) so that it can stand again if the removal is voided.
    CHECK(ingest_one(*p.a, env_first) == RejectReason::removed_author);
    auto kept = p.a->envelope(storage::record_id_of(env_first));
    REQUIRE(kept.has_value());
    CHECK(kept->has_value());
    const auto after = p.a->unverified_usage();
    CHECK(after.count == before.count + 1);
    CHECK(after.bytes > before.bytes);
    // With the quota full its row is kept without the envelope (fetched again if it stands),
    // and nothing is counted against the quota.
    REQUIRE(p.a->set_unverified_quota(after.bytes).has_value());
    CHECK(ingest_one(*p.a, env_second) == RejectReason::removed_author);
    auto bare = p.a->envelope(storage::record_id_of(env_second));
    REQUIRE(bare.has_value());
    CHECK_FALSE(bare->has_value());
    CHECK(a.records.dropped_held(storage::record_id_of(env_second)));
    CHECK(p.a->unverified_usage().count == after.count);
    CHECK(p.a->unverified_usage().bytes == after.bytes);
    // The rows are bounded: past the cap of rows (here lowered to 2) nothing of it is kept,
    // and the report says so as for the quota — also while the quota has room again, so one
    // removed author cannot take the group's rows by writing within the quota.
    a.dropped_rows_per_author = 2;
    REQUIRE(p.a->set_unverified_quota(64ull << 20).has_value());
    auto r = p.a->ingest(std::vector<Bytes>{env_third});
    REQUIRE(r.has_value());
    CHECK(r->rejected == 1);
    CHECK(r->over_quota == 1);
    CHECK_FALSE(a.records.dropped_held(storage::record_id_of(env_third)));
    auto none = p.a->envelope(storage::record_id_of(env_third));
    REQUIRE(none.has_value());
    CHECK_FALSE(none->has_value());
    // Lowering the quota drops the first one's envelope, not its row.
    REQUIRE(p.a->set_unverified_quota(0).has_value());
    auto dropped = p.a->envelope(storage::record_id_of(env_first));
    REQUIRE(dropped.has_value());
    CHECK_FALSE(dropped->has_value());
    CHECK(a.records.dropped_held(storage::record_id_of(env_first)));
    // None shows.
    auto seen = texts(*p.a, p.group);
    for (const auto* t : {"concurrent one", "concurrent two", "concurrent three"})
        CHECK(std::find(seen.begin(), seen.end(), t) == seen.end());
}

TEST_CASE("a group's kept rows full: the author who holds the most gives up his latest") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Carl");
    auto g = *a->create_group("G");
    for (auto* n : {b.get(), c.get()}) {
        auto token = a->add_member(g, card_to_text(n->card()), false, false);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    deliver(*a, *b);
    deliver(*a, *c);
    auto& ai = NodeTestAccess::impl(*a);
    // Each writes before hearing of his removal: records concurrent with it, kept by Anna.
    auto written = [&](Node& n, int count) {
        auto& ni = NodeTestAccess::impl(n);
        auto epoch = ni.state(g).writer_epoch(n.me());
        REQUIRE(epoch);
        auto first = prepared_message(n, g, epoch, "kept 0");
        std::vector<Bytes> out;
        for (int i = 0; i < count; ++i) {
            auto body = first;
            body.mutable_message()->set_text("kept " + std::to_string(i));
            body.set_seq(first.seq() + static_cast<std::uint64_t>(i));
            body.set_lamport(first.lamport() + static_cast<std::uint64_t>(i));
            if (i > 0) {
                const auto prev = storage::record_id_of(out.back());
                body.mutable_prev()->set_id(std::string(prev.begin(), prev.end()));
                body.mutable_prev()->set_epoch_id(std::string(epoch->begin(), epoch->end()));
            }
            out.push_back(ni.seal(body, *epoch));
        }
        return out;
    };
    auto from_boris = written(*b, 4);
    auto from_carl = written(*c, 3);
    REQUIRE(a->remove_member(g, b->me()).has_value());
    REQUIRE(a->remove_member(g, c->me()).has_value());
    ai.dropped_rows_per_author = 3;
    ai.dropped_rows_per_group = 4;
    auto held = [&](const Bytes& env) {
        return ai.records.dropped_held(storage::record_id_of(env));
    };
    // Boris fills his three rows, Carl takes the group's last.
    for (int i = 0; i < 3; ++i)
        CHECK(ingest_one(*a, from_boris[i]) == RejectReason::removed_author);
    CHECK(ingest_one(*a, from_carl[0]) == RejectReason::removed_author);
    for (int i = 0; i < 3; ++i) CHECK(held(from_boris[i]));
    CHECK(held(from_carl[0]));
    // The group is full: Carl's next takes the row of Boris's latest (Boris held 3, Carl would
    // hold 2), its envelope goes too.
    auto r = a->ingest(std::vector<Bytes>{from_carl[1]});
    REQUIRE(r.has_value());
    CHECK(r->evicted == 1);
    CHECK(r->over_quota == 0);
    CHECK(held(from_carl[1]));
    CHECK_FALSE(held(from_boris[2]));
    CHECK(held(from_boris[0]));
    CHECK(held(from_boris[1]));
    auto gone = a->envelope(storage::record_id_of(from_boris[2]));
    REQUIRE(gone.has_value());
    CHECK_FALSE(gone->has_value());
    // Now both hold 2: neither takes a row from the other, in either order.
    r = a->ingest(std::vector<Bytes>{from_carl[2]});
    REQUIRE(r.has_value());
    CHECK(r->evicted == 0);
    CHECK(r->over_quota == 1);
    CHECK_FALSE(held(from_carl[2]));
    // Boris's fourth follows his evicted third, whose note went with it (so that a later sync
    // brings it to be judged again): it waits for it rather than being judged now.
    r = a->ingest(std::vector<Bytes>{from_boris[3]});
    REQUIRE(r.has_value());
    CHECK(r->evicted == 0);
    CHECK(r->pending == 1);
    CHECK_FALSE(held(from_boris[3]));
    CHECK(ai.records.dropped_count(g).value() == 4);
}

TEST_CASE("a record refused for its author's removal while the quota is full stands again") {
    // Quorum 2: Boris proposes removing Xavier; Clara's device (seized) completes it while
    // Anna's burn notice for Clara waits, and Boris then approves the notice, which voids
    // Clara's approval. Mila learns of the removal, her unverified quota is full, and Xavier's
    // concurrent post reaches her: refused as removed_author, its row kept without the
    // envelope. Once the notice voids the removal the post is taken again from a later sync.
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto m = make_node(dir.path() / "m", "Mila");
    auto x = make_node(dir.path() / "x", "Xavier");
    auto g = *a->create_group("G");
    for (auto [n, admin] : std::vector<std::pair<Node*, bool>>{
             {b.get(), true}, {c.get(), true}, {m.get(), false}, {x.get(), false}}) {
        auto token = a->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    REQUIRE(a->set_quorum(g, 2).has_value());
    auto all = {a.get(), b.get(), c.get(), m.get(), x.get()};
    for (int round = 0; round < 2; ++round)
        for (auto* from : all)
            for (auto* to : all)
                if (from != to) deliver(*from, *to);
    auto post = x->post(g, "Xavier was here");
    REQUIRE(post.has_value());
    auto has = [&](Node& n, const std::string& text) {
        auto t = texts(n, g);
        return std::find(t.begin(), t.end(), text) != t.end();
    };
    auto is_member = [&](Node& n, const MemberKey& who) {
        auto list = n.members(g);
        REQUIRE(list.has_value());
        return std::any_of(list->begin(), list->end(), [&](const auto& v) { return v.key == who; });
    };
    REQUIRE(b->remove_member(g, x->me()).has_value());
    deliver(*b, *c);
    auto burned = a->burn_member(g, c->me());
    REQUIRE(burned.has_value());
    REQUIRE_FALSE(burned->effective);
    deliver(*a, *b);
    REQUIRE(b->approve(g, burned->notice).has_value());
    // Clara's device has not heard of the notice: it approves the removal.
    auto waiting = c->pending(g);
    REQUIRE(waiting.has_value());
    auto removal = std::find_if(waiting->begin(), waiting->end(), [&](const ProposalView& v) {
        return v.kind == ProposalView::Kind::remove && !v.compromised;
    });
    REQUIRE(removal != waiting->end());
    REQUIRE(c->approve(g, removal->id).has_value());
    deliver(*c, *m);
    REQUIRE_FALSE(is_member(*m, x->me()));
    // Mila's unverified quota is full (anyone holding a file key of the group can fill it).
    REQUIRE(m->set_unverified_quota(m->unverified_usage().bytes).has_value());
    deliver(*x, *m);
    CHECK_FALSE(has(*m, "Xavier was here"));
    auto held = m->envelope(*post);
    REQUIRE(held.has_value());
    CHECK_FALSE(held->has_value());
    CHECK(NodeTestAccess::impl(*m).records.dropped_held(*post));
    // The notice and Boris's approval void Clara's approval: Xavier is a member again, and the
    // row goes (its envelope is asked for again).
    deliver(*a, *m);
    deliver(*b, *m);
    CHECK(is_member(*m, x->me()));
    CHECK_FALSE(NodeTestAccess::impl(*m).records.dropped_held(*post));
    // The next sync brings the post again, and it is applied as any other.
    deliver(*x, *m);
    CHECK(has(*m, "Xavier was here"));
    deliver(*x, *a);
    deliver(*b, *a);
    CHECK(has(*a, "Xavier was here"));
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

TEST_CASE("a rekey interval under an hour is refused at ingest, also from an admin") {
    // Each key update makes every admin rotate: an interval of seconds, set by one (seized)
    // admin, would have the whole group rotate at every sync.
    Pair p;
    auto& a = NodeTestAccess::impl(*p.a);
    auto epoch = *a.state(p.group).writer_epoch(p.a->me());
    auto interval = [&](std::uint64_t seconds) {
        pb::RecordBody body;
        body.mutable_settings()->set_set_rekey_interval(true);
        body.mutable_settings()->set_rekey_interval_seconds(seconds);
        REQUIRE(a.prepare(p.group, body, epoch).has_value());
        return a.seal(body, epoch);
    };
    CHECK(ingest_one(*p.b, interval(1)) == RejectReason::malformed_record);
    CHECK(ingest_one(*p.b, interval(3599)) == RejectReason::malformed_record);
    CHECK(p.b->rekey_interval(p.group) == 0);
    auto hour = p.b->ingest(std::vector<Bytes>{interval(3600)});
    REQUIRE(hour.has_value());
    CHECK(hour->added == 1);
    CHECK(p.b->rekey_interval(p.group) == 3600);
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

// ---- Welcome tokens: forged, replayed, re-issued (SECURITY.md, finding 1) ----

namespace {
constexpr std::string_view kForgedRelay =
    "kolokol://203.0.113.9:7000/aebagbafaydqqcikbmga2dqpcaireeyuculbogazdinryhi6d4qa";

// A welcome token for `victim`, signed by `forger` (who need not be an admin, or a member), with
// every key the forger holds for the group and `secret` for epoch `target`, naming `add`.
std::string forge_welcome(Node& forger, const GroupId& group, const Card& victim,
                          const EpochId& target, ByteView secret, const RecordId& add) {
    auto& f = NodeTestAccess::impl(forger);
    pb::Welcome w;
    w.set_version(1);
    w.set_group_id(to_string(group));
    auto st = f.db.prepare("SELECT genesis FROM groups WHERE group_id = ?");
    REQUIRE(st.has_value());
    st->bind(1, ByteView(group));
    REQUIRE(st->step().value_or(false));
    w.mutable_genesis()->ParseFromString(to_string(st->column_blob(0)));
    w.mutable_inviter()->ParseFromString(to_string(f.card.signed_bytes));
    w.set_invitee(to_string(victim.sign_key));
    w.mutable_add_record()->set_id(to_string(add));
    w.mutable_add_record()->set_epoch_id(to_string(target));
    auto grant = [&](const EpochId& epoch) {
        auto* g = w.add_epochs();
        g->set_group_id(to_string(group));
        g->set_epoch_id(to_string(epoch));
        return g;
    };
    for (const auto& [mailbox, keys] : f.epochs) {
        if (keys.group_id != group || keys.epoch_id == target) continue;
        auto* g = grant(keys.epoch_id);
        if (keys.secret) {
            g->set_secret(to_string(keys.secret->view()));
        } else {
            g->set_control_key(to_string(keys.control_key.view()));
            g->set_mailbox_seed(to_string(keys.mailbox_seed.view()));
            g->set_file_key(to_string(keys.file_key.view()));
        }
    }
    grant(target)->set_secret(to_string(secret));
    w.add_relays(std::string(kForgedRelay));
    w.set_expires_ms(f.now() + 3600 * 1000);
    pb::SignedWelcome sw;
    sw.set_welcome(w.SerializeAsString());
    sw.set_signature(to_string(
        crypto::sign(f.identity.sign.secret_key, kWelcomeDomain, as_bytes(sw.welcome()))));
    return "kolokol-welcome:" + crypto::base64url_encode(crypto::box_seal(
                                    victim.box_key, as_bytes(sw.SerializeAsString())));
}

// Where `n` writes in `group` now: the epoch and its mailbox.
std::pair<EpochId, MailboxId> writer_of(Node& n, const GroupId& group) {
    auto& impl = NodeTestAccess::impl(n);
    auto epoch = impl.state(group).writer_epoch(n.me());
    REQUIRE(epoch.has_value());
    const auto* keys = impl.keys_for_epoch(*epoch);
    REQUIRE(keys != nullptr);
    return {*epoch, keys->mailbox};
}

const RecordId& add_of(Node& n, const GroupId& group, const MemberKey& who) {
    const auto* add = NodeTestAccess::impl(n).state(group).admitting_add(who);
    REQUIRE(add != nullptr);
    return add->id;
}

// The error code of a result that must have failed (none when it succeeded).
template <class T>
std::optional<std::error_code> error_of(const Result<T>& r) {
    if (r) return std::nullopt;
    return r.error().code;
}

bool has_text(Node& n, const GroupId& group, const std::string& text) {
    auto seen = texts(n, group);
    return std::find(seen.begin(), seen.end(), text) != seen.end();
}
}  // namespace

TEST_CASE("a removed member's forged token for the current epoch is refused; the key stays") {
    Pair p;
    TempDir dir;
    auto c = make_node(dir.path() / "c", "Clara");
    REQUIRE(c->join(*p.a->add_member(p.group, card_to_text(c->card()), false, false)));
    deliver(*p.a, *c);
    deliver(*p.a, *p.b);
    REQUIRE(p.a->remove_member(p.group, c->me()).has_value());
    deliver(*p.a, *p.b);
    deliver(*p.a, *c);  // Clara holds the rotation that shut her out: she knows its id
    const auto [epoch, mailbox] = writer_of(*p.b, p.group);
    auto& cimpl = NodeTestAccess::impl(*c);
    REQUIRE(cimpl.state(p.group).frontier().front()->id == epoch);
    CHECK(cimpl.keys_for_epoch(epoch) == nullptr);

    const Bytes chosen(32, 0x42);
    auto forged =
        forge_welcome(*c, p.group, p.b->card(), epoch, chosen, add_of(*p.a, p.group, p.b->me()));
    auto r = p.b->join(forged);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == CoreErrc::conflict);
    CHECK(r.error().message.find("forged") != std::string::npos);
    // Nothing changed, in memory or in the store.
    CHECK(writer_of(*p.b, p.group).second == mailbox);
    p.b = reopen(p.dir.path() / "b");
    CHECK(writer_of(*p.b, p.group).second == mailbox);
    auto forged_keys = EpochKeys::from_secret(p.group, epoch, chosen);
    auto boxes = p.b->mailboxes(&p.group);
    CHECK(std::find(boxes.begin(), boxes.end(), forged_keys.mailbox) == boxes.end());
    // Boris's next post reaches the group, in the real mailbox.
    auto id = p.b->post(p.group, "after the forged token");
    REQUIRE(id.has_value());
    auto env = **p.b->envelope(*id);
    CHECK(storage::parse_envelope(env)->mailbox == mailbox);
    deliver(*p.b, *p.a);
    CHECK(has_text(*p.a, p.group, "after the forged token"));
}

TEST_CASE("a held epoch key is never replaced, whatever grants it") {
    Pair p;
    auto& b = NodeTestAccess::impl(*p.b);
    const auto [epoch, mailbox] = writer_of(*p.b, p.group);
    const auto* held = b.keys_for_epoch(epoch);
    const Bytes other(32, 0x17);
    auto tx = b.db.begin();
    REQUIRE(tx.has_value());
    // Another secret, or other control keys, for the epoch: refused.
    auto again = b.add_epoch(EpochKeys::from_secret(p.group, epoch, other));
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code == CoreErrc::conflict);
    auto fake = EpochKeys::from_secret(p.group, epoch, other);
    auto control = b.add_epoch(EpochKeys::control_only(
        p.group, epoch, fake.control_key.view(), fake.mailbox_seed.view(), fake.file_key.view()));
    CHECK(error_of(control) == make_error_code(CoreErrc::conflict));
    // The same secret under another epoch id, or for another group: refused.
    auto alias = b.add_epoch(EpochKeys::from_secret(p.group, EpochId{}, held->secret->view()));
    CHECK(error_of(alias) == make_error_code(CoreErrc::conflict));
    auto moved = b.add_epoch(EpochKeys::from_secret(GroupId{}, epoch, held->secret->view()));
    CHECK(error_of(moved) == make_error_code(CoreErrc::conflict));
    // The same keys again: nothing to do.
    CHECK(b.add_epoch(EpochKeys::from_secret(p.group, epoch, held->secret->view())).has_value());
    tx->rollback();
    CHECK(b.keys_for_epoch(epoch)->mailbox == mailbox);
    CHECK(b.keys_for_epoch(epoch)->secret.has_value());
}

TEST_CASE("a token signed by a non-admin is refused once its add record is seen") {
    // Boris (a member, not an admin) sees Dana's add and the rotation that gives her a key, and
    // forges her a token that names her real add record, with a key of his choosing.
    Pair p;
    TempDir dir;
    auto d = make_node(dir.path() / "d", "Dana");
    auto real = p.a->add_member(p.group, card_to_text(d->card()), false, false);
    REQUIRE(real.has_value());
    deliver(*p.a, *p.b);
    const auto [epoch, mailbox] = writer_of(*p.a, p.group);
    const Bytes chosen(32, 0x5a);
    auto forged =
        forge_welcome(*p.b, p.group, d->card(), epoch, chosen, add_of(*p.a, p.group, d->me()));
    REQUIRE(d->join(forged).has_value());  // nothing held yet to judge it by
    auto waiting = d->groups();
    REQUIRE(waiting.size() == 1);
    CHECK(waiting[0].admission.find("waiting") != std::string::npos);
    auto early = d->post(p.group, "too early");
    REQUIRE_FALSE(early.has_value());
    CHECK(early.error().code == CoreErrc::not_permitted);

    // The group's records arrive: the add is Anna's, Boris is no admin — refused. The forged
    // key goes, and the rotation's own grant to Dana (noted as a conflict before) takes over.
    deliver(*p.b, *d);
    auto refused = d->groups();
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].admission.find("refused") != std::string::npos);
    CHECK(refused[0].admission.find("Boris") != std::string::npos);
    bool noted = false;
    for (const auto& x : d->rejections(100)) noted |= x.reason == RejectReason::key_conflict;
    CHECK(noted);
    CHECK(writer_of(*d, p.group).second == mailbox);
    CHECK(d->relays(p.group).empty());  // the relay the forged token named is forgotten
    REQUIRE(d->post(p.group, "Dana writes to the group").has_value());
    deliver(*d, *p.a);
    CHECK(has_text(*p.a, p.group, "Dana writes to the group"));
    // The real token, joined late, is now a replay.
    auto late = d->join(*real);
    REQUIRE_FALSE(late.has_value());
    CHECK(late.error().code == CoreErrc::conflict);
}

TEST_CASE("a newcomer's token from a non-admin admits nobody, and its keys are dropped") {
    Pair p;
    TempDir dir;
    auto e = make_node(dir.path() / "e", "Egor");
    const auto [epoch, mailbox] = writer_of(*p.b, p.group);
    const auto* real = NodeTestAccess::impl(*p.b).keys_for_epoch(epoch);
    // Boris gives Egor the group's real keys and names his own add record.
    auto forged = forge_welcome(*p.b, p.group, e->card(), epoch, real->secret->view(),
                                add_of(*p.b, p.group, p.b->me()));
    REQUIRE(e->join(forged).has_value());
    CHECK(e->relays(p.group) == std::vector<std::string>{std::string(kForgedRelay)});
    deliver(*p.b, *e);
    CHECK(e->relays(p.group).empty());  // the forger's relay no longer hears Egor's syncs
    auto g = e->groups();
    REQUIRE(g.size() == 1);
    CHECK(g[0].admission.find("not an add of you") != std::string::npos);
    CHECK(e->mailboxes(&p.group).empty());
    auto post = e->post(p.group, "am I in?");
    REQUIRE_FALSE(post.has_value());
    CHECK(post.error().code == CoreErrc::not_permitted);
    // A forger who is not even in the group names a random add record: it never arrives, so
    // the token waits and nothing can be written.
    auto f = make_node(dir.path() / "f", "Fima");
    auto stranger = forge_welcome(*p.b, p.group, f->card(), epoch, Bytes(32, 1),
                                  crypto::system_random().array<32>());
    REQUIRE(f->join(stranger).has_value());
    deliver(*p.a, *f);
    CHECK(f->groups()[0].admission.find("waiting") != std::string::npos);
    CHECK_FALSE(f->post(p.group, "hello?").has_value());
}

TEST_CASE("a token replayed to a member changes nothing; a removed member re-added joins again") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto g = *a->create_group("G");
    auto token = *a->add_member(g, card_to_text(b->card()), false, false);
    REQUIRE(b->join(token).has_value());
    deliver(*a, *b);
    CHECK(b->groups()[0].admission.empty());
    auto keys_before = b->mailboxes(&g);
    auto replay = b->join(token);
    REQUIRE_FALSE(replay.has_value());
    CHECK(replay.error().code == CoreErrc::conflict);
    CHECK(replay.error().message.find("replay") != std::string::npos);
    CHECK(b->mailboxes(&g) == keys_before);

    // Removed, the old token still does not bring him back: its add was undone.
    REQUIRE(a->remove_member(g, b->me()).has_value());
    deliver(*a, *b);
    auto stale = b->join(token);
    REQUIRE_FALSE(stale.has_value());
    CHECK(stale.error().code == CoreErrc::conflict);
    CHECK(stale.error().message.find("removed after") != std::string::npos);

    // Re-added by an admin: the new token waits for its add record, then he writes again.
    auto again = *a->add_member(g, card_to_text(b->card()), false, false);
    REQUIRE(b->join(again).has_value());
    CHECK_FALSE(b->post(g, "back").has_value());
    deliver(*a, *b);
    REQUIRE(b->post(g, "back").has_value());
    deliver(*b, *a);
    CHECK(has_text(*a, g, "back"));
}

TEST_CASE("an admin issues a lost welcome token again without touching the group") {
    Pair p;
    TempDir dir;
    auto c = make_node(dir.path() / "c", "Clara");
    REQUIRE(p.a->post(p.group, "before Clara").has_value());
    auto lost = p.a->add_member(p.group, card_to_text(c->card()), false, false);
    REQUIRE(lost.has_value());
    REQUIRE(p.a->post(p.group, "after Clara was added").has_value());
    deliver(*p.a, *p.b);
    const auto records_before = all_envelopes(*p.a).size();
    // Only an admin, only for a member, never for the creator.
    CHECK(error_of(p.b->welcome_again(p.group, c->me())) ==
          make_error_code(CoreErrc::not_permitted));
    TempDir other;
    auto x = make_node(other.path() / "x", "Xenia");
    CHECK(error_of(p.a->welcome_again(p.group, x->me())) == make_error_code(CoreErrc::not_found));
    auto again = p.a->welcome_again(p.group, c->me());
    REQUIRE(again.has_value());
    CHECK(*again != *lost);
    CHECK(all_envelopes(*p.a).size() == records_before);  // nothing posted
    REQUIRE(c->join(*again).has_value());
    deliver(*p.a, *c);
    CHECK(c->groups()[0].admission.empty());
    // The same access as the first token: what came after the add, not before.
    CHECK(has_text(*c, p.group, "after Clara was added"));
    CHECK_FALSE(has_text(*c, p.group, "before Clara"));
    REQUIRE(c->post(p.group, "Clara is in").has_value());
    deliver(*c, *p.a);
    CHECK(has_text(*p.a, p.group, "Clara is in"));
    // Another admin's re-issue works too: an admin vouches for keys as the adder did.
    TempDir third;
    auto d = make_node(third.path() / "d", "Dana");
    REQUIRE(p.a->add_member(p.group, card_to_text(d->card()), true, true).has_value());
    auto e = make_node(third.path() / "e", "Egor");
    REQUIRE(p.a->add_member(p.group, card_to_text(e->card()), false, false).has_value());
    auto for_d = p.a->welcome_again(p.group, d->me());
    REQUIRE(for_d.has_value());
    REQUIRE(d->join(*for_d).has_value());
    deliver(*p.a, *d);
    CHECK(has_text(*d, p.group, "before Clara"));  // added with history
    auto for_e = d->welcome_again(p.group, e->me());
    REQUIRE(for_e.has_value());
    REQUIRE(e->join(*for_e).has_value());
    deliver(*d, *e);
    CHECK(e->groups()[0].admission.empty());
    REQUIRE(e->post(p.group, "Egor too").has_value());
}

// Ivan, an admin, adds Vera; then Anna removes him. `up_to_add` is the group up to his add of
// her (what a peer can hand her); `epoch` and `mailbox` are what the group writes in after the
// removal, which Ivan knows from the rotation that excluded him.
struct ExAdminAddedVera {
    TempDir dir;
    std::unique_ptr<Node> a = make_node(dir.path() / "a", "Anna");
    std::unique_ptr<Node> i = make_node(dir.path() / "i", "Ivan");
    std::unique_ptr<Node> v = make_node(dir.path() / "v", "Vera");
    GroupId g = *a->create_group("G");
    RecordId add{};
    std::vector<Bytes> up_to_add;
    EpochId epoch{};
    MailboxId mailbox{};

    ExAdminAddedVera() {
        REQUIRE(i->join(*a->add_member(g, card_to_text(i->card()), true, false)).has_value());
        deliver(*a, *i);
        REQUIRE(i->add_member(g, card_to_text(v->card()), false, false).has_value());
        add = add_of(*i, g, v->me());
        for (auto& env : all_envelopes(*i)) {
            auto id = storage::record_id_of(env);
            auto row = NodeTestAccess::impl(*i).record_row(id);
            if (row && row->lamport <= NodeTestAccess::impl(*i).record_row(add)->lamport)
                up_to_add.push_back(std::move(env));
        }
        deliver(*i, *a);
        REQUIRE(a->remove_member(g, i->me()).has_value());
        deliver(*a, *i);
        std::tie(epoch, mailbox) = writer_of(*a, g);
    }
};

TEST_CASE("a key a token gave that a rotation contradicts proves the token forged") {
    // Ivan, an admin, adds Vera; then Anna removes him. He signs Vera a token naming his own add
    // of her (valid: he was an admin) with a key of his choosing for the epoch after his
    // removal. Vera first sees only the group up to her add (a peer can hand her that much):
    // the token is confirmed. Then the rotation arrives and grants her another key.
    ExAdminAddedVera s;
    auto& [dir, a, i, v, g, add, up_to_add, epoch, mailbox] = s;
    const Bytes chosen(32, 0x66);
    auto forged = forge_welcome(*i, g, v->card(), epoch, chosen, add);
    REQUIRE(v->join(forged).has_value());
    REQUIRE(v->ingest(up_to_add).has_value());
    CHECK(v->groups()[0].admission.empty());  // confirmed: Ivan was an admin when he added her
    CHECK_FALSE(v->post(g, "no key yet").has_value());

    deliver(*a, *v);  // the rotations, Ivan's removal
    auto refused = v->groups()[0].admission;
    CHECK(refused.find("forged") != std::string::npos);
    CHECK(writer_of(*v, g).second == mailbox);
    auto forged_keys = EpochKeys::from_secret(g, epoch, chosen);
    auto boxes = v->mailboxes(&g);
    CHECK(std::find(boxes.begin(), boxes.end(), forged_keys.mailbox) == boxes.end());
    auto id = v->post(g, "Vera writes to the group");
    REQUIRE(id.has_value());
    CHECK(storage::parse_envelope(**v->envelope(*id))->mailbox == mailbox);
    deliver(*v, *a);
    CHECK(has_text(*a, g, "Vera writes to the group"));
}

TEST_CASE("a token proved forged by a rotation is exposed after a backup and restore too") {
    // As above, but Vera backs up and restores onto a new device between her token's add record
    // and the rotation: the restored store must still know the key came from a token.
    ExAdminAddedVera s;
    auto& [dir, a, i, v, g, add, up_to_add, epoch, mailbox] = s;
    const Bytes chosen(32, 0x67);
    REQUIRE(v->join(forge_welcome(*i, g, v->card(), epoch, chosen, add)).has_value());
    REQUIRE(v->ingest(up_to_add).has_value());
    CHECK(v->groups()[0].admission.empty());  // confirmed: Ivan was an admin when he added her

    const auto backup = dir.path() / "vera.age";
    auto written = v->write_backup(backup, as_bytes(std::string_view("backup pass")), false);
    INFO((written ? std::string() : written.error().what()));
    REQUIRE(written.has_value());
    RestoreOptions o;
    o.backup_passphrase = as_bytes(std::string_view("backup pass"));
    o.store_passphrase = as_bytes(std::string_view(kTestPassphrase));
    o.kdf = KdfProfile::fast;
    REQUIRE(Node::restore_backup(dir.path() / "v2", backup, o).has_value());
    auto restored = Node::open(dir.path() / "v2", as_bytes(std::string_view(kTestPassphrase)));
    REQUIRE(restored.has_value());
    auto& v2 = **restored;

    deliver(*a, v2);  // the rotations, Ivan's removal
    CHECK(writer_of(v2, g).second == mailbox);
    auto forged_keys = EpochKeys::from_secret(g, epoch, chosen);
    auto boxes = v2.mailboxes(&g);
    CHECK(std::find(boxes.begin(), boxes.end(), forged_keys.mailbox) == boxes.end());
    auto id = v2.post(g, "Vera, restored, writes to the group");
    REQUIRE(id.has_value());
    CHECK(storage::parse_envelope(**v2.envelope(*id))->mailbox == mailbox);
    deliver(v2, *a);
    CHECK(has_text(*a, g, "Vera, restored, writes to the group"));
}

TEST_CASE("a forged token that replaces a waiting honest one is exposed by the group's rotation") {
    // Clara joined Anna's token but has not synced; Boris gets her to join his forgery too,
    // which replaces the waiting one. Her first sync brings Anna's rotation and its grant.
    Pair p;
    TempDir dir;
    auto c = make_node(dir.path() / "c", "Clara");
    auto honest = p.a->add_member(p.group, card_to_text(c->card()), false, false);
    REQUIRE(honest.has_value());
    REQUIRE(c->join(*honest).has_value());
    deliver(*p.a, *p.b);
    const auto [epoch, mailbox] = writer_of(*p.a, p.group);
    auto forged = forge_welcome(*p.b, p.group, c->card(), epoch, Bytes(32, 0x33),
                                add_of(*p.a, p.group, c->me()));
    REQUIRE(c->join(forged).has_value());
    CHECK(c->groups()[0].admission.find("Boris") != std::string::npos);
    deliver(*p.a, *c);
    CHECK(c->groups()[0].admission.find("forged") != std::string::npos);
    CHECK(writer_of(*c, p.group).second == mailbox);
    REQUIRE(c->post(p.group, "Clara made it").has_value());
    deliver(*c, *p.a);
    CHECK(has_text(*p.a, p.group, "Clara made it"));
}
