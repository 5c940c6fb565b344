#include "kolokol/objects/schema.hpp"

#include <algorithm>
#include <set>

#include "kolokol/objects/error.hpp"
#include "kolokol/objects/values.hpp"
#include "quote.hpp"

namespace kolokol::objects {

// detail::quoted is always called qualified: unqualified, a std::string argument would bring
// std::quoted in by argument-dependent lookup wherever <iomanip> happens to be included.

FieldSpec FieldSpec::text(std::string name, std::size_t max_bytes) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = FieldKind::text;
    f.max_bytes = max_bytes;
    return f;
}
FieldSpec FieldSpec::one_of(std::string name, std::vector<std::string> values) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = FieldKind::enumeration;
    f.values = std::move(values);
    return f;
}
FieldSpec FieldSpec::datetime(std::string name) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = FieldKind::datetime;
    return f;
}
FieldSpec FieldSpec::amount(std::string name) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = FieldKind::amount;
    return f;
}
FieldSpec FieldSpec::currency(std::string name) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = FieldKind::currency;
    return f;
}
FieldSpec FieldSpec::integer(std::string name, std::int64_t min, std::int64_t max) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = FieldKind::integer;
    f.min = min;
    f.max = max;
    return f;
}
FieldSpec FieldSpec::member(std::string name) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = FieldKind::member;
    return f;
}
FieldSpec FieldSpec::record(std::string name) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = FieldKind::record;
    return f;
}
FieldSpec FieldSpec::needed() const {
    FieldSpec f = *this;
    f.required = true;
    return f;
}
FieldSpec FieldSpec::or_default(std::string value) const {
    FieldSpec f = *this;
    f.default_value = std::move(value);
    return f;
}

