#include <doctest/doctest.h>

#include <limits>
#include <set>
#include <tuple>
#include <variant>

#include "helpers.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/object_set.hpp"
#include "kolokol/objects/schema.hpp"
#include "kolokol/objects/views.hpp"

using namespace kolokol;
using namespace kolokol::objects;
using namespace kolokol::objects::test;

namespace {

const MemberKey kA = member(0x01);
const MemberKey kB = member(0x02);
const MemberKey kC = member(0x03);
const MemberKey kD = member(0x04);

ObjectView must_view(const ObjectSet& set, const RecordId& id) {
    auto v = set.view(id);
    REQUIRE(v);
    return *v;
}

bool set_accepts(const Change& c) {
    ObjectSet set;
    return set.apply(c).has_value();
}

ApplyOutcome must_apply(ObjectSet& set, Change c) {
    auto r = set.apply(std::move(c));
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    return *r;
}

}  // namespace

TEST_CASE("last writer wins by (lamport, author bytes, record id)") {
    ObjectSet set;
    const auto c = id("case");
    must_apply(set, create("case", "case", kA, 1, {{"person", "Ivan"}}));

    SUBCASE("higher lamport beats higher author") {
        must_apply(set, edit("b", "case", c, kD, 2, {{"person", "by D at 2"}}));
        must_apply(set, edit("a", "case", c, kA, 3, {{"person", "by A at 3"}}));
        CHECK(must_view(set, c).get("person") == "by A at 3");
    }
    SUBCASE("same lamport: greater author bytes win") {
        must_apply(set, edit("x", "case", c, kC, 2, {{"person", "by C"}}));
        must_apply(set, edit("y", "case", c, kB, 2, {{"person", "by B"}}));
        const auto v = must_view(set, c);
        CHECK(v.get("person") == "by C");
        CHECK(v.fields.at("person").author == kC);
        CHECK(v.fields.at("person").record_id == id("x"));
        CHECK(v.fields.at("person").lamport == 2);
    }
    SUBCASE("same lamport and author: greater record id wins") {
        // An honest author never reuses a Lamport value, but the rule must still pick one.
        auto lo = id("r1") < id("r2") ? std::string("r1") : std::string("r2");
        auto hi = lo == "r1" ? std::string("r2") : std::string("r1");
        must_apply(set, edit(hi, "case", c, kB, 2, {{"person", "high id"}}));
        must_apply(set, edit(lo, "case", c, kB, 2, {{"person", "low id"}}));
        CHECK(must_view(set, c).get("person") == "high id");
    }
    SUBCASE("an older write arriving late does not win") {
        must_apply(set, edit("new", "case", c, kA, 5, {{"person", "new"}}));
        must_apply(set, edit("old", "case", c, kD, 4, {{"person", "old"}}));
        CHECK(must_view(set, c).get("person") == "new");
    }
    SUBCASE("an empty write clears the field") {
        must_apply(set, edit("clr", "case", c, kA, 2, {{"person", ""}}));
        const auto v = must_view(set, c);
        CHECK(v.get("person") == "");
        CHECK_FALSE(v.fields.contains("person"));
    }
}

TEST_CASE("lists are append-only, ordered by (lamport, record id), one item per record") {
    ObjectSet set;
    const auto c = id("case");
    // Delivered out of order, with a duplicate.
    must_apply(set, append("t3", "case", c, kA, 5, "timeline", {{"text", "court hearing"}}));
    must_apply(set, create("case", "case", kB, 1));
    must_apply(set, append("t1", "case", c, kD, 2, "timeline", {{"text", "detained"}}));
    must_apply(set, append("t2", "case", c, kA, 3, "timeline", {{"text", "lawyer arrived"}}));
    CHECK(must_apply(set, append("t1", "case", c, kD, 2, "timeline", {{"text", "detained"}})) ==
          ApplyOutcome::duplicate);
    // Two items at the same lamport order by record id, whoever wrote them.
    must_apply(set, append("s1", "case", c, kD, 4, "timeline", {{"text", "s1"}}));
    must_apply(set, append("s2", "case", c, kA, 4, "timeline", {{"text", "s2"}}));

    const auto items = must_view(set, c).list("timeline");
    REQUIRE(items.size() == 5);
    CHECK(items[0].fields.at("text") == "detained");
    CHECK(items[1].fields.at("text") == "lawyer arrived");
    const bool s1_first = id("s1") < id("s2");
    CHECK(items[2].fields.at("text") == (s1_first ? "s1" : "s2"));
    CHECK(items[3].fields.at("text") == (s1_first ? "s2" : "s1"));
    CHECK(items[4].fields.at("text") == "court hearing");
    CHECK(items[4].author == kA);
    CHECK(items[4].record_id == id("t3"));
    CHECK(must_view(set, c).list("ledger").empty());
}

