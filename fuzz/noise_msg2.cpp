// Noise msg 2 (<- e, ee, s, es, with the version answer) as the initiator reads it after sending
// a real msg 1, then the answer parser on the payload it yields.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "noise_common.hpp"

using namespace kolokol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto initiator = fuzz::handshake(transport::noise::Role::initiator);
    if (!initiator.write_message(fuzz::offer())) std::abort();
    auto payload = initiator.read_message(fuzz::input(data, size));
    if (payload) (void)transport::parse_version_answer(*payload);
    return 0;
}
