#pragma once
// Decoding sync frames from the peer, and small field helpers shared by the sync sources.

#include <optional>
#include <string>

#include "kolokol/transport/reconcile.hpp"
#include "kolokol/transport/sync_types.hpp"

namespace kolokol::pb {
class SyncFrame;
}

namespace kolokol::transport::detail {

// Reconciliation messages inside a Reconcile frame leave room for the frame's own fields.
inline constexpr std::size_t kSyncReconcileMessageBytes = kReconcileMaxMessageBytes;
static_assert(kSyncReconcileMessageBytes + 64 <= kSyncFrameMaxBytes);
// Fixed cost of an Envelopes frame around its envelopes: the kind's tag and length, the
// mailbox field and the flush flag.
inline constexpr std::size_t kEnvelopesFrameOverhead = 1 + 3 + (1 + 1 + 32) + 2;

// Ids read per page of a FetchAll, and the send queue's level below which the next page is
// read: the server holds at most about their sum per session, whatever the mailbox's size.
inline constexpr std::size_t kFetchPageIds = 1'024;
inline constexpr std::size_t kFetchLowWater = 256;
// What one envelope passed over by a bounded fetch adds to its Fetched frame (id, position,
// tags), charged to the fetch's byte budget.
inline constexpr std::uint64_t kSkippedBytes = 48;

// Parses a frame from the peer. Cheap checks first: the size cap before protobuf sees a byte,
// then the per-kind caps on repeated fields. Field contents (sizes of ids, keys, envelopes)
// are checked where they are used.
Result<pb::SyncFrame> decode_frame(ByteView bytes);

// A 32-byte id or mailbox field; nullopt for any other size.
std::optional<RecordId> parse_id(const std::string& field);

}  // namespace kolokol::transport::detail
