#pragma once
// ObjectSet: coordination state as a deterministic fold of changes (DESIGN §6).
//
// Any set of changes, applied in any order and with any number of duplicates, gives the same
// state. The rules:
//   - a field is a last-writer-wins register; writes are ordered by (lamport, author bytes,
//     record id) and the greatest one that is not redacted holds the value ("" = cleared);
//   - a list is append-only; items are ordered by (lamport, record id), one per record;
//   - a change to an object whose create has not arrived is kept (pending) and folded in when
//     the create arrives; a change whose type differs from its object's type is refused;
//   - a carried copy (Change::carried) counts only where the object's create is not held: the
//     earliest copy then stands in for the create, copied writes rank below ordinary ones, and
//     a copied list item shows unless the item it copies is held (once per copied item);
//   - redact(id) removes that change's values wherever it is (or will be): its field writes
//     drop out of their registers (the next-latest write shows), its list item stays in place
//     marked redacted, with no fields;
//   - redact_copied(id, by) removes, from every carried copy, what it took from the write `id`
//     (each copied field names its source write and author, a copied item its item): a copy's
//     field or item drops out as a redacted write would, before or after the copy arrives.
// The set holds values only in memory; wiping persistent copies is the store's job.
//
// Not synchronised: one thread applies changes; const members may run concurrently with each
// other but not with apply/redact.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/objects/change.hpp"
#include "kolokol/objects/schema.hpp"

namespace kolokol::objects {

// The current value of a field and the write that set it.
struct FieldValue {
    std::string value;
    MemberKey author{};
    std::uint64_t lamport = 0;
    std::int64_t wall_clock_ms = 0;
    RecordId record_id{};
    // Set by a carried copy: the write it took the value from (zero otherwise, or when the
    // copy names none).
    CarriedSource carried_from{};

    bool operator==(const FieldValue&) const = default;
};

struct ListItem {
    RecordId record_id{};
    MemberKey author{};
    std::uint64_t lamport = 0;
    std::int64_t wall_clock_ms = 0;
    bool redacted = false;                      // then `fields` is empty
    std::map<std::string, std::string> fields;  // item field -> value
    RecordId carried_of{};          // a carried copy (on a stand-in): the item it copies; else zero
    MemberKey carried_of_author{};  // and that item's author, when the copy names it

    bool operator==(const ListItem&) const = default;
};

// A snapshot of one object, detached from the set (plain data, safe to keep and copy).
struct ObjectView {
    RecordId id{};
    std::string type;
    MemberKey created_by{};
    std::uint64_t created_lamport = 0;
    std::int64_t created_wall_clock_ms = 0;
    std::map<std::string, FieldValue, std::less<>> fields;  // only fields with a non-empty value
    std::map<std::string, std::vector<ListItem>, std::less<>>
        lists;  // only lists with at least one item
    // Marked by an admin as carried to members added without history.
    bool carried = false;
    // Known through a carried copy only: this member does not hold the object's create.
    bool carried_copy = false;

    // The field's value, or "" when it is unset or cleared.
    std::string_view get(std::string_view field) const;
    // The list's items in fold order; empty when there are none.
    const std::vector<ListItem>& list(std::string_view name) const;

    bool operator==(const ObjectView&) const = default;
};

// One step of an object's history, in fold order.
struct HistoryEntry {
    enum class Kind : std::uint8_t { created, field_set, list_append };

    Kind kind = Kind::field_set;
    RecordId record_id{};
    MemberKey author{};
    std::uint64_t lamport = 0;
    std::int64_t wall_clock_ms = 0;
    std::string name;  // the field (field_set) or the list (list_append); empty for created
    // field_set: the value shown before and after this write. old_value is nullopt when the
    // field had never been set. A redacted write has no new_value and changes nothing.
    std::optional<std::string> old_value;
    std::optional<std::string> new_value;
    std::map<std::string, std::string> item;  // list_append: the item (empty when redacted)
    bool redacted = false;

    bool operator==(const HistoryEntry&) const = default;
};

enum class ApplyOutcome : std::uint8_t {
    applied,    // folded into its object
    pending,    // kept until the object's create arrives
    duplicate,  // this record id was applied before; nothing changed
};

class ObjectSet {
public:
    // The set keeps its own copy of the registry.
    explicit ObjectSet(TypeRegistry registry);
    ObjectSet();  // with builtin_types()
    ~ObjectSet();
    ObjectSet(ObjectSet&&) noexcept;
    ObjectSet& operator=(ObjectSet&&) noexcept;
    ObjectSet(const ObjectSet&) = delete;
    ObjectSet& operator=(const ObjectSet&) = delete;

    // Folds one change. Fails, changing nothing, when the registry refuses it (see
    // TypeRegistry::validate) or when its object is known and of another type
    // (type_mismatch). Record ids identify changes: two changes with the same record id are
    // assumed identical (record id = hash of the envelope), the second is a duplicate.
    Result<ApplyOutcome> apply(Change change);

    // Redacts the change carried by `record_id`, whether it has been applied, is pending, or
    // has not arrived yet (it will be folded without its values). Idempotent. Ids that never
    // turn out to be object changes cost one set entry.
    void redact(const RecordId& record_id);
    bool is_redacted(const RecordId& record_id) const;
    // A redaction of `source` that stands: voids what carried copies took from it, now and in
    // copies applied later. `by` is the redaction's author when it is not an admin: then only
    // copies that name `by` as the source's author are voided (an admin's voids them all).
    // Idempotent; the order of redact_copied and apply does not matter.
    void redact_copied(const RecordId& source, const std::optional<MemberKey>& by);

    // Objects whose create has arrived.
    std::size_t object_count() const;
    // Changes waiting for their object's create.
    std::size_t pending_count() const;
    // Pending changes dropped when their create arrived with another type.
    std::size_t rejected_count() const;
    // Whether this record id has been applied or is pending.
    bool contains(const RecordId& record_id) const;

    // Ids of the objects of `type` (all types when empty), ordered by the create's
    // (lamport, record id).
    std::vector<RecordId> objects(std::string_view type = {}) const;
    // nullopt when the object's create has not arrived.
    std::optional<ObjectView> view(const RecordId& object_id) const;
    // Every change to the object in fold order (lamport, author bytes, record id): the create,
    // then each field write with the value before and after it, and each list append. Empty
    // when the object is unknown.
    std::vector<HistoryEntry> history(const RecordId& object_id) const;

    // A hash of the whole visible state (every object, every write in every register, every
    // list item, redaction marks; not pending changes). Equal states have equal digests.
    crypto::Hash32 digest() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace kolokol::objects
