#include "kolokol/objects/attachment.hpp"

#include <algorithm>
#include <istream>
#include <ostream>

#include "kolokol/crypto/secret.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/values.hpp"

namespace kolokol::objects {

namespace {

std::uint64_t chunks_for(std::uint64_t size, std::uint64_t chunk_bytes) {
    return size / chunk_bytes + (size % chunk_bytes != 0 ? 1 : 0);
}

std::string chunk_label(std::uint32_t index, std::size_t count) {
    return "chunk " + std::to_string(index) + " of " + std::to_string(count);
}

}  // namespace

Status validate_attachment_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxAttachmentNameBytes)
        return fail(ObjectErrc::bad_manifest, "attachment name must be 1 to 255 bytes");
    // The name becomes a file name when a case is exported or a file saved: it must not
    // climb out of its directory, hide as an option, or carry control characters.
    if (!is_display_text(name) || name.find_first_of("/\\\t\n") != std::string_view::npos)
        return fail(ObjectErrc::bad_manifest,
                    "attachment name contains a path separator or control character");
    if (name == "." || name == "..")
        return fail(ObjectErrc::bad_manifest, "attachment name may not be . or ..");
    if (name.front() == '-')
        return fail(ObjectErrc::bad_manifest, "attachment name may not start with '-'");
    return {};
}

Status validate_manifest(const AttachmentManifest& m) {
    if (m.chunk_bytes == 0 || m.chunk_bytes > kMaxChunkBytes)
        return fail(ObjectErrc::bad_manifest, "chunk_bytes {} is outside 1..{}", m.chunk_bytes,
                    kMaxChunkBytes);
    if (m.chunk_ids.size() > kMaxChunks)
        return fail(ObjectErrc::bad_manifest, "{} chunks, at most {} allowed", m.chunk_ids.size(),
                    kMaxChunks);
    const auto expected = chunks_for(m.size, m.chunk_bytes);
    if (expected != m.chunk_ids.size())
        return fail(ObjectErrc::bad_manifest,
                    "{} chunks of at most {} bytes cannot hold {} bytes ({} needed)",
                    m.chunk_ids.size(), m.chunk_bytes, m.size, expected);
    if (auto ok = validate_attachment_name(m.name); !ok) return ok;
    if (m.media_type.size() > kMaxMediaTypeBytes)
        return fail(ObjectErrc::bad_manifest, "media type too long");
    for (char c : m.media_type)
        if (c <= 0x20 || c >= 0x7f)
            return fail(ObjectErrc::bad_manifest, "media type must be printable ASCII");
    return {};
}

AttachmentWriter::AttachmentWriter(AttachmentId attachment_id, std::string name,
                                   std::string media_type, ChunkSink sink,
                                   std::uint32_t chunk_bytes)
    : m_sink(std::move(sink)) {
    m_manifest.attachment_id = attachment_id;
    m_manifest.name = std::move(name);
    m_manifest.media_type = std::move(media_type);
    m_manifest.chunk_bytes = chunk_bytes;
    m_chunk.attachment_id = attachment_id;
    if (chunk_bytes == 0 || chunk_bytes > kMaxChunkBytes)
        m_failed = make_error(ObjectErrc::bad_manifest, "chunk_bytes {} is outside 1..{}",
                              chunk_bytes, kMaxChunkBytes);
    else
        m_chunk.data.reserve(chunk_bytes);
}

Status AttachmentWriter::emit() {
    auto id = m_sink(m_chunk);
    // The chunk buffer is reused; clear it now so plaintext does not linger past its record.
    crypto::memzero(m_chunk.data);
    m_chunk.data.clear();
    if (!id) {
        m_failed = make_error(ObjectErrc::sink_failed, "chunk {}: {}", m_chunk.index, id.error());
        return std::unexpected(*m_failed);
    }
    m_manifest.chunk_ids.push_back(*id);
    ++m_chunk.index;
    return {};
}

Status AttachmentWriter::write(ByteView data) {
    if (m_failed) return std::unexpected(*m_failed);
    if (m_finished) return fail(ObjectErrc::io_error, "attachment already finished");
    if (data.size() > kMaxAttachmentBytes - m_size) {
        m_failed = make_error(ObjectErrc::too_large, "attachment larger than {} bytes",
                              kMaxAttachmentBytes);
        return std::unexpected(*m_failed);
    }
    m_hash.update(data);
    m_size += data.size();
    while (!data.empty()) {
        const std::size_t room = m_manifest.chunk_bytes - m_chunk.data.size();
        const std::size_t n = std::min(room, data.size());
        m_chunk.data.insert(m_chunk.data.end(), data.begin(), data.begin() + n);
        data = data.subspan(n);
        if (m_chunk.data.size() == m_manifest.chunk_bytes) {
            if (auto ok = emit(); !ok) return ok;
        }
    }
    return {};
}

