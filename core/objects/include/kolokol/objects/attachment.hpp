#pragma once
// Attachments (DESIGN §6): a file is split into chunks of at most 48 KiB, each carried by its
// own record; a signed manifest lists the chunks' record ids, the size and the SHA-256 of the
// whole file. This header splits and reassembles; sealing, storing and fetching records is the
// caller's, through the callbacks below. Memory stays bounded by one chunk whatever the size.
//
// Integrity: the manifest names each chunk by record id, and a record id is the hash of the
// record's envelope, so a store that looks chunks up by id and checks that hash delivers each
// chunk's exact bytes. The reader checks everything else itself: the chunk belongs to this
// attachment, has the index and size the manifest implies, and the whole file has the SHA-256.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/objects/change.hpp"

namespace kolokol::objects {

inline constexpr std::size_t kMaxChunkBytes = 48 * 1024;
// A manifest must fit in one envelope (60 KiB): 1536 chunk ids take 1536 × 34 = 52,224 bytes
// of it, leaving room for the record around them. So one attachment is at most 72 MiB.
inline constexpr std::size_t kMaxChunks = 1536;
inline constexpr std::uint64_t kMaxAttachmentBytes = std::uint64_t{kMaxChunks} * kMaxChunkBytes;
inline constexpr std::size_t kMaxAttachmentNameBytes = 255;
inline constexpr std::size_t kMaxMediaTypeBytes = 127;

using AttachmentId = ByteArray<16>;  // random, shared by the chunks and the manifest

struct AttachmentChunk {
    AttachmentId attachment_id{};
    std::uint32_t index = 0;  // 0-based
    Bytes data;               // at most the manifest's chunk_bytes

    bool operator==(const AttachmentChunk&) const = default;
};

struct AttachmentManifest {
    AttachmentId attachment_id{};
    std::string name;        // a file name: no path separators (see validate_attachment_name)
    std::string media_type;  // e.g. "image/jpeg"; may be empty
    std::uint64_t size = 0;  // bytes in the whole file
    crypto::Hash32 sha256{};
    std::uint32_t chunk_bytes = kMaxChunkBytes;  // every chunk but the last has exactly this
    std::vector<RecordId> chunk_ids;             // in index order; none for an empty file
    RecordId object_id{};  // the case/report it belongs to; all zero when none

    bool operator==(const AttachmentManifest&) const = default;
};

// A name that is safe to use as a file name in a bundle or a download directory: 1..255 bytes
// of display text, no '/', '\\', NUL or control characters, not "." or "..", no leading '-'
// (so it is never read as an option by a shell tool). Fails with bad_manifest.
Status validate_attachment_name(std::string_view name);

// Checks a manifest on its own (bad_manifest, with the reason): chunk_bytes in
// 1..kMaxChunkBytes; at most kMaxChunks chunks; the chunk count is exactly
// ceil(size / chunk_bytes) (so the chunks add up to `size`); the name; the media type (at most
// kMaxMediaTypeBytes of printable ASCII without spaces).
Status validate_manifest(const AttachmentManifest& manifest);

// Splits a stream of bytes into chunks and builds the manifest.
//   AttachmentWriter w(id, "photo.jpg", "image/jpeg", seal);
//   w.write(bytes)...;  auto manifest = w.finish();
// `sink` is called once per chunk, in index order, as soon as the chunk is full; it seals and
// stores the chunk record and returns its record id. The chunk it gets is valid only during
// the call. If the sink fails, the writer stops (sink_failed) and every later call fails.
// Holds at most one chunk of data. Not thread-safe.
class AttachmentWriter {
public:
    using ChunkSink = std::function<Result<RecordId>(const AttachmentChunk& chunk)>;

    // chunk_bytes must be 1..kMaxChunkBytes; a value outside it makes every call fail with
    // bad_manifest.
    AttachmentWriter(AttachmentId attachment_id, std::string name, std::string media_type,
                     ChunkSink sink, std::uint32_t chunk_bytes = kMaxChunkBytes);

    // Appends bytes. Fails with too_large past kMaxAttachmentBytes.
    Status write(ByteView data);
    // Reads `in` to its end, kMaxChunkBytes at a time. io_error if the stream fails.
    Status write(std::istream& in);
    // Emits the last partial chunk and returns the manifest (validated). May be called once.
    Result<AttachmentManifest> finish();

    std::uint64_t size() const { return m_size; }

private:
    Status emit();

    AttachmentManifest m_manifest;
    ChunkSink m_sink;
    AttachmentChunk m_chunk;
    crypto::Sha256 m_hash;
    std::uint64_t m_size = 0;
    std::optional<Error> m_failed;
    bool m_finished = false;
};

struct ChunkProblem {
    enum class Kind : std::uint8_t {
        missing,           // the lookup has no chunk for this id
        wrong_attachment,  // the chunk belongs to another attachment
        wrong_index,       // the chunk says it is another index
        wrong_size,        // not chunk_bytes (or the remainder, for the last one)
    };
    std::uint32_t index = 0;
    Kind kind = Kind::missing;

    bool operator==(const ChunkProblem&) const = default;
};

// Finds a chunk record by its id (and the index the manifest gives it); nullopt when it is not
// stored. See the integrity note at the top for what the lookup must guarantee.
using ChunkLookup =
    std::function<std::optional<AttachmentChunk>(std::uint32_t index, const RecordId& chunk_id)>;
// Receives the file's bytes in order; an error stops reading (io_error is passed through).
using ByteSink = std::function<Status(ByteView data)>;

// Reassembles an attachment from its manifest. Not thread-safe; the lookup and sink are called
// on the caller's thread.
class AttachmentReader {
public:
    // Fails with bad_manifest when validate_manifest does.
    static Result<AttachmentReader> open(AttachmentManifest manifest);

    const AttachmentManifest& manifest() const { return m_manifest; }

    // Looks up every chunk and reports each missing or wrong one by index, without writing
    // anything: what to fetch from peers before reading. Empty when all are in place (the
    // whole-file hash is only checked by read).
    std::vector<ChunkProblem> check(const ChunkLookup& lookup) const;

    // Streams the file into `out`, chunk by chunk, and checks the SHA-256 at the end. Stops at
    // the first missing chunk (chunk_missing) or wrong one (chunk_corrupt), naming its index
    // in the message and in failure(); hash_mismatch when every chunk looked right but the
    // whole does not match. Bytes already given to `out` must be discarded on failure: write
    // to a temporary file and rename it only on success.
    Status read(const ChunkLookup& lookup, const ByteSink& out);
    // As above, into a stream (io_error when the stream fails).
    Status read(const ChunkLookup& lookup, std::ostream& out);

    // The chunk that stopped the last read, if a chunk did.
    const std::optional<ChunkProblem>& failure() const { return m_failure; }

private:
    explicit AttachmentReader(AttachmentManifest manifest) : m_manifest(std::move(manifest)) {}
    std::size_t expected_size(std::uint32_t index) const;
    std::optional<ChunkProblem> inspect(std::uint32_t index,
                                        const std::optional<AttachmentChunk>& chunk) const;

    AttachmentManifest m_manifest;
    std::optional<ChunkProblem> m_failure;
};

}  // namespace kolokol::objects
