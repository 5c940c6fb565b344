#include "private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "kolokol/storage/error.hpp"
#include "kolokol/storage/posix_io.hpp"

namespace kolokol::storage::detail {

namespace {

std::unexpected<Error> os_fail(StorageErrc code, const char* literal,
                               const std::filesystem::path& path, int err) {
    return fail(code, "{} {}: {}", literal, path.string(), std::string(std::strerror(err)));
}

// storage::write_all, its error naming the file.
Status write_all(int fd, ByteView data, const std::filesystem::path& path) {
    if (auto s = storage::write_all(fd, data); !s)
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("write"), path, s.error().code.value());
    return {};
}

Status fsync_fd(int fd, const std::filesystem::path& path) {
    while (::fsync(fd) != 0) {
        if (errno != EINTR) return os_fail(StorageErrc::io, KOLOKOL_TEXT("fsync"), path, errno);
    }
    return {};
}

// Overwrites the first `size` bytes of an open file with random bytes and fsyncs.
Status overwrite_random(int fd, std::size_t size, const std::filesystem::path& path,
                        crypto::Random& random) {
    if (::lseek(fd, 0, SEEK_SET) != 0)
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("seek"), path, errno);
    Bytes noise(4096);
    std::size_t left = size;
    while (left > 0) {
        std::size_t n = left < noise.size() ? left : noise.size();
        random.fill(MutableByteView(noise.data(), n));
        if (auto s = write_all(fd, ByteView(noise.data(), n), path); !s) return s;
        left -= n;
    }
    return fsync_fd(fd, path);
}

int open_private(const std::filesystem::path& path) {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
}

}  // namespace

Fd::~Fd() {
    if (m_fd >= 0) ::close(m_fd);
}

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = other.m_fd;
        other.m_fd = -1;
    }
    return *this;
}

std::filesystem::path temp_path_for(const std::filesystem::path& path) {
    auto tmp = path;
    tmp += ".tmp";
    return tmp;
}

Status create_private_file(const std::filesystem::path& path) {
    Fd fd(open_private(path));
    if (!fd.ok()) {
        int err = errno;
        return os_fail(err == EEXIST ? StorageErrc::exists : StorageErrc::io,
                       KOLOKOL_TEXT("create"), path, err);
    }
    // open()'s mode is filtered by the umask; fchmod is not.
    if (::fchmod(fd.get(), 0600) != 0)
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("chmod"), path, errno);
    if (auto s = fsync_fd(fd.get(), path); !s) return s;
    return sync_parent_dir(path);
}

Status sync_parent_dir(const std::filesystem::path& path) {
    auto dir = path.parent_path();
    if (dir.empty()) dir = ".";
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.ok()) return os_fail(StorageErrc::io, KOLOKOL_TEXT("open directory"), dir, errno);
    return fsync_fd(fd.get(), dir);
}

Result<Bytes> read_bounded(const std::filesystem::path& path, std::size_t max_bytes) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.ok()) {
        int err = errno;
        return os_fail(err == ENOENT ? StorageErrc::not_found : StorageErrc::io,
                       KOLOKOL_TEXT("open"), path, err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("stat"), path, errno);
    if (!S_ISREG(st.st_mode)) return fail(StorageErrc::io, "{} is not a file", path.string());
    // Read one byte past the limit so a file that grew after fstat is still caught.
    Bytes out(max_bytes + 1);
    std::size_t got = 0;
    while (got < out.size()) {
        ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return os_fail(StorageErrc::io, KOLOKOL_TEXT("read"), path, errno);
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got > max_bytes)
        return fail(StorageErrc::invalid_argument, "{} is larger than {} bytes", path.string(),
                    max_bytes);
    out.resize(got);
    return out;
}

