#pragma once
// Protobuf wire format written by hand, for messages that hold keys: protobuf keeps every
// string in the ordinary heap, so such a message is built with its key fields left empty and
// its bytes are made here, in a buffer of the caller's (crypto::SecretBytes), with the keys
// put back as fields of their own. Parsers take fields in any order, so the bytes parse as the
// whole message would.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

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

// Protobuf wire format, read from a complete buffer.
struct WireField {
    std::uint32_t number = 0;
    std::uint32_t type = 0;
    ByteView raw;    // the whole field, tag included
    ByteView value;  // a length-delimited field's contents
};
inline std::optional<std::uint64_t> read_varint(ByteView data, std::size_t& pos) {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && pos < data.size(); shift += 7) {
        const std::uint8_t b = data[pos++];
        v |= std::uint64_t{b & 0x7fu} << shift;
        if ((b & 0x80) == 0) return v;
    }
    return std::nullopt;
}
enum class WireRead { field, end, incomplete, bad };
// The field at `pos`: `incomplete` when the buffer ends inside it, `bad` for a malformed one
// (a group, an unknown wire type, field number 0, a length over `max_length`).
inline WireRead next_field(ByteView data, std::size_t& pos, WireField& out,
                           std::uint64_t max_length) {
    if (pos == data.size()) return WireRead::end;
    const std::size_t start = pos;
    auto tag = read_varint(data, pos);
    if (!tag)
        return pos >= data.size() && data.size() - start < 10 ? WireRead::incomplete
                                                              : WireRead::bad;
    out.number = static_cast<std::uint32_t>(*tag >> 3);
    out.type = static_cast<std::uint32_t>(*tag & 7);
    if (out.number == 0 || *tag >> 3 > 0x1fffffff) return WireRead::bad;
    switch (out.type) {
        case 0:
            if (!read_varint(data, pos))
                return pos >= data.size() && data.size() - start < 20 ? WireRead::incomplete
                                                                      : WireRead::bad;
            break;
        case 1:
        case 5: {
            const std::size_t n = out.type == 1 ? 8 : 4;
            if (data.size() - pos < n) return WireRead::incomplete;
            pos += n;
            break;
        }
        case kWireLengthDelimited: {
            auto length = read_varint(data, pos);
            if (!length)
                return pos >= data.size() && data.size() - start < 20 ? WireRead::incomplete
                                                                      : WireRead::bad;
            if (*length > max_length) return WireRead::bad;
            if (data.size() - pos < *length) return WireRead::incomplete;
            out.value = data.subspan(pos, static_cast<std::size_t>(*length));
            pos += static_cast<std::size_t>(*length);
            break;
        }
        default:
            return WireRead::bad;
    }
    out.raw = data.subspan(start, pos - start);
    return WireRead::field;
}

// A length-delimited field, appended to bytes protobuf will parse (in the heap: no key).
inline void append_field(std::string& out, std::uint32_t number, const std::string& value) {
    std::string head;
    auto put = [&](std::uint64_t v) {
        do {
            head.push_back(static_cast<char>((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
            v >>= 7;
        } while (v != 0);
    };
    put(std::uint64_t{number} << 3 | kWireLengthDelimited);
    put(value.size());
    out += head;
    out += value;
}

}  // namespace kolokol::core
