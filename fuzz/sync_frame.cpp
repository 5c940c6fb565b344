// Sync frames from a peer or relay (transport/src/sync_wire.cpp): decode_frame, which every
// application message of a sync session goes through before anything acts on it.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "sync.pb.h"
#include "sync_wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)kolokol::transport::detail::decode_frame(kolokol::fuzz::input(data, size));
    return 0;
}
