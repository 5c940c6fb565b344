#pragma once
// The reconciliation message codec: bounds, LEB128 varints and the strict decoder of a peer's
// message (layout in kolokol/transport/reconcile.hpp).

#include <cstdint>
#include <optional>
#include <vector>

#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/transport/reconcile.hpp"

namespace kolokol::transport::detail {

inline constexpr std::uint8_t kModeSkip = 0;
inline constexpr std::uint8_t kModeFingerprint = 1;
inline constexpr std::uint8_t kModeIdList = 2;
inline constexpr std::size_t kIdBytes = 32;
inline constexpr std::size_t kMaxVarintBytes = 10;

// An upper bound: ids below it fall in the range that ends there. The bottom of the id space
// is the default Bound (zero length, value all zero).
struct Bound {
    RecordId value{};  // prefix padded with zero bytes; all zero when `end`
    std::uint8_t length = 0;
    bool end = false;

    static Bound top() { return Bound{{}, 0, true}; }
    std::size_t encoded_size() const { return 1 + (end ? 0 : length); }
};

inline bool operator<(const Bound& a, const Bound& b) {
    if (a.end) return false;
    if (b.end) return true;
    return a.value < b.value;
}
// True when `id` falls below `bound`.
inline bool below(const RecordId& id, const Bound& bound) {
    return bound.end || id < bound.value;
}

void put_varint(Bytes& out, std::uint64_t v);
std::size_t varint_size(std::uint64_t v);
// Minimal LEB128 only: overlong, overflowing or truncated encodings are nullopt.
std::optional<std::uint64_t> read_varint(ByteReader& r);

void put_bound(Bytes& out, const Bound& b);

// One range of a decoded message. `ids` points into the message.
struct Range {
    Bound upper;
    std::uint8_t mode = kModeSkip;
    Fingerprint fingerprint{};
    ByteView ids;  // count × 32 bytes, validated sorted and inside the range
};

// Decodes and validates a whole message before anything acts on it, so that a bad message
// changes no state. Checks, cheapest first: size cap, version, then per range the bound
// (length ≤ 32, canonical, strictly increasing), the mode, and the payload (an id list's count
// against the bytes left before anything is read, ids strictly increasing and in range).
Result<std::vector<Range>> decode_message(ByteView message, std::size_t max_bytes);

}  // namespace kolokol::transport::detail
