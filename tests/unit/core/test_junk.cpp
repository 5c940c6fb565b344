// Junk: what a member cannot check — envelopes it cannot open, records by non-members waiting
// for references — takes at most the unverified quota (SECURITY.md invariant 44); a member's
// records and everything it can verify are never refused, and junk cannot change how real
// records are placed.

#include <doctest/doctest.h>

#include <algorithm>

#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/transport/sync_types.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"
#include "records.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {
constexpr std::size_t kNoise = storage::kEnvelopeMaxBytes;
const std::size_t kCharge = unverified_charge(kNoise, 0);

Bytes noise(const MailboxId& mailbox) {
    Bytes e;
    e.push_back(storage::kEnvelopeVersion);
    append(e, mailbox);
    auto rest = crypto::system_random().bytes(kNoise - e.size());
    append(e, rest);
    return e;
}
MailboxId random_mailbox() {
    return crypto::system_random().array<32>();
}

// A record in `epoch` of `group`, sealed with that epoch's key by a stranger (a fresh key), whose
// control head exists nowhere: it waits for ever.
Bytes stranger_waiting(Node& holder, const GroupId& group, const EpochId& epoch) {
    auto& impl = NodeTestAccess::impl(holder);
    auto author = crypto::sign_keypair();
    pb::RecordBody body;
    body.set_group_id(to_string(group));
    body.set_epoch_id(to_string(epoch));
    body.set_author(to_string(author.public_key));
    body.set_seq(1);
    body.set_lamport(7);
    body.set_wall_clock_ms(1);
    body.add_control_heads(to_string(crypto::system_random().bytes(32)));
    body.mutable_message()->set_text(std::string(8000, 'j'));
    return seal_record(body, author.secret_key, *impl.keys_for_epoch(epoch),
                       crypto::system_random());
}
}  // namespace

TEST_CASE("the unverified quota: envelopes for unknown mailboxes are kept up to it, then refused") {
    TempDir dir;
    auto n = make_node(dir.path() / "n", "Nina");
    CHECK(n->unverified_usage().quota == Node::kDefaultUnverifiedQuota);
    REQUIRE(n->set_unverified_quota(3 * kCharge).has_value());
    std::vector<Bytes> junk;
    for (int i = 0; i < 5; ++i) junk.push_back(noise(random_mailbox()));
    auto r = n->ingest(junk);
    REQUIRE(r.has_value());
    CHECK(r->unreadable == 5);
    CHECK(r->over_quota == 2);
    auto u = n->unverified_usage();
    CHECK(u.count == 3);
    CHECK(u.bytes == 3 * kCharge);
    // What was refused is not held, so a carrier may bring it again; what is held comes again as
    // a duplicate, not as a refusal.
    std::size_t held = 0;
    for (const auto& e : junk) held += n->envelope(storage::record_id_of(e))->has_value() ? 1 : 0;
    CHECK(held == 3);
    auto again = n->ingest(std::vector<Bytes>(junk.begin(), junk.begin() + 3));
    REQUIRE(again.has_value());
    CHECK(again->over_quota == 0);
    CHECK(n->unverified_usage().count == 3);
    // The usage survives a reopen, and so does the setting.
    n.reset();
    n = reopen(dir.path() / "n");
    CHECK(n->unverified_usage().count == 3);
    CHECK(n->unverified_usage().quota == 3 * kCharge);
    CHECK_FALSE(n->set_unverified_quota(Node::kMaxUnverifiedQuota + 1).has_value());
}

