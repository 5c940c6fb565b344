// Key files (storage/src/keyfile.cpp): the 208-byte two-slot layout and its parameter bounds,
// checked before unlock() runs any Argon2id. (Unlocking itself is not fuzzed: each run would
// cost two Argon2id derivations.)
#include "kolokol/storage/keyfile.hpp"

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)kolokol::storage::KeyFile::parameters(kolokol::fuzz::input(data, size));
    return 0;
}
