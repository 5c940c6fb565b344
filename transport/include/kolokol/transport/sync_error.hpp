#pragma once
// The sync protocol's errors (category "kolokol.sync").

#include "kolokol/crypto/error.hpp"

namespace kolokol::transport {

enum class SyncErrc {
    protocol_violation = 1,  // the peer sent a malformed or out-of-turn frame
    unopened_mailbox,        // envelopes, wants or reconciliation for a mailbox not open
    limit_exceeded,          // the peer went past a window, count or round limit
    version_mismatch,        // the peer speaks another sync version
    replica_failed,          // the local Replica returned an error
    peer_closed,             // the peer ended the session with an error reason
    invalid_key,             // a MailboxKey whose id or public key does not match
    stopped,                 // stop() was called before the sync finished
    stalled,                 // nothing arrived for the progress timeout while data was due
    budget_spent,            // a client ended a short connection at its byte budget
};
KOLOKOL_ERROR_ENUM(SyncErrc)

}  // namespace kolokol::transport

KOLOKOL_ERROR_ENUM_TRAITS(kolokol::transport, SyncErrc)
