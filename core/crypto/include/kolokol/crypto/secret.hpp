#pragma once
// SecretBytes: a move-only buffer in sodium_malloc memory (guard pages, mlock'ed, wiped on free).
// Use it for keys, passphrases and epoch secrets; never for bulk data.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::crypto {

class SecretBytes {
public:
    SecretBytes() = default;
    // Allocates `size` zeroed bytes. Aborts on allocation failure (out of locked memory).
    explicit SecretBytes(std::size_t size);
    static SecretBytes copy_of(ByteView data);
    ~SecretBytes();

    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;

    SecretBytes clone() const { return copy_of(view()); }

    std::uint8_t* data() { return m_data; }
    const std::uint8_t* data() const { return m_data; }
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    ByteView view() const { return {m_data, m_size}; }
    MutableByteView mutable_view() { return {m_data, m_size}; }

private:
    void release();
    std::uint8_t* m_data = nullptr;
    std::size_t m_size = 0;
};

// Constant-time equality. Different sizes compare unequal (size is not secret).
bool equal_ct(ByteView a, ByteView b);
// Wipes memory in a way the compiler cannot elide.
void memzero(MutableByteView data);
void memzero(std::string& s);
bool is_zero(ByteView data);

}  // namespace kolokol::crypto
