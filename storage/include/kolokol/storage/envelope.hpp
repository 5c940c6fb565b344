#pragma once
// The envelope (kolokol/envelope/envelope.hpp, target kolokol_envelope) under the names storage
// and its users have always used: the store keeps envelopes, and transport checks them without
// a store.

#include "kolokol/envelope/envelope.hpp"

namespace kolokol::storage {

using envelope::EnvelopeView;
using envelope::kEnvelopeHeaderBytes;
using envelope::kEnvelopeMaxBytes;
using envelope::kEnvelopeMinBytes;
using envelope::kEnvelopeVersion;
using envelope::MailboxId;
using envelope::parse_envelope;
using envelope::record_id_of;
using envelope::RecordId;

}  // namespace kolokol::storage
