#include <doctest/doctest.h>

#include "helpers.hpp"
#include "kolokol/objects/builtin_types.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/schema.hpp"

using namespace kolokol;
using namespace kolokol::objects;
using namespace kolokol::objects::test;

namespace {

const MemberKey kAlice = member(0x01);
const RecordId kCaseId = id("case");

// Validates `c` with the built-in types and returns the error code (ok when valid).
ObjectErrc check(const Change& c) {
    auto r = builtin_types().validate(c);
    if (r) return ObjectErrc::ok;
    return static_cast<ObjectErrc>(r.error().code.value());
}

std::string reason(const Change& c) {
    auto r = builtin_types().validate(c);
    return r ? std::string("ok") : r.error().message;
}

Change case_edit(std::map<std::string, std::string> fields) {
    return edit("e", "case", kCaseId, kAlice, 2, std::move(fields));
}

Change ledger(std::map<std::string, std::string> item) {
    return append("l", "case", kCaseId, kAlice, 2, "ledger", std::move(item));
}

}  // namespace

TEST_CASE("the built-in registry has the six DESIGN types and their lists") {
    const auto& r = builtin_types();
    CHECK(r.names() ==
          std::vector<std::string>{"alert", "case", "contact", "event", "report", "task"});
    REQUIRE(r.find("case"));
    CHECK(r.find("case")->list("timeline"));
    CHECK(r.find("case")->list("ledger"));
    CHECK(r.find("case")->list("attachments"));
    CHECK(r.find("event")->list("rsvp"));
    CHECK(r.find("task")->list("progress"));
    CHECK(r.find("contact")->list("vetting"));
    CHECK(r.find("report")->list("attachments"));
    CHECK(r.find("alert")->lists.empty());
    CHECK_FALSE(r.find("Case"));
}

TEST_CASE("well-formed changes pass") {
    CHECK(check(create("c", "case", kAlice, 1,
                       {{"person", "Иван Петров"},
                        {"detained_at", "2024-03-01T18:30:00Z"},
                        {"status", "detained"}})) == ObjectErrc::ok);
    CHECK(check(create("c", "alert", kAlice, 1)) == ObjectErrc::ok);  // a bare create
    CHECK(check(case_edit({{"lawyer", ""}})) == ObjectErrc::ok);      // "" clears
    CHECK(check(ledger({{"amount", "150.50"}, {"currency", "EUR"}, {"direction", "paid"}})) ==
          ObjectErrc::ok);
    CHECK(check(edit("t", "task", kCaseId, kAlice, 2,
                     {{"assignee", std::string(64, 'b')}, {"count", "12"}, {"target", "100"}})) ==
          ObjectErrc::ok);
}

