#pragma once
// The handshake pattern table (Noise rev. 34 §7.4, §7.5 and §9 for psk modifiers).

#include <cstdint>
#include <string_view>
#include <vector>

#include "kolokol/crypto/error.hpp"

namespace kolokol::transport::noise {

enum class Token : std::uint8_t { e, s, ee, es, se, ss, psk };

struct MessagePattern {
    bool from_initiator = true;
    std::vector<Token> tokens;
};

struct HandshakePattern {
    bool initiator_pre_static = false;  // "-> s" before "..."
    bool responder_pre_static = false;  // "<- s" before "..."
    std::vector<MessagePattern> messages;
    std::size_t psk_count = 0;  // psk tokens; > 0 turns on the psk rule for "e"
    bool one_way = false;

    // Whether the party playing `initiator` ever sends its static key ("s" token or pre-message).
    bool sends_static(bool initiator) const;
};

// Looks up "Noise_<pattern>_25519_ChaChaPoly_BLAKE2b" (≤ 255 bytes). unknown_protocol on any
// other suite, unknown base pattern or modifier, repeated or out-of-range psk modifier.
Result<HandshakePattern> find_pattern(std::string_view protocol_name);

}  // namespace kolokol::transport::noise
