#include "kolokol/storage/posix_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace kolokol::storage {

Status write_all(int fd, ByteView data) {
    while (!data.empty()) {
        auto n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(std::error_code(errno, std::generic_category()), "write failed: {}",
                        std::string(std::strerror(errno)));
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

Result<std::size_t> read_some(int fd, MutableByteView out) {
    while (true) {
        auto n = ::read(fd, out.data(), out.size());
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR)
            return fail(std::error_code(errno, std::generic_category()), "read failed: {}",
                        std::string(std::strerror(errno)));
    }
}

}  // namespace kolokol::storage