TEST_CASE("each kind of bad change is refused with a clear reason") {
    SUBCASE("unknown type") {
        CHECK(check(create("c", "meeting", kAlice, 1)) == ObjectErrc::unknown_type);
        CHECK(reason(create("c", "meeting", kAlice, 1)) == "unknown object type 'meeting'");
    }
    SUBCASE("unknown field") {
        CHECK(check(case_edit({{"persn", "x"}})) == ObjectErrc::unknown_field);
        CHECK(reason(case_edit({{"persn", "x"}})) == "case: unknown field 'persn'");
        // Hostile names are quoted safely: cut short, non-printables replaced.
        CHECK(reason(case_edit({{"\x1b[31m" + std::string(100, 'x'), "x"}})) ==
              "case: unknown field '?[31m" + std::string(35, 'x') + "...'");
    }
    SUBCASE("oversized field") {
        CHECK(check(case_edit({{"person", std::string(200, 'a')}})) == ObjectErrc::ok);
        CHECK(check(case_edit({{"person", std::string(201, 'a')}})) == ObjectErrc::oversized_field);
        CHECK(reason(case_edit({{"person", std::string(201, 'a')}})) ==
              "case.person: 201 bytes, at most 200 allowed");
    }
    SUBCASE("bad text") {
        CHECK(check(case_edit({{"person", "a\x1b]0;pwned\x07"}})) == ObjectErrc::bad_value);
        CHECK(check(case_edit({{"person", "\xc0\xaf"}})) == ObjectErrc::bad_value);
    }
    SUBCASE("bad enum") {
        CHECK(check(case_edit({{"status", "free"}})) == ObjectErrc::bad_value);
        CHECK(reason(case_edit({{"status", "free"}})) ==
              "case.status: 'free' is not one of "
              "detained|charged|in_court|sentenced|released|closed");
        CHECK(check(case_edit({{"status", "Detained"}})) == ObjectErrc::bad_value);
    }
    SUBCASE("absurd date") {
        for (const char* d : {"1812-06-24T00:00:00Z", "2999-01-01T00:00:00Z",
                              "2024-02-30T10:00:00Z", "yesterday", "2024-03-01"}) {
            CAPTURE(d);
            CHECK(check(case_edit({{"detained_at", d}})) == ObjectErrc::bad_value);
        }
        CHECK(reason(case_edit({{"detained_at", "2999-01-01T00:00:00Z"}})) ==
              "case.detained_at: '2999-01-01T00:00:00Z' is not a UTC time "
              "YYYY-MM-DDTHH:MM:SSZ between 1900 and 2200");
    }
    SUBCASE("absurd amount and bad currency") {
        for (const char* a : {"10000000000000", "1e9", "-20", "3.141", "0x10"}) {
            CAPTURE(a);
            CHECK(check(ledger({{"amount", a}, {"currency", "EUR"}, {"direction", "paid"}})) ==
                  ObjectErrc::bad_value);
        }
        CHECK(check(ledger({{"amount", "5"}, {"currency", "euro"}, {"direction", "paid"}})) ==
              ObjectErrc::bad_value);
        CHECK(reason(ledger({{"amount", "5"}, {"currency", "euro"}, {"direction", "paid"}})) ==
              "case.ledger.currency: 'euro' is not a three-letter currency code");
    }
    SUBCASE("integer out of range, bad member key") {
        CHECK(check(edit("t", "task", kCaseId, kAlice, 2, {{"count", "-1"}})) ==
              ObjectErrc::bad_value);
        CHECK(check(edit("t", "task", kCaseId, kAlice, 2, {{"target", "1000000001"}})) ==
              ObjectErrc::bad_value);
        CHECK(check(edit("t", "task", kCaseId, kAlice, 2, {{"assignee", "alice"}})) ==
              ObjectErrc::bad_value);
        CHECK(check(edit("t", "task", kCaseId, kAlice, 2, {{"assignee", std::string(64, 'B')}})) ==
              ObjectErrc::bad_value);
    }
    SUBCASE("list not allowed") {
        CHECK(check(append("a", "alert", kCaseId, kAlice, 2, "timeline", {{"text", "x"}})) ==
              ObjectErrc::list_not_allowed);
        CHECK(check(append("a", "event", kCaseId, kAlice, 2, "ledger", {{"amount", "1"}})) ==
              ObjectErrc::list_not_allowed);
        CHECK(reason(append("a", "event", kCaseId, kAlice, 2, "ledger", {{"amount", "1"}})) ==
              "event has no list 'ledger'");
    }
    SUBCASE("too many fields") {
        std::map<std::string, std::string> many;
        for (int i = 0; i < 33; ++i) many["f" + std::to_string(i)] = "x";
        CHECK(check(case_edit(many)) == ObjectErrc::too_many_fields);
        CHECK(reason(case_edit(many)) == "case: 33 field writes, at most 32 allowed");
        std::map<std::string, std::string> item;
        for (int i = 0; i < 17; ++i) item["f" + std::to_string(i)] = "x";
        CHECK(check(ledger(item)) == ObjectErrc::too_many_fields);
    }
    SUBCASE("list items: unknown, missing and bad fields") {
        CHECK(check(ledger({{"amount", "5"}, {"currency", "EUR"}})) == ObjectErrc::missing_field);
        CHECK(reason(ledger({{"amount", "5"}, {"currency", "EUR"}})) ==
              "case.ledger: item needs direction");
        CHECK(check(ledger({{"amount", "5"}, {"currency", "EUR"}, {"direction", ""}})) ==
              ObjectErrc::missing_field);
        CHECK(check(ledger(
                  {{"amount", "5"}, {"currency", "EUR"}, {"direction", "paid"}, {"iban", "x"}})) ==
              ObjectErrc::unknown_field);
        CHECK(check(ledger({{"amount", "5"}, {"currency", "EUR"}, {"direction", "stolen"}})) ==
              ObjectErrc::bad_value);
    }
    SUBCASE("structurally empty changes") {
        CHECK(check(case_edit({})) == ObjectErrc::malformed_change);
        CHECK(check(append("a", "case", kCaseId, kAlice, 2, "timeline", {})) ==
              ObjectErrc::malformed_change);
        Change c = create("c", "case", kAlice, 1);
        c.record_id = {};
        CHECK(check(c) == ObjectErrc::malformed_change);
    }
}

