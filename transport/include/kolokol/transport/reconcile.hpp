#pragma once
// Range-based set reconciliation over record ids (DESIGN §5), in the manner of negentropy.
//
// Both sides hold a set of 32-byte ids, sorted as byte strings. A message is a sequence of
// ranges that together cover the id space from the bottom up; each range ends at an upper bound
// (the shortest id prefix that separates the ranges) and carries one of:
//   skip         — nothing to do here (already matched, or resolved);
//   fingerprint  — 16 bytes over (sum of ids mod 2^256, count) of the sender's ids in the range;
//   id list      — every id the sender holds in the range.
// A side whose fingerprint differs splits its range 16 ways by count, or sends its id list when
// the range holds fewer than 32 ids. The initiator learns, from the responder's id lists, which
// ids only it holds (`have`) and which only the responder holds (`need`); reconciliation ends
// when the initiator has nothing left to say.
//
// Wire format of one message (all integers unsigned):
//   version        u8 = 0x01
//   range*         bound, mode u8 (0 skip, 1 fingerprint, 2 id list), payload
//   bound          u8 length L; 0 = the end of the id space, 1..32 = L prefix bytes (the bound is
//                  the prefix padded with zero bytes; the last prefix byte is never zero)
//   fingerprint    16 bytes
//   id list        LEB128 count (minimal, ≤ 10 bytes), then count × 32-byte ids, strictly
//                  increasing and inside the range
// Bounds strictly increase; trailing skips are left out. A message never exceeds the configured
// maximum size: a side that runs out of room ends its message with one fingerprint over the
// rest of the id space, so the remaining work continues in later rounds.
//
// Fingerprints of any range come from prefix sums over the sorted ids in O(1), and ranges are
// located by binary search: a round costs O(ranges × log n), never a rescan of the set.
//
// Thread-safety: a Reconciler belongs to one thread at a time.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/envelope/envelope.hpp"

namespace kolokol::transport {

using envelope::RecordId;

enum class ReconcileErrc {
    malformed = 1,        // truncated, unknown mode, bad bound or varint
    unsupported_version,  // the first byte is not a version we speak
    too_large,            // the message is over the size cap
    out_of_order,         // bounds or ids not strictly increasing, or an id outside its range
    wrong_state,          // a message after completion, or initiate() on a responder
};
KOLOKOL_ERROR_ENUM(ReconcileErrc)

inline constexpr std::uint8_t kReconcileVersion = 0x01;
inline constexpr std::size_t kFingerprintBytes = 16;
// A differing range splits into this many sub-ranges ...
inline constexpr std::size_t kReconcileBuckets = 16;
// ... unless it holds fewer ids than this, when the ids themselves are sent.
inline constexpr std::size_t kReconcileIdListThreshold = 2 * kReconcileBuckets;
// Default cap on one message: fits a 65,535-byte Noise frame with its tag and the sync frame
// around it.
inline constexpr std::size_t kReconcileMaxMessageBytes = 60'000;
// Smallest cap accepted: every message must have room to make progress.
inline constexpr std::size_t kReconcileMinMessageBytes = 4'096;

using Fingerprint = ByteArray<kFingerprintBytes>;

namespace detail {
struct Bound;  // reconcile_wire.hpp
}

// The fingerprint of a set of ids given their sum (32 bytes little-endian, mod 2^256) and count.
Fingerprint reconcile_fingerprint(const ByteArray<32>& sum_le, std::uint64_t count);

// The ids one side reconciles: sorted, without duplicates, with the prefix sums that give any
// range's fingerprint in O(1). Immutable once built, so the reconciliations of one mailbox on
// many sessions can share one set (reconcile_sets.hpp); const methods are safe from any thread.
class ReconcileSet {
public:
    // Takes the ids in any order; duplicates are dropped. O(n) when already sorted, O(n log n)
    // otherwise.
    explicit ReconcileSet(std::vector<RecordId> ids);

