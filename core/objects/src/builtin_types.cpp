#include "kolokol/objects/builtin_types.hpp"

#include <cstdlib>

namespace kolokol::objects {

namespace {

using F = FieldSpec;

std::vector<TypeSpec> builtin_table() {
    const auto attachments =
        ListSpec{"attachments", {F::record("manifest").needed(), F::text("name", 255)}};
    return {
        {"event",
         {F::text("title", 200), F::datetime("starts"), F::datetime("ends"), F::text("place", 500),
          F::text("roles", 1000),
          F::one_of("status", {"planned", "confirmed", "cancelled", "done"}).or_default("planned")},
         {{"rsvp",
           {F::member("member"), F::one_of("answer", {"yes", "no", "maybe"}).needed(),
            F::text("role", 100)}}}},
        {"task",
         {F::text("title", 200), F::member("assignee"), F::datetime("due"),
          F::one_of("status", {"open", "done"}).or_default("open"),
          F::integer("count", 0, 1'000'000'000), F::integer("target", 0, 1'000'000'000)},
         {{"progress",
           {F::integer("count", -1'000'000'000, 1'000'000'000).needed(), F::text("note", 1000)}}}},
        {"case",
         {F::text("person", 200), F::text("alias", 200), F::datetime("detained_at"),
          F::text("detained_where", 500), F::text("charges", 4000), F::text("lawyer", 500),
          F::one_of("status",
                    {"detained", "charged", "in_court", "sentenced", "released", "closed"})
              .or_default("detained")},
         {{"timeline", {F::text("text", 4000).needed(), F::datetime("at")}},
          {"ledger",
           {F::amount("amount").needed(), F::currency("currency").needed(),
            F::one_of("direction", {"pledged", "received", "paid"}).needed(),
            F::text("purpose", 500)}},
          attachments}},
        {"contact",
         {F::text("name", 200), F::one_of("role", {"lawyer", "journalist", "medic", "other"}),
          F::text("reach", 1000), F::member("vetted_by"),
          F::one_of("status", {"active", "removed"})},
         {{"vetting",
           {F::one_of("verdict", {"vouch", "doubt", "withdraw"}).needed(),
            F::text("note", 1000)}}}},
        {"report",
         {F::text("place", 500), F::datetime("at"), F::text("category", 100),
          F::text("text", 8000)},
         {attachments}},
        {"alert",
         {F::text("text", 1000),
          F::one_of("urgency", {"normal", "urgent", "critical"}).or_default("urgent"),
          F::one_of("status", {"open", "resolved"})},
         {}},
    };
}

TypeRegistry build() {
    TypeRegistry registry;
    for (auto& spec : builtin_table()) {
        // The table is ours and fixed: a bad entry is a programming error caught by the unit
        // tests on the first run, not an input problem.
        if (!registry.add(std::move(spec))) std::abort();
    }
    return registry;
}

}  // namespace

const TypeRegistry& builtin_types() {
    static const TypeRegistry registry = build();
    return registry;
}

}  // namespace kolokol::objects
