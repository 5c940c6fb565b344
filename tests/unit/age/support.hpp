#pragma once
// In-memory sources and sinks for the age stream tests.

#include <algorithm>
#include <memory>

#include "kolokol/age/decryptor.hpp"
#include "kolokol/age/encryptor.hpp"

namespace kolokol::age::test {

// Serves `data` at most `max_read` bytes per call.
inline Source memory_source(ByteView data, std::size_t max_read = SIZE_MAX) {
    auto pos = std::make_shared<std::size_t>(0);
    return [data, pos, max_read](MutableByteView out) -> Result<std::size_t> {
        auto n = std::min({out.size(), data.size() - *pos, max_read});
        std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(*pos), n, out.begin());
        *pos += n;
        return n;
    };
}

inline Sink memory_sink(Bytes& out) {
    return [&out](ByteView bytes) -> Status {
        append(out, bytes);
        return {};
    };
}

// Reads everything with reads of `chunk` bytes; returns the first error.
inline Result<Bytes> read_all(Decryptor& dec, std::size_t chunk) {
    Bytes out;
    Bytes buffer(chunk);
    while (true) {
        auto n = dec.read(buffer);
        if (!n) return std::unexpected(n.error());
        if (*n == 0) return out;
        append(out, ByteView(buffer).first(*n));
    }
}

}  // namespace kolokol::age::test
