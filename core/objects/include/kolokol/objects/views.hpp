#pragma once
// Derived figures over object snapshots: a case's ledger totals and timeline in time order, an
// event's current RSVPs, a task's count, whether an object is still in play. Pure functions of
// an ObjectView, so every replica with the same state shows the same figures.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kolokol/crypto/error.hpp"
#include "kolokol/objects/object_set.hpp"

namespace kolokol::objects {

struct LedgerTotal {
    std::string currency;   // "EUR"
    std::string direction;  // "pledged", "received" or "paid"
    std::int64_t cents = 0;
    std::size_t entries = 0;
    // The sum passed INT64_MAX hundredths (about 92,000 entries at the maximum amount) and
    // was clamped there; show it as "more than".
    bool saturated = false;

    bool operator==(const LedgerTotal&) const = default;
};

// Sums a case's ledger per (currency, direction), skipping redacted entries; ordered by
// currency then direction. Fails with type_mismatch when `view` is not a case.
Result<std::vector<LedgerTotal>> ledger_totals(const ObjectView& view);

struct Rsvp {
    MemberKey member{};  // the item's `member`, or its author when that is empty
    std::string answer;  // yes | no | maybe
    std::string role;
    RecordId record_id{};  // the item that gave this answer

    bool operator==(const Rsvp&) const = default;
};

// Each member's latest RSVP (the last in list order) for an event, ordered by member key.
// Redacted items are skipped, so a member's earlier answer shows again. Fails with
// type_mismatch when `view` is not an event.
Result<std::vector<Rsvp>> current_rsvps(const ObjectView& view);

struct TaskCount {
    std::int64_t count = 0;
    std::size_t entries = 0;  // progress items counted (0: the count is the legacy register)
    bool saturated = false;   // the sum passed the int64 range and was clamped
    bool operator==(const TaskCount&) const = default;
};

// A task's count, derived from its records as ledger totals are: the sum of its progress items'
// counts, redacted items skipped. Concurrent increments all count, in any order. A task with no
// progress items shows its `count` register (written directly, by another tool, or an older
// version's "0" at create); once it has items the register is ignored: older versions also
// wrote it as a running total read-then-written, which loses increments made at the same
// time, and the items hold every increment they made. Fails with type_mismatch when `view` is
// not a task.
Result<TaskCount> task_count(const ObjectView& view);

struct TimelineEntry {
    ListItem item;
    std::int64_t at = 0;  // seconds since 1970: the item's `at`, else its author's clock
    bool stated = false;  // the item states `at` (else `at` is when it was written)
    bool operator==(const TimelineEntry&) const = default;
};

// A case's timeline in time order: each item at the time it states (`at`), or else at its
// author's clock when written; equal times keep fold order. Redacted items have no `at` and
// stay at their writing time. Fails with type_mismatch when `view` is not a case.
Result<std::vector<TimelineEntry>> timeline_in_time_order(const ObjectView& view);

// Whether an object is still in play: a task not done, an alert not resolved, a contact not
// removed (an unset status counts as open and active); objects of other types always are.
bool is_active(const ObjectView& view);

}  // namespace kolokol::objects
