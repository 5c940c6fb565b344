#include "sqlite_memory.hpp"

#include <sqlite3.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "kolokol/storage/memory.hpp"

namespace kolokol::storage {

namespace {

// Each block carries its size and its place in a list of live blocks. 32 bytes keep the block's
// own 16-byte alignment.
struct alignas(16) Header {
    Header* prev;
    Header* next;
    std::size_t size;
};
static_assert(sizeof(Header) == 32);

struct Blocks {
    std::mutex mutex;
    Header list{&list, &list, 0};  // sentinel
    std::size_t count = 0;
    std::size_t bytes = 0;
    bool installed = false;
};

Blocks& blocks() {
    // Never destroyed: SQLite may free blocks from other static objects' destructors.
    static Blocks* b = new Blocks;
    return *b;
}

void* x_malloc(int n) {
    if (n < 0) return nullptr;
    const auto size = static_cast<std::size_t>(n);
    auto* h = static_cast<Header*>(std::malloc(sizeof(Header) + size));
    if (h == nullptr) return nullptr;
    h->size = size;
    auto& b = blocks();
    {
        std::lock_guard lock(b.mutex);
        h->prev = &b.list;
        h->next = b.list.next;
        b.list.next->prev = h;
        b.list.next = h;
        ++b.count;
        b.bytes += size;
    }
    return h + 1;
}

void x_free(void* p) {
    if (p == nullptr) return;
    auto* h = static_cast<Header*>(p) - 1;
    auto& b = blocks();
    {
        std::lock_guard lock(b.mutex);
        h->prev->next = h->next;
        h->next->prev = h->prev;
        --b.count;
        b.bytes -= h->size;
    }
    // Freed heap is handed out again without being cleared: what it held (a decrypted page, a
    // key) must not outlive its block.
    explicit_bzero(p, h->size);
    std::free(h);
}

int x_size(void* p) {
    return p == nullptr ? 0 : static_cast<int>((static_cast<Header*>(p) - 1)->size);
}

void* x_realloc(void* p, int n) {
    if (p == nullptr) return x_malloc(n);
    // A new block and a copy, never realloc(): the old block is wiped before it is freed.
    void* q = x_malloc(n);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, std::min(static_cast<std::size_t>(n), static_cast<std::size_t>(x_size(p))));
    x_free(p);
    return q;
}

int x_roundup(int n) {
    return (n + 7) & ~7;
}

int x_init(void*) {
    return SQLITE_OK;
}

void x_shutdown(void*) {}

}  // namespace

namespace detail {

void install_sqlite_memory() {
    static std::once_flag once;
    std::call_once(once, [] {
        static const sqlite3_mem_methods methods = {x_malloc,  x_free, x_realloc,  x_size,
                                                    x_roundup, x_init, x_shutdown, nullptr};
        // Both must precede SQLite's initialisation, which the first sqlite3_open() does. If
        // something in the process initialised SQLite already, the calls fail and SQLite keeps
        // its own allocator: then nothing is tracked and wipe_database_memory() does nothing.
        if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK) return;
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        blocks().installed = true;
    });
}

}  // namespace detail

void wipe_database_memory() {
    auto& b = blocks();
    if (!b.installed) return;
    // Never unlocked: the process is ending, and SQLite may not run again.
    b.mutex.lock();
    for (Header* h = b.list.next; h != &b.list; h = h->next) explicit_bzero(h + 1, h->size);
}

DatabaseMemory database_memory() {
    auto& b = blocks();
    std::lock_guard lock(b.mutex);
    return {b.count, b.bytes};
}

}  // namespace kolokol::storage