namespace {

template <class Spec>
const Spec* find_by_name(const std::vector<Spec>& specs, std::string_view name) {
    for (const auto& s : specs)
        if (s.name == name) return &s;
    return nullptr;
}

Status check_spec_fields(const std::vector<FieldSpec>& fields, std::string_view where,
                         bool allow_required) {
    std::set<std::string_view> names;
    for (const auto& f : fields) {
        const std::string at = std::string(where) + "." + f.name;
        if (f.name.empty() || f.name.size() > kMaxNameBytes)
            return fail(ObjectErrc::malformed_change, "{}: field name empty or too long", at);
        if (!names.insert(f.name).second)
            return fail(ObjectErrc::malformed_change, "{}: field declared twice", at);
        if (f.required && !allow_required)
            return fail(ObjectErrc::malformed_change, "{}: only list item fields may be required",
                        at);
        if (!f.default_value.empty() && allow_required)
            return fail(ObjectErrc::malformed_change, "{}: list item fields have no default", at);
        switch (f.kind) {
            case FieldKind::text:
                if (f.max_bytes == 0 || f.max_bytes > kMaxTextBytes)
                    return fail(ObjectErrc::malformed_change, "{}: text limit out of range", at);
                break;
            case FieldKind::enumeration:
                if (f.values.empty())
                    return fail(ObjectErrc::malformed_change, "{}: enumeration has no values", at);
                for (const auto& v : f.values)
                    if (v.empty() || !is_display_text(v))
                        return fail(ObjectErrc::malformed_change, "{}: bad enumeration value", at);
                break;
            case FieldKind::integer:
                if (f.min > f.max)
                    return fail(ObjectErrc::malformed_change, "{}: integer range is empty", at);
                break;
            default:
                break;
        }
    }
    if (fields.size() > kMaxItemFields && allow_required)
        return fail(ObjectErrc::malformed_change, "{}: list items may have at most 16 fields",
                    where);
    return {};
}

enum class Problem {
    none,
    too_long,
    bad_text,
    bad_enum,
    bad_date,
    bad_amount,
    bad_currency,
    bad_integer,
    bad_key
};

// The check itself, without building any message: this runs for every field of every change.
Problem value_problem(const FieldSpec& spec, std::string_view value) {
    if (value.empty()) return Problem::none;
    switch (spec.kind) {
        case FieldKind::text:
            if (value.size() > spec.max_bytes) return Problem::too_long;
            return is_display_text(value) ? Problem::none : Problem::bad_text;
        case FieldKind::enumeration:
            return std::find(spec.values.begin(), spec.values.end(), value) == spec.values.end()
                       ? Problem::bad_enum
                       : Problem::none;
        case FieldKind::datetime:
            return parse_datetime(value) ? Problem::none : Problem::bad_date;
        case FieldKind::amount:
            return parse_amount_cents(value) ? Problem::none : Problem::bad_amount;
        case FieldKind::currency:
            return is_currency_code(value) ? Problem::none : Problem::bad_currency;
        case FieldKind::integer: {
            auto v = parse_integer(value);
            return v && *v >= spec.min && *v <= spec.max ? Problem::none : Problem::bad_integer;
        }
        case FieldKind::member:
        case FieldKind::record:
            return parse_key_hex(value) ? Problem::none : Problem::bad_key;
    }
    return Problem::bad_text;
}

std::unexpected<Error> describe(const FieldSpec& spec, std::string_view value,
                                const std::string& at, Problem problem) {
    switch (problem) {
        case Problem::too_long:
            return fail(ObjectErrc::oversized_field, "{}: {} bytes, at most {} allowed", at,
                        value.size(), spec.max_bytes);
        case Problem::bad_enum: {
            std::string allowed;
            for (const auto& v : spec.values) allowed += (allowed.empty() ? "" : "|") + v;
            return fail(ObjectErrc::bad_value, "{}: {} is not one of {}", at, detail::quoted(value),
                        allowed);
        }
        case Problem::bad_date:
            return fail(ObjectErrc::bad_value,
                        "{}: {} is not a UTC time YYYY-MM-DDTHH:MM:SSZ between 1900 and 2200", at,
                        detail::quoted(value));
        case Problem::bad_amount:
            return fail(ObjectErrc::bad_value,
                        "{}: {} is not an amount from 0 to 1000000000000 with at most two decimals",
                        at, detail::quoted(value));
        case Problem::bad_currency:
            return fail(ObjectErrc::bad_value, "{}: {} is not a three-letter currency code", at,
                        detail::quoted(value));
        case Problem::bad_integer:
            return fail(ObjectErrc::bad_value, "{}: {} is not an integer from {} to {}", at,
                        detail::quoted(value), spec.min, spec.max);
        case Problem::bad_key:
            return fail(ObjectErrc::bad_value, "{}: {} is not 64 lower-case hex digits", at,
                        detail::quoted(value));
        case Problem::bad_text:
        case Problem::none:
            break;
    }
    return fail(ObjectErrc::bad_value, "{}: not valid UTF-8 text or contains control characters",
                at);
}

// `where` is the type name, `list` the list name for item fields (empty for the type's own
// fields); messages are built only when something is wrong.
Status check_writes(const std::map<std::string, std::string>& writes,
                    const std::vector<FieldSpec>& specs, std::string_view where,
                    std::string_view list) {
    auto prefix = [&] {
        std::string at(where);
        if (!list.empty()) (at += '.') += list;
        return at;
    };
    for (const auto& [name, value] : writes) {
        const auto* spec = find_by_name(specs, name);
        if (!spec)
            return fail(ObjectErrc::unknown_field, "{}: unknown field {}", prefix(),
                        detail::quoted(name));
        if (auto p = value_problem(*spec, value); p != Problem::none)
            return describe(*spec, value, prefix() + "." + spec->name, p);
    }
    return {};
}

}  // namespace

const FieldSpec* ListSpec::field(std::string_view n) const {
    return find_by_name(item, n);
}
const FieldSpec* TypeSpec::field(std::string_view n) const {
    return find_by_name(fields, n);
}
const ListSpec* TypeSpec::list(std::string_view n) const {
    return find_by_name(lists, n);
}

Status validate_value(const FieldSpec& spec, std::string_view value, std::string_view where) {
    const auto p = value_problem(spec, value);
    if (p == Problem::none) return {};
    return describe(spec, value, std::string(where), p);
}

