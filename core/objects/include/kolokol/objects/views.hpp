#pragma once
// Derived figures over object snapshots: a case's ledger totals, an event's current RSVPs.
// Pure functions of an ObjectView, so every replica with the same state shows the same figures.

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

}  // namespace kolokol::objects