TEST_CASE("the unverified quota: lowering it drops the newest until the rest fit") {
    TempDir dir;
    auto n = make_node(dir.path() / "n", "Nina");
    std::vector<Bytes> junk;
    for (int i = 0; i < 4; ++i) junk.push_back(noise(random_mailbox()));
    for (const auto& e : junk) REQUIRE(n->ingest(std::vector<Bytes>{e})->unreadable == 1);
    REQUIRE(n->set_unverified_quota(2 * kCharge).has_value());
    CHECK(n->unverified_usage().count == 2);
    CHECK(n->envelope(storage::record_id_of(junk[0]))->has_value());
    CHECK(n->envelope(storage::record_id_of(junk[1]))->has_value());
    CHECK_FALSE(n->envelope(storage::record_id_of(junk[3]))->has_value());
    REQUIRE(n->set_unverified_quota(0).has_value());
    CHECK(n->unverified_usage().count == 0);
    CHECK(n->unverified_usage().bytes == 0);
    CHECK(n->ingest(std::vector<Bytes>{junk[0]})->over_quota == 1);
}

TEST_CASE("the unverified quota: strangers' waiting records count, members' do not") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto g = *a->create_group("G");
    auto token = a->add_member(g, card_to_text(b->card()), false, true);
    REQUIRE(b->join(*token).has_value());
    deliver(*a, *b);
    auto epoch = *NodeTestAccess::impl(*b).state(g).writer_epoch(b->me());
    REQUIRE(b->set_unverified_quota(20000).has_value());

    // Strangers holding the epoch's key (a removed member could): two fit, the rest are refused.
    std::vector<Bytes> waiting;
    for (int i = 0; i < 4; ++i) waiting.push_back(stranger_waiting(*a, g, epoch));
    auto r = b->ingest(waiting);
    REQUIRE(r.has_value());
    CHECK(r->pending == 2);
    CHECK(r->over_quota == 2);
    CHECK(b->unverified_usage().count == 2);

    // The carrier learns which were not stored.
    auto replica = b->replica();
    auto more = stranger_waiting(*a, g, epoch);
    auto flags =
        replica->put(storage::parse_envelope(more)->mailbox, std::vector<Bytes>{waiting[0], more});
    REQUIRE(flags.has_value());
    CHECK((*flags)[0]);  // held already
    CHECK_FALSE((*flags)[1]);

    // A member's records that arrive before their parents wait as always, quota or not.
    std::vector<RecordId> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(*a->post(g, "in order " + std::to_string(i)));
    std::vector<Bytes> reversed;
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) reversed.push_back(**a->envelope(*it));
    for (std::size_t i = 0; i + 1 < reversed.size(); ++i) {
        auto one = b->ingest(std::vector<Bytes>{reversed[i]});
        REQUIRE(one.has_value());
        CHECK(one->pending == 1);
        CHECK(one->over_quota == 0);
    }
    CHECK(b->unverified_usage().count == 2);
    auto last = b->ingest(std::vector<Bytes>{reversed.back()});
    REQUIRE(last.has_value());
    CHECK(last->added == 5);
    CHECK(texts(*b, g).back() == "in order 4");
}

TEST_CASE("the unverified quota: content a late joiner cannot read counts, and is still kept") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto c = make_node(dir.path() / "c", "Clara");
    auto g = *a->create_group("G");
    REQUIRE(a->post(g, "before Clara").has_value());
    auto token = a->add_member(g, card_to_text(c->card()), false, false);
    REQUIRE(c->join(*token).has_value());
    auto r = deliver(*a, *c);
    CHECK(r.unreadable >= 1);
    CHECK(r.over_quota == 0);
    const auto kept = c->unverified_usage();
    CHECK(kept.count == r.unreadable);
    // Noise in that old mailbox is indistinguishable from it: within the quota, and no further.
    MailboxId old{};
    for (const auto& mb : c->mailboxes(&g))
        if (!NodeTestAccess::impl(*c).epochs.at(mb).secret) old = mb;
    REQUIRE(old != MailboxId{});
    REQUIRE(c->set_unverified_quota(kept.bytes + 2 * kCharge).has_value());
    std::vector<Bytes> junk;
    for (int i = 0; i < 5; ++i) junk.push_back(noise(old));
    auto j = c->ingest(junk);
    REQUIRE(j.has_value());
    CHECK(j->over_quota == 3);
    CHECK(c->unverified_usage().bytes <= c->unverified_usage().quota);
    // Later content she can read is never refused.
    REQUIRE(a->post(g, "after Clara").has_value());
    auto later = deliver(*a, *c);
    CHECK(later.over_quota == 0);
    CHECK(texts(*c, g).back() == "after Clara");
}

