#pragma once
// Ordering of 32-byte ids and keys, the same as comparing their bytes as unsigned values
// lexicographically (what std::array's operator<=> does), but eight bytes at a time: ids are
// hashes, so the first word almost always decides and the fold's maps stop calling memcmp.

#include <compare>
#include <cstdint>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::objects::detail {

inline std::uint64_t word_be(const ByteArray<32>& a, std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < 8; ++k) v = (v << 8) | a[at + k];
    return v;
}

inline std::strong_ordering compare_ids(const ByteArray<32>& a, const ByteArray<32>& b) {
    for (std::size_t at = 0; at < 32; at += 8) {
        const auto x = word_be(a, at), y = word_be(b, at);
        if (x != y) return x <=> y;
    }
    return std::strong_ordering::equal;
}

struct IdLess {
    bool operator()(const ByteArray<32>& a, const ByteArray<32>& b) const {
        return compare_ids(a, b) < 0;
    }
};

}  // namespace kolokol::objects::detail
