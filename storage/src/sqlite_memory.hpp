#pragma once
// Installs SQLite's allocator (kolokol/storage/memory.hpp). Database::open() calls it before
// anything else of SQLite; later calls do nothing.

namespace kolokol::storage::detail {

void install_sqlite_memory();

// Whether this process counts page locks (page_locks.cpp). Referenced by Database::open() so
// that the linker keeps page_locks.cpp, whose mlock()/munlock() take the place of libc's in
// every executable that opens a database.
bool counted_page_locks();

}  // namespace kolokol::storage::detail