Status write_atomic(const std::filesystem::path& path, ByteView data, bool no_replace,
                    crypto::Random& random, const std::function<Status()>& after_rename) {
    const auto tmp = temp_path_for(path);
    int raw = open_private(tmp);
    if (raw < 0 && errno == EEXIST) {
        // A leftover from a crash mid-write: it holds a copy of an earlier version, so shred it
        // rather than leave it behind.
        if (auto s = shred(tmp, random); !s) return s;
        raw = open_private(tmp);
    }
    if (raw < 0) return os_fail(StorageErrc::io, KOLOKOL_TEXT("create"), tmp, errno);
    {
        Fd fd(raw);
        if (::fchmod(fd.get(), 0600) != 0)
            return os_fail(StorageErrc::io, KOLOKOL_TEXT("chmod"), tmp, errno);
        auto s = write_all(fd.get(), data, tmp);
        if (s) s = fsync_fd(fd.get(), tmp);
        if (!s) {
            ::unlink(tmp.c_str());
            return s;
        }
    }
    if (no_replace) {
        if (::link(tmp.c_str(), path.c_str()) != 0) {
            int err = errno;
            ::unlink(tmp.c_str());
            return os_fail(err == EEXIST ? StorageErrc::exists : StorageErrc::io,
                           KOLOKOL_TEXT("create"), path, err);
        }
        if (::unlink(tmp.c_str()) != 0)
            return os_fail(StorageErrc::io, KOLOKOL_TEXT("unlink"), tmp, errno);
        return sync_parent_dir(path);
    }

    // Keep the old file open so that its blocks can be overwritten once it is unlinked.
    Fd old(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat old_st {};
    bool have_old = old.ok() && ::fstat(old.get(), &old_st) == 0 && S_ISREG(old_st.st_mode);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("rename"), path, err);
    }
    if (auto s = sync_parent_dir(path); !s) return s;
    Status checked = after_rename ? after_rename() : Status{};
    if (have_old)
        if (auto s =
                overwrite_random(old.get(), static_cast<std::size_t>(old_st.st_size), path, random);
            !s)
            return s;
    return checked;
}

Status shred(const std::filesystem::path& path, crypto::Random& random) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.ok()) {
        int err = errno;
        if (err == ENOENT) return {};
        // Cannot overwrite (e.g. no write permission): removing it still matters most.
        if (::unlink(path.c_str()) == 0) return sync_parent_dir(path);
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("open"), path, err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("stat"), path, errno);
    if (!S_ISREG(st.st_mode)) return fail(StorageErrc::io, "{} is not a file", path.string());
    // A second name for the same file (a planted hard link) would have us overwrite a file
    // that is not ours to destroy: only the name goes.
    if (st.st_nlink == 1)
        if (auto s = overwrite_random(fd.get(), static_cast<std::size_t>(st.st_size), path, random);
            !s)
            return s;
    if (::unlink(path.c_str()) != 0)
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("unlink"), path, errno);
    return sync_parent_dir(path);
}

Result<HeldFile> hold_file(const std::filesystem::path& path) {
    HeldFile file;
    file.fd = Fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    file.writable = file.fd.ok();
    if (!file.fd.ok() && (errno == EACCES || errno == EROFS || errno == EPERM))
        file.fd = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!file.fd.ok()) {
        int err = errno;
        return os_fail(err == ENOENT ? StorageErrc::not_found : StorageErrc::io,
                       KOLOKOL_TEXT("open"), path, err);
    }
    if (::fstat(file.fd.get(), &file.st) != 0)
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("stat"), path, errno);
    if (!S_ISREG(file.st.st_mode)) return fail(StorageErrc::io, "{} is not a file", path.string());
    return file;
}

Result<Bytes> read_held(HeldFile& file, std::size_t max_bytes, const std::filesystem::path& path) {
    // Read one byte past the limit so a file that grew after fstat is still caught.
    Bytes out(max_bytes + 1);
    std::size_t got = 0;
    while (got < out.size()) {
        ssize_t n =
            ::pread(file.fd.get(), out.data() + got, out.size() - got, static_cast<off_t>(got));
        if (n < 0) {
            if (errno == EINTR) continue;
            return os_fail(StorageErrc::io, KOLOKOL_TEXT("read"), path, errno);
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got > max_bytes)
        return fail(StorageErrc::invalid_argument, "{} is larger than {} bytes", path.string(),
                    max_bytes);
    out.resize(got);
    return out;
}

Status overwrite_in_place(HeldFile& file, ByteView data, const std::filesystem::path& path) {
    if (!file.writable) return fail(StorageErrc::io, "{} cannot be written", path.string());
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(file.fd.get(), data.data() + done, data.size() - done,
                             static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return os_fail(StorageErrc::io, KOLOKOL_TEXT("write"), path, errno);
        }
        done += static_cast<std::size_t>(n);
    }
    return settle(file, path);
}

Status settle(HeldFile& file, const std::filesystem::path& path) {
    const struct timespec times[2] = {{0, UTIME_OMIT}, file.st.st_mtim};
    if (::futimens(file.fd.get(), times) != 0)
        return os_fail(StorageErrc::io, KOLOKOL_TEXT("set the times of"), path, errno);
    return fsync_fd(file.fd.get(), path);
}

}  // namespace kolokol::storage::detail
