// Cards (core/src/identity.cpp): "kolokol-card:" + base64url(SignedCard), pasted by users.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "kolokol/core/identity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)kolokol::core::card_from_text(kolokol::fuzz::text(data, size));
    return 0;
}
