#include "kolokol/crypto/secret.hpp"

#include <sodium.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace kolokol::crypto {

namespace {

// Secrets up to kLargestSlot bytes (plus a canary) share locked slabs of kSlabBytes, one slab per
// size class; larger ones get a locked mapping of their own. Every mapping has an inaccessible
// page on each side. Slabs are never returned to the kernel: the arena's size is the peak number
// of secrets held at once.
constexpr std::size_t kSlabBytes = 64 * 1024;
constexpr std::array<std::size_t, 9> kSlotSizes = {32, 48, 64, 96, 128, 256, 1024, 4096, 8192};
constexpr std::size_t kLargestSlot = kSlotSizes.back();
constexpr std::size_t kCanaryBytes = 16;

[[noreturn]] void die(const char* why) {
    std::fprintf(stderr, "kolokol: %s\n", why);
    std::abort();
}

std::size_t page_size() {
    static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

std::size_t round_to_pages(std::size_t n) {
    const auto p = page_size();
    return (n + p - 1) / p * p;
}

}  // namespace

std::optional<std::size_t> lockable_bytes_left() {
    struct rlimit lim {};
    if (::getrlimit(RLIMIT_MEMLOCK, &lim) != 0 || lim.rlim_max == RLIM_INFINITY)
        return std::nullopt;
    std::size_t locked = 0;
    if (std::FILE* f = std::fopen("/proc/self/status", "re")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::strncmp(line, "VmLck:", 6) == 0) {
                locked = static_cast<std::size_t>(std::strtoull(line + 6, nullptr, 10)) * 1024;
                break;
            }
        std::fclose(f);
    }
    const auto limit = static_cast<std::size_t>(lim.rlim_max);
    return limit > locked ? limit - locked : 0;
}

namespace {

// mlock, raising the soft RLIMIT_MEMLOCK to the hard one once if the soft one is what refuses.
bool lock_pages(void* at, std::size_t n) {
    if (::mlock(at, n) == 0) return true;
    if (errno != ENOMEM && errno != EPERM && errno != EAGAIN) return false;
    struct rlimit lim {};
    if (::getrlimit(RLIMIT_MEMLOCK, &lim) != 0 || lim.rlim_cur == lim.rlim_max) return false;
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_MEMLOCK, &lim) != 0) return false;
    return ::mlock(at, n) == 0;
}

// `n` bytes (a multiple of the page size) of locked, private memory that is left out of core
// dumps, between two inaccessible guard pages.
// Locking is not optional: a secret must never reach swap, so failing to lock ends the process,
// as running out of memory does.
std::uint8_t* map_locked(std::size_t n) {
    const auto guard = page_size();
    void* raw = ::mmap(nullptr, n + 2 * guard, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) die("out of memory for secrets");
    auto* usable = static_cast<std::uint8_t*>(raw) + guard;
    if (::mprotect(usable, n, PROT_READ | PROT_WRITE) != 0) die("out of memory for secrets");
    if (!lock_pages(usable, n))
        die("cannot lock memory for secrets: raise the locked-memory limit (ulimit -l, "
            "RLIMIT_MEMLOCK)");
    (void)::madvise(usable, n, MADV_DONTDUMP);
    return usable;
}

void unmap_locked(std::uint8_t* usable, std::size_t n) {
    sodium_memzero(usable, n);
    (void)::munlock(usable, n);
    (void)::munmap(usable - page_size(), n + 2 * page_size());
}

class Arena {
public:
    static Arena& get() {
        // Never destroyed: secrets may be freed by other static objects' destructors.
        static Arena* arena = new Arena;
        return *arena;
    }

    std::uint8_t* allocate(std::size_t size) {
        const std::size_t need = size + kCanaryBytes;
        std::lock_guard lock(m_mutex);
        if (need > kLargestSlot) {
            const auto n = round_to_pages(need);
            auto* p = map_locked(n);
            m_large.push_back({p, n});
            std::memcpy(p + size, m_canary.data(), kCanaryBytes);
            return p;
        }
        const std::size_t c = size_class(need);
        auto& free = m_free[c];
        if (free.empty()) {
            auto* slab = map_locked(kSlabBytes);
            m_slabs.push_back(slab);
            for (std::size_t off = kSlabBytes / kSlotSizes[c] * kSlotSizes[c]; off > 0;
                 off -= kSlotSizes[c])
                free.push_back(slab + off - kSlotSizes[c]);
        }
        auto* p = free.back();
        free.pop_back();
        std::memcpy(p + size, m_canary.data(), kCanaryBytes);
        return p;
    }

    void release(std::uint8_t* p, std::size_t size) {
        const std::size_t need = size + kCanaryBytes;
        std::lock_guard lock(m_mutex);
        // A secret written past its end is a bug that may have overwritten its neighbour.
        if (sodium_memcmp(p + size, m_canary.data(), kCanaryBytes) != 0)
            die("a secret's buffer was overrun");
        if (need > kLargestSlot) {
            for (auto it = m_large.begin(); it != m_large.end(); ++it) {
                if (it->first != p) continue;
                unmap_locked(p, it->second);
                m_large.erase(it);
                return;
            }
            die("freeing a secret that was never allocated");
        }
        const std::size_t c = size_class(need);
        sodium_memzero(p, kSlotSizes[c]);
        m_free[c].push_back(p);
    }

    void wipe_all_and_hold() {
        // Never unlocked: the process is ending, and no thread may allocate a secret again.
        m_mutex.lock();
        for (auto* slab : m_slabs) sodium_memzero(slab, kSlabBytes);
        for (const auto& [p, n] : m_large) sodium_memzero(p, n);
    }

private:
    Arena() { randombytes_buf(m_canary.data(), m_canary.size()); }

    static std::size_t size_class(std::size_t need) {
        std::size_t c = 0;
        while (kSlotSizes[c] < need) ++c;
        return c;
    }

    std::mutex m_mutex;
    std::array<std::uint8_t, kCanaryBytes> m_canary{};
    std::array<std::vector<std::uint8_t*>, kSlotSizes.size()> m_free;
    std::vector<std::uint8_t*> m_slabs;
    std::vector<std::pair<std::uint8_t*, std::size_t>> m_large;
};

}  // namespace

SecretBytes::SecretBytes(std::size_t size) : m_size(size) {
    if (size == 0) return;
    m_data = Arena::get().allocate(size);
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
    if (m_data != nullptr) Arena::get().release(m_data, m_size);  // wipes
    m_data = nullptr;
    m_size = 0;
}

void wipe_all_secrets() {
    Arena::get().wipe_all_and_hold();
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