TEST_CASE("changes to an unknown object wait for its create") {
    ObjectSet set;
    const auto e = id("event");
    CHECK(must_apply(set, edit("t", "event", e, kB, 3, {{"title", "Rally"}})) ==
          ApplyOutcome::pending);
    CHECK(must_apply(set, append("r", "event", e, kC, 4, "rsvp", {{"answer", "yes"}})) ==
          ApplyOutcome::pending);
    CHECK(must_apply(set, edit("t", "event", e, kB, 3, {{"title", "Rally"}})) ==
          ApplyOutcome::duplicate);
    CHECK(set.pending_count() == 2);
    CHECK(set.contains(id("t")));
    CHECK_FALSE(set.view(e));
    CHECK(set.object_count() == 0);

    CHECK(must_apply(set, create("event", "event", kA, 1, {{"title", "Meeting"}})) ==
          ApplyOutcome::applied);
    CHECK(set.pending_count() == 0);
    const auto v = must_view(set, e);
    CHECK(v.get("title") == "Rally");
    CHECK(v.list("rsvp").size() == 1);
    CHECK(set.objects() == std::vector<RecordId>{e});
}

TEST_CASE("a change of another type than its object is refused, before or after the create") {
    ObjectSet set;
    const auto c = id("case");
    // Arrives first: kept, then dropped when the create shows the object is a case.
    CHECK(must_apply(set, edit("early", "task", c, kB, 2, {{"title", "x"}})) ==
          ApplyOutcome::pending);
    must_apply(set, create("case", "case", kA, 1, {{"person", "Ivan"}}));
    CHECK(set.rejected_count() == 1);
    CHECK(set.pending_count() == 0);
    CHECK_FALSE(set.contains(id("early")));
    CHECK_FALSE(must_view(set, c).fields.contains("title"));

    // Arrives after: refused outright.
    auto r = set.apply(edit("late", "task", c, kB, 2, {{"title", "x"}}));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ObjectErrc::type_mismatch);
    CHECK(r.error().message == "change of type task to an object of type case");
    CHECK_FALSE(set.contains(id("late")));

    // Invalid changes are refused without being recorded.
    auto bad = set.apply(edit("bad", "case", c, kB, 2, {{"status", "vanished"}}));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ObjectErrc::bad_value);
    CHECK_FALSE(set.contains(id("bad")));
}

TEST_CASE("history lists each write with old and new value in fold order") {
    ObjectSet set;
    const auto c = id("case");
    // Delivered in reverse.
    must_apply(set, append("tl", "case", c, kD, 4, "timeline", {{"text", "moved to SIZO-1"}}));
    must_apply(set, edit("st", "case", c, kA, 3, {{"status", "detained"}}));
    must_apply(set, edit("pc", "case", c, kC, 2, {{"person", "Petrov"}}));
    must_apply(set, edit("pb", "case", c, kB, 2, {{"person", "Ivan Petrov"}}));
    must_apply(set, create("case", "case", kA, 1, {{"person", "Ivan"}}));

    auto h = set.history(c);
    REQUIRE(h.size() == 6);
    using K = HistoryEntry::Kind;
    CHECK(h[0].kind == K::created);
    CHECK(h[0].author == kA);
    CHECK(h[0].wall_clock_ms == 1000);

    CHECK(h[1].kind == K::field_set);
    CHECK(h[1].name == "person");
    CHECK(h[1].old_value == std::nullopt);
    CHECK(h[1].new_value == "Ivan");
    CHECK(h[1].record_id == id("case"));

    CHECK(h[2].author == kB);  // B before C at the same lamport: author order
    CHECK(h[2].old_value == "Ivan");
    CHECK(h[2].new_value == "Ivan Petrov");
    CHECK(h[3].author == kC);
    CHECK(h[3].old_value == "Ivan Petrov");
    CHECK(h[3].new_value == "Petrov");

    CHECK(h[4].name == "status");
    CHECK(h[4].old_value == std::nullopt);
    CHECK(h[4].new_value == "detained");
    CHECK(h[4].lamport == 3);

    CHECK(h[5].kind == K::list_append);
    CHECK(h[5].name == "timeline");
    CHECK(h[5].item.at("text") == "moved to SIZO-1");
    CHECK(h[5].author == kD);

    SUBCASE("a redacted write shows as redacted and changes nothing") {
        set.redact(id("pb"));
        auto r = set.history(c);
        REQUIRE(r.size() == 6);
        CHECK(r[2].redacted);
        CHECK(r[2].old_value == "Ivan");
        CHECK(r[2].new_value == std::nullopt);
        CHECK(r[3].old_value == "Ivan");  // C's write now follows A's directly
        CHECK(r[3].new_value == "Petrov");
    }
    CHECK(set.history(id("nothing")).empty());
}

