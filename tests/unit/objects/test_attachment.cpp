#include <doctest/doctest.h>

#include <sstream>

#include "helpers.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/objects/attachment.hpp"
#include "kolokol/objects/codec.hpp"
#include "kolokol/objects/error.hpp"

using namespace kolokol;
using namespace kolokol::objects;
using namespace kolokol::objects::test;

namespace {

// Stands in for the store: chunk records by id, where the id is a hash of the stored bytes
// (as a record id is of its envelope).
struct ChunkStore {
    std::map<RecordId, Bytes> records;
    std::size_t largest_chunk = 0;

    AttachmentWriter::ChunkSink sink() {
        return [this](const AttachmentChunk& chunk) -> Result<RecordId> {
            largest_chunk = std::max(largest_chunk, chunk.data.size());
            auto bytes = encode_chunk(chunk);
            auto rid = crypto::blake2b_256("test/chunk-record", bytes);
            records[rid] = std::move(bytes);
            return rid;
        };
    }
    ChunkLookup lookup() const {
        return [this](std::uint32_t, const RecordId& rid) -> std::optional<AttachmentChunk> {
            auto it = records.find(rid);
            if (it == records.end()) return std::nullopt;
            auto chunk = decode_chunk(it->second);
            if (!chunk) return std::nullopt;
            return *chunk;
        };
    }
    // Replaces the chunk stored under `rid` (simulating a store that returns the wrong bytes).
    void tamper(const RecordId& rid, const std::function<void(AttachmentChunk&)>& edit) {
        auto chunk = *decode_chunk(records.at(rid));
        edit(chunk);
        records[rid] = encode_chunk(chunk);
    }
};

Bytes pattern(std::size_t n, std::uint64_t seed) {
    crypto::DeterministicRandom rng(seed);
    return rng.bytes(n);
}

const AttachmentId kAid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

AttachmentManifest split(ChunkStore& store, const Bytes& data, std::size_t piece) {
    AttachmentWriter w(kAid, "evidence.mp4", "video/mp4", store.sink());
    for (std::size_t off = 0; off < data.size(); off += piece) {
        const auto n = std::min(piece, data.size() - off);
        REQUIRE(w.write(ByteView(data).subspan(off, n)));
    }
    auto m = w.finish();
    REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
    return *m;
}

Bytes reassemble(const ChunkStore& store, const AttachmentManifest& m) {
    auto reader = AttachmentReader::open(m);
    REQUIRE(reader);
    Bytes out;
    auto ok = reader->read(store.lookup(), [&](ByteView b) -> Status {
        append(out, b);
        return {};
    });
    REQUIRE_MESSAGE(ok, (ok ? "" : ok.error().message));
    return out;
}

}  // namespace

TEST_CASE("attachments round-trip byte-identical at every boundary size") {
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, kMaxChunkBytes - 1, kMaxChunkBytes, kMaxChunkBytes + 1,
          2 * kMaxChunkBytes, std::size_t{5 * 1024 * 1024 + 123}}) {
        CAPTURE(size);
        const auto data = pattern(size, size);
        // Written in pieces that do not line up with chunks.
        for (std::size_t piece : {std::size_t{1000}, std::size_t{70000}}) {
            if (size > 200'000 && piece == 1000) continue;
            ChunkStore store;
            const auto m = split(store, data, piece);
            CHECK(m.size == size);
            CHECK(m.sha256 == crypto::sha256(data));
            CHECK(m.chunk_ids.size() == (size + kMaxChunkBytes - 1) / kMaxChunkBytes);
            CHECK(store.records.size() == m.chunk_ids.size());
            CHECK(store.largest_chunk <= kMaxChunkBytes);
            CHECK(validate_manifest(m));
            CHECK(reassemble(store, m) == data);
            auto reader = AttachmentReader::open(m);
            REQUIRE(reader);
            CHECK(reader->check(store.lookup()).empty());
        }
    }
}

