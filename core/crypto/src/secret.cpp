#include "kolokol/crypto/secret.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kolokol::crypto {

SecretBytes::SecretBytes(std::size_t size) : m_size(size) {
    if (size == 0) return;
    m_data = static_cast<std::uint8_t*>(sodium_malloc(size));
    if (m_data == nullptr) {
        std::fputs("kolokol: out of secure memory\n", stderr);
        std::abort();
    }
    sodium_memzero(m_data, size);
}

SecretBytes SecretBytes::copy_of(ByteView data) {
    SecretBytes s(data.size());
    if (!data.empty()) std::memcpy(s.m_data, data.data(), data.size());
    return s;
}

SecretBytes::~SecretBytes() {
    release();
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : m_data(other.m_data), m_size(other.m_size) {
    other.m_data = nullptr;
    other.m_size = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        release();
        m_data = other.m_data;
        m_size = other.m_size;
        other.m_data = nullptr;
        other.m_size = 0;
    }
    return *this;
}

void SecretBytes::release() {
    if (m_data != nullptr) sodium_free(m_data);  // wipes before freeing
    m_data = nullptr;
    m_size = 0;
}

bool equal_ct(ByteView a, ByteView b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void memzero(MutableByteView data) {
    if (!data.empty()) sodium_memzero(data.data(), data.size());
}

void memzero(std::string& s) {
    if (!s.empty()) sodium_memzero(s.data(), s.size());
    s.clear();
}

bool is_zero(ByteView data) {
    return sodium_is_zero(data.data(), data.size()) == 1;
}

}  // namespace kolokol::crypto
