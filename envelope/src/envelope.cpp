#include "kolokol/envelope/envelope.hpp"

#include "kolokol/crypto/hash.hpp"

namespace kolokol::envelope {

std::optional<EnvelopeView> parse_envelope(ByteView bytes) {
    if (bytes.size() < kEnvelopeMinBytes || bytes.size() > kEnvelopeMaxBytes) return std::nullopt;
    if (bytes[0] != kEnvelopeVersion) return std::nullopt;
    EnvelopeView v;
    v.version = bytes[0];
    v.mailbox = to_array<32>(bytes.subspan(1, 32));
    v.nonce = bytes.subspan(33, 24);
    v.ciphertext = bytes.subspan(kEnvelopeHeaderBytes);
    v.header = bytes.first(33);
    return v;
}

RecordId record_id_of(ByteView envelope_bytes) {
    return crypto::blake2b_256(envelope_bytes);
}

}  // namespace kolokol::envelope
