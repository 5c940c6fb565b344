#include "kolokol/objects/object_set.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "key_order.hpp"
#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/objects/builtin_types.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/values.hpp"

namespace kolokol::objects {

namespace {

// Field writes order by (lamport, author bytes, record id); ids and keys compare as unsigned
// bytes, lexicographically. A carried copy's writes rank below every ordinary write.
struct WriteKey {
    std::uint64_t lamport = 0;
    MemberKey author{};
    RecordId record_id{};
    bool carried = false;
    std::strong_ordering operator<=>(const WriteKey& o) const {
        if (auto c = o.carried <=> carried; c != 0) return c;
        if (auto c = lamport <=> o.lamport; c != 0) return c;
        if (auto c = detail::compare_ids(author, o.author); c != 0) return c;
        return detail::compare_ids(record_id, o.record_id);
    }
    bool operator==(const WriteKey&) const = default;
};

// List items order by (lamport, record id).
struct ItemKey {
    std::uint64_t lamport = 0;
    RecordId record_id{};
    std::strong_ordering operator<=>(const ItemKey& o) const {
        if (auto c = lamport <=> o.lamport; c != 0) return c;
        return detail::compare_ids(record_id, o.record_id);
    }
    bool operator==(const ItemKey&) const = default;
};

struct Write {
    std::int64_t wall_clock_ms = 0;
    std::optional<std::string> value;  // nullopt: redacted
    CarriedSource source{};            // a carried copy's: the write it copies
};

struct Item {
    MemberKey author{};
    std::int64_t wall_clock_ms = 0;
    bool redacted = false;
    std::map<std::string, std::string> fields;
    bool carried = false;
    RecordId carried_of{};  // a carried copy: the item it copies
    MemberKey carried_of_author{};
};

using Register = std::map<WriteKey, Write>;
using List = std::map<ItemKey, Item>;

struct Object {
    const TypeSpec* type = nullptr;
    WriteKey created;
    std::int64_t created_wall_clock_ms = 0;
    std::map<std::string, Register, std::less<>> fields;
    std::map<std::string, List, std::less<>> lists;
    Register carry;  // carry marks: "1" carried, "" not
    // No create held: the earliest carried copy stands in for it. Only then do carried copies
    // count; a member holding the create ignores them (they repeat what it holds).
    bool stand_in = false;
};

// Where a change went: its object, and the parts of its key that redaction needs to find its
// writes again.
struct Location {
    RecordId object{};
    std::uint64_t lamport = 0;
    MemberKey author{};
    bool pending = false;
    bool carried = false;
};

void wipe(std::string& s) {
    crypto::memzero(s);
    s.clear();
}

void wipe(std::map<std::string, std::string>& m) {
    for (auto& [k, v] : m) wipe(v);
    m.clear();
}

void wipe_values(Change& c) {
    for (auto& [k, v] : c.fields) wipe(v);
    if (c.append) wipe(c.append->item);
}

}  // namespace

struct ObjectSet::Impl {
    TypeRegistry registry;
    // Ordered maps rather than hash tables: record ids come from other members, who could
    // grind them to collide in an unkeyed hash; a tree's cost does not depend on the ids.
    std::map<RecordId, Object, detail::IdLess> objects;
    std::map<RecordId, std::vector<Change>, detail::IdLess> pending;  // by awaited object id
    std::size_t pending_total = 0;
    std::map<RecordId, Location, detail::IdLess> index;  // every applied or pending change
    std::set<RecordId, detail::IdLess> redacted;
    // Standing redactions of what carried copies copy (redact_copied): sources an admin
    // redacted, and for the others, the authors who redacted them.
    std::set<RecordId, detail::IdLess> copied_void_any;
    std::map<RecordId, std::set<MemberKey, detail::IdLess>, detail::IdLess> copied_void_by;
    // The objects holding a carried write or item taken from each source.
    std::map<RecordId, std::set<RecordId, detail::IdLess>, detail::IdLess> copies_of;
    std::size_t rejected = 0;

    bool source_void(const CarriedSource& s) const {
        if (s.record == RecordId{}) return false;
        if (copied_void_any.contains(s.record)) return true;
        auto by = copied_void_by.find(s.record);
        return by != copied_void_by.end() && s.author != MemberKey{} &&
               by->second.contains(s.author);
    }

