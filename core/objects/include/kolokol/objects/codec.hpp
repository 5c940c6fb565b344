#pragma once
// Conversions between this module's types and the record payloads of proto/record.proto
// (ObjectOp, AttachmentChunk, AttachmentManifest), as bytes, so that no protobuf type leaks
// into a public header. Decoders take untrusted bytes: they check the size before parsing,
// then every id length and count, and return malformed_payload (or the validation error) with
// the reason. Encoders take values that passed validation.

#include <cstddef>
#include <cstdint>

#include "kolokol/crypto/error.hpp"
#include "kolokol/objects/attachment.hpp"
#include "kolokol/objects/change.hpp"

namespace kolokol::objects {

// No payload handled here may be larger than an envelope (60 KiB).
inline constexpr std::size_t kMaxPayloadBytes = 60 * 1024;

// What the record around an ObjectOp says: the parts of a Change that are not in the payload.
struct RecordMeta {
    RecordId record_id{};
    MemberKey author{};
    std::uint64_t lamport = 0;
    std::int64_t wall_clock_ms = 0;
};

// ObjectOp bytes for a change (its record fields are not part of the payload).
Bytes encode_object_op(const Change& change);
// An ObjectOp and its record's metadata as a Change. Only the encoding is checked here (ids of
// 0 or 32 bytes, counts, name lengths); TypeRegistry::validate (and ObjectSet::apply) check
// the content.
Result<Change> decode_object_op(ByteView payload, const RecordMeta& meta);

Bytes encode_chunk(const AttachmentChunk& chunk);
// Checks the attachment id (16 bytes) and that the data is at most kMaxChunkBytes.
Result<AttachmentChunk> decode_chunk(ByteView payload);

Bytes encode_manifest(const AttachmentManifest& manifest);
// Checks id lengths and the chunk count, then validate_manifest.
Result<AttachmentManifest> decode_manifest(ByteView payload);

}  // namespace kolokol::objects