TEST_CASE("a new type is one table entry; bad specs are refused") {
    TypeRegistry r;
    REQUIRE(r.add({"shift",
                   {FieldSpec::text("where", 100), FieldSpec::datetime("from"),
                    FieldSpec::integer("people", 1, 50)},
                   {{"checkin", {FieldSpec::member("who").needed()}}}}));
    CHECK(r.validate(create("s", "shift", kAlice, 1, {{"people", "5"}})));
    CHECK_FALSE(r.validate(create("s", "shift", kAlice, 1, {{"people", "51"}})));
    CHECK_FALSE(r.validate(create("s", "case", kAlice, 1)));  // not in this registry

    CHECK_FALSE(r.add({"shift", {}, {}}));  // duplicate
    CHECK_FALSE(r.add({"", {}, {}}));
    CHECK_FALSE(r.add({std::string(65, 'x'), {}, {}}));
    CHECK_FALSE(r.add({"a", {FieldSpec::text("x", 0)}, {}}));
    CHECK_FALSE(r.add({"b", {FieldSpec::text("x", 16 * 1024 + 1)}, {}}));
    CHECK_FALSE(r.add({"c", {FieldSpec::text("x", 5), FieldSpec::text("x", 5)}, {}}));
    CHECK_FALSE(r.add({"d", {FieldSpec::one_of("x", {})}, {}}));
    CHECK_FALSE(r.add({"e", {FieldSpec::integer("x", 5, 4)}, {}}));
    CHECK_FALSE(r.add({"f", {FieldSpec::text("x", 5).needed()}, {}}));
    CHECK_FALSE(r.add({"g", {FieldSpec::one_of("x", {"a", "b"}).or_default("c")}, {}}));
    CHECK_FALSE(r.add({"h", {}, {{"l", {FieldSpec::text("x", 5).or_default("y")}}}}));
    CHECK_FALSE(r.add({"g", {}, {{"l", {}}}}));
    CHECK_FALSE(
        r.add({"h", {}, {{"l", {FieldSpec::text("x", 5)}}, {"l", {FieldSpec::text("x", 5)}}}}));
    CHECK(r.names() == std::vector<std::string>{"shift"});
}

TEST_CASE("defaults live in the type table: a create gets them for the fields it leaves unset") {
    const auto& r = builtin_types();
    auto filled = [&](std::string type, std::map<std::string, std::string> fields) {
        Change c = create("d", std::move(type), kAlice, 1, std::move(fields));
        r.fill_defaults(c);
        CHECK(r.validate(c));
        return c.fields;
    };
    CHECK(filled("task", {{"title", "T"}}) ==
          std::map<std::string, std::string>{{"title", "T"}, {"status", "open"}});
    CHECK(filled("event", {}).at("status") == "planned");
    CHECK(filled("case", {{"status", ""}}).at("status") == "detained");
    CHECK(filled("case", {{"status", "charged"}}).at("status") == "charged");
    CHECK(filled("alert", {{"text", "x"}}).at("urgency") == "urgent");
    // Fields older versions lack get no default: a create must stay readable by them.
    CHECK_FALSE(filled("alert", {}).contains("status"));
    CHECK_FALSE(filled("contact", {}).contains("status"));
    CHECK_FALSE(filled("task", {}).contains("count"));
    // Only creates are filled in.
    Change e = edit("e", "task", kCaseId, kAlice, 2, {{"title", "U"}});
    r.fill_defaults(e);
    CHECK(e.fields.size() == 1);
    // Resolving an alert and removing a contact are field writes.
    CHECK(check(edit("r", "alert", kCaseId, kAlice, 2, {{"status", "resolved"}})) ==
          ObjectErrc::ok);
    CHECK(check(edit("r", "contact", kCaseId, kAlice, 2, {{"status", "removed"}})) ==
          ObjectErrc::ok);
    CHECK(check(edit("r", "alert", kCaseId, kAlice, 2, {{"status", "gone"}})) ==
          ObjectErrc::bad_value);
}
