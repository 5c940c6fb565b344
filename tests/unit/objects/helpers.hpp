#pragma once
// Small builders for the objects tests.

#include <algorithm>
#include <string>
#include <vector>

#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/objects/change.hpp"
#include "kolokol/objects/values.hpp"

namespace kolokol::objects::test {

// A record id or key derived from a label, so tests read "id("create-case")".
inline RecordId id(std::string_view label) {
    return crypto::blake2b_256("kolokol/test/objects", as_bytes(label));
}

// A member key whose first byte is `first`, so the author order is obvious.
inline MemberKey member(std::uint8_t first) {
    MemberKey k{};
    k.fill(0x11);
    k[0] = first;
    return k;
}

inline Change create(std::string_view label, std::string type, MemberKey author,
                     std::uint64_t lamport, std::map<std::string, std::string> fields = {}) {
    Change c;
    c.record_id = id(label);
    c.author = author;
    c.lamport = lamport;
    c.wall_clock_ms = static_cast<std::int64_t>(lamport) * 1000;
    c.type = std::move(type);
    c.fields = std::move(fields);
    return c;
}

inline Change edit(std::string_view label, std::string type, const RecordId& object,
                   MemberKey author, std::uint64_t lamport,
                   std::map<std::string, std::string> fields) {
    Change c = create(label, std::move(type), author, lamport, std::move(fields));
    c.object_id = object;
    return c;
}

inline Change append(std::string_view label, std::string type, const RecordId& object,
                     MemberKey author, std::uint64_t lamport, std::string list,
                     std::map<std::string, std::string> item) {
    Change c = create(label, std::move(type), author, lamport);
    c.object_id = object;
    c.append = ListAppend{std::move(list), std::move(item)};
    return c;
}

template <class T>
void shuffle(std::vector<T>& v, crypto::Random& rng) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.uniform(i)]);
}

}  // namespace kolokol::objects::test
