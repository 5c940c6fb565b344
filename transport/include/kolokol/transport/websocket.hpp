#pragma once
// RFC 6455 WebSocket framing and the opening handshake, as much as a Kolokol session needs to
// pass through a web server (DESIGN §8.7): binary frames carry the session's bytes in order;
// ping is answered with pong; close ends the stream. No extensions, no subprotocols, no text.
//
// The decoder is pure (bytes in, frames out) so it can be fuzzed; the I/O is in ws_tunnel.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"

namespace kolokol::transport::ws {

// The largest payload of one frame either side accepts. Ours are at most kMaxSendPayload.
inline constexpr std::size_t kMaxFramePayload = 256 * 1024;
inline constexpr std::size_t kMaxSendPayload = 16 * 1024;
// Control frames carry at most 125 bytes (RFC 6455 §5.5).
inline constexpr std::size_t kMaxControlPayload = 125;
// The opening handshake's request or response, headers included.
inline constexpr std::size_t kMaxHandshakeBytes = 8 * 1024;

enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// Which side decodes: a server requires masked frames (RFC 6455 §5.1), a client unmasked ones.
enum class Role { client, server };

struct Frame {
    Opcode opcode = Opcode::binary;
    bool fin = true;
    Bytes payload;  // unmasked
};

// Encodes one frame. `mask` (from the client side) is applied and sent; without it the frame
// goes unmasked (the server side).
Bytes encode_frame(Opcode opcode, ByteView payload, std::optional<std::uint32_t> mask);

// Splits a byte stream into frames. Refuses, as a protocol error that ends the connection:
// reserved bits set, unknown or text opcodes, a frame masked the wrong way for `role`, a payload
// length over `max_payload` (before any of it is buffered), a length not in its shortest form,
// a control frame longer than 125 bytes or fragmented, a continuation without a fragmented
// message before it, or a new data frame inside one.
class FrameDecoder {
public:
    explicit FrameDecoder(Role role, std::size_t max_payload = kMaxFramePayload)
        : m_role(role), m_max_payload(max_payload) {}

    // Appends received bytes. Nothing is parsed until next().
    void feed(ByteView bytes);
    // The next whole frame, std::nullopt when more bytes are needed, or the protocol error
    // (malformed_frame, frame_too_large). After an error the decoder stays failed.
    Result<std::optional<Frame>> next();
    // Bytes held and not yet returned as frames (at most one frame's header and payload).
    std::size_t buffered() const { return m_buffer.size() - m_offset; }

private:
    Role m_role;
    std::size_t m_max_payload;
    Bytes m_buffer;
    std::size_t m_offset = 0;
    bool m_in_message = false;  // a fragmented data message is open
    std::optional<Error> m_failed;
};

// The opening handshake. The key is 16 random bytes in base64 (24 characters).
std::string make_client_key(ByteView sixteen_random_bytes);
// base64(SHA-1(key + the RFC's GUID)).
std::string accept_for_key(std::string_view key);

// "GET <path> HTTP/1.1" with Host, Upgrade, Connection, Sec-WebSocket-Key and -Version 13.
std::string client_request(std::string_view host_header, std::string_view path,
                           std::string_view key);

// The request a server read, checked against the secret path. Returns the client's key when it
// is a WebSocket upgrade (GET, HTTP/1.1, the exact path, Upgrade: websocket, Connection with
// the upgrade token, version 13 and a key of 16 bytes), std::nullopt otherwise (answer 404).
// `head` is the request up to and including the blank line.
std::optional<std::string> check_upgrade_request(std::string_view head, std::string_view path);

// The X-Real-IP header of a request head, as it stands, when the head is well formed and names
// it once (a duplicate header of any kind: std::nullopt). Whether to believe it is the
// gateway's call (ws_gateway.hpp).
std::optional<std::string> real_ip(std::string_view head);

// "HTTP/1.1 101 Switching Protocols" with the accept value, and the plain 404 every other
// request gets.
std::string upgrade_response(std::string_view key);
std::string not_found_response();

// Whether a server's response head (up to the blank line) accepts the upgrade for `key`.
bool check_upgrade_response(std::string_view head, std::string_view key);

}  // namespace kolokol::transport::ws
