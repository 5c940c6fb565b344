// Welcome tokens (core/src/node_welcome.cpp): Node::join on a fresh identity, the whole path a
// pasted token takes (prefix, base64url, sealed box, protobuf, signature, expiry).
#include <cstddef>
#include <cstdint>

#include "fuzz_node.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)kolokol::fuzz::node().join(kolokol::fuzz::text(data, size));
    return 0;
}
