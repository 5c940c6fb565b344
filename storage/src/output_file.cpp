#include "kolokol/storage/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "kolokol/storage/error.hpp"

namespace kolokol::storage {

namespace {
int open_exclusive(const std::filesystem::path& path) {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

Error os_error(const std::filesystem::path& path, int err) {
    return {make_error_code(StorageErrc::io),
            "cannot create " + path.string() + ": " + std::strerror(err)};
}

// The temporary files made by this process, for remove_output_temps(). Each slot keeps a
// duplicate of the file's descriptor: while it is open the inode cannot be reused, so a file made
// later at the same name (after ours was removed) never looks like ours. A slot is written only
// while `used` is false and published by setting it (release); the exit path reads the slots
// whose `used` it sees set (acquire), without taking the mutex, which only orders the writers.
struct TempSlot {
    std::atomic<bool> used{false};
    int fd = -1;
    char path[4096] = {};
};
std::array<TempSlot, 64> g_temps;
std::mutex g_temps_mutex;

// True while the file noted in `slot` is still at its temporary name.
bool still_there(const TempSlot& slot) {
    struct stat held {
    }, named{};
    return ::fstat(slot.fd, &held) == 0 && ::lstat(slot.path, &named) == 0 &&
           held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

bool note_temp(const std::filesystem::path& temp, int fd) {
    const auto& text = temp.native();
    if (text.size() >= sizeof(TempSlot::path)) return false;
    std::lock_guard lock(g_temps_mutex);
    for (auto& slot : g_temps) {
        // A slot whose file was renamed into place or removed is free again.
        if (slot.used.load(std::memory_order_acquire)) {
            if (still_there(slot)) continue;
            slot.used.store(false, std::memory_order_release);
            ::close(slot.fd);
            slot.fd = -1;
        }
        slot.fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (slot.fd < 0) return false;
        std::memcpy(slot.path, text.c_str(), text.size() + 1);
        slot.used.store(true, std::memory_order_release);
        return true;
    }
    return false;
}
}  // namespace

void remove_output_temps() noexcept {
    for (auto& slot : g_temps)
        if (slot.used.load(std::memory_order_acquire) && still_there(slot)) ::unlink(slot.path);
}

Result<int> create_output_temp(const std::filesystem::path& temp) {
    int fd = open_exclusive(temp);
    if (fd < 0 && errno == EEXIST) {
        struct stat st {};
        // Only our own interrupted write is cleared away; unlinking a name never touches what a
        // link points to, and a link planted again in between makes the second create fail.
        if (::lstat(temp.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
            st.st_uid == ::geteuid() && ::unlink(temp.c_str()) == 0)
            fd = open_exclusive(temp);
        else
            errno = EEXIST;
        if (fd < 0 && errno == EEXIST)
            return fail(StorageErrc::exists,
                        "{} is in the way (a link or someone else's file): nothing was written; "
                        "remove it and try again",
                        temp.string());
    }
    if (fd < 0) return std::unexpected(os_error(temp, errno));
    // open()'s mode is filtered by the umask; fchmod is not.
    if (::fchmod(fd, 0600) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(temp.c_str());
        return std::unexpected(os_error(temp, err));
    }
    if (!note_temp(temp, fd)) {
        ::close(fd);
        ::unlink(temp.c_str());
        return fail(StorageErrc::io, "cannot create {}: too many files are being written at once",
                    temp.string());
    }
    return fd;
}

}  // namespace kolokol::storage
