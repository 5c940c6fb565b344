#include "kolokol/objects/views.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

#include "kolokol/objects/builtin_types.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/time_text.hpp"
#include "kolokol/objects/values.hpp"

namespace kolokol::objects {

Result<std::vector<LedgerTotal>> ledger_totals(const ObjectView& view) {
    if (view.type != kCase) return fail(ObjectErrc::type_mismatch, "ledger totals need a case");
    std::map<std::pair<std::string, std::string>, LedgerTotal> totals;
    for (const auto& item : view.list("ledger")) {
        if (item.redacted) continue;
        auto get = [&](const char* name) -> std::string {
            auto it = item.fields.find(name);
            return it == item.fields.end() ? std::string{} : it->second;
        };
        // Items were validated on the way in; anything unparsable here would be a bug
        // elsewhere, and is left out rather than counted as zero.
        auto cents = parse_amount_cents(get("amount"));
        auto currency = get("currency");
        auto direction = get("direction");
        if (!cents || currency.empty() || direction.empty()) continue;
        auto& t = totals[{currency, direction}];
        t.currency = currency;
        t.direction = direction;
        ++t.entries;
        if (__builtin_add_overflow(t.cents, *cents, &t.cents)) {
            t.cents = std::numeric_limits<std::int64_t>::max();
            t.saturated = true;
        }
    }
    std::vector<LedgerTotal> out;
    out.reserve(totals.size());
    for (auto& [key, t] : totals) out.push_back(std::move(t));
    return out;
}

Result<std::vector<Rsvp>> current_rsvps(const ObjectView& view) {
    if (view.type != kEvent) return fail(ObjectErrc::type_mismatch, "RSVPs need an event");
    std::map<MemberKey, Rsvp> latest;
    for (const auto& item : view.list("rsvp")) {
        if (item.redacted) continue;
        Rsvp r;
        r.member = item.author;
        if (auto m = item.fields.find("member"); m != item.fields.end() && !m->second.empty()) {
            auto key = parse_key_hex(m->second);
            if (!key) continue;
            r.member = *key;
        }
        auto answer = item.fields.find("answer");
        if (answer == item.fields.end() || answer->second.empty()) continue;
        r.answer = answer->second;
        if (auto role = item.fields.find("role"); role != item.fields.end()) r.role = role->second;
        r.record_id = item.record_id;
        latest[r.member] = std::move(r);
    }
    std::vector<Rsvp> out;
    out.reserve(latest.size());
    for (auto& [member, r] : latest) out.push_back(std::move(r));
    return out;
}

Result<TaskCount> task_count(const ObjectView& view) {
    if (view.type != kTask) return fail(ObjectErrc::type_mismatch, "a count needs a task");
    TaskCount out;
    for (const auto& item : view.list("progress")) {
        if (item.redacted) continue;
        auto it = item.fields.find("count");
        if (it == item.fields.end()) continue;
        // Validated on the way in; an unparsable one would be a bug elsewhere and is left out.
        auto n = parse_integer(it->second);
        if (!n) continue;
        ++out.entries;
        if (out.saturated) continue;
        if (__builtin_add_overflow(out.count, *n, &out.count)) {
            out.count = *n > 0 ? std::numeric_limits<std::int64_t>::max()
                               : std::numeric_limits<std::int64_t>::min();
            out.saturated = true;
        }
    }
    if (out.entries == 0) out.count = parse_integer(view.get("count")).value_or(0);
    return out;
}

Result<std::vector<TimelineEntry>> timeline_in_time_order(const ObjectView& view) {
    if (view.type != kCase) return fail(ObjectErrc::type_mismatch, "a timeline needs a case");
    std::vector<TimelineEntry> out;
    for (const auto& item : view.list("timeline")) {
        TimelineEntry e;
        e.item = item;
        e.at = seconds_of_ms(item.wall_clock_ms);
        if (auto it = item.fields.find("at"); it != item.fields.end()) {
            if (auto t = parse_datetime(it->second)) {
                e.at = *t;
                e.stated = true;
            }
        }
        out.push_back(std::move(e));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const TimelineEntry& a, const TimelineEntry& b) { return a.at < b.at; });
    return out;
}

bool is_active(const ObjectView& view) {
    const auto status = view.get("status");
    if (view.type == kTask) return status != "done";
    if (view.type == kAlert) return status != "resolved";
    if (view.type == kContact) return status != "removed";
    return true;
}

}  // namespace kolokol::objects
