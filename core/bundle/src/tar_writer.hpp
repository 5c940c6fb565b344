#pragma once
// A streaming tar writer (libarchive, pax restricted: plain ustar headers unless a name needs
// more) whose output goes to a callback. Regular files only; sizes are declared up front.

#include <archive.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"

namespace kolokol::bundle::detail {

class TarWriter {
public:
    // `out` receives the tar as it is written (unblocked); its error stops the writer and is
    // returned.
    explicit TarWriter(std::function<Status(ByteView)> out);
    ~TarWriter();
    TarWriter(const TarWriter&) = delete;
    TarWriter& operator=(const TarWriter&) = delete;

    Status open();
    // Starts a regular file of exactly `size` bytes (mode 0644, the given mtime).
    Status begin(const std::string& path, std::uint64_t size, std::int64_t mtime_s);
    Status write(ByteView data);
    Status end();
    // Writes the end-of-archive blocks.
    Status close();

    // A whole small file in one call.
    Status add(const std::string& path, std::string_view content, std::int64_t mtime_s);

private:
    static la_ssize_t on_write(struct archive*, void* self, const void* data, size_t n);
    Status check(int rc, const char* what);

    std::function<Status(ByteView)> m_out;
    struct archive* m_archive = nullptr;
    std::optional<Error> m_error;  // the sink's failure, kept with its code
    std::uint64_t m_left = 0;
    bool m_open = false;
};

}  // namespace kolokol::bundle::detail