    explicit Impl(TypeRegistry r) : registry(std::move(r)) {}

    // Folds the changes that waited for `target`'s create (or stand-in) into `obj`.
    void fold_waiting(const RecordId& target, Object& obj);

    void fold(Object& obj, Change& c) {
        const bool red = redacted.contains(c.record_id);
        const WriteKey key{c.lamport, c.author, c.record_id, c.carried};
        if (c.carry_mark)
            obj.carry.emplace(
                key,
                Write{c.wall_clock_ms,
                      red ? std::nullopt : std::optional<std::string>(*c.carry_mark ? "1" : "")});
        for (auto& [name, value] : c.fields) {
            Write w{c.wall_clock_ms, std::nullopt, {}};
            if (c.carried)
                if (auto from = c.carried_from.find(name); from != c.carried_from.end()) {
                    w.source = from->second;
                    if (w.source.record != RecordId{})
                        copies_of[w.source.record].insert(c.target());
                }
            if (red || source_void(w.source))
                wipe(value);
            else
                w.value = std::move(value);
            auto reg = obj.fields.find(name);
            if (reg == obj.fields.end()) reg = obj.fields.emplace(name, Register{}).first;
            reg->second.emplace(key, std::move(w));
        }
        if (c.append) {
            const CarriedSource from{c.carried ? c.carried_item : RecordId{},
                                     c.carried_item_author};
            if (from.record != RecordId{}) copies_of[from.record].insert(c.target());
            const bool gone = red || source_void(from);
            Item item{c.author,       c.wall_clock_ms,      gone, {}, c.carried,
                      c.carried_item, c.carried_item_author};
            if (gone)
                wipe(c.append->item);
            else
                item.fields = std::move(c.append->item);
            auto list = obj.lists.find(c.append->list);
            if (list == obj.lists.end()) list = obj.lists.emplace(c.append->list, List{}).first;
            list->second.emplace(ItemKey{c.lamport, c.record_id}, std::move(item));
        }
    }
};

void ObjectSet::Impl::fold_waiting(const RecordId& target, Object& obj) {
    auto waiting = pending.find(target);
    if (waiting == pending.end()) return;
    auto changes = std::move(waiting->second);
    pending.erase(waiting);
    pending_total -= changes.size();
    for (auto& c : changes) {
        // The create decides the type. A change that claimed another type was valid for that
        // type only; folding it here would write fields this type does not have. Every
        // replica drops it the same way.
        if (c.type != obj.type->name) {
            ++rejected;
            index.erase(c.record_id);
            wipe_values(c);
            continue;
        }
        index[c.record_id].pending = false;
        fold(obj, c);
    }
}

ObjectSet::ObjectSet(TypeRegistry registry) : m_impl(std::make_unique<Impl>(std::move(registry))) {}
ObjectSet::ObjectSet() : ObjectSet(builtin_types()) {}
ObjectSet::~ObjectSet() = default;
ObjectSet::ObjectSet(ObjectSet&&) noexcept = default;
ObjectSet& ObjectSet::operator=(ObjectSet&&) noexcept = default;

Result<ApplyOutcome> ObjectSet::apply(Change change) {
    auto& s = *m_impl;
    if (auto ok = s.registry.validate(change); !ok) return std::unexpected(ok.error());
    if (s.index.contains(change.record_id)) return ApplyOutcome::duplicate;

    const RecordId target = change.target();
    Location loc{target, change.lamport, change.author, false, change.carried};
    const WriteKey key{change.lamport, change.author, change.record_id, change.carried};

    if (change.is_create()) {
        auto existing = s.objects.find(target);
        if (existing != s.objects.end() && existing->second.type->name != change.type) {
            // A carried copy stood in with another type: the create decides, and what was
            // folded into the stand-in goes, as a change of the wrong type would.
            for (auto at = s.index.begin(); at != s.index.end();)
                at = at->second.object == target ? s.index.erase(at) : std::next(at);
            ++s.rejected;
            s.objects.erase(existing);
        }
        // A create's record id is new (checked above): the object is new or a stand-in.
        Object& obj = s.objects[target];
        obj.type = s.registry.find(change.type);
        obj.created = key;
        obj.created_wall_clock_ms = change.wall_clock_ms;
        obj.stand_in = false;
        s.index.emplace(change.record_id, loc);
        s.fold(obj, change);
        s.fold_waiting(target, obj);
        return ApplyOutcome::applied;
    }

    auto it = s.objects.find(target);
    if (it != s.objects.end()) {
        if (it->second.type->name != change.type)
            return fail(ObjectErrc::type_mismatch, "change of type {} to an object of type {}",
                        change.type, it->second.type->name);
        Object& obj = it->second;
        // The earliest copy stands in for the create, whatever order copies arrive in.
        if (obj.stand_in && change.carried &&
            std::tie(change.lamport, change.record_id) <
                std::tie(obj.created.lamport, obj.created.record_id)) {
            obj.created = key;
            obj.created_wall_clock_ms = change.wall_clock_ms;
        }
        s.index.emplace(change.record_id, loc);
        s.fold(obj, change);
        return ApplyOutcome::applied;
    }

    if (change.carried) {
        // The create is not held (it is in an epoch this member cannot read, or still to
        // come): the copy stands in for it until it arrives.
        Object& obj = s.objects[target];
        obj.type = s.registry.find(change.type);
        obj.created = key;
        obj.created_wall_clock_ms = change.wall_clock_ms;
        obj.stand_in = true;
        s.index.emplace(change.record_id, loc);
        s.fold(obj, change);
        s.fold_waiting(target, obj);
        return ApplyOutcome::applied;
    }

    loc.pending = true;
    s.index.emplace(change.record_id, loc);
    if (s.redacted.contains(change.record_id)) wipe_values(change);
    s.pending[target].push_back(std::move(change));
    ++s.pending_total;
    return ApplyOutcome::pending;
}

void ObjectSet::redact(const RecordId& record_id) {
    auto& s = *m_impl;
    if (!s.redacted.insert(record_id).second) return;
    auto loc = s.index.find(record_id);
    if (loc == s.index.end()) return;  // folded without values when it arrives
    const Location& at = loc->second;

    if (at.pending) {
        for (auto& c : s.pending[at.object])
            if (c.record_id == record_id) wipe_values(c);
        return;
    }
    auto obj = s.objects.find(at.object);
    if (obj == s.objects.end()) return;
    const WriteKey key{at.lamport, at.author, record_id, at.carried};
    if (auto w = obj->second.carry.find(key); w != obj->second.carry.end() && w->second.value)
        w->second.value.reset();
    for (auto& [name, reg] : obj->second.fields) {
        auto w = reg.find(key);
        if (w == reg.end() || !w->second.value) continue;
        wipe(*w->second.value);
        w->second.value.reset();
    }
    for (auto& [name, list] : obj->second.lists) {
        auto item = list.find(ItemKey{at.lamport, record_id});
        if (item == list.end()) continue;
        wipe(item->second.fields);
        item->second.redacted = true;
    }
}

void ObjectSet::redact_copied(const RecordId& source, const std::optional<MemberKey>& by) {
    auto& s = *m_impl;
    if (by ? !s.copied_void_by[source].insert(*by).second
           : !s.copied_void_any.insert(source).second)
        return;
    auto objects = s.copies_of.find(source);
    if (objects == s.copies_of.end()) return;  // copies arriving later are folded without it
    for (const auto& id : objects->second) {
        auto obj = s.objects.find(id);
        if (obj == s.objects.end()) continue;
        for (auto& [name, reg] : obj->second.fields)
            for (auto& [key, w] : reg) {
                if (!key.carried || !w.value || w.source.record != source ||
                    !s.source_void(w.source))
                    continue;
                wipe(*w.value);
                w.value.reset();
            }
        for (auto& [name, list] : obj->second.lists)
            for (auto& [key, item] : list) {
                if (!item.carried || item.redacted || item.carried_of != source ||
                    !s.source_void({item.carried_of, item.carried_of_author}))
                    continue;
                wipe(item.fields);
                item.redacted = true;
            }
    }
}

bool ObjectSet::is_redacted(const RecordId& record_id) const {
    return m_impl->redacted.contains(record_id);
}
std::size_t ObjectSet::object_count() const {
    return m_impl->objects.size();
}
std::size_t ObjectSet::pending_count() const {
    return m_impl->pending_total;
}
std::size_t ObjectSet::rejected_count() const {
    return m_impl->rejected;
}
bool ObjectSet::contains(const RecordId& record_id) const {
    return m_impl->index.contains(record_id);
}

std::vector<RecordId> ObjectSet::objects(std::string_view type) const {
    std::vector<std::pair<std::uint64_t, RecordId>> found;
    for (const auto& [id, obj] : m_impl->objects)
        if (type.empty() || obj.type->name == type) found.emplace_back(obj.created.lamport, id);
    std::sort(found.begin(), found.end());
    std::vector<RecordId> out;
    out.reserve(found.size());
    for (const auto& [lamport, id] : found) out.push_back(id);
    return out;
}

std::optional<ObjectView> ObjectSet::view(const RecordId& object_id) const {
    auto it = m_impl->objects.find(object_id);
    if (it == m_impl->objects.end()) return std::nullopt;
    const Object& obj = it->second;
    ObjectView v;
    v.id = object_id;
    v.type = obj.type->name;
    v.created_by = obj.created.author;
    v.created_lamport = obj.created.lamport;
    v.created_wall_clock_ms = obj.created_wall_clock_ms;
    v.carried_copy = obj.stand_in;
    // A member holding the create ignores carried copies: they repeat what it holds.
    auto counts = [&](const WriteKey& k) { return !k.carried || obj.stand_in; };
    for (auto w = obj.carry.rbegin(); w != obj.carry.rend(); ++w) {
        if (!w->second.value || !counts(w->first)) continue;
        v.carried = *w->second.value == "1";
        break;
    }
    for (const auto& [name, reg] : obj.fields) {
        // The greatest write that still has its value wins; "" means the field was cleared.
        for (auto w = reg.rbegin(); w != reg.rend(); ++w) {
            if (!w->second.value || !counts(w->first)) continue;
            if (!w->second.value->empty())
                v.fields.emplace(name, FieldValue{*w->second.value, w->first.author,
                                                  w->first.lamport, w->second.wall_clock_ms,
                                                  w->first.record_id, w->second.source});
            break;
        }
    }
    for (const auto& [name, list] : obj.lists) {
        // A carried item shows only on a stand-in, only where the item it copies is not held,
        // and only its first copy.
        std::set<RecordId, detail::IdLess> held;
        for (const auto& [key, item] : list)
            if (!item.carried) held.insert(key.record_id);
        std::vector<ListItem> items;
        items.reserve(list.size());
        for (const auto& [key, item] : list) {
            if (item.carried && (!obj.stand_in || !held.insert(item.carried_of).second)) continue;
            items.push_back(ListItem{key.record_id, item.author, key.lamport, item.wall_clock_ms,
                                     item.redacted, item.fields, item.carried_of,
                                     item.carried_of_author});
        }
        if (!items.empty()) v.lists.emplace(name, std::move(items));
    }
    return v;
}

std::vector<HistoryEntry> ObjectSet::history(const RecordId& object_id) const {
    auto it = m_impl->objects.find(object_id);
    if (it == m_impl->objects.end()) return {};
    const Object& obj = it->second;

    struct Step {
        WriteKey key;
        HistoryEntry::Kind kind;
        const std::string* name;
        const Write* write;
        const Item* item;
    };
    static const std::string kNoName;
    std::vector<Step> steps;
    steps.push_back({obj.created, HistoryEntry::Kind::created, &kNoName, nullptr, nullptr});
    // Carried copies are history only where they stand in for the create.
    for (const auto& [name, reg] : obj.fields)
        for (const auto& [key, w] : reg)
            if (!key.carried || obj.stand_in)
                steps.push_back({key, HistoryEntry::Kind::field_set, &name, &w, nullptr});
    for (const auto& [name, list] : obj.lists)
        for (const auto& [key, item] : list)
            if (!item.carried || obj.stand_in)
                steps.push_back({WriteKey{key.lamport, item.author, key.record_id, item.carried},
                                 HistoryEntry::Kind::list_append, &name, nullptr, &item});
    std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
        return std::tie(a.key, a.kind, *a.name) < std::tie(b.key, b.kind, *b.name);
    });

    std::map<std::string_view, std::string_view> shown;
    std::vector<HistoryEntry> out;
    out.reserve(steps.size());
    for (const auto& st : steps) {
        HistoryEntry e;
        e.kind = st.kind;
        e.record_id = st.key.record_id;
        e.author = st.key.author;
        e.lamport = st.key.lamport;
        e.name = *st.name;
        switch (st.kind) {
            case HistoryEntry::Kind::created:
                e.wall_clock_ms = obj.created_wall_clock_ms;
                break;
            case HistoryEntry::Kind::field_set: {
                e.wall_clock_ms = st.write->wall_clock_ms;
                auto prev = shown.find(*st.name);
                if (prev != shown.end()) e.old_value = std::string(prev->second);
                if (st.write->value) {
                    e.new_value = *st.write->value;
                    shown[*st.name] = *st.write->value;
                } else {
                    e.redacted = true;  // and the shown value stays as it was
                }
                break;
            }
            case HistoryEntry::Kind::list_append:
                e.wall_clock_ms = st.item->wall_clock_ms;
                e.item = st.item->fields;
                e.redacted = st.item->redacted;
                break;
        }
        out.push_back(std::move(e));
    }
    return out;
}

