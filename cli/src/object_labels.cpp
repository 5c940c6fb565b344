#include "object_labels.hpp"

#include <utility>

// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

// TRANSLATORS: the msgids below are the English keys of object fields and values as stored
// (e.g. "detained_where"); translate them as a person reads them ("место задержания").
constexpr std::pair<std::string_view, const char*> kFields[] = {
    {"title", N_("title")},
    {"starts", N_("starts")},
    {"ends", N_("ends")},
    {"place", N_("place")},
    {"roles", N_("roles")},
    {"status", N_("status")},
    {"assignee", N_("assignee")},
    {"due", N_("due")},
    {"count", N_("count")},
    {"target", N_("target")},
    {"person", N_("person")},
    {"alias", N_("alias")},
    {"detained_at", N_("detained_at")},
    {"detained_where", N_("detained_where")},
    {"charges", N_("charges")},
    {"lawyer", N_("lawyer")},
    {"name", N_("name")},
    {"role", N_("role")},
    {"reach", N_("reach")},
    {"vetted_by", N_("vetted_by")},
    {"at", N_("at")},
    {"category", N_("category")},
    {"text", N_("text")},
    {"urgency", N_("urgency")},
    {"timeline", N_("timeline")},
    {"ledger", N_("ledger")},
    {"attachments", N_("attachments")},
    {"rsvp", N_("rsvp")},
    {"progress", N_("progress")},
    {"vetting", N_("vetting")},
    {"amount", N_("amount")},
    {"currency", N_("currency")},
    {"direction", N_("direction")},
    {"purpose", N_("purpose")},
    {"note", N_("note")},
    {"answer", N_("answer")},
    {"verdict", N_("verdict")},
};

struct ValueLabel {
    std::string_view field;
    std::string_view value;
    const char* label;
};
constexpr ValueLabel kValues[] = {
    {"status", "planned", N_("planned")},
    {"status", "confirmed", N_("confirmed")},
    {"status", "cancelled", N_("cancelled")},
    {"status", "done", N_("done")},
    {"status", "open", N_("open")},
    {"status", "detained", N_("detained")},
    {"status", "charged", N_("charged")},
    {"status", "in_court", N_("in_court")},
    {"status", "sentenced", N_("sentenced")},
    {"status", "released", N_("released")},
    {"status", "closed", N_("closed")},
    {"status", "resolved", N_("resolved")},
    {"status", "active", N_("active")},
    {"status", "removed", N_("removed")},
    {"answer", "yes", N_("yes")},
    {"answer", "no", N_("no")},
    {"answer", "maybe", N_("maybe")},
    {"direction", "pledged", N_("pledged")},
    {"direction", "received", N_("received")},
    {"direction", "paid", N_("paid")},
    {"role", "lawyer", N_("lawyer")},
    {"role", "journalist", N_("journalist")},
    {"role", "medic", N_("medic")},
    {"role", "other", N_("other")},
    {"urgency", "normal", N_("normal")},
    {"urgency", "urgent", N_("urgent")},
    {"urgency", "critical", N_("critical")},
    {"verdict", "vouch", N_("vouch")},
    {"verdict", "doubt", N_("doubt")},
    {"verdict", "withdraw", N_("withdraw")},
};

}  // namespace

std::string field_label(std::string_view field) {
    for (const auto& [key, label] : kFields)
        if (key == field) return _(label);
    return std::string(field);
}

std::string value_label(std::string_view field, std::string_view value) {
    for (const auto& v : kValues)
        if (v.field == field && v.value == value) return _(v.label);
    return std::string(value);
}

}  // namespace kolokol::cli
