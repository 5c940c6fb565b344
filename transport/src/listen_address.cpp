#include <charconv>
#include <string>

#include "kolokol/transport/server.hpp"

namespace kolokol::transport {

Result<asio::ip::tcp::endpoint> parse_listen_address(std::string_view text) {
    auto bad = [&](std::string why) {
        return fail(TransportErrc::invalid_address, "invalid listen address \"{}\": {}",
                    text.substr(0, 80), why);
    };
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return bad("expected [IPv6]:PORT");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return bad("expected HOST:PORT");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return bad("put an IPv6 host in brackets");
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535 ||
        (port.size() > 1 && port.front() == '0'))
        return bad("the port must be a number from 0 to 65535");
    std::error_code aec;
    auto address = asio::ip::make_address(std::string(host), aec);
    if (aec) return bad("the host must be an IP address");
    return asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(value));
}

}  // namespace kolokol::transport
