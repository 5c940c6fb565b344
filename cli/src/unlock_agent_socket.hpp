#pragma once
// Unix socket plumbing shared by the unlock agent and its clients: a descriptor owner, connect,
// the peer's uid, and reads and writes that end at a deadline.

#include <sys/un.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::cli {

class UnixFd {
public:
    UnixFd() = default;
    explicit UnixFd(int fd) : m_fd(fd) {}
    ~UnixFd();
    UnixFd(UnixFd&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
    UnixFd& operator=(UnixFd&& o) noexcept;
    UnixFd(const UnixFd&) = delete;
    UnixFd& operator=(const UnixFd&) = delete;
    bool ok() const { return m_fd >= 0; }
    int get() const { return m_fd; }

private:
    int m_fd = -1;
};

// Fills `addr` for `path`; false when the path does not fit a sockaddr_un.
bool unix_address(const std::filesystem::path& path, sockaddr_un& addr);
using Deadline = std::chrono::steady_clock::time_point;

// A connected stream socket (close-on-exec, blocking), or an invalid UnixFd with `errno` set
// (ECONNREFUSED: nothing listens there; ETIMEDOUT: the deadline passed). The connect is
// non-blocking: a listener whose accept queue is full (stopped, or held up by stalled clients)
// makes it wait until `deadline`, never longer.
UnixFd connect_unix(const std::filesystem::path& path, Deadline deadline);
// A path naming `name` inside the directory open as `dir_fd` (/proc/self/fd/N/name): short
// whatever the directory's own path, so it always fits a sockaddr_un.
std::filesystem::path path_via_fd(int dir_fd, const std::filesystem::path& name);
// The uid of the process at the other end (SO_PEERCRED), or (uid_t)-1.
unsigned peer_uid(int fd);

bool write_all_until(int fd, ByteView bytes, Deadline deadline);
// Reads until the peer half-closes, `into` is full, or the deadline passes. The number of bytes
// read when the peer closed or `into` filled; nullopt on a timeout or an error.
std::optional<std::size_t> read_until_eof(int fd, MutableByteView into, Deadline deadline);

}  // namespace kolokol::cli