    std::size_t size() const { return m_ids.size(); }
    const std::vector<RecordId>& ids() const { return m_ids; }
    // Bytes held: 32 per id and the prefix sums (2 per id), plus a fixed part.
    std::size_t memory_bytes() const;
    // What a set of `count` ids holds, and what building one needs at its peak (the ids as
    // loaded, then the set), to reserve before loading the ids.
    static std::size_t memory_bytes_for(std::size_t count);
    static std::size_t build_bytes_for(std::size_t count);

private:
    friend class Reconciler;
    using Sum = std::array<std::uint64_t, 4>;
    static constexpr std::size_t kSumStride = 16;

    static void add_id(Sum& acc, const RecordId& id);
    // Sum of ids[0, end) mod 2^256.
    Sum prefix_sum(std::size_t end) const;

    std::vector<RecordId> m_ids;
    // m_checkpoints[k] = sum of m_ids[0, k × kSumStride) mod 2^256.
    std::vector<Sum> m_checkpoints;
};

class Reconciler {
public:
    enum class Role { initiator, responder };
    struct Options {
        // Cap on every message this side produces and accepts, in bytes. Clamped to at least
        // kReconcileMinMessageBytes.
        std::size_t max_message_bytes = kReconcileMaxMessageBytes;
    };

    // Takes the local ids in any order; duplicates are dropped. O(n) when already sorted,
    // O(n log n) otherwise; memory ≈ 34 bytes per id (the ids and sparse prefix sums).
    Reconciler(Role role, std::vector<RecordId> ids, Options options);
    Reconciler(Role role, std::vector<RecordId> ids)
        : Reconciler(role, std::move(ids), Options{}) {}
    // Over a set that others may share (never null). A responder holds nothing else of size;
    // an initiator also holds what it learns (take_have/take_need, and the ids reported).
    Reconciler(Role role, std::shared_ptr<const ReconcileSet> set, Options options);

    // Initiator: the first message (wrong_state on a responder or when called twice).
    Result<Bytes> initiate();

    // Processes the peer's message. Initiator: the next message to send, or nullopt when
    // reconciliation is complete. Responder: the reply, always to be sent (it may hold only the
    // version byte). A rejected message changes nothing; the caller should end the exchange.
    Result<std::optional<Bytes>> reconcile(ByteView message);

    // Initiator: ids learned since the last call — `have`: held here and not by the peer;
    // `need`: held by the peer and not here. Each id is reported once per Reconciler. Always
    // empty on a responder.
    std::vector<RecordId> take_have() { return std::exchange(m_have, {}); }
    std::vector<RecordId> take_need() { return std::exchange(m_need, {}); }

    bool done() const { return m_done; }
    Role role() const { return m_role; }
    std::size_t size() const { return m_set->size(); }
    // Bytes this reconciler holds beyond its (possibly shared) set.
    std::size_t own_memory_bytes() const;
    // Messages received so far.
    std::size_t rounds() const { return m_rounds; }

private:
    std::size_t index_of(const detail::Bound& bound) const;
    Fingerprint fingerprint(std::size_t begin, std::size_t end) const;
    // The shortest bound above ids[index - 1] and at or below ids[index].
    detail::Bound separator(std::size_t index) const;
    // Appends the ranges that describe ids[begin, end) up to `upper`: 16 fingerprints, or the
    // id list when there are few.
    void split(Bytes& out, std::size_t begin, std::size_t end, const detail::Bound& upper) const;
    void learn(std::size_t begin, std::size_t end, ByteView their_ids);

    Role m_role;
    std::size_t m_max_bytes;
    std::shared_ptr<const ReconcileSet> m_set;
    const std::vector<RecordId>* m_ids;  // m_set's
    std::vector<RecordId> m_have;
    std::vector<RecordId> m_need;
    // Ordered, not hashed: the peer chooses the ids it lists, so it must not be able to pick
    // colliding ones.
    std::set<RecordId> m_reported;
    bool m_started = false;
    bool m_done = false;
    std::size_t m_rounds = 0;
};

}  // namespace kolokol::transport

KOLOKOL_ERROR_ENUM_TRAITS(kolokol::transport, ReconcileErrc)
