#pragma once
// A bounds-checked reader over a byte span. Every read returns std::nullopt/false instead of
// touching memory past the end, so parsers never do pointer arithmetic on untrusted input.

#include <cstdint>
#include <optional>
#include <span>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol {

class ByteReader {
public:
    explicit ByteReader(ByteView data) : m_data(data) {}

    std::size_t remaining() const { return m_data.size() - m_pos; }
    bool empty() const { return remaining() == 0; }
    std::size_t position() const { return m_pos; }

    std::optional<ByteView> take(std::size_t n) {
        if (n > remaining()) return std::nullopt;
        auto out = m_data.subspan(m_pos, n);
        m_pos += n;
        return out;
    }
    ByteView rest() {
        auto out = m_data.subspan(m_pos);
        m_pos = m_data.size();
        return out;
    }
    std::optional<std::uint8_t> u8() {
        auto b = take(1);
        if (!b) return std::nullopt;
        return (*b)[0];
    }
    std::optional<std::uint16_t> u16be() {
        auto b = take(2);
        if (!b) return std::nullopt;
        return static_cast<std::uint16_t>(((*b)[0] << 8) | (*b)[1]);
    }
    std::optional<std::uint32_t> u32be() {
        auto b = take(4);
        if (!b) return std::nullopt;
        return (std::uint32_t{(*b)[0]} << 24) | (std::uint32_t{(*b)[1]} << 16) |
               (std::uint32_t{(*b)[2]} << 8) | std::uint32_t{(*b)[3]};
    }
    std::optional<std::uint64_t> u64be() {
        auto hi = u32be();
        auto lo = u32be();
        if (!hi || !lo) return std::nullopt;
        return (std::uint64_t{*hi} << 32) | *lo;
    }
    template <std::size_t N>
    std::optional<ByteArray<N>> array() {
        auto b = take(N);
        if (!b) return std::nullopt;
        return to_array<N>(*b);
    }

private:
    ByteView m_data;
    std::size_t m_pos = 0;
};

inline void put_u16be(Bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
inline void put_u32be(Bytes& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
inline void put_u64be(Bytes& out, std::uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

}  // namespace kolokol
