#pragma once
// Small POSIX file helpers for the store and the key file: files created 0600 whatever the
// umask, atomic replacement (temp file + fsync + rename + fsync of the directory), bounded
// reads and overwrite-then-unlink. Errors are StorageErrc::io / exists / not_found with the
// OS's reason in the message.

#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <functional>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/random.hpp"

namespace kolokol::storage::detail {

// Creates an empty file with mode 0600; `exists` if anything is already at `path`.
Status create_private_file(const std::filesystem::path& path);

// fsyncs the directory holding `path`, making a create/rename/unlink of `path` durable.
Status sync_parent_dir(const std::filesystem::path& path);

// Reads a whole regular file of at most `max_bytes`. not_found when it does not exist; io when
// it cannot be read; invalid_argument (with the size in the message) when it is larger than
// `max_bytes` — nothing past the limit is read.
Result<Bytes> read_bounded(const std::filesystem::path& path, std::size_t max_bytes);

// Writes `data` to `path` atomically: a sibling temp file (0600) is written and fsynced, then
// renamed over `path` (or, with `no_replace`, linked to it so an existing file is never
// touched: `exists`), then the directory is fsynced. After a crash `path` holds either the old
// or the new contents. When replacing, the old file's blocks are overwritten with random bytes
// through a descriptor kept open across the rename (best effort: journaling or copy-on-write
// filesystems and SSD wear levelling may keep old copies). When replacing, `after_rename` (if
// set) runs once the new file is in place and before the old one is overwritten; its error is
// returned, after the overwrite.
Status write_atomic(const std::filesystem::path& path, ByteView data, bool no_replace,
                    crypto::Random& random, const std::function<Status()>& after_rename = {});

// Overwrites a regular file with random bytes, fsyncs it, unlinks it and fsyncs the directory.
// Succeeds (doing nothing) when the file does not exist. A file with other names (hard links)
// or a symlink is only unlinked, never overwritten.
Status shred(const std::filesystem::path& path, crypto::Random& random);

// The sibling temp path used by write_atomic.
std::filesystem::path temp_path_for(const std::filesystem::path& path);

// Closes on scope exit; close errors after a successful fsync carry no new information.
class Fd {
public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    ~Fd();
    Fd(Fd&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    bool ok() const { return m_fd >= 0; }

private:
    int m_fd;
};

// A regular file held open for reading and, when its mode allows, for writing in place, with
// what fstat said of it when it was opened (its inode and times).
struct HeldFile {
    Fd fd;
    struct stat st {};
    bool writable = false;
};

// Opens `path` (never following a last-component link) read-write, or read-only when writing is
// refused (mode, read-only filesystem). not_found when it does not exist; io otherwise, also
// when it is not a regular file.
Result<HeldFile> hold_file(const std::filesystem::path& path);

// Reads the held file from its start: at most `max_bytes`, else invalid_argument (nothing past
// the limit is read).
Result<Bytes> read_held(HeldFile& file, std::size_t max_bytes, const std::filesystem::path& path);

// Writes `data` over the held file's first bytes in place (same inode, no rename, the directory
// untouched), then settle()s it. io when the file is held read-only or a call fails.
Status overwrite_in_place(HeldFile& file, ByteView data, const std::filesystem::path& path);

// Puts the held file's modification time back to what it was when it was held (its access time
// is left as reading made it), then fsyncs the file. The change time becomes now: the kernel
// sets it on every metadata change, and no caller can choose it.
Status settle(HeldFile& file, const std::filesystem::path& path);

}  // namespace kolokol::storage::detail
