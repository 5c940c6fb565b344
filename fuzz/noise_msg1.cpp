// Noise msg 1 (-> e, with the version offer) as the responder reads it from an unauthenticated
// peer, then the offer parser on the payload it yields.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "noise_common.hpp"

using namespace kolokol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto responder = fuzz::handshake(transport::noise::Role::responder);
    auto payload = responder.read_message(fuzz::input(data, size));
    if (payload) (void)transport::parse_version_offer(*payload);
    return 0;
}
