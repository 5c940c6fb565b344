#include "kolokol/transport/session_error.hpp"

#include <string>

namespace kolokol::transport {

namespace {
struct TransportCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.transport"; }
    std::string message(int c) const override {
        switch (static_cast<TransportErrc>(c)) {
            case TransportErrc::unknown_protocol:
                return KOLOKOL_TEXT("unsupported Noise protocol");
            case TransportErrc::bad_config:
                return KOLOKOL_TEXT("bad handshake configuration");
            case TransportErrc::wrong_state:
                return KOLOKOL_TEXT("handshake used out of order");
            case TransportErrc::message_too_large:
                return KOLOKOL_TEXT("Noise message too large");
            case TransportErrc::malformed_message:
                return KOLOKOL_TEXT("malformed handshake message");
            case TransportErrc::decrypt_failed:
                return KOLOKOL_TEXT("decryption failed");
            case TransportErrc::invalid_dh:
                return KOLOKOL_TEXT("invalid Diffie-Hellman result");
            case TransportErrc::nonce_exhausted:
                return KOLOKOL_TEXT("nonces exhausted");
            case TransportErrc::handshake_timeout:
                return KOLOKOL_TEXT("handshake timed out");
            case TransportErrc::idle_timeout:
                return KOLOKOL_TEXT("session idle for too long");
            case TransportErrc::send_timeout:
                return KOLOKOL_TEXT("the peer is not reading");
            case TransportErrc::frame_too_large:
                return KOLOKOL_TEXT("frame too large");
            case TransportErrc::malformed_frame:
                return KOLOKOL_TEXT("malformed frame");
            case TransportErrc::version_mismatch:
                return KOLOKOL_TEXT("no common protocol version");
            case TransportErrc::remote_key_mismatch:
                return KOLOKOL_TEXT("the peer's key is not the expected one");
            case TransportErrc::closed_cleanly:
                return KOLOKOL_TEXT("the peer closed the session");
            case TransportErrc::truncated:
                return KOLOKOL_TEXT("the connection ended without a close frame");
            case TransportErrc::session_closed:
                return KOLOKOL_TEXT("the session is closed");
            case TransportErrc::busy:
                return KOLOKOL_TEXT("a receive is already pending");
            case TransportErrc::connect_failed:
                return KOLOKOL_TEXT("could not connect");
            case TransportErrc::io_error:
                return KOLOKOL_TEXT("network input/output error");
            case TransportErrc::listen_failed:
                return KOLOKOL_TEXT("could not listen");
            case TransportErrc::invalid_address:
                return KOLOKOL_TEXT("invalid address");
        }
        return KOLOKOL_TEXT("unknown transport error");
    }
};
}  // namespace

const std::error_category& TransportErrc_category() {
    static TransportCategory category;
    return category;
}

}  // namespace kolokol::transport
