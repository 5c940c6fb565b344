// Counted page locks. mlock() and munlock() defined here take the place of libc's for the whole
// executable — SQLCipher and libsodium call them through the dynamic linker, which finds the
// executable's definitions first. The kernel's locks are per page and not counted: SQLCipher
// 3.4.1 mlock()s each of its key buffers and munlock()s each when it frees it, so freeing one
// unlocked any other buffer that shared a page with it. Here a page is unlocked only when every
// lock taken on it has been released.
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "sqlite_memory.hpp"

namespace {

struct PageLocks {
    std::mutex mutex;
    std::unordered_map<std::uintptr_t, std::uint32_t> count;  // pages locked through mlock()
};

PageLocks& page_locks() {
    // Never destroyed: libraries may unlock memory from static destructors.
    static PageLocks* locks = new PageLocks;
    return *locks;
}

std::uintptr_t page_bytes() {
    static const auto size = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

int sys_mlock(std::uintptr_t at, std::uintptr_t n) {
    return static_cast<int>(::syscall(SYS_mlock, at, n));
}

int sys_munlock(std::uintptr_t at, std::uintptr_t n) {
    return static_cast<int>(::syscall(SYS_munlock, at, n));
}

}  // namespace

extern "C" int mlock(const void* addr, std::size_t len) noexcept {
    const auto page = page_bytes();
    const auto start = reinterpret_cast<std::uintptr_t>(addr);
    if (len == 0) return sys_mlock(start, 0);
    const auto first = start / page * page;
    const auto end = (start + len + page - 1) / page * page;
    auto& locks = page_locks();
    std::lock_guard lock(locks.mutex);
    if (sys_mlock(first, end - first) != 0) return -1;
    try {
        for (auto p = first; p < end; p += page) ++locks.count[p];
    } catch (...) {
        // No memory to count with: the pages stay locked and uncounted, which errs on the side
        // of keeping them in RAM.
    }
    return 0;
}

extern "C" int munlock(const void* addr, std::size_t len) noexcept {
    const auto page = page_bytes();
    const auto start = reinterpret_cast<std::uintptr_t>(addr);
    if (len == 0) return sys_munlock(start, 0);
    const auto first = start / page * page;
    const auto end = (start + len + page - 1) / page * page;
    auto& locks = page_locks();
    std::lock_guard lock(locks.mutex);
    int rc = 0;
    // Unlocks the runs of pages no other lock holds, each run in one call.
    std::uintptr_t run = 0;
    auto flush = [&](std::uintptr_t upto) {
        if (run != 0 && sys_munlock(run, upto - run) != 0) rc = -1;
        run = 0;
    };
    for (auto p = first; p < end; p += page) {
        auto it = locks.count.find(p);
        if (it != locks.count.end() && --it->second > 0) {
            flush(p);
            continue;
        }
        if (it != locks.count.end()) locks.count.erase(it);
        if (run == 0) run = p;
    }
    flush(end);
    return rc;
}

namespace kolokol::storage::detail {

bool counted_page_locks() {
    return true;
}

}  // namespace kolokol::storage::detail