TEST_CASE("streams in and out; small chunk sizes work too") {
    const auto data = pattern(300'001, 7);
    std::istringstream in(std::string(as_chars(data)));
    ChunkStore store;
    AttachmentWriter w(kAid, "scan.pdf", "application/pdf", store.sink(), 1000);
    REQUIRE(w.write(in));
    CHECK(w.size() == data.size());
    auto m = w.finish();
    REQUIRE(m);
    CHECK(m->chunk_ids.size() == 301);
    CHECK(m->chunk_bytes == 1000);

    auto reader = AttachmentReader::open(*m);
    REQUIRE(reader);
    std::ostringstream out;
    REQUIRE(reader->read(store.lookup(), out));
    CHECK(out.str() == std::string(as_chars(data)));
}

TEST_CASE("missing and corrupt chunks are reported by index") {
    const auto data = pattern(5 * kMaxChunkBytes + 10, 3);  // 6 chunks
    ChunkStore store;
    const auto m = split(store, data, 65536);
    REQUIRE(m.chunk_ids.size() == 6);
    auto reader = AttachmentReader::open(m);
    REQUIRE(reader);
    using K = ChunkProblem::Kind;
    auto read_fails = [&](ObjectErrc code, std::uint32_t index) {
        std::size_t written = 0;
        auto r = reader->read(store.lookup(), [&](ByteView b) -> Status {
            written += b.size();
            return {};
        });
        REQUIRE_FALSE(r);
        CHECK(r.error().code == code);
        REQUIRE(reader->failure());
        CHECK(reader->failure()->index == index);
        CHECK(written == index * kMaxChunkBytes);  // stopped at the bad chunk
        return r.error().message;
    };

    SUBCASE("missing") {
        store.records.erase(m.chunk_ids[2]);
        store.records.erase(m.chunk_ids[4]);
        CHECK(reader->check(store.lookup()) ==
              std::vector<ChunkProblem>{{2, K::missing}, {4, K::missing}});
        CHECK(read_fails(ObjectErrc::chunk_missing, 2) == "chunk 2 of 6 is missing");
    }
    SUBCASE("truncated") {
        store.tamper(m.chunk_ids[3], [](AttachmentChunk& c) { c.data.pop_back(); });
        CHECK(reader->check(store.lookup()) == std::vector<ChunkProblem>{{3, K::wrong_size}});
        CHECK(read_fails(ObjectErrc::chunk_corrupt, 3) == "chunk 3 of 6 has the wrong size");
    }
    SUBCASE("last chunk too long") {
        store.tamper(m.chunk_ids[5], [](AttachmentChunk& c) { c.data.push_back(0); });
        CHECK(reader->check(store.lookup()) == std::vector<ChunkProblem>{{5, K::wrong_size}});
        read_fails(ObjectErrc::chunk_corrupt, 5);
    }
    SUBCASE("wrong index") {
        store.tamper(m.chunk_ids[1], [](AttachmentChunk& c) { c.index = 0; });
        CHECK(reader->check(store.lookup()) == std::vector<ChunkProblem>{{1, K::wrong_index}});
        read_fails(ObjectErrc::chunk_corrupt, 1);
    }
    SUBCASE("another attachment's chunk") {
        store.tamper(m.chunk_ids[0], [](AttachmentChunk& c) { c.attachment_id[0] ^= 1; });
        CHECK(reader->check(store.lookup()) == std::vector<ChunkProblem>{{0, K::wrong_attachment}});
        read_fails(ObjectErrc::chunk_corrupt, 0);
    }
    SUBCASE("flipped byte: every chunk looks right, the whole-file hash does not") {
        store.tamper(m.chunk_ids[4], [](AttachmentChunk& c) { c.data[100] ^= 0x80; });
        CHECK(reader->check(store.lookup()).empty());
        auto r = reader->read(store.lookup(), [](ByteView) -> Status { return {}; });
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ObjectErrc::hash_mismatch);
        CHECK_FALSE(reader->failure());
    }
    SUBCASE("a failing output stops the read") {
        int calls = 0;
        auto r = reader->read(store.lookup(), [&](ByteView) -> Status {
            if (++calls == 2) return fail(ObjectErrc::io_error, "disk full");
            return {};
        });
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "disk full");
        CHECK(calls == 2);
    }
}

