#pragma once
// Protobuf wire format written by hand, for messages that hold keys: protobuf keeps every
// string in the ordinary heap, so such a message is built with its key fields left empty and
// its bytes are made here, in a buffer of the caller's (crypto::SecretBytes), with the keys
// put back as fields of their own. Parsers take fields in any order, so the bytes parse as the
// whole message would.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::core {

inline constexpr std::uint32_t kWireLengthDelimited = 2;

// Written to a count (no buffer) or into a buffer of the counted size.
class WireOut {
public:
    WireOut() = default;
    explicit WireOut(std::uint8_t* at) : m_at(at) {}
    void bytes(ByteView b) {
        if (m_at && !b.empty()) std::memcpy(m_at + m_n, b.data(), b.size());
        m_n += b.size();
    }
    void varint(std::uint64_t v) {
        std::uint8_t buf[10];
        std::size_t k = 0;
        do {
            buf[k++] = static_cast<std::uint8_t>((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v != 0);
        bytes({buf, k});
    }
    void header(std::uint32_t number, std::size_t length) {
        varint(std::uint64_t{number} << 3 | kWireLengthDelimited);
        varint(length);
    }
    // A bytes field; proto3 leaves an empty one out.
    void field(std::uint32_t number, ByteView value) {
        if (value.empty()) return;
        header(number, value.size());
        bytes(value);
    }
    std::size_t size() const { return m_n; }

private:
    std::uint8_t* m_at = nullptr;
    std::size_t m_n = 0;
};

template <class Fn>
std::size_t measured(Fn&& fn) {
    WireOut count;
    fn(count);
    return count.size();
}

}  // namespace kolokol::core
