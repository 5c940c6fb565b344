#pragma once
// SHA-256 block compression with the x86 SHA extensions (SHA-NI), used by Sha256 when the CPU
// has them: libsodium 1.0.18's SHA-256 is portable C (about 200 MB/s here), the extensions run
// at several GB/s, and case bundles hash every evidence file on export and on verify.

#include <cstddef>
#include <cstdint>

namespace kolokol::crypto::detail {

// True when the CPU supports SHA-NI, SSSE3 and SSE4.1 (checked once, with CPUID).
bool sha256_ni_available();

// Compresses `blocks` 64-byte blocks of `data` into `state` (eight words, as libsodium keeps
// them). Call only when sha256_ni_available().
void sha256_ni_blocks(std::uint32_t state[8], const std::uint8_t* data, std::size_t blocks);

}  // namespace kolokol::crypto::detail
