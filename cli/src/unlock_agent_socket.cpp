#include "unlock_agent_socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kolokol::cli {

UnixFd::~UnixFd() {
    if (m_fd >= 0) ::close(m_fd);
}

UnixFd& UnixFd::operator=(UnixFd&& o) noexcept {
    if (this != &o) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = o.m_fd;
        o.m_fd = -1;
    }
    return *this;
}

bool unix_address(const std::filesystem::path& path, sockaddr_un& addr) {
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    const std::string& s = path.native();
    if (s.size() >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
    return true;
}

std::filesystem::path path_via_fd(int dir_fd, const std::filesystem::path& name) {
    return std::filesystem::path("/proc/self/fd") / std::to_string(dir_fd) / name;
}

unsigned peer_uid(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred)
        return static_cast<unsigned>(-1);
    return cred.uid;
}

namespace {

// Waits for `events` on `fd` until the deadline; false on a timeout or an error.
bool wait_for(int fd, short events, Deadline deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        return r > 0;
    }
}

}  // namespace

UnixFd connect_unix(const std::filesystem::path& path, Deadline deadline) {
    sockaddr_un addr{};
    if (!unix_address(path, addr)) {
        errno = ENAMETOOLONG;
        return {};
    }
    UnixFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.ok()) return {};
    for (;;) {
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) break;
        if (errno == EINTR) continue;
        if (errno == EINPROGRESS) {
            int err = 0;
            socklen_t len = sizeof err;
            if (!wait_for(fd.get(), POLLOUT, deadline)) {
                errno = ETIMEDOUT;
                return {};
            }
            if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return {};
            if (err != 0) {
                errno = err;
                return {};
            }
            break;
        }
        // A Unix socket whose listener's queue is full answers EAGAIN at once, without a way
        // to wait for room: try again a little later, until the deadline.
        if (errno != EAGAIN) return {};
        if (std::chrono::steady_clock::now() + std::chrono::milliseconds(20) >= deadline) {
            errno = ETIMEDOUT;
            return {};
        }
        ::usleep(20000);
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) return {};
    return fd;
}

bool write_all_until(int fd, ByteView bytes, Deadline deadline) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        if (!wait_for(fd, POLLOUT, deadline)) return false;
        const ssize_t n =
            ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::optional<std::size_t> read_until_eof(int fd, MutableByteView into, Deadline deadline) {
    std::size_t got = 0;
    while (got < into.size()) {
        if (!wait_for(fd, POLLIN, deadline)) return std::nullopt;
        const ssize_t n = ::recv(fd, into.data() + got, into.size() - got, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return got;
}

}  // namespace kolokol::cli
