#include "kolokol/transport/session_error.hpp"

#include <string>

namespace kolokol::transport {

namespace {
struct TransportCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.transport"; }
    std::string message(int c) const override {
        switch (static_cast<TransportErrc>(c)) {
            case TransportErrc::unknown_protocol:
                return "unsupported Noise protocol";
            case TransportErrc::bad_config:
                return "bad handshake configuration";
            case TransportErrc::wrong_state:
                return "handshake used out of order";
            case TransportErrc::message_too_large:
                return "Noise message too large";
            case TransportErrc::malformed_message:
                return "malformed handshake message";
            case TransportErrc::decrypt_failed:
                return "decryption failed";
            case TransportErrc::invalid_dh:
                return "invalid Diffie-Hellman result";
            case TransportErrc::nonce_exhausted:
                return "nonces exhausted";
            case TransportErrc::handshake_timeout:
                return "handshake timed out";
            case TransportErrc::idle_timeout:
                return "session idle for too long";
            case TransportErrc::send_timeout:
                return "the peer is not reading";
            case TransportErrc::frame_too_large:
                return "frame too large";
            case TransportErrc::malformed_frame:
                return "malformed frame";
            case TransportErrc::version_mismatch:
                return "no common protocol version";
            case TransportErrc::remote_key_mismatch:
                return "the peer's key is not the expected one";
            case TransportErrc::closed_cleanly:
                return "the peer closed the session";
            case TransportErrc::truncated:
                return "the connection ended without a close frame";
            case TransportErrc::session_closed:
                return "the session is closed";
            case TransportErrc::busy:
                return "a receive is already pending";
            case TransportErrc::connect_failed:
                return "could not connect";
            case TransportErrc::io_error:
                return "network input/output error";
            case TransportErrc::listen_failed:
                return "could not listen";
            case TransportErrc::invalid_address:
                return "invalid address";
        }
        return "unknown transport error";
    }
};
}  // namespace

const std::error_category& TransportErrc_category() {
    static TransportCategory category;
    return category;
}

}  // namespace kolokol::transport
