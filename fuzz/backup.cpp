// Backup parsing: the protobuf inside a decrypted `kolokol backup` file, with every field checked
// (key sizes, secrets against the card, genesis against the group id, bounds on every count).
#include <cstddef>
#include <cstdint>

#include "kolokol/core/node.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)kolokol::core::Node::check_backup(kolokol::ByteView(data, size));
    return 0;
}
