#pragma once
// Fixed sizes of the age v1 format (C2SP age spec) and the default limits this implementation
// applies to untrusted headers.

#include <cstddef>

namespace kolokol::age {

inline constexpr std::size_t kFileKeyBytes = 16;
inline constexpr std::size_t kPayloadNonceBytes = 16;
// Plaintext bytes per STREAM chunk; every chunk but the last is exactly this long.
inline constexpr std::size_t kChunkBytes = 64 * 1024;
inline constexpr std::size_t kChunkTagBytes = 16;
inline constexpr std::size_t kEncryptedChunkBytes = kChunkBytes + kChunkTagBytes;
// Chunks sealed or opened together (split over two threads) when enough data is at hand.
inline constexpr std::size_t kBatchChunks = 16;

// scrypt work factor (log2 N) used when encrypting with a passphrase, as age does.
inline constexpr unsigned kDefaultScryptWorkFactor = 18;
// Highest scrypt work factor accepted when decrypting unless the caller raises it (as age:
// 2^22 with r = 8 already needs 4 GiB of memory).
inline constexpr unsigned kDefaultMaxScryptWorkFactor = 22;
inline constexpr unsigned kMaxScryptWorkFactor = 30;

// Header limits: a real header with a few hundred recipients is tens of KiB.
inline constexpr std::size_t kDefaultMaxHeaderBytes = 1 << 20;
inline constexpr std::size_t kDefaultMaxStanzas = 4096;

}  // namespace kolokol::age