TEST_CASE("junk: a stranger's waiting redaction cannot let a record skip its control heads") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto d = make_node(dir.path() / "d", "Dina");
    auto g = *a->create_group("G");
    auto token = a->add_member(g, card_to_text(b->card()), false, true);
    REQUIRE(b->join(*token).has_value());
    // A control record Dina will need, and Boris's message standing on it.
    auto dt = a->add_member(g, card_to_text(d->card()), false, true);
    REQUIRE(d->join(*dt).has_value());
    REQUIRE(a->set_relays(g, {"kolokol://127.0.0.1:9/" + std::string(52, 'a')}).has_value());
    deliver(*a, *b);
    auto msg = *b->post(g, "stands on the relay setting");
    auto& ai = NodeTestAccess::impl(*a);
    const auto control = ai.state(g).heads();
    REQUIRE(control.size() == 1);
    // Someone holding the epoch's key (a removed member keeps it) redacts that control record;
    // the redaction waits for ever, for a control head that exists nowhere.
    auto epoch = *ai.state(g).writer_epoch(a->me());
    auto author = crypto::sign_keypair();
    pb::RecordBody body;
    body.set_group_id(to_string(g));
    body.set_epoch_id(to_string(epoch));
    body.set_author(to_string(author.public_key));
    body.set_seq(1);
    body.set_lamport(3);
    body.set_wall_clock_ms(1);
    body.add_control_heads(to_string(crypto::system_random().bytes(32)));
    body.mutable_redaction()->set_target(to_string(control[0]));
    auto forged =
        seal_record(body, author.secret_key, *ai.keys_for_epoch(epoch), crypto::system_random());
    auto f = d->ingest(std::vector<Bytes>{forged});
    REQUIRE(f.has_value());
    CHECK(f->pending == 1);
    // Boris's message reaches Dina before the control record it stands on: it must wait, not
    // be placed without it (which would reject it for good).
    auto early = d->ingest(std::vector<Bytes>{**b->envelope(msg)});
    REQUIRE(early.has_value());
    CHECK(early->rejected == 0);
    CHECK(early->pending == 1);
    deliver(*a, *d);
    auto msgs = texts(*d, g);
    CHECK(std::find(msgs.begin(), msgs.end(), "stands on the relay setting") != msgs.end());
    CHECK(d->rejection_count() == 0);
}

TEST_CASE("the unverified quota: a record kept unread until its key came stops counting") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto c = make_node(dir.path() / "c", "Clara");
    auto g = *a->create_group("G");
    REQUIRE(b->join(*a->add_member(g, card_to_text(b->card()), false, true)).has_value());
    REQUIRE(c->join(*a->add_member(g, card_to_text(c->card()), false, true)).has_value());
    deliver(*a, *b);
    deliver(*a, *c);
    // Removing Clara rotates the key; Boris learns the new one only from the rotation.
    REQUIRE(a->remove_member(g, c->me()).has_value());
    auto secret = a->post(g, "after Clara left");
    REQUIRE(secret.has_value());
    const auto before = b->unverified_usage().count;
    auto first = b->ingest(std::vector<Bytes>{**a->envelope(*secret)});
    REQUIRE(first.has_value());
    CHECK(first->unreadable == 1);
    CHECK(b->unverified_usage().count == before + 1);

    // The rotation comes: the message is opened, applied, and no longer counted.
    deliver(*a, *b);
    CHECK(texts(*b, g).back() == "after Clara left");
    CHECK(b->unverified_usage().count == before);
}
