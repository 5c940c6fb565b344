// The WebSocket frame decoder (websocket.hpp) on both sides, and the upgrade request parser.
// The first input byte picks the side and how the rest is cut into feeds.
#include "kolokol/transport/websocket.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace kolokol;
    using namespace kolokol::transport;
    if (size == 0) return 0;
    const auto role = (data[0] & 1) ? ws::Role::server : ws::Role::client;
    const std::size_t step = 1 + (data[0] >> 1);
    ws::FrameDecoder decoder(role, 4096);
    const ByteView rest(data + 1, size - 1);
    for (std::size_t at = 0; at < rest.size(); at += step) {
        decoder.feed(rest.subspan(at, std::min(step, rest.size() - at)));
        for (;;) {
            auto frame = decoder.next();
            if (!frame || !*frame) break;
        }
        if (decoder.buffered() > 4096 + 14 + step) __builtin_trap();
    }
    ws::check_upgrade_request(
        std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()), "/secret");
    ws::check_upgrade_response(
        std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()),
        "dGhlIHNhbXBsZSBub25jZQ==");
    return 0;
}
