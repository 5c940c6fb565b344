#include "kolokol/storage/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
}  // namespace

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
    return fd;
}

}  // namespace kolokol::storage
