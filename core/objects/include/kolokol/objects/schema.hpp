#pragma once
// Object types: which fields a type has, what each field may hold, and which append-only lists
// it carries. A type is one TypeSpec value; the built-in ones are a small table in
// builtin_types.cpp. TypeRegistry::validate is the one place that decides whether a change is
// well-formed; it depends only on the change and the registry, so every replica with the same
// registry accepts and refuses the same changes.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/crypto/error.hpp"
#include "kolokol/objects/change.hpp"

namespace kolokol::objects {

// No text field may allow more than this, whatever its spec says.
inline constexpr std::size_t kMaxTextBytes = 16 * 1024;

enum class FieldKind : std::uint8_t {
    text,         // display text (values.hpp) of at most max_bytes bytes
    enumeration,  // exactly one of `values`
    datetime,     // "YYYY-MM-DDTHH:MM:SSZ", years 1900..2200
    amount,       // decimal, ≤ 1e12, at most two decimals
    currency,     // three upper-case letters
    integer,      // decimal integer in [min, max]
    member,       // a member's Ed25519 key, 64 lower-case hex digits
    record,       // a record id (an attachment manifest, another object), 64 lower-case hex
};

struct FieldSpec {
    std::string name;
    FieldKind kind = FieldKind::text;
    std::size_t max_bytes = 0;        // text only
    std::vector<std::string> values;  // enumeration only
    std::int64_t min = 0;             // integer only
    std::int64_t max = 0;             // integer only
    bool required = false;            // list items only: must be present and non-empty
    // Type fields only: the value a create writes when it sets none (a task's status "open").
    // Empty: none. Kept to fields that every version knows, since a create that writes a
    // field an older version lacks is refused by that version.
    std::string default_value;

    static FieldSpec text(std::string name, std::size_t max_bytes);
    static FieldSpec one_of(std::string name, std::vector<std::string> values);
    static FieldSpec datetime(std::string name);
    static FieldSpec amount(std::string name);
    static FieldSpec currency(std::string name);
    static FieldSpec integer(std::string name, std::int64_t min, std::int64_t max);
    static FieldSpec member(std::string name);
    static FieldSpec record(std::string name);
    // The same spec, marked required (for list item schemas).
    FieldSpec needed() const;
    // The same spec with a default (for type fields).
    FieldSpec or_default(std::string value) const;
};

struct ListSpec {
    std::string name;
    std::vector<FieldSpec> item;

    const FieldSpec* field(std::string_view name) const;
};

struct TypeSpec {
    std::string name;
    std::vector<FieldSpec> fields;
    std::vector<ListSpec> lists;

    const FieldSpec* field(std::string_view name) const;
    const ListSpec* list(std::string_view name) const;
};

// Checks one value against its spec. An empty value is always valid (it clears the field);
// `where` names the field in the error message ("case.ledger.amount").
Status validate_value(const FieldSpec& spec, std::string_view value, std::string_view where);

// A set of types by name. Not synchronised: build it first, then share it read-only (const
// member functions are safe to call from several threads at once).
class TypeRegistry {
public:
    // Adds a type. Fails (malformed_change) on a duplicate or empty name, a name over
    // kMaxNameBytes, duplicate field or list names, a text limit of 0 or over kMaxTextBytes,
    // an empty enumeration, an integer range with min > max, `required` on a field of the
    // type itself (only list items may require fields), or a default on a list item field or
    // one its own spec refuses.
    Status add(TypeSpec spec);

    // nullptr when the type is unknown. The pointer stays valid until the registry is
    // destroyed or moved from.
    const TypeSpec* find(std::string_view name) const;
    std::vector<std::string> names() const;
    // Writes the type's defaults into a create for each field it leaves unset or empty. A
    // change that is not a create, or of an unknown type, is left as it is.
    void fill_defaults(Change& create) const;

    // Whether `change` is well-formed for its type: unknown_type, unknown_field,
    // oversized_field, bad_value (text, enum, date, amount, currency, integer, key),
    // list_not_allowed, too_many_fields (over kMaxFieldWrites or kMaxItemFields),
    // missing_field (a required item field), malformed_change (a change other than a create
    // that writes nothing, an append with no fields). The message says which field and why.
    // Whether the object exists or has this type is the fold's business (ObjectSet).
    Status validate(const Change& change) const;

private:
    std::map<std::string, TypeSpec, std::less<>> m_types;
};

}  // namespace kolokol::objects
