#pragma once
// TransportErrc: the error codes of the Noise layer, the framed sessions, the server and relay
// addresses. They live in their own std::error_category ("kolokol.transport") so they compare
// with asio::error_code and with other modules' codes through std::error_code.

#include "kolokol/crypto/error.hpp"

namespace kolokol::transport {

enum class TransportErrc {
    // Noise layer
    unknown_protocol = 1,  // protocol name or pattern this implementation does not speak
    bad_config,            // a key or psk missing, superfluous or of the wrong size
    wrong_state,           // write when a read is due, use after failure or after split
    message_too_large,     // a Noise message over 65,535 bytes
    malformed_message,     // a handshake message too short for its pattern
    decrypt_failed,        // AEAD authentication failed
    invalid_dh,            // X25519 gave all zeros (low-order point)
    nonce_exhausted,       // the 2^64-1 nonce would be used
    // sessions
    handshake_timeout,    // the handshake did not finish before its deadline
    idle_timeout,         // no complete frame received for the idle period
    send_timeout,         // the send queue stayed full past the send deadline
    frame_too_large,      // a frame length over the receiver's limit
    malformed_frame,      // a frame too short, of unknown kind or with bad contents
    version_mismatch,     // no protocol version in common
    remote_key_mismatch,  // the peer's static key is not the pinned one
    closed_cleanly,       // the peer sent its close frame: the end of its stream
    truncated,            // the connection ended without a close frame
    session_closed,       // the session was closed or aborted on this side
    busy,                 // a second receive() while one is pending
    connect_failed,       // resolving or connecting failed, or the dialer gave up
    io_error,             // a socket read or write failed
    // server and addresses
    listen_failed,
    invalid_address,
};
KOLOKOL_ERROR_ENUM(TransportErrc)

}  // namespace kolokol::transport

KOLOKOL_ERROR_ENUM_TRAITS(kolokol::transport, TransportErrc)
