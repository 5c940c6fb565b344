// Armored sync file parts (core/src/sync_parts.cpp): every block the scanner finds in the text,
// each decoded as a binary part and checked.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "kolokol/core/sync_parts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)kolokol::core::parse_armored_parts(kolokol::fuzz::text(data, size));
    return 0;
}
