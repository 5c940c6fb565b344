#pragma once
// Value types shared by the core's public API.

#include <cstdint>
#include <string>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/storage/envelope.hpp"

namespace kolokol::core {

using GroupId = ByteArray<32>;
using EpochId = ByteArray<32>;
using MemberKey = ByteArray<32>;  // Ed25519 public key
using storage::MailboxId;
using storage::RecordId;

// Why an envelope was refused. Stable numbers: they are stored and listed.
enum class RejectReason : int {
    malformed_envelope = 1,  // wrong size or version
    undecryptable = 2,       // AEAD failed under the mailbox's epoch keys
    malformed_record = 3,    // the record or its body does not parse or breaks a size limit
    bad_signature = 4,       // the author's signature does not verify
    wrong_group = 5,         // the body names another group than the mailbox's (a replay)
    wrong_epoch = 6,         // the body names another epoch, or one the author could not use
    wrong_key_class = 7,     // a control record under the content key or the reverse
    bad_references = 8,      // Lamport clock or author sequence inconsistent with references
    not_member = 9,          // the author was not a member at the record's causal position
    not_admin = 10,          // a control record by someone who was not an admin there
    invalid_op = 11,         // a membership or rotation op that makes no sense there
    removed_author = 12,     // written by a member concurrently with (or after) their removal
    // Noted, not refused: a rotation (applied) whose grant to this member disagrees with the key
    // held for that epoch. The held key is kept.
    key_conflict = 13,
};
std::string_view reject_reason_name(RejectReason reason);

}  // namespace kolokol::core
