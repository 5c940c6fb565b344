#pragma once
// Kolokol's Noise_XX handshake states at each point where a peer's message is read, built with
// fixed keys and ephemerals so that every fuzz run starts from the same state.
#include <cstdlib>

#include "kolokol/crypto/secret.hpp"
#include "kolokol/transport/frame.hpp"
#include "kolokol/transport/noise.hpp"
#include "kolokol/transport/session.hpp"

namespace kolokol::fuzz {

inline crypto::SecretBytes fixed_secret(std::uint8_t fill) {
    crypto::SecretBytes s(32);
    for (auto& b : s.mutable_view()) b = fill;
    return s;
}

inline transport::noise::HandshakeState handshake(transport::noise::Role role) {
    using namespace transport;
    noise::HandshakeConfig c;
    c.protocol_name = std::string(kNoiseProtocol);
    c.role = role;
    c.prologue = to_bytes(kPrologue);
    const std::uint8_t id = role == noise::Role::initiator ? 0x11 : 0x22;
    c.local_static = fixed_secret(id);
    auto hs = noise::HandshakeState::create_with_fixed_ephemeral_for_testing(
        std::move(c), fixed_secret(static_cast<std::uint8_t>(id + 1)));
    if (!hs) std::abort();
    return std::move(*hs);
}

inline Bytes offer() {
    return transport::encode_version_offer({transport::kProtocolVersion});
}

}  // namespace kolokol::fuzz
