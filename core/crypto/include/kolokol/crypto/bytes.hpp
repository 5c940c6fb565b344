#pragma once
// Byte containers shared by every module. Plain bytes are uint8_t so they meet protobuf's
// std::string and libsodium's unsigned char without casts at every call.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kolokol {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
using MutableByteView = std::span<std::uint8_t>;
template <std::size_t N>
using ByteArray = std::array<std::uint8_t, N>;

inline ByteView as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline std::string to_string(ByteView b) {
    return std::string(as_chars(b));
}
inline Bytes to_bytes(std::string_view s) {
    auto v = as_bytes(s);
    return Bytes(v.begin(), v.end());
}
inline void append(Bytes& out, ByteView more) {
    out.insert(out.end(), more.begin(), more.end());
}

template <std::size_t N>
ByteArray<N> to_array(ByteView b) {
    ByteArray<N> a{};
    for (std::size_t i = 0; i < N && i < b.size(); ++i) a[i] = b[i];
    return a;
}

}  // namespace kolokol
