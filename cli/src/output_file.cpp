#include "output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "app.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

void write_output_file(const std::string& path, std::string_view text, bool force) {
    if (!force && ::access(path.c_str(), F_OK) == 0)
        throw CommandError(Exit::exists, subst(_("{} exists; give --force to replace it"), path));
    const std::string partial = path + ".partial";
    ::unlink(partial.c_str());  // a leftover of an interrupted run; never the real file
    int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        throw CommandError(Exit::failure,
                           subst(_("cannot write {}: {}"), partial, std::strerror(errno)));
    auto fail_write = [&] {
        const int err = errno;
        ::close(fd);
        ::unlink(partial.c_str());
        throw CommandError(Exit::failure,
                           subst(_("cannot write {}: {}"), path, std::strerror(err)));
    };
    while (!text.empty()) {
        auto n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail_write();
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd) != 0) fail_write();
    ::close(fd);
    // Without --force, link() refuses a file that appeared meanwhile, where rename() would
    // silently replace it.
    const int moved =
        force ? std::rename(partial.c_str(), path.c_str()) : ::link(partial.c_str(), path.c_str());
    const int err = errno;
    if (!force || moved != 0) ::unlink(partial.c_str());
    if (moved != 0)
        throw CommandError(err == EEXIST ? Exit::exists : Exit::failure,
                           subst(_("cannot write {}: {}"), path, std::strerror(err)));
}

}  // namespace kolokol::cli