Status TypeRegistry::add(TypeSpec spec) {
    if (spec.name.empty() || spec.name.size() > kMaxNameBytes)
        return fail(ObjectErrc::malformed_change, "type name empty or too long");
    if (m_types.contains(spec.name))
        return fail(ObjectErrc::malformed_change, "{}: type declared twice", spec.name);
    if (auto ok = check_spec_fields(spec.fields, spec.name, false); !ok) return ok;
    for (const auto& f : spec.fields)
        if (auto ok = validate_value(f, f.default_value, spec.name + "." + f.name + " default");
            !ok)
            return reclassify(make_error_code(ObjectErrc::malformed_change), ok.error());
    std::set<std::string_view> lists;
    for (const auto& l : spec.lists) {
        const std::string at = spec.name + "." + l.name;
        if (l.name.empty() || l.name.size() > kMaxNameBytes)
            return fail(ObjectErrc::malformed_change, "{}: list name empty or too long", at);
        if (!lists.insert(l.name).second)
            return fail(ObjectErrc::malformed_change, "{}: list declared twice", at);
        if (l.item.empty())
            return fail(ObjectErrc::malformed_change, "{}: list items have no fields", at);
        if (auto ok = check_spec_fields(l.item, at, true); !ok) return ok;
    }
    auto name = spec.name;
    m_types.emplace(std::move(name), std::move(spec));
    return {};
}

const TypeSpec* TypeRegistry::find(std::string_view name) const {
    auto it = m_types.find(name);
    return it == m_types.end() ? nullptr : &it->second;
}

std::vector<std::string> TypeRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& [name, spec] : m_types) out.push_back(name);
    return out;
}

void TypeRegistry::fill_defaults(Change& create) const {
    if (!create.is_create()) return;
    const auto* type = find(create.type);
    if (!type) return;
    for (const auto& f : type->fields) {
        if (f.default_value.empty()) continue;
        auto it = create.fields.find(f.name);
        if (it == create.fields.end() || it->second.empty())
            create.fields[f.name] = f.default_value;
    }
}

Status TypeRegistry::validate(const Change& change) const {
    const auto* type = find(change.type);
    if (!type)
        return fail(ObjectErrc::unknown_type, "unknown object type {}",
                    detail::quoted(change.type));
    const auto& name = type->name;

    // Counts first: cheap, and they bound the work of everything after.
    if (change.fields.size() > kMaxFieldWrites)
        return fail(ObjectErrc::too_many_fields, "{}: {} field writes, at most {} allowed", name,
                    change.fields.size(), kMaxFieldWrites);
    if (change.append && change.append->item.size() > kMaxItemFields)
        return fail(ObjectErrc::too_many_fields, "{}: list item has {} fields, at most {} allowed",
                    name, change.append->item.size(), kMaxItemFields);
    if (!change.is_create() && change.fields.empty() && !change.append && !change.carry_mark)
        return fail(ObjectErrc::malformed_change, "{}: change writes nothing", name);
    if (change.carried && change.is_create())
        return fail(ObjectErrc::malformed_change, "{}: a carried copy names its object", name);
    if (change.copies_item() && (!change.carried || !change.append))
        return fail(ObjectErrc::malformed_change, "{}: only a carried list item names an item",
                    name);
    if (change.carried_item_author != MemberKey{} && !change.copies_item())
        return fail(ObjectErrc::malformed_change,
                    "{}: only a carried list item names the item's author", name);
    if (!change.carried_from.empty() && !change.carried)
        return fail(ObjectErrc::malformed_change, "{}: only a carried copy names its sources",
                    name);
    for (const auto& [field, from] : change.carried_from)
        if (!change.fields.contains(field))
            return fail(ObjectErrc::malformed_change,
                        "{}: a carried copy names a source for a field it does not write", name);
    if (change.is_create() && change.record_id == RecordId{})
        return fail(ObjectErrc::malformed_change, "{}: create has no record id", name);

    if (auto ok = check_writes(change.fields, type->fields, name, {}); !ok) return ok;

    if (change.append) {
        const auto* list = type->list(change.append->list);
        if (!list)
            return fail(ObjectErrc::list_not_allowed, "{} has no list {}", name,
                        detail::quoted(change.append->list));
        if (change.append->item.empty())
            return fail(ObjectErrc::malformed_change, "{}.{}: appended item has no fields", name,
                        list->name);
        if (auto ok = check_writes(change.append->item, list->item, name, list->name); !ok)
            return ok;
        for (const auto& f : list->item) {
            if (!f.required) continue;
            auto it = change.append->item.find(f.name);
            if (it == change.append->item.end() || it->second.empty())
                return fail(ObjectErrc::missing_field, "{}.{}: item needs {}", name, list->name,
                            f.name);
        }
    }
    return {};
}

}  // namespace kolokol::objects
