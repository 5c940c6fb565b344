#pragma once
// SQLite's memory in a kolokol process (DESIGN §4 "Store"). Database::open() installs, before
// SQLite first runs, an allocator that
//   - wipes every block when SQLite frees it (page cache pages hold decrypted records; SQLCipher's
//     codec holds the database key and a decrypted page), and
//   - keeps a list of the live blocks, so that wipe_database_memory() can wipe them all.
// SQLite's own memory statistics are turned off (they took a global lock per allocation; the
// list takes one instead).
//
// The process also keeps counted page locks (page_locks.cpp): SQLCipher 3.4.1 mlock()s the
// buffers that hold the database key and munlock()s each when it frees it, but locks are per
// page and not counted by the kernel, so freeing one buffer unlocked its neighbours on the same
// page and left the key in memory that may be swapped out. Counted, a page stays locked while
// any buffer on it is.

#include <cstddef>

namespace kolokol::storage {

// For a process that is about to end because its store is gone (StoreGuard): takes the
// allocator's lock for good (every thread's next SQLite allocation or free blocks) and zeroes
// every live block SQLite holds — page cache, SQLCipher's keys and buffers, statements. SQLite
// must not be used afterwards; end the process. Does nothing if the allocator was never
// installed (no database was opened).
void wipe_database_memory();

// The number of live blocks and their bytes (for tests and benchmarks).
struct DatabaseMemory {
    std::size_t blocks = 0;
    std::size_t bytes = 0;
};
DatabaseMemory database_memory();

}  // namespace kolokol::storage