crypto::Hash32 ObjectSet::digest() const {
    crypto::Blake2b h(32);
    h.update(std::string_view("kolokol/objects/state/v1"));
    const std::uint8_t zero = 0;
    h.update(ByteView(&zero, 1));
    Bytes buf;
    auto num = [&](std::uint64_t v) { put_u64be(buf, v); };
    auto str = [&](std::string_view s) {
        num(s.size());
        append(buf, as_bytes(s));
    };
    auto flush = [&] {
        h.update(buf);
        buf.clear();
    };
    num(m_impl->objects.size());
    for (const auto& [id, obj] : m_impl->objects) {
        append(buf, id);
        str(obj.type->name);
        num(obj.created.lamport);
        append(buf, obj.created.author);
        num(static_cast<std::uint64_t>(obj.created_wall_clock_ms));
        if (obj.stand_in || !obj.carry.empty()) {
            buf.push_back(obj.stand_in ? 3 : 2);
            num(obj.carry.size());
            for (const auto& [key, w] : obj.carry) {
                append(buf, key.record_id);
                buf.push_back(w.value ? (*w.value == "1" ? 2 : 1) : 0);
            }
        }
        num(obj.fields.size());
        for (const auto& [name, reg] : obj.fields) {
            str(name);
            num(reg.size());
            for (const auto& [key, w] : reg) {
                num(key.lamport);
                append(buf, key.author);
                append(buf, key.record_id);
                if (key.carried) buf.push_back(2);
                num(static_cast<std::uint64_t>(w.wall_clock_ms));
                buf.push_back(w.value ? 1 : 0);
                if (w.value) str(*w.value);
            }
            flush();
        }
        num(obj.lists.size());
        for (const auto& [name, list] : obj.lists) {
            str(name);
            num(list.size());
            for (const auto& [key, item] : list) {
                num(key.lamport);
                append(buf, key.record_id);
                append(buf, item.author);
                num(static_cast<std::uint64_t>(item.wall_clock_ms));
                buf.push_back(item.redacted ? 1 : 0);
                if (item.carried) {
                    buf.push_back(2);
                    append(buf, item.carried_of);
                }
                num(item.fields.size());
                for (const auto& [k, v] : item.fields) {
                    str(k);
                    str(v);
                }
                flush();
            }
        }
        flush();
    }
    flush();
    return to_array<32>(h.finish());
}

std::string_view ObjectView::get(std::string_view field) const {
    auto it = fields.find(field);
    return it == fields.end() ? std::string_view{} : std::string_view(it->second.value);
}

const std::vector<ListItem>& ObjectView::list(std::string_view name) const {
    static const std::vector<ListItem> kEmpty;
    auto it = lists.find(name);
    return it == lists.end() ? kEmpty : it->second;
}

}  // namespace kolokol::objects