TEST_CASE("manifests that do not add up are refused with a reason") {
    ChunkStore store;
    auto good = split(store, pattern(3 * kMaxChunkBytes, 9), 65536);
    REQUIRE(validate_manifest(good));
    auto code = [](const AttachmentManifest& m) {
        auto r = validate_manifest(m);
        return r ? ObjectErrc::ok : static_cast<ObjectErrc>(r.error().code.value());
    };

    auto m = good;
    m.size += 1;  // needs a fourth chunk
    CHECK(code(m) == ObjectErrc::bad_manifest);
    CHECK(validate_manifest(m).error().message ==
          "3 chunks of at most 49152 bytes cannot hold 147457 bytes (4 needed)");
    CHECK_FALSE(AttachmentReader::open(m));

    m = good;
    m.size -= kMaxChunkBytes;  // one chunk too many
    CHECK(code(m) == ObjectErrc::bad_manifest);

    m = good;
    m.chunk_bytes = kMaxChunkBytes + 1;
    CHECK(code(m) == ObjectErrc::bad_manifest);
    CHECK(validate_manifest(m).error().message == "chunk_bytes 49153 is outside 1..49152");
    m.chunk_bytes = 0;
    CHECK(code(m) == ObjectErrc::bad_manifest);

    m = good;
    m.chunk_ids.assign(kMaxChunks + 1, RecordId{});
    m.size = std::uint64_t{kMaxChunks + 1} * kMaxChunkBytes;
    CHECK(code(m) == ObjectErrc::bad_manifest);
    CHECK(validate_manifest(m).error().message == "1537 chunks, at most 1536 allowed");

    for (const char* name :
         {"", ".", "..", "../../etc/passwd", "a/b", "a\\b", "-rf", "a\nb", "\x1b[2J"}) {
        CAPTURE(name);
        m = good;
        m.name = name;
        CHECK(code(m) == ObjectErrc::bad_manifest);
    }
    m = good;
    m.name = std::string(256, 'a');
    CHECK(code(m) == ObjectErrc::bad_manifest);
    m.name = "фото задержания.jpg";
    CHECK(code(m) == ObjectErrc::ok);
    m.media_type = "image/jpeg; x=1";
    CHECK(code(m) == ObjectErrc::bad_manifest);
    m.media_type = std::string(128, 'a');
    CHECK(code(m) == ObjectErrc::bad_manifest);
    m.media_type = "";
    CHECK(code(m) == ObjectErrc::ok);
}

TEST_CASE("the writer refuses bad settings, oversize input and a failing sink") {
    SUBCASE("chunk size out of range") {
        ChunkStore store;
        AttachmentWriter w(kAid, "a.txt", "", store.sink(), kMaxChunkBytes + 1);
        auto r = w.write(as_bytes("x"));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ObjectErrc::bad_manifest);
        CHECK_FALSE(w.finish());
    }
    SUBCASE("bad name: found at finish, after the chunks") {
        ChunkStore store;
        AttachmentWriter w(kAid, "../a.txt", "", store.sink());
        REQUIRE(w.write(as_bytes("x")));
        auto m = w.finish();
        REQUIRE_FALSE(m);
        CHECK(m.error().code == ObjectErrc::bad_manifest);
    }
    SUBCASE("sink failure stops the writer") {
        int calls = 0;
        AttachmentWriter w(kAid, "a.bin", "", [&](const AttachmentChunk&) -> Result<RecordId> {
            if (++calls == 2) return fail(ObjectErrc::io_error, "store is locked");
            return id("chunk" + std::to_string(calls));
        });
        const auto data = pattern(3 * kMaxChunkBytes, 1);
        auto r = w.write(data);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ObjectErrc::sink_failed);
        CHECK(r.error().message == "chunk 1: store is locked");
        CHECK(calls == 2);
        CHECK_FALSE(w.write(as_bytes("more")));
        CHECK_FALSE(w.finish());
        CHECK(calls == 2);
    }
    SUBCASE("past the largest attachment one manifest can describe") {
        std::size_t chunks = 0;
        AttachmentWriter w(kAid, "big.bin", "", [&](const AttachmentChunk&) -> Result<RecordId> {
            ++chunks;
            return RecordId{};
        });
        const Bytes block(kMaxChunkBytes, 0x5a);
        for (std::size_t i = 0; i < kMaxChunks; ++i) REQUIRE(w.write(block));
        auto r = w.write(as_bytes("!"));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ObjectErrc::too_large);
        CHECK(chunks == kMaxChunks);
    }
    SUBCASE("finish twice") {
        ChunkStore store;
        AttachmentWriter w(kAid, "a.txt", "", store.sink());
        REQUIRE(w.finish());
        CHECK_FALSE(w.finish());
        CHECK_FALSE(w.write(as_bytes("late")));
    }
}
