#pragma once
// One change to a coordination object (DESIGN §6), as the fold sees it: the decoded ObjectOp
// payload of a record plus the record's id, author, Lamport clock and wall clock. Plain data,
// copyable, no protobuf types.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::objects {

using RecordId = ByteArray<32>;   // BLAKE2b-256 of the record's envelope
using MemberKey = ByteArray<32>;  // a member's Ed25519 public key

// Limits every change must keep (TypeRegistry::validate enforces them).
inline constexpr std::size_t kMaxFieldWrites = 32;  // field writes in one change
inline constexpr std::size_t kMaxItemFields = 16;   // fields of one appended list item
inline constexpr std::size_t kMaxNameBytes = 64;    // a type, field or list name

// Appends one item to an append-only list of the object (timeline, ledger, rsvp…).
struct ListAppend {
    std::string list;
    std::map<std::string, std::string> item;  // item field name -> value

    bool operator==(const ListAppend&) const = default;
};

// Where a carried copy took a field's value from: the write's record and its author.
struct CarriedSource {
    RecordId record{};
    MemberKey author{};

    bool operator==(const CarriedSource&) const = default;
};

struct Change {
    RecordId record_id{};            // the record carrying this change; unique per change
    MemberKey author{};              // the record's signer (already verified by core)
    std::uint64_t lamport = 0;       // the record's Lamport clock
    std::int64_t wall_clock_ms = 0;  // the author's clock: untrusted, display only
    std::string type;                // "event", "task", "case", …
    // The object changed: the record id of its creating change. All zero on a create, whose
    // object id is then its own record id.
    RecordId object_id{};
    std::map<std::string, std::string> fields;  // last-writer-wins writes; "" clears a field
    std::optional<ListAppend> append;
    // Set: marks (true) or unmarks (false) the object as carried to members added without
    // history, a last-writer-wins register of its own. Core lets only admins write it.
    std::optional<bool> carry_mark;
    // A copy of the object's state written into a new epoch for members added without history
    // (never a create). Its field writes rank below every ordinary write, so a member holding
    // the object sees nothing change; a member without the object's create sees the object
    // through it, with the same id (the earliest copy stands in for the create).
    bool carried = false;
    // On a carried list item: the record id of the item it copies (all zero otherwise). A copy
    // is hidden where that item is held, and only the first copy of an item shows.
    RecordId carried_item{};
    // On a carried copy: for each field it copies, the write it took the value from (copies
    // written before sources were named have none). A redaction of that write voids the field
    // in the copy: any admin's, or one by the author named here.
    std::map<std::string, CarriedSource> carried_from;
    // On a carried list item: the author of the item it copies (zero when not named).
    MemberKey carried_item_author{};

    bool is_create() const {
        for (auto b : object_id)
            if (b != 0) return false;
        return true;
    }
    // The object this change belongs to.
    const RecordId& target() const { return is_create() ? record_id : object_id; }
    bool copies_item() const {
        for (auto b : carried_item)
            if (b != 0) return true;
        return false;
    }

    bool operator==(const Change&) const = default;
};

}  // namespace kolokol::objects
