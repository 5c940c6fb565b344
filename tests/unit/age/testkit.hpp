#pragma once
// Reads the C2SP age test kit: "key: value" lines, an empty line, then the age file (zlib
// compressed when `compressed: zlib`).

#include <filesystem>
#include <map>
#include <string>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::age::testkit {

struct Vector {
    std::string name;
    std::multimap<std::string, std::string> fields;
    Bytes file;  // the age file, already inflated

    std::string field(const std::string& key) const {
        auto it = fields.find(key);
        return it == fields.end() ? std::string{} : it->second;
    }
};

// The kit's folder, tests/vectors/age-testkit (or under $KOLOKOL_TESTDATA when set); throws
// when it cannot be found so the test fails loudly.
std::filesystem::path directory();
Vector load(const std::filesystem::path& path);
Bytes inflate_zlib(ByteView compressed);
Bytes read_file(const std::filesystem::path& path);

}  // namespace kolokol::age::testkit