TEST_CASE("redaction removes a change's values wherever it is, deterministically") {
    const auto c = id("case");
    auto changes = std::vector<Change>{
        create("case", "case", kA, 1, {{"person", "Ivan"}, {"charges", "art. 212"}}),
        edit("p2", "case", c, kB, 2, {{"person", "Ivan Petrov"}}),
        edit("p3", "case", c, kC, 3, {{"person", "Ivan P. (alias Vanya)"}}),
        append("l1", "case", c, kA, 4, "ledger",
               {{"amount", "100"}, {"currency", "EUR"}, {"direction", "paid"}}),
        append("l2", "case", c, kB, 5, "ledger",
               {{"amount", "40.50"}, {"currency", "EUR"}, {"direction", "paid"}}),
    };

    SUBCASE("the winner is redacted: the next-latest write shows") {
        ObjectSet set;
        for (auto ch : changes) must_apply(set, ch);
        CHECK(must_view(set, c).get("person") == "Ivan P. (alias Vanya)");
        set.redact(id("p3"));
        CHECK(set.is_redacted(id("p3")));
        auto v = must_view(set, c);
        CHECK(v.get("person") == "Ivan Petrov");
        CHECK(v.fields.at("person").record_id == id("p2"));
        set.redact(id("p2"));
        CHECK(must_view(set, c).get("person") == "Ivan");
        const auto before = set.digest();
        set.redact(id("p2"));  // idempotent
        CHECK(set.digest() == before);
    }
    SUBCASE("a redacted list item stays in place without values; totals skip it") {
        ObjectSet set;
        for (auto ch : changes) must_apply(set, ch);
        set.redact(id("l1"));
        auto v = must_view(set, c);
        const auto& ledger = v.list("ledger");
        REQUIRE(ledger.size() == 2);
        CHECK(ledger[0].redacted);
        CHECK(ledger[0].fields.empty());
        CHECK(ledger[0].author == kA);
        CHECK_FALSE(ledger[1].redacted);
        auto totals = ledger_totals(v);
        REQUIRE(totals);
        REQUIRE(totals->size() == 1);
        CHECK((*totals)[0].cents == 4050);
        CHECK((*totals)[0].entries == 1);
    }
    SUBCASE("redacting the create keeps the object but drops its values") {
        ObjectSet set;
        for (auto ch : changes) must_apply(set, ch);
        set.redact(id("case"));
        auto v = must_view(set, c);
        CHECK(v.get("charges") == "");
        CHECK(v.get("person") == "Ivan P. (alias Vanya)");
        CHECK(v.created_by == kA);
    }
    SUBCASE("redaction before arrival, while pending, or after: the same state") {
        ObjectSet after;
        for (auto ch : changes) must_apply(after, ch);
        after.redact(id("p3"));
        after.redact(id("l2"));
        after.redact(id("case"));

        ObjectSet before;
        before.redact(id("p3"));
        before.redact(id("l2"));
        before.redact(id("case"));
        for (auto ch : changes) must_apply(before, ch);

        ObjectSet pending;
        for (std::size_t i = 1; i < changes.size(); ++i) must_apply(pending, changes[i]);
        CHECK(pending.pending_count() == 4);
        pending.redact(id("p3"));
        pending.redact(id("l2"));
        pending.redact(id("case"));
        must_apply(pending, changes[0]);

        CHECK(before.digest() == after.digest());
        CHECK(pending.digest() == after.digest());
        CHECK(before.view(c) == after.view(c));
        CHECK(pending.history(c) == after.history(c));
        CHECK(must_view(after, c).get("person") == "Ivan Petrov");
    }
}

TEST_CASE("ledger totals per currency and direction") {
    ObjectSet set;
    const auto c = id("case");
    must_apply(set, create("case", "case", kA, 1));
    int n = 0;
    auto add = [&](std::string amount, std::string currency, std::string direction) {
        ++n;
        must_apply(set, append("l" + std::to_string(n), "case", c, kB, 1 + n, "ledger",
                               {{"amount", amount},
                                {"currency", currency},
                                {"direction", direction},
                                {"purpose", "parcel"}}));
    };
    add("100.50", "EUR", "paid");
    add("20", "EUR", "paid");
    add("500", "EUR", "pledged");
    add("15000", "RUB", "received");
    add("0.05", "EUR", "paid");
    auto totals = ledger_totals(must_view(set, c));
    REQUIRE(totals);
    CHECK(*totals == std::vector<LedgerTotal>{{"EUR", "paid", 12055, 3, false},
                                              {"EUR", "pledged", 50000, 1, false},
                                              {"RUB", "received", 1500000, 1, false}});

    ObjectSet events;
    must_apply(events, create("ev", "event", kA, 1));
    auto wrong = ledger_totals(must_view(events, id("ev")));
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == ObjectErrc::type_mismatch);
}