Status AttachmentWriter::write(std::istream& in) {
    Bytes buf(kMaxChunkBytes);
    while (in) {
        in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
        const auto got = in.gcount();
        if (got > 0) {
            auto ok = write(ByteView(buf.data(), static_cast<std::size_t>(got)));
            if (!ok) {
                crypto::memzero(buf);
                return ok;
            }
        }
    }
    crypto::memzero(buf);
    if (in.bad()) return fail(ObjectErrc::io_error, "reading the attachment failed");
    return {};
}

Result<AttachmentManifest> AttachmentWriter::finish() {
    if (m_failed) return std::unexpected(*m_failed);
    if (m_finished) return fail(ObjectErrc::io_error, "attachment already finished");
    m_finished = true;
    if (!m_chunk.data.empty()) {
        if (auto ok = emit(); !ok) return std::unexpected(ok.error());
    }
    m_manifest.size = m_size;
    m_manifest.sha256 = m_hash.finish();
    if (auto ok = validate_manifest(m_manifest); !ok) return std::unexpected(ok.error());
    return m_manifest;
}

Result<AttachmentReader> AttachmentReader::open(AttachmentManifest manifest) {
    if (auto ok = validate_manifest(manifest); !ok) return std::unexpected(ok.error());
    return AttachmentReader(std::move(manifest));
}

std::size_t AttachmentReader::expected_size(std::uint32_t index) const {
    const std::uint64_t start = std::uint64_t{index} * m_manifest.chunk_bytes;
    return static_cast<std::size_t>(
        std::min<std::uint64_t>(m_manifest.chunk_bytes, m_manifest.size - start));
}

std::optional<ChunkProblem> AttachmentReader::inspect(
    std::uint32_t index, const std::optional<AttachmentChunk>& chunk) const {
    using K = ChunkProblem::Kind;
    if (!chunk) return ChunkProblem{index, K::missing};
    if (chunk->attachment_id != m_manifest.attachment_id)
        return ChunkProblem{index, K::wrong_attachment};
    if (chunk->index != index) return ChunkProblem{index, K::wrong_index};
    if (chunk->data.size() != expected_size(index)) return ChunkProblem{index, K::wrong_size};
    return std::nullopt;
}

std::vector<ChunkProblem> AttachmentReader::check(const ChunkLookup& lookup) const {
    std::vector<ChunkProblem> problems;
    const auto count = static_cast<std::uint32_t>(m_manifest.chunk_ids.size());
    for (std::uint32_t i = 0; i < count; ++i) {
        auto chunk = lookup(i, m_manifest.chunk_ids[i]);
        if (auto p = inspect(i, chunk)) problems.push_back(*p);
        if (chunk) crypto::memzero(chunk->data);
    }
    return problems;
}

Status AttachmentReader::read(const ChunkLookup& lookup, const ByteSink& out) {
    m_failure.reset();
    crypto::Sha256 hash;
    const auto count = static_cast<std::uint32_t>(m_manifest.chunk_ids.size());
    for (std::uint32_t i = 0; i < count; ++i) {
        auto chunk = lookup(i, m_manifest.chunk_ids[i]);
        if (auto p = inspect(i, chunk)) {
            m_failure = p;
            if (chunk) crypto::memzero(chunk->data);
            static constexpr const char* kWhy[] = {"is missing", "belongs to another attachment",
                                                   "has the wrong index", "has the wrong size"};
            return fail(p->kind == ChunkProblem::Kind::missing ? ObjectErrc::chunk_missing
                                                               : ObjectErrc::chunk_corrupt,
                        "{} {}", chunk_label(i, count), kWhy[static_cast<int>(p->kind)]);
        }
        hash.update(chunk->data);
        auto ok = out(chunk->data);
        crypto::memzero(chunk->data);
        if (!ok) return ok;
    }
    const auto digest = hash.finish();
    if (!crypto::equal_ct(digest, m_manifest.sha256))
        return fail(ObjectErrc::hash_mismatch,
                    "reassembled attachment does not match the manifest's SHA-256");
    return {};
}

Status AttachmentReader::read(const ChunkLookup& lookup, std::ostream& out) {
    return read(lookup, [&out](ByteView data) -> Status {
        out.write(reinterpret_cast<const char*>(data.data()),
                  static_cast<std::streamsize>(data.size()));
        if (!out) return fail(ObjectErrc::io_error, "writing the attachment failed");
        return {};
    });
}

}  // namespace kolokol::objects
