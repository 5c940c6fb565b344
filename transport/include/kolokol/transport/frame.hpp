#pragma once
// The wire format of a Kolokol session (DESIGN §4 "Transport").
//
//   frame      = length(2, big-endian) || noise_message(length bytes)
//
// Every Noise message, handshake and transport alike, is one frame, so a frame is at most
// 65,535 bytes. Handshake messages are Noise_XX with the prologue "kolokol/1" and carry the
// version negotiation as fixed bytes inside the authenticated transcript:
//
//   msg 1 (initiator → responder, -> e):              offer  = count(1) || version(2 BE) × count
//   msg 2 (responder → initiator, <- e, ee, s, es):   answer = chosen(2 BE) || offer
//   msg 3 (initiator → responder, -> s, se):          empty
//
// An offer lists 1..16 non-zero versions in strictly increasing order; `chosen` is the highest
// version both sides list, or 0 when there is none (the responder then ends the connection, and
// its own offer in the answer lets the initiator say which versions the peer has). Msg 1 is not
// encrypted but is hashed into h, so a changed offer makes msg 2 fail to decrypt.
//
// After the handshake each transport message decrypts to
//
//   kind(1) || body        kind 0 = data (body = one application message)
//                          kind 1 = close (empty body: the sender will send nothing more)
//
// and the stream ends with a close frame; a connection that ends without one was truncated.

#include <cstdint>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/transport/noise.hpp"
#include "kolokol/transport/session_error.hpp"

namespace kolokol::transport {

inline constexpr std::size_t kFrameHeaderBytes = 2;
inline constexpr std::size_t kMaxFrameBytes = 65535;
// The smallest frame limit a session may be configured with: room for a close frame and a
// handshake message.
inline constexpr std::size_t kMinFrameLimit = 256;
// Handshake frames hold keys and a version list, never application data: anything longer is
// refused before it is read, so an unauthenticated peer cannot make us buffer 64 KiB.
inline constexpr std::size_t kMaxHandshakeFrameBytes = 512;
// Transport frames: the Poly1305 tag plus the kind byte.
inline constexpr std::size_t kFrameOverheadBytes = noise::kTagBytes + 1;
inline constexpr std::size_t kMinTransportFrameBytes = kFrameOverheadBytes;
// The largest application message one send() carries with the default frame limit.
inline constexpr std::size_t kMaxMessageBytes = kMaxFrameBytes - kFrameOverheadBytes;

inline constexpr std::size_t kMaxOfferedVersions = 16;

enum class FrameKind : std::uint8_t { data = 0, close = 1 };

// `noise_message` (≤ 65,535 bytes, asserted) with its 2-byte length in front.
Bytes encode_frame(ByteView noise_message);
// The length from a 2-byte frame header (exactly 2 bytes, asserted).
std::size_t frame_length(ByteView header);

// Version offers and answers (format above). The parsers take untrusted bytes and fail with
// malformed_frame on any deviation: empty, too many, zero, unordered or duplicated versions,
// trailing bytes.
Bytes encode_version_offer(const std::vector<std::uint16_t>& versions);
Result<std::vector<std::uint16_t>> parse_version_offer(ByteView payload);
struct VersionAnswer {
    std::uint16_t chosen = 0;  // 0: nothing in common
    std::vector<std::uint16_t> supported;
};
Bytes encode_version_answer(const VersionAnswer& answer);
Result<VersionAnswer> parse_version_answer(ByteView payload);
// The highest version in both lists (each strictly increasing), or 0.
std::uint16_t choose_version(const std::vector<std::uint16_t>& ours,
                             const std::vector<std::uint16_t>& theirs);
// Checks a locally configured list: 1..16 non-zero versions, strictly increasing.
Status validate_versions(const std::vector<std::uint16_t>& versions);

}  // namespace kolokol::transport
