// Sync files (core/src/node_sync_file.cpp): Node::read_sync_file on a fresh identity's home. The
// parser reads from a path, so the input is written to a scratch file first.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>

#include "fuzz_node.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = kolokol::fuzz::scratch_dir() / "input.kolokol";
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
        if (!out) std::abort();
    }
    (void)kolokol::fuzz::node().read_sync_file(path);
    return 0;
}
