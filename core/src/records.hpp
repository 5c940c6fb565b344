#pragma once
// Sealing and opening records (DESIGN §4 "Records"). A record is a RecordBody, signed by its
// author over the exact body bytes, sealed into an envelope under one epoch's content key (or
// control key, for membership, rotation and settings records).

#include <expected>
#include <optional>
#include <string_view>

#include "domains.hpp"
#include "epoch_keys.hpp"
#include "kolokol/core/types.hpp"
#include "kolokol/crypto/random.hpp"
#include "record.pb.h"

namespace kolokol::core {

inline constexpr int kMaxRefs = 64;
inline constexpr std::size_t kMaxMessageBytes = 16 * 1024;
inline constexpr int kMaxGrants = 1000;
// A rotation's control grants (§5.10): at most this many, each sealing the control key, mailbox
// seed and file key of the new epoch (kControlGrantKeyBytes) to a newcomer whose add waits.
inline constexpr int kMaxControlGrants = 64;
inline constexpr std::size_t kControlGrantKeyBytes = 3 * 32;
// A grant names the key it is sealed to by these many bytes of its hash (grant_key_hash).
inline constexpr std::size_t kGrantKeyHashBytes = 16;
// What a rotation's grant names of the X25519 key its secret is sealed to (§5.13).
std::string grant_key_hash(ByteView box_public_key);
inline constexpr int kMaxRelays = 16;
// Addresses a settings record may add to its relays (relay_alternates), in all and per relay
// (counting the relay's first address).
inline constexpr int kMaxRelayAlternates = 32;
inline constexpr int kMaxRelayAddresses = 8;
inline constexpr std::size_t kMaxRelayAddressChars = 256;
// Addresses one settings record may retire (relay_retired): a removed relay's 8, twice over.
inline constexpr int kMaxRelayRetired = 16;

// What is wrong with a settings record's relay list, or nullopt: at most kMaxRelays relays of
// at most kMaxRelayAddressChars characters; relay_alternates only with set_relays, at most
// kMaxRelayAlternates of them, each a canonical address whose key is the key of a relay the
// record lists (so an added address can never lead to another relay), none listed twice, and
// at most kMaxRelayAddresses addresses per relay key; relay_retired only with set_relays, at
// most kMaxRelayRetired canonical addresses, none of them listed by the record itself.
std::optional<std::string_view> relay_list_problem(const pb::GroupSettings& settings);
// What is wrong with a settings record's quorum, or nullopt: with set_quorum, a quorum of 1 to
// kMaxQuorum and nothing else set (a change of the quorum may wait for approvals, and nothing
// else in the record must wait with it); without it, no quorum value.
std::optional<std::string_view> quorum_problem(const pb::GroupSettings& settings);
inline constexpr std::uint32_t kMaxQuorum = 100;
// The longest rekey interval a settings record may set (10 years).
inline constexpr std::uint64_t kMaxRekeyIntervalSeconds = 10ull * 366 * 24 * 3600;
// The shortest rekey interval: every key update makes each admin rotate, so a shorter one
// (set by any one admin, a seized one too) would have the group rotate at every sync.
inline constexpr std::uint64_t kMinRekeyIntervalSeconds = 3600;

// Control records travel under the control key so late joiners can read them.
bool is_control_payload(const pb::RecordBody& body);

struct OpenedRecord {
    RecordId id{};
    Bytes envelope;
    Bytes signed_record;  // SignedRecord bytes (stored; the signature is re-checkable)
    pb::RecordBody body;
    bool control = false;
};

struct Rejection {
    RejectReason reason;
    std::string detail;
};

// Serialises, signs and seals `body`. Returns the envelope bytes.
Bytes seal_record(const pb::RecordBody& body, const crypto::SecretBytes& author_secret,
                  const EpochKeys& keys, crypto::Random& random);

// Opens an envelope known to belong to `keys`' mailbox: AEAD (content key, then control key),
// then parse, then structural limits, then the signature, then group/epoch binding.
std::expected<OpenedRecord, Rejection> open_record(ByteView envelope, const EpochKeys& keys);

// open_record in two steps, for ingest to check signatures on other threads in the order it
// applies records: open_unchecked() opens and parses the envelope and checks the structural
// limits (the record's Lamport clock is readable then); check_unchecked() checks the signature,
// then that the record belongs to the group and epoch of the keys that opened it (it needs only
// their ids, not the keys). Nothing of an UncheckedRecord may be trusted before
// check_unchecked() returns it.
struct UncheckedRecord {
    OpenedRecord record;  // body, control and signed_record set; id and envelope not yet
    pb::SignedRecord sr;
};
std::expected<UncheckedRecord, Rejection> open_unchecked(ByteView envelope, const EpochKeys& keys);
std::expected<OpenedRecord, Rejection> check_unchecked(UncheckedRecord unchecked, ByteView envelope,
                                                       const GroupId& group, const EpochId& epoch);

// As open_record, without the signature check, without hashing the envelope again (`id` is its
// record id, already checked by the caller) and without copying the envelope and signed record
// into the result (only `id`, `body` and `control` are set). Only for an envelope whose
// id a verified record commits to — an attachment chunk named by its signed manifest's
// chunk-id hash — and only when the caller checks that commitment before it trusts the result:
// the id pins the envelope's bytes, and the signature was checked when it was ingested.
std::expected<OpenedRecord, Rejection> open_pinned_record(ByteView envelope, const EpochKeys& keys,
                                                          const RecordId& id);

// The SignedRecord an envelope of `keys`' epoch carries (AEAD under the content key, then the
// control key), without parsing or checking it: only for a record body stored once, in its
// envelope, whose record was verified when it was applied (DESIGN §12.6). nullopt when
// neither key opens it.
std::optional<Bytes> open_stored_body(ByteView envelope, const EpochKeys& keys);

// Re-parses a stored SignedRecord (already verified at ingest).
std::optional<pb::RecordBody> parse_stored_body(ByteView signed_record);

inline RecordId ref_id(const pb::RecordRef& ref) {
    return to_array<32>(as_bytes(ref.id()));
}
inline MemberKey author_of(const pb::RecordBody& b) {
    return to_array<32>(as_bytes(b.author()));
}

}  // namespace kolokol::core
