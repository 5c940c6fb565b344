#pragma once
// A minimal ustar reader and writer for the tests: enough to take a bundle's tar apart, change
// it the way an attacker would, and put it back together (or build a hostile one from scratch).

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kolokol/crypto/bytes.hpp"

namespace tartest {

struct Entry {
    std::string name;
    std::string data;
    char type = '0';   // '0' file, '2' symlink, '1' hard link, '3' char device, '5' directory
    std::string link;  // for links
    std::uint64_t declared = UINT64_MAX;  // a size field that lies (huge declared sizes)
};

inline std::vector<Entry> untar(kolokol::ByteView tar) {
    std::vector<Entry> out;
    std::size_t pos = 0;
    while (pos + 512 <= tar.size()) {
        const char* h = reinterpret_cast<const char*>(tar.data() + pos);
        if (h[0] == 0) break;
        Entry e;
        e.name.assign(h, strnlen(h, 100));
        e.type = h[156];
        std::uint64_t size = std::stoull(std::string(h + 124, strnlen(h + 124, 12)), nullptr, 8);
        e.data.assign(reinterpret_cast<const char*>(tar.data() + pos + 512), size);
        pos += 512 + (size + 511) / 512 * 512;
        out.push_back(std::move(e));
    }
    return out;
}

inline kolokol::Bytes tar(const std::vector<Entry>& entries) {
    kolokol::Bytes out;
    for (const auto& e : entries) {
        char h[512] = {};
        std::memcpy(h, e.name.data(), std::min<std::size_t>(e.name.size(), 100));
        std::memcpy(h + 100, "0000644", 8);
        std::memcpy(h + 108, "0000000", 8);
        std::memcpy(h + 116, "0000000", 8);
        const std::uint64_t size = e.declared != UINT64_MAX ? e.declared : e.data.size();
        if (size < (1ull << 33)) {
            std::snprintf(h + 124, 12, "%011llo", static_cast<unsigned long long>(size));
        } else {  // base-256, as GNU tar writes sizes of 8 GiB and more
            h[124] = static_cast<char>(0x80);
            for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
        }
        std::memcpy(h + 136, "14000000000", 12);
        h[156] = e.type;
        std::memcpy(h + 157, e.link.data(), std::min<std::size_t>(e.link.size(), 100));
        std::memcpy(h + 257, "ustar", 6);
        std::memcpy(h + 263, "00", 2);
        std::memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (unsigned char c : h) sum += c;
        std::snprintf(h + 148, 8, "%06o", sum);
        h[155] = ' ';
        out.insert(out.end(), h, h + 512);
        out.insert(out.end(), e.data.begin(), e.data.end());
        out.resize((out.size() + 511) / 512 * 512, 0);
    }
    out.resize(out.size() + 1024, 0);
    return out;
}

}  // namespace tartest
