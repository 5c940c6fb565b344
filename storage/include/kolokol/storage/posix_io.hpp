#pragma once
// Whole writes and single reads on a POSIX file descriptor, retried on EINTR. Every file, pipe
// and socket written with plain write(2) goes through write_all: one loop, one error shape.
//
// Errors carry the OS's errno in std::generic_category() (so EEXIST, ENOSPC… compare as usual)
// and the message "write failed: <reason>" or "read failed: <reason>".

#include <cstddef>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"

namespace kolokol::storage {

// Writes all of `data` to `fd` (a short write is continued, EINTR retried). On failure part of
// `data` may have been written. Blocks as long as `fd` does.
Status write_all(int fd, ByteView data);

// One read(2) into `out` (EINTR retried): the count read, 0 at the end of the file.
Result<std::size_t> read_some(int fd, MutableByteView out);

}  // namespace kolokol::storage
