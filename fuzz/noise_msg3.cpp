// Noise msg 3 (-> s, se) as the responder reads it after a real msg 1 and its own msg 2.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "noise_common.hpp"

using namespace kolokol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto initiator = fuzz::handshake(transport::noise::Role::initiator);
    auto responder = fuzz::handshake(transport::noise::Role::responder);
    auto m1 = initiator.write_message(fuzz::offer());
    if (!m1 || !responder.read_message(*m1)) std::abort();
    auto answer = transport::encode_version_answer({transport::kProtocolVersion, {1}});
    if (!responder.write_message(answer)) std::abort();
    (void)responder.read_message(fuzz::input(data, size));
    return 0;
}
