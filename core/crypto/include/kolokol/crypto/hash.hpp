#pragma once
// BLAKE2b, SHA-256, HMAC-SHA-256 and HKDF-SHA-256.

#include <memory>
#include <string_view>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::crypto {

using Hash32 = ByteArray<32>;

// BLAKE2b with an output of 1..64 bytes and an optional key (0 or 16..64 bytes).
Bytes blake2b(std::size_t out_len, ByteView data, ByteView key = {});
Hash32 blake2b_256(ByteView data);
// Domain-separated: BLAKE2b-256(domain || 0x00 || data). `domain` is a fixed ASCII label.
Hash32 blake2b_256(std::string_view domain, ByteView data);

// Streaming BLAKE2b (output length fixed at construction, 1..64).
class Blake2b {
public:
    explicit Blake2b(std::size_t out_len = 32, ByteView key = {});
    ~Blake2b();
    Blake2b(Blake2b&&) noexcept;
    Blake2b& operator=(Blake2b&&) noexcept;
    void update(ByteView data);
    void update(std::string_view s) { update(as_bytes(s)); }
    Bytes finish();

private:
    std::unique_ptr<std::uint8_t[]> m_state;
    std::size_t m_out_len;
};

Hash32 sha256(ByteView data);

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    void update(ByteView data);
    Hash32 finish();

private:
    std::unique_ptr<std::uint8_t[]> m_state;
};

Hash32 hmac_sha256(ByteView key, ByteView data);

class HmacSha256 {
public:
    explicit HmacSha256(ByteView key);
    ~HmacSha256();
    HmacSha256(HmacSha256&&) noexcept;
    HmacSha256& operator=(HmacSha256&&) noexcept;
    void update(ByteView data);
    Hash32 finish();

private:
    std::unique_ptr<std::uint8_t[]> m_state;
};

// RFC 5869 HKDF with SHA-256. `out_len` ≤ 255*32.
Hash32 hkdf_sha256_extract(ByteView salt, ByteView ikm);
SecretBytes hkdf_sha256_expand(ByteView prk, ByteView info, std::size_t out_len);
SecretBytes hkdf_sha256(ByteView salt, ByteView ikm, ByteView info, std::size_t out_len);

}  // namespace kolokol::crypto
