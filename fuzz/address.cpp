// Address parsing: kolokol://<host>:<port>/<key> from the user, cards and group relay lists.
#include "kolokol/transport/address.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)kolokol::transport::Address::parse(
        std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