TEST_CASE("ledger totals saturate instead of overflowing") {
    ObjectView v;
    v.type = "case";
    auto& ledger = v.lists["ledger"];
    // 92,234 entries of the maximum amount pass INT64_MAX hundredths.
    ListItem item;
    item.fields = {{"amount", "1000000000000"}, {"currency", "USD"}, {"direction", "pledged"}};
    ledger.assign(92'234, item);
    auto totals = ledger_totals(v);
    REQUIRE(totals);
    REQUIRE(totals->size() == 1);
    CHECK((*totals)[0].saturated);
    CHECK((*totals)[0].cents == std::numeric_limits<std::int64_t>::max());
    CHECK((*totals)[0].entries == 92'234);
    ledger.resize(92'233);
    CHECK_FALSE((*ledger_totals(v))[0].saturated);
}

TEST_CASE("current RSVPs: each member's latest answer") {
    ObjectSet set;
    const auto e = id("event");
    must_apply(set, create("event", "event", kA, 1, {{"title", "Picket"}}));
    must_apply(set, append("r1", "event", e, kB, 2, "rsvp", {{"answer", "maybe"}}));
    must_apply(set,
               append("r2", "event", e, kB, 3, "rsvp", {{"answer", "yes"}, {"role", "medic"}}));
    must_apply(set, append("r3", "event", e, kA, 3, "rsvp",
                           {{"answer", "no"}, {"member", key_hex(kC)}}));  // on C's behalf
    auto rsvps = current_rsvps(must_view(set, e));
    REQUIRE(rsvps);
    REQUIRE(rsvps->size() == 2);
    CHECK((*rsvps)[0].member == kB);
    CHECK((*rsvps)[0].answer == "yes");
    CHECK((*rsvps)[0].role == "medic");
    CHECK((*rsvps)[1].member == kC);
    CHECK((*rsvps)[1].answer == "no");

    set.redact(id("r2"));
    rsvps = current_rsvps(must_view(set, e));
    REQUIRE(rsvps);
    CHECK((*rsvps)[0].answer == "maybe");
    CHECK((*rsvps)[0].record_id == id("r1"));
}

TEST_CASE("objects are listed by type in creation order") {
    ObjectSet set;
    must_apply(set, create("t2", "task", kA, 5));
    must_apply(set, create("c1", "case", kA, 2));
    must_apply(set, create("t1", "task", kB, 3));
    CHECK(set.objects("task") == std::vector<RecordId>{id("t1"), id("t2")});
    CHECK(set.objects("case") == std::vector<RecordId>{id("c1")});
    CHECK(set.objects() == std::vector<RecordId>{id("c1"), id("t1"), id("t2")});
    CHECK(set.objects("alert").empty());
    CHECK(set.object_count() == 3);
}

// ---- Convergence -----------------------------------------------------------------------------

namespace {

struct Redact {
    RecordId target;
};
using Action = std::variant<Change, Redact>;

struct Scenario {
    std::vector<Change> changes;
    std::vector<RecordId> redactions;
};

const std::vector<std::string> kCaseFields = {"person", "status", "lawyer", "charges"};
const std::vector<std::string> kStatuses = {"detained", "charged", "in_court", "released", ""};

// Several authors editing the same few fields of a few objects concurrently: Lamport values
// collide often, so the author and record-id tie-breaks are exercised.
Scenario make_scenario(std::uint64_t seed, std::size_t edits) {
    crypto::DeterministicRandom rng(seed);
    const std::vector<MemberKey> authors = {kA, kB, kC, kD};
    Scenario s;
    std::vector<RecordId> cases;
    for (int i = 0; i < 3; ++i) {
        const auto label = "case-" + std::to_string(seed) + "-" + std::to_string(i);
        s.changes.push_back(create(label, "case", authors[i], 1, {{"person", "p" + label}}));
        cases.push_back(id(label));
    }
    s.changes.push_back(create("ev-" + std::to_string(seed), "event", kA, 1));
    const auto event = id("ev-" + std::to_string(seed));
    for (std::size_t i = 0; i < edits; ++i) {
        const auto label = "ch-" + std::to_string(seed) + "-" + std::to_string(i);
        const auto& author = authors[rng.uniform(authors.size())];
        const auto lamport = 2 + rng.uniform(6);
        const auto& obj = cases[rng.uniform(cases.size())];
        switch (rng.uniform(5)) {
            case 0:
            case 1: {
                const auto& field = kCaseFields[rng.uniform(kCaseFields.size())];
                std::string value = field == "status" ? kStatuses[rng.uniform(kStatuses.size())]
                                                      : field + " v" + std::to_string(i);
                s.changes.push_back(edit(label, "case", obj, author, lamport, {{field, value}}));
                break;
            }
            case 2:
                s.changes.push_back(append(label, "case", obj, author, lamport, "timeline",
                                           {{"text", "entry " + std::to_string(i)}}));
                break;
            case 3:
                s.changes.push_back(append(label, "case", obj, author, lamport, "ledger",
                                           {{"amount", std::to_string(1 + rng.uniform(500))},
                                            {"currency", rng.uniform(2) ? "EUR" : "USD"},
                                            {"direction", "paid"}}));
                break;
            case 4:
                s.changes.push_back(append(label, "event", event, author, lamport, "rsvp",
                                           {{"answer", rng.uniform(2) ? "yes" : "no"}}));
                break;
        }
        if (rng.uniform(10) == 0) s.redactions.push_back(id(label));
    }
    // A change that claims the wrong type for its object: dropped the same way everywhere.
    s.changes.push_back(edit("wrong-" + std::to_string(seed), "task", cases[0], kB, 4,
                             {{"title", "not a case field"}}));
    return s;
}

void deliver(ObjectSet& set, const Scenario& s, crypto::Random& rng) {
    std::vector<Action> actions;
    for (const auto& c : s.changes) {
        actions.emplace_back(c);
        if (rng.uniform(3) == 0) actions.emplace_back(c);  // duplicates
    }
    for (const auto& r : s.redactions) actions.emplace_back(Redact{r});
    shuffle(actions, rng);
    for (auto& a : actions) {
        if (auto* c = std::get_if<Change>(&a)) {
            auto r = set.apply(std::move(*c));
            // Only the wrong-typed change may be refused (when its object is already known).
            if (!r) REQUIRE(r.error().code == ObjectErrc::type_mismatch);
        } else {
            set.redact(std::get<Redact>(a).target);
        }
    }
}

// The rule, computed independently: for each object and field, the greatest
// (lamport, author, record id) among writes that are not redacted.
std::map<std::pair<RecordId, std::string>, std::string> expected_fields(const Scenario& s) {
    const std::set<RecordId> redacted(s.redactions.begin(), s.redactions.end());
    std::map<std::pair<RecordId, std::string>,
             std::pair<std::tuple<std::uint64_t, MemberKey, RecordId>, std::string>>
        best;
    for (const auto& c : s.changes) {
        if (c.type == "task" || redacted.contains(c.record_id)) continue;
        for (const auto& [f, v] : c.fields) {
            auto key = std::make_tuple(c.lamport, c.author, c.record_id);
            auto& slot = best[{c.target(), f}];  // starts at lamport 0, below every write
            if (key > slot.first) slot = {key, v};
        }
    }
    std::map<std::pair<RecordId, std::string>, std::string> out;
    for (const auto& [k, v] : best)
        if (!v.second.empty()) out[k] = v.second;
    return out;
}

}  // namespace

TEST_CASE("convergence: hundreds of random orders with duplicates give identical state") {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        CAPTURE(seed);
        const auto scenario = make_scenario(seed, 120);

        ObjectSet reference;
        crypto::DeterministicRandom first(seed * 1000);
        deliver(reference, scenario, first);
        REQUIRE(reference.object_count() == 4);
        CHECK(reference.pending_count() == 0);

        // The state is the one the rule says.
        const auto expected = expected_fields(scenario);
        std::size_t checked = 0;
        for (const auto& obj : reference.objects("case")) {
            const auto v = must_view(reference, obj);
            for (const auto& field : kCaseFields) {
                auto it = expected.find({obj, field});
                CAPTURE(field);
                CHECK(v.get(field) == (it == expected.end() ? "" : it->second));
                ++checked;
            }
            CHECK_FALSE(v.fields.contains("title"));
            const auto& timeline = v.list("timeline");
            for (std::size_t i = 1; i < timeline.size(); ++i)
                CHECK(std::tie(timeline[i - 1].lamport, timeline[i - 1].record_id) <
                      std::tie(timeline[i].lamport, timeline[i].record_id));
        }
        CHECK(checked == 12);

        std::map<RecordId, ObjectView> views;
        std::map<RecordId, std::vector<HistoryEntry>> histories;
        for (const auto& obj : reference.objects()) {
            views[obj] = must_view(reference, obj);
            histories[obj] = reference.history(obj);
        }

        for (int order = 0; order < 150; ++order) {
            CAPTURE(order);
            ObjectSet replica;
            crypto::DeterministicRandom rng(seed * 1000 + 1 + static_cast<std::uint64_t>(order));
            deliver(replica, scenario, rng);
            REQUIRE(replica.digest() == reference.digest());
            REQUIRE(replica.objects() == reference.objects());
            for (const auto& [obj, view] : views) {
                REQUIRE(replica.view(obj) == view);
                REQUIRE(replica.history(obj) == histories[obj]);
            }
        }
    }
}

TEST_CASE("the digest tells different states apart") {
    ObjectSet a, b;
    must_apply(a, create("c", "case", kA, 1, {{"person", "x"}}));
    must_apply(b, create("c", "case", kA, 1, {{"person", "y"}}));
    CHECK(a.digest() != b.digest());
    ObjectSet c;
    must_apply(c, create("c", "case", kA, 1, {{"person", "x"}}));
    CHECK(a.digest() == c.digest());
    c.redact(id("c"));
    CHECK(a.digest() != c.digest());
}

// ---- Derived task counts -----------------------------------------------------------------------

namespace {

// Members count signatures at once, each from the same state (equal Lamport clocks): every
// increment is an item, some written as older versions did (with the running total in the
// `count` register, read then written), some corrected with a negative count, some redacted.
struct CountScenario {
    std::vector<Change> changes;
    std::vector<RecordId> redactions;
    std::int64_t expected = 0;
    std::size_t items = 0;
};

CountScenario make_count_scenario(std::uint64_t seed) {
    crypto::DeterministicRandom rng(seed);
    const std::vector<MemberKey> authors = {kA, kB, kC, kD};
    CountScenario s;
    const auto task = "task-" + std::to_string(seed);
    s.changes.push_back(create(task, "task", kA, 1, {{"title", "signatures"}, {"count", "0"}}));
    std::int64_t legacy_total = 0;
    for (int i = 0; i < 60; ++i) {
        const auto label = task + "-p" + std::to_string(i);
        const auto& author = authors[rng.uniform(authors.size())];
        // Few distinct clocks: most increments are concurrent with several others.
        const auto lamport = 2 + rng.uniform(4);
        const auto n = static_cast<std::int64_t>(rng.uniform(50)) - (rng.uniform(8) == 0 ? 60 : 0);
        auto c = append(label, "task", id(task), author, lamport, "progress",
                        {{"count", std::to_string(n)}});
        if (rng.uniform(2) == 0) {
            // An older version: it read the total it saw and wrote total + n beside the item.
            legacy_total = std::max<std::int64_t>(0, legacy_total / 2 + n);
            c.fields["count"] = std::to_string(legacy_total);
        }
        if (rng.uniform(9) == 0) {
            s.redactions.push_back(id(label));
        } else {
            s.expected += n;
            ++s.items;
        }
        s.changes.push_back(std::move(c));
    }
    return s;
}

}  // namespace

TEST_CASE("a task's count is the sum of its progress items, whatever the order") {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
        CAPTURE(seed);
        const auto s = make_count_scenario(seed);
        const auto task = s.changes.front().record_id;
        for (int order = 0; order < 100; ++order) {
            CAPTURE(order);
            crypto::DeterministicRandom rng(seed * 7919 + static_cast<std::uint64_t>(order));
            std::vector<Action> actions;
            for (const auto& c : s.changes) {
                actions.emplace_back(c);
                if (rng.uniform(4) == 0) actions.emplace_back(c);  // duplicates
            }
            for (const auto& r : s.redactions) actions.emplace_back(Redact{r});
            shuffle(actions, rng);
            ObjectSet set;
            for (auto& a : actions) {
                if (auto* c = std::get_if<Change>(&a))
                    REQUIRE(set.apply(std::move(*c)));
                else
                    set.redact(std::get<Redact>(a).target);
            }
            auto count = task_count(must_view(set, task));
            REQUIRE(count);
            CHECK(count->count == s.expected);
            CHECK(count->entries == s.items);
            CHECK_FALSE(count->saturated);
        }
    }
}

TEST_CASE("two members adding at once both count; the legacy register is only a fallback") {
    ObjectSet set;
    must_apply(set, create("t", "task", kA, 1, {{"title", "leaflets"}, {"count", "0"}}));
    // Both saw count 0 and wrote their total into the register, as older versions did: the
    // register shows one of them, the items hold both.
    must_apply(set, append("p1", "task", id("t"), kA, 2, "progress", {{"count", "250"}}));
    must_apply(set, append("p2", "task", id("t"), kB, 2, "progress", {{"count", "100"}}));
    must_apply(set, edit("r1", "task", id("t"), kA, 2, {{"count", "250"}}));
    must_apply(set, edit("r2", "task", id("t"), kB, 2, {{"count", "100"}}));
    auto v = must_view(set, id("t"));
    CHECK(v.get("count") == "100");  // the register lost an increment
    CHECK(task_count(v)->count == 350);
    CHECK(task_count(v)->entries == 2);

    // A task whose count was only ever written as a register (no items) shows the register.
    ObjectSet old;
    must_apply(old, create("u", "task", kA, 1, {{"count", "40"}}));
    CHECK(task_count(must_view(old, id("u"))) == TaskCount{40, 0, false});
    must_apply(old, create("w", "task", kA, 1));
    CHECK(task_count(must_view(old, id("w"))) == TaskCount{0, 0, false});

    // Past the int64 range (a registry with a wider item range), the sum is clamped and says so.
    TypeRegistry wide;
    REQUIRE(wide.add(
        {"task",
         {FieldSpec::integer("count", 0, 10)},
         {{"progress",
           {FieldSpec::integer("count", 0, std::numeric_limits<std::int64_t>::max()).needed()}}}}));
    ObjectSet big(std::move(wide));
    must_apply(big, create("b", "task", kA, 1));
    for (int i = 0; i < 3; ++i)
        must_apply(
            big, append("big" + std::to_string(i), "task", id("b"), kA, 2, "progress",
                        {{"count", std::to_string(std::numeric_limits<std::int64_t>::max() / 2)}}));
    CHECK(task_count(must_view(big, id("b")))->saturated);
    CHECK(task_count(must_view(big, id("b")))->count == std::numeric_limits<std::int64_t>::max());
    CHECK_FALSE(task_count(must_view(set, id("t"))) == TaskCount{});
    auto not_task = create("c", "case", kA, 1);
    ObjectSet cases;
    must_apply(cases, not_task);
    CHECK_FALSE(task_count(must_view(cases, id("c"))));
}

TEST_CASE("a case's timeline in time order: stated times first, else when written") {
    ObjectSet set;
    must_apply(set, create("c", "case", kA, 1));
    // Written in this order (Lamport 2..5), about times in another order.
    must_apply(set, append("n1", "case", id("c"), kA, 2, "timeline",
                           {{"text", "court hearing"}, {"at", "2026-03-03T09:00:00Z"}}));
    must_apply(set, append("n2", "case", id("c"), kB, 3, "timeline",
                           {{"text", "detained"}, {"at", "2026-03-01T18:30:00Z"}}));
    must_apply(set, append("n3", "case", id("c"), kA, 4, "timeline", {{"text", "no time given"}}));
    must_apply(set, append("n4", "case", id("c"), kB, 5, "timeline",
                           {{"text", "lawyer admitted"}, {"at", "2026-03-01T23:10:00Z"}}));
    set.redact(id("n1"));
    auto t = timeline_in_time_order(must_view(set, id("c")));
    REQUIRE(t);
    REQUIRE(t->size() == 4);
    // n3 and redacted n1 carry their authors' clocks (helpers: lamport × 1 s after 1970).
    CHECK((*t)[0].item.record_id == id("n1"));
    CHECK((*t)[0].item.redacted);
    CHECK_FALSE((*t)[0].stated);
    CHECK((*t)[1].item.record_id == id("n3"));
    CHECK((*t)[2].item.fields.at("text") == "detained");
    CHECK((*t)[2].stated);
    CHECK((*t)[3].item.fields.at("text") == "lawyer admitted");
    CHECK((*t)[3].at == *parse_datetime("2026-03-01T23:10:00Z"));
    CHECK_FALSE(timeline_in_time_order(must_view(set, id("c"))) == std::vector<TimelineEntry>{});
}

TEST_CASE("in play: tasks not done, alerts not resolved, contacts not removed") {
    ObjectSet set;
    must_apply(set, create("t", "task", kA, 1, {{"status", "open"}}));
    must_apply(set, create("a", "alert", kA, 1, {{"text", "x"}}));
    must_apply(set, create("k", "contact", kA, 1, {{"name", "M."}}));
    must_apply(set, create("e", "event", kA, 1, {{"status", "cancelled"}}));
    CHECK(is_active(must_view(set, id("t"))));
    CHECK(is_active(must_view(set, id("a"))));  // no status: open
    CHECK(is_active(must_view(set, id("k"))));  // no status: active
    CHECK(is_active(must_view(set, id("e"))));
    must_apply(set, edit("t2", "task", id("t"), kA, 2, {{"status", "done"}}));
    must_apply(set, edit("a2", "alert", id("a"), kB, 2, {{"status", "resolved"}}));
    must_apply(set, edit("k2", "contact", id("k"), kB, 2, {{"status", "removed"}}));
    CHECK_FALSE(is_active(must_view(set, id("t"))));
    CHECK_FALSE(is_active(must_view(set, id("a"))));
    CHECK_FALSE(is_active(must_view(set, id("k"))));
    // Reopened by a later write.
    must_apply(set, edit("a3", "alert", id("a"), kA, 3, {{"status", "open"}}));
    CHECK(is_active(must_view(set, id("a"))));
}

TEST_CASE("carried copies: nothing where the create is held, the object where it is not") {
    const auto c = id("contact");
    const auto made =
        create("contact", "contact", kA, 1, {{"name", "Ivanova"}, {"role", "lawyer"}});
    const auto vet = append("vet", "contact", c, kB, 2, "vetting", {{"verdict", "vouch"}});
    const auto reach = edit("reach", "contact", c, kA, 3, {{"reach", "+7 1"}});
    auto mark = edit("mark", "contact", c, kA, 4, {});
    mark.carry_mark = true;
    // What an admin writes into the new epoch at an add without history.
    auto copy = edit("copy", "contact", c, kA, 5,
                     {{"name", "Ivanova"}, {"role", "lawyer"}, {"reach", "+7 1"}});
    copy.carried = true;
    copy.carry_mark = true;
    auto copy_item = append("copy-item", "contact", c, kA, 6, "vetting", {{"verdict", "vouch"}});
    copy_item.carried = true;
    copy_item.carried_item = id("vet");
    // An edit in the old epoch concurrent with the copy, by someone who had not seen the add.
    const auto concurrent = edit("concurrent", "contact", c, kD, 6, {{"reach", "+7 2"}});
    // After the add, in the new epoch.
    const auto after = edit("after", "contact", c, kC, 8, {{"role", "other"}});

    crypto::DeterministicRandom rng(77);
    SUBCASE("a member holding the create sees exactly what it would without the copies") {
        ObjectSet plain;
        for (const auto& ch : {made, vet, reach, mark, concurrent, after}) must_apply(plain, ch);
        const auto want = must_view(plain, c);
        CHECK(want.get("reach") == "+7 2");
        CHECK(want.carried);
        CHECK_FALSE(want.carried_copy);
        std::vector<Change> all{made, vet, reach, mark, copy, copy_item, concurrent, after};
        for (int round = 0; round < 30; ++round) {
            shuffle(all, rng);
            ObjectSet set;
            for (const auto& ch : all) must_apply(set, ch);
            CHECK(must_view(set, c) == want);
            CHECK(set.history(c) == plain.history(c));
            CHECK(set.objects("contact") == std::vector<RecordId>{c});
        }
    }
    SUBCASE("a newcomer sees the object under its own id, through the copy, in any order") {
        auto second = copy;  // a later add's copy, also readable to this newcomer
        second.record_id = id("second");
        second.lamport = 9;
        second.fields["role"] = "other";
        auto second_item = copy_item;
        second_item.record_id = id("second-item");
        second_item.lamport = 10;
        std::vector<Change> seen{copy, copy_item, after, second, second_item};
        std::optional<ObjectView> first;
        for (int round = 0; round < 30; ++round) {
            shuffle(seen, rng);
            ObjectSet set;
            for (const auto& ch : seen) must_apply(set, ch);
            const auto v = must_view(set, c);
            CHECK(v.id == c);
            CHECK(v.type == "contact");
            CHECK(v.carried_copy);
            CHECK(v.carried);
            CHECK(v.get("name") == "Ivanova");
            CHECK(v.get("reach") == "+7 1");
            // The ordinary write after the add beats both copies, whatever their clocks.
            CHECK(v.get("role") == "other");
            CHECK(v.fields.at("role").record_id == id("after"));
            CHECK(v.created_lamport == 5);           // the earliest copy stands in for the create
            REQUIRE(v.list("vetting").size() == 1);  // one item, however many copies
            CHECK(v.list("vetting")[0].fields.at("verdict") == "vouch");
            if (!first) first = v;
            CHECK(v == *first);
        }
    }
    SUBCASE("the create arriving after the copies turns them off") {
        ObjectSet set;
        must_apply(set, copy);
        must_apply(set, copy_item);
        CHECK(must_view(set, c).carried_copy);
        for (const auto& ch : {made, vet, reach, mark}) must_apply(set, ch);
        ObjectSet plain;
        for (const auto& ch : {made, vet, reach, mark}) must_apply(plain, ch);
        CHECK(must_view(set, c) == must_view(plain, c));
    }
    SUBCASE("a copy is never a create, and only a copy names an item") {
        auto bad = create("bad", "contact", kA, 1, {{"name", "X"}});
        bad.carried = true;
        CHECK_FALSE(set_accepts(bad));
        auto item = append("item", "contact", c, kA, 2, "vetting", {{"verdict", "vouch"}});
        item.carried_item = id("vet");
        CHECK_FALSE(set_accepts(item));
        auto only_mark = edit("only-mark", "contact", c, kA, 2, {});
        only_mark.carry_mark = false;
        CHECK(set_accepts(only_mark));
    }
}

TEST_CASE("carried copies: a redaction of a source voids what the copy took, in any order") {
    // Boris (kB) created the contact with name and reach, Anna (kA, an admin) set the role and
    // vetted it; her copy names each field's and the item's source. The node calls
    // redact_copied(source, nullopt) for an admin's redaction, (source, author) for another's.
    const auto c = id("contact");
    auto copy = edit("copy", "contact", c, kA, 5,
                     {{"name", "Petrov"}, {"reach", "HOME"}, {"role", "lawyer"}});
    copy.carried = true;
    copy.carry_mark = true;
    copy.carried_from = {{"name", {c, kB}}, {"reach", {c, kB}}, {"role", {id("role"), kA}}};
    auto copy_item = append("copy-item", "contact", c, kA, 6, "vetting", {{"verdict", "vouch"}});
    copy_item.carried = true;
    copy_item.carried_item = id("vet");
    copy_item.carried_item_author = kA;
    const auto after = edit("after", "contact", c, kC, 8, {{"status", "removed"}});

    struct Void {
        RecordId source;
        std::optional<MemberKey> by;
    };
    auto fold = [&](std::vector<Change> changes, std::vector<Void> voids, bool voids_first) {
        ObjectSet set;
        if (voids_first)
            for (const auto& v : voids) set.redact_copied(v.source, v.by);
        for (auto& ch : changes) must_apply(set, ch);
        if (!voids_first)
            for (const auto& v : voids) set.redact_copied(v.source, v.by);
        return std::pair{must_view(set, c), set.digest()};
    };
    const std::vector<Change> all{copy, copy_item, after};

    SUBCASE("the author's own redaction voids his fields in the copy, not Anna's") {
        const auto [v, digest] = fold(all, {{c, kB}}, false);
        CHECK(v.get("name").empty());
        CHECK(v.get("reach").empty());
        CHECK(v.get("role") == "lawyer");
        CHECK(v.get("status") == "removed");
        REQUIRE(v.list("vetting").size() == 1);
        CHECK_FALSE(v.list("vetting")[0].redacted);
        // The same before the copy arrives, and in any order of the changes.
        crypto::DeterministicRandom rng(5);
        auto shuffled = all;
        for (int round = 0; round < 10; ++round) {
            shuffle(shuffled, rng);
            const auto [w, d] = fold(shuffled, {{c, kB}}, round % 2 == 0);
            CHECK(w == v);
            CHECK(d == digest);
        }
    }
    SUBCASE("another member's redaction voids nothing the copy took from someone else") {
        const auto [v, digest] = fold(all, {{id("role"), kC}, {id("vet"), kC}}, false);
        CHECK(v.get("role") == "lawyer");
        CHECK_FALSE(v.list("vetting")[0].redacted);
        CHECK(fold(all, {}, false).second == digest);
    }
    SUBCASE("an admin's redaction voids the source in every copy, items too") {
        for (const bool first : {false, true}) {
            const auto [v, digest] =
                fold(all, {{id("role"), std::nullopt}, {id("vet"), std::nullopt}}, first);
            CHECK(v.get("role").empty());
            CHECK(v.get("name") == "Petrov");
            REQUIRE(v.list("vetting").size() == 1);
            CHECK(v.list("vetting")[0].redacted);
            CHECK(v.list("vetting")[0].fields.empty());
        }
    }
    SUBCASE("a copy names sources only for fields it writes, and only a copy names any") {
        auto bad = copy;
        bad.carried_from["vetted_by"] = {c, kB};
        CHECK_FALSE(set_accepts(bad));
        auto plain = edit("plain", "contact", c, kA, 7, {{"reach", "x"}});
        plain.carried_from = {{"reach", {c, kB}}};
        CHECK_FALSE(set_accepts(plain));
        auto item = copy_item;
        item.carried_item = {};
        CHECK_FALSE(set_accepts(item));
    }
}
