#pragma once
// Helpers shared by the fuzz targets. Fixtures are built once per process (function-local
// statics) and never depend on the input, so each run of a target is one parser call.
// fuzz_node.hpp adds a Node on a temp home for the targets that need one.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::fuzz {

inline ByteView input(const std::uint8_t* data, std::size_t size) {
    return ByteView(data, size);
}
inline std::string_view text(const std::uint8_t* data, std::size_t size) {
    return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace kolokol::fuzz
