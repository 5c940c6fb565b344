// A large batch (64 envelopes or more) is opened on every core, then its signatures are checked on
// the workers in Lamport order while the node's thread applies each record once its check is done
// (WorkerPool::pipeline). What it applies and refuses must be exactly what one-by-one ingest does.

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"
#include "records.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {

// A message that claims `author` wrote it, signed by another key: it opens, its signature fails.
Bytes forged(Node& holder, const GroupId& group, const EpochId& epoch, const MemberKey& author,
             std::uint64_t lamport) {
    auto& impl = NodeTestAccess::impl(holder);
    pb::RecordBody body;
    body.set_group_id(to_string(group));
    body.set_epoch_id(to_string(epoch));
    body.set_author(to_string(author));
    // Seq 1 names no previous record, so the structural checks pass and the signature is what
    // fails (a later seq without `prev` is refused as malformed before any signature is checked).
    body.set_seq(1);
    body.set_lamport(lamport);
    body.set_wall_clock_ms(1);
    body.mutable_message()->set_text("forged");
    return seal_record(body, crypto::sign_keypair().secret_key, *impl.keys_for_epoch(epoch),
                       crypto::system_random());
}

std::multiset<RejectReason> reasons(Node& n) {
    std::multiset<RejectReason> out;
    for (const auto& r : n.rejections(1000)) out.insert(r.reason);
    return out;
}

}  // namespace

TEST_CASE("a large shuffled batch applies as one-by-one ingest does, refusing the same records") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto big = make_node(dir.path() / "big", "Boris");
    auto single = make_node(dir.path() / "single", "Boris2");
    auto g = *a->create_group("G");
    for (auto* n : {big.get(), single.get()})
        REQUIRE(n->join(*a->add_member(g, card_to_text(n->card()), false, true)).has_value());
    // Both hold every record before the batch (the second add included), so that what the batch
    // holds depends on nothing else.
    for (auto* n : {big.get(), single.get()}) deliver(*a, *n);
    const auto epoch = *NodeTestAccess::impl(*a).state(g).writer_epoch(a->me());

    std::vector<Bytes> batch;
    for (int i = 0; i < 150; ++i)
        batch.push_back(**a->envelope(*a->post(g, "message " + std::to_string(i))));
    for (std::uint64_t l = 3; l < 300; l += 60) batch.push_back(forged(*a, g, epoch, a->me(), l));
    // Two that do not even open: garbage in the group's mailbox.
    for (int i = 0; i < 2; ++i) {
        Bytes junk = batch.front();
        junk.back() ^= 0x5a;
        junk[junk.size() / 2] ^= static_cast<std::uint8_t>(i + 1);
        batch.push_back(junk);
    }
    std::mt19937 shuffle(7);
    std::shuffle(batch.begin(), batch.end(), shuffle);
    REQUIRE(batch.size() >= 64);

    auto r = big->ingest(batch);
    REQUIRE(r.has_value());
    CHECK(r->added == 150);
    CHECK(r->rejected == 7);
    CHECK(r->pending == 0);
    for (const auto& e : batch) REQUIRE(single->ingest(std::vector<Bytes>{e}).has_value());

    CHECK(texts(*big, g) == texts(*single, g));
    CHECK(texts(*big, g).back() == "message 149");
    CHECK(reasons(*big) == reasons(*single));
    CHECK(reasons(*big).count(RejectReason::bad_signature) == 5);
    CHECK(reasons(*big).count(RejectReason::undecryptable) == 2);

    // The same batch again: all duplicates, nothing checked twice into the store.
    auto again = big->ingest(batch);
    REQUIRE(again.has_value());
    CHECK(again->added == 0);
    CHECK(again->duplicate == batch.size());
}
