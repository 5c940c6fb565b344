#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/reconcile.hpp"

using namespace kolokol;
using namespace kolokol::transport;

namespace {

std::vector<RecordId> random_ids(crypto::Random& rng, std::size_t n) {
    std::vector<RecordId> ids(n);
    for (auto& id : ids) rng.fill(id);
    return ids;
}

struct Outcome {
    std::vector<RecordId> have;
    std::vector<RecordId> need;
    std::size_t round_trips = 0;
    std::size_t bytes_up = 0;    // initiator → responder
    std::size_t bytes_down = 0;  // responder → initiator
};

Outcome run(std::vector<RecordId> a, std::vector<RecordId> b,
            std::size_t max_bytes = kReconcileMaxMessageBytes) {
    Reconciler initiator(Reconciler::Role::initiator, std::move(a), {max_bytes});
    Reconciler responder(Reconciler::Role::responder, std::move(b), {max_bytes});
    Outcome out;
    auto msg = initiator.initiate();
    REQUIRE(msg.has_value());
    Bytes up = *msg;
    for (;;) {
        REQUIRE(up.size() <= max_bytes);
        out.bytes_up += up.size();
        auto reply = responder.reconcile(up);
        REQUIRE(reply.has_value());
        REQUIRE(reply->has_value());
        ++out.round_trips;
        REQUIRE((*reply)->size() <= max_bytes);
        out.bytes_down += (*reply)->size();
        auto next = initiator.reconcile(**reply);
        REQUIRE(next.has_value());
        for (auto& id : initiator.take_have()) out.have.push_back(id);
        for (auto& id : initiator.take_need()) out.need.push_back(id);
        if (!next->has_value()) break;
        REQUIRE(out.round_trips < 10'000);
        up = **next;
    }
    CHECK(initiator.done());
    std::sort(out.have.begin(), out.have.end());
    std::sort(out.need.begin(), out.need.end());
    return out;
}

// Two sets sharing `common` ids, with `only_a` ids only in a and `only_b` only in b.
struct Sets {
    std::vector<RecordId> a, b, a_only, b_only;
};
Sets make_sets(std::uint64_t seed, std::size_t common, std::size_t only_a, std::size_t only_b) {
    crypto::DeterministicRandom rng(seed);
    Sets s;
    auto shared = random_ids(rng, common);
    s.a_only = random_ids(rng, only_a);
    s.b_only = random_ids(rng, only_b);
    s.a = shared;
    s.a.insert(s.a.end(), s.a_only.begin(), s.a_only.end());
    s.b = shared;
    s.b.insert(s.b.end(), s.b_only.begin(), s.b_only.end());
    std::sort(s.a_only.begin(), s.a_only.end());
    std::sort(s.b_only.begin(), s.b_only.end());
    // Hand the reconcilers shuffled input: they must sort it themselves.
    std::reverse(s.a.begin(), s.a.end());
    return s;
}

void check_converges(const Sets& s, std::size_t max_bytes = kReconcileMaxMessageBytes) {
    auto out = run(s.a, s.b, max_bytes);
    CHECK(out.have.size() == s.a_only.size());
    CHECK(out.need.size() == s.b_only.size());
    CHECK(out.have == s.a_only);
    CHECK(out.need == s.b_only);
}

Bytes initial_message(std::size_t n, std::uint64_t seed = 7) {
    crypto::DeterministicRandom rng(seed);
    Reconciler r(Reconciler::Role::initiator, random_ids(rng, n));
    return *r.initiate();
}

Reconciler responder_of(std::size_t n, std::uint64_t seed = 7) {
    crypto::DeterministicRandom rng(seed);
    return Reconciler(Reconciler::Role::responder, random_ids(rng, n));
}

std::error_code error_of(Reconciler& r, const Bytes& msg) {
    auto res = r.reconcile(msg);
    REQUIRE_FALSE(res.has_value());
    return res.error().code;
}

RecordId id_with(std::uint8_t first, std::uint8_t fill = 0x11) {
    RecordId id;
    id.fill(fill);
    id[0] = first;
    return id;
}

}  // namespace

TEST_CASE("identical sets finish in one round trip") {
    auto s = make_sets(1, 100'000, 0, 0);
    auto out = run(s.a, s.b);
    CHECK(out.round_trips == 1);
    CHECK(out.have.empty());
    CHECK(out.need.empty());
}

TEST_CASE("one difference converges, from either side") {
    SUBCASE("only the initiator holds it") {
        check_converges(make_sets(2, 100'000, 1, 0));
    }
    SUBCASE("only the responder holds it") {
        check_converges(make_sets(3, 100'000, 0, 1));
    }
    SUBCASE("one in 100k takes two round trips") {
        auto out = run(make_sets(4, 100'000, 0, 1).a, make_sets(4, 100'000, 0, 1).b);
        CHECK(out.round_trips == 2);
        CHECK(out.need.size() == 1);
    }
}

TEST_CASE("100 differences converge") {
    check_converges(make_sets(5, 20'000, 50, 50));
    check_converges(make_sets(6, 20'000, 100, 0));
    check_converges(make_sets(7, 20'000, 0, 100));
}

TEST_CASE("10,000 differences converge, under the default and the smallest message cap") {
    auto s = make_sets(8, 50'000, 5'000, 5'000);
    check_converges(s);
    check_converges(s, kReconcileMinMessageBytes);
}

TEST_CASE("empty and small sets") {
    check_converges(make_sets(9, 0, 0, 0));
    check_converges(make_sets(10, 0, 0, 20'000));  // a fresh client against a full relay
    check_converges(make_sets(11, 0, 20'000, 0));  // a full client against an empty relay
    check_converges(make_sets(12, 0, 3, 5));
    check_converges(make_sets(13, 31, 1, 0));
    check_converges(make_sets(14, 20'000, 20'000, 20'000));  // disjoint halves
}

TEST_CASE("messages never exceed the cap and the remainder carries over") {
    auto s = make_sets(15, 0, 0, 10'000);
    auto out = run(s.a, s.b, kReconcileMinMessageBytes);
    CHECK(out.need == s.b_only);
    // 10,000 ids × 32 bytes cannot fit a few 4 KiB replies: it must have taken many rounds.
    CHECK(out.round_trips > 10'000 * 32 / kReconcileMinMessageBytes);
}

TEST_CASE("duplicates in the input are ignored") {
    auto s = make_sets(16, 1'000, 10, 10);
    auto a = s.a;
    a.insert(a.end(), s.a.begin(), s.a.begin() + 100);
    auto out = run(a, s.b);
    CHECK(out.have == s.a_only);
    CHECK(out.need == s.b_only);
}

TEST_CASE("fingerprint depends on the sum and the count") {
    ByteArray<32> sum{};
    auto f0 = reconcile_fingerprint(sum, 0);
    auto f1 = reconcile_fingerprint(sum, 1);
    CHECK(f0 != f1);
    sum[31] = 1;
    CHECK(reconcile_fingerprint(sum, 0) != f0);
    CHECK(reconcile_fingerprint(sum, 0) == reconcile_fingerprint(sum, 0));
}

TEST_CASE("state errors") {
    auto r = responder_of(10);
    CHECK_FALSE(r.initiate().has_value());
    Reconciler i(Reconciler::Role::initiator, {});
    // A reply before the first message is out of turn.
    CHECK(error_of(i, Bytes{kReconcileVersion}) == ReconcileErrc::wrong_state);
    REQUIRE(i.initiate().has_value());
    CHECK_FALSE(i.initiate().has_value());
    auto done = i.reconcile(Bytes{kReconcileVersion});
    REQUIRE(done.has_value());
    CHECK_FALSE(done->has_value());
    CHECK(i.done());
    CHECK(error_of(i, Bytes{kReconcileVersion}) == ReconcileErrc::wrong_state);
}

TEST_CASE("hostile messages are rejected with an error") {
    auto r = responder_of(1'000);

    SUBCASE("empty") {
        CHECK(error_of(r, Bytes{}) == ReconcileErrc::malformed);
    }
    SUBCASE("unknown version") {
        CHECK(error_of(r, Bytes{0x02}) == ReconcileErrc::unsupported_version);
    }
    SUBCASE("over the cap") {
        Bytes big(kReconcileMaxMessageBytes + 1, 0);
        big[0] = kReconcileVersion;
        CHECK(error_of(r, big) == ReconcileErrc::too_large);
    }
    SUBCASE("every truncation of a valid message") {
        auto msg = initial_message(1'000);
        REQUIRE(r.reconcile(msg).has_value());
        std::size_t rejected = 0;
        for (std::size_t len = 0; len < msg.size(); ++len) {
            Bytes cut(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(len));
            auto res = r.reconcile(cut);
            // A cut that falls exactly between two ranges is a shorter valid message.
            if (!res) {
                CHECK(res.error().code == ReconcileErrc::malformed);
                ++rejected;
            }
        }
        CHECK(rejected > msg.size() / 2);
    }
    SUBCASE("truncated id list") {
        auto msg = initial_message(10);  // under the threshold: one id list
        REQUIRE(msg.size() == 1 + 1 + 1 + 1 + 10 * 32);
        msg.pop_back();
        CHECK(error_of(r, msg) == ReconcileErrc::malformed);
    }
    SUBCASE("id count larger than the message") {
        Bytes msg{kReconcileVersion, 0, 2, 0xff, 0xff, 0x03};
        CHECK(error_of(r, msg) == ReconcileErrc::malformed);
    }
    SUBCASE("non-minimal and overflowing varints") {
        CHECK(error_of(r, Bytes{kReconcileVersion, 0, 2, 0x80, 0x00}) == ReconcileErrc::malformed);
        Bytes overflow{kReconcileVersion, 0, 2};
        for (int i = 0; i < 9; ++i) overflow.push_back(0xff);
        overflow.push_back(0x02);
        CHECK(error_of(r, overflow) == ReconcileErrc::malformed);
        Bytes endless{kReconcileVersion, 0, 2};
        for (int i = 0; i < 11; ++i) endless.push_back(0x80);
        CHECK(error_of(r, endless) == ReconcileErrc::malformed);
    }
    SUBCASE("unknown mode") {
        CHECK(error_of(r, Bytes{kReconcileVersion, 0, 3}) == ReconcileErrc::malformed);
    }
    SUBCASE("bound longer than an id") {
        Bytes msg{kReconcileVersion, 33};
        msg.resize(msg.size() + 33, 0x42);
        msg.push_back(0);
        CHECK(error_of(r, msg) == ReconcileErrc::malformed);
    }
    SUBCASE("bound with a trailing zero byte") {
        CHECK(error_of(r, Bytes{kReconcileVersion, 2, 0x42, 0x00, 0}) == ReconcileErrc::malformed);
    }
    SUBCASE("bounds that do not increase") {
        CHECK(error_of(r, Bytes{kReconcileVersion, 1, 0x42, 0, 1, 0x42, 0}) ==
              ReconcileErrc::out_of_order);
        CHECK(error_of(r, Bytes{kReconcileVersion, 1, 0x42, 0, 1, 0x10, 0}) ==
              ReconcileErrc::out_of_order);
        // Nothing may follow the end of the id space.
        CHECK(error_of(r, Bytes{kReconcileVersion, 0, 0, 1, 0x10, 0}) ==
              ReconcileErrc::out_of_order);
    }
    SUBCASE("ids out of order or outside their range") {
        auto list = [](std::vector<RecordId> ids, Bytes bound) {
            Bytes msg{kReconcileVersion};
            append(msg, bound);
            msg.push_back(2);
            msg.push_back(static_cast<std::uint8_t>(ids.size()));
            for (auto& id : ids) append(msg, id);
            return msg;
        };
        CHECK(error_of(r, list({id_with(0x20), id_with(0x10)}, {0})) ==
              ReconcileErrc::out_of_order);
        CHECK(error_of(r, list({id_with(0x20), id_with(0x20)}, {0})) ==
              ReconcileErrc::out_of_order);
        // The range ends at 0x30: an id at 0x40 does not belong in it.
        CHECK(error_of(r, list({id_with(0x20), id_with(0x40)}, {1, 0x30})) ==
              ReconcileErrc::out_of_order);
        // An id on the bound itself belongs to the next range.
        CHECK(error_of(r, list({id_with(0x30, 0x00)}, {1, 0x30})) == ReconcileErrc::out_of_order);
        // A well-formed list of the same shape is accepted.
        CHECK(r.reconcile(list({id_with(0x20), id_with(0x2f)}, {1, 0x30})).has_value());
    }
}

TEST_CASE("a rejected message changes nothing") {
    auto s = make_sets(17, 200, 5, 5);
    Reconciler initiator(Reconciler::Role::initiator, s.a);
    Reconciler responder(Reconciler::Role::responder, s.b);
    auto first = *initiator.initiate();
    auto reply = responder.reconcile(first);
    REQUIRE(reply.has_value());
    Bytes bad = **reply;
    bad.push_back(0x07);  // a trailing unknown-length bound
    CHECK_FALSE(initiator.reconcile(bad).has_value());
    CHECK(initiator.take_have().empty());
    CHECK(initiator.take_need().empty());
    CHECK(initiator.rounds() == 0);
    // The good reply still works and the exchange completes.
    auto next = initiator.reconcile(**reply);
    REQUIRE(next.has_value());
    std::set<RecordId> have, need;
    for (;;) {
        for (auto& id : initiator.take_have()) have.insert(id);
        for (auto& id : initiator.take_need()) need.insert(id);
        if (!next->has_value()) break;
        auto r = responder.reconcile(**next);
        REQUIRE(r.has_value());
        next = initiator.reconcile(**r);
        REQUIRE(next.has_value());
    }
    CHECK(have == std::set<RecordId>(s.a_only.begin(), s.a_only.end()));
    CHECK(need == std::set<RecordId>(s.b_only.begin(), s.b_only.end()));
}
