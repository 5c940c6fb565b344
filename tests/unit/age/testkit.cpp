#include "testkit.hpp"

#include <zlib.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "vectors.hpp"

namespace kolokol::age::testkit {

std::filesystem::path directory() {
    auto dir = test::vectors_dir() / "age-testkit";
    if (!std::filesystem::is_directory(dir))
        throw std::runtime_error("age test kit not found at " + dir.string());
    return dir;
}

Bytes read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes inflate_zlib(ByteView compressed) {
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) throw std::runtime_error("inflateInit failed");
    Bytes out;
    ByteArray<65536> chunk{};
    zs.next_in = const_cast<Bytef*>(compressed.data());
    zs.avail_in = static_cast<uInt>(compressed.size());
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        zs.next_out = chunk.data();
        zs.avail_out = static_cast<uInt>(chunk.size());
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            throw std::runtime_error("zlib: corrupt test vector");
        }
        out.insert(out.end(), chunk.begin(), chunk.begin() + (chunk.size() - zs.avail_out));
    }
    inflateEnd(&zs);
    return out;
}

Vector load(const std::filesystem::path& path) {
    auto raw = read_file(path);
    Vector v;
    v.name = path.filename().string();
    std::size_t pos = 0;
    while (true) {
        std::size_t nl = pos;
        while (nl < raw.size() && raw[nl] != '\n') ++nl;
        if (nl >= raw.size()) throw std::runtime_error(v.name + ": no blank line after fields");
        std::string line(raw.begin() + static_cast<std::ptrdiff_t>(pos),
                         raw.begin() + static_cast<std::ptrdiff_t>(nl));
        pos = nl + 1;
        if (line.empty()) break;
        auto colon = line.find(": ");
        if (colon == std::string::npos) throw std::runtime_error(v.name + ": bad field " + line);
        v.fields.emplace(line.substr(0, colon), line.substr(colon + 2));
    }
    Bytes body(raw.begin() + static_cast<std::ptrdiff_t>(pos), raw.end());
    if (v.field("compressed") == "zlib")
        v.file = inflate_zlib(body);
    else if (v.field("compressed").empty())
        v.file = std::move(body);
    else
        throw std::runtime_error(v.name + ": unknown compression " + v.field("compressed"));
    return v;
}

}  // namespace kolokol::age::testkit
