#pragma once
// SecretBytes: a move-only buffer in locked memory, wiped on free. Use it for keys, passphrases
// and epoch secrets; never for bulk data.
//
// The memory comes from one arena per process: slabs of 64 KiB, mlock()ed (never written to
// swap), left out of core dumps, with an inaccessible page before and
// after each; a secret up to 8 KiB takes a slot of its size class (a 32-byte key takes 48 bytes
// of locked memory, not the 4 KiB page a sodium_malloc() would), larger ones a locked mapping
// of their own. A random canary after each secret is checked when it is freed: an overrun ends
// the process. Failing to lock (RLIMIT_MEMLOCK, after raising the soft limit to the hard one)
// ends the process with a message, as running out of memory does: a secret never lives in
// memory that may be swapped out. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
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

// Zeroes every secret the process holds, live or freed, and keeps the arena locked so that no
// thread can allocate or free a secret afterwards (they block). For a process that is about to
// end because its store is gone (see storage::StoreGuard); nothing may use a secret afterwards.
void wipe_all_secrets();

// How many more bytes this process may lock: the hard RLIMIT_MEMLOCK (the soft one is raised to
// it when locking needs it) less what is locked now (VmLck). nullopt when unlimited. A caller
// that would grow a secret buffer past it refuses instead, since failing to lock ends the process.
std::optional<std::size_t> lockable_bytes_left();

// Constant-time equality. Different sizes compare unequal (size is not secret).
bool equal_ct(ByteView a, ByteView b);
// Wipes memory in a way the compiler cannot elide.
void memzero(MutableByteView data);
void memzero(std::string& s);
bool is_zero(ByteView data);

}  // namespace kolokol::crypto
