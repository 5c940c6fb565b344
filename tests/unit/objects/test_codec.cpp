#include <doctest/doctest.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>

#include "helpers.hpp"
#include "kolokol/objects/codec.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/object_set.hpp"
#include "record.pb.h"

using namespace kolokol;
using namespace kolokol::objects;
using namespace kolokol::objects::test;

namespace {

const RecordMeta kMeta{id("rec"), member(0x07), 42, 1'700'000'000'000};

ObjectErrc code_of(const Error& e) {
    return static_cast<ObjectErrc>(e.code.value());
}

Bytes serialize(const google::protobuf::MessageLite& m) {
    return to_bytes(m.SerializeAsString());
}

// The keys of ObjectOp.set (field 3) in the order they appear in the encoding.
std::vector<std::string> set_keys_on_the_wire(const Bytes& encoded) {
    namespace io = google::protobuf::io;
    std::vector<std::string> keys;
    io::CodedInputStream in(encoded.data(), static_cast<int>(encoded.size()));
    while (auto tag = in.ReadTag()) {
        const auto field = tag >> 3;
        if ((tag & 7) != 2) {  // varints: skip
            std::uint64_t ignored = 0;
            REQUIRE(in.ReadVarint64(&ignored));
            continue;
        }
        std::uint32_t len = 0;
        REQUIRE(in.ReadVarint32(&len));
        std::string body;
        REQUIRE(in.ReadString(&body, static_cast<int>(len)));
        if (field != 3) continue;
        // A map entry is a message whose field 1 is the key.
        io::CodedInputStream entry(reinterpret_cast<const std::uint8_t*>(body.data()),
                                   static_cast<int>(body.size()));
        REQUIRE(entry.ReadTag() == ((1u << 3) | 2u));
        std::uint32_t key_len = 0;
        REQUIRE(entry.ReadVarint32(&key_len));
        std::string key;
        REQUIRE(entry.ReadString(&key, static_cast<int>(key_len)));
        keys.push_back(key);
    }
    return keys;
}

AttachmentManifest sample_manifest() {
    AttachmentManifest m;
    m.attachment_id = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    m.name = "photo.jpg";
    m.media_type = "image/jpeg";
    m.size = 2 * kMaxChunkBytes + 5;
    m.sha256 = id("sha");
    m.chunk_ids = {id("c0"), id("c1"), id("c2")};
    return m;
}

}  // namespace

TEST_CASE("object ops round-trip and carry the record's metadata") {
    Change c = append("rec", "case", id("obj"), kMeta.author, kMeta.lamport, "ledger",
                      {{"amount", "10"}, {"currency", "EUR"}, {"direction", "paid"}});
    c.wall_clock_ms = kMeta.wall_clock_ms;
    c.fields = {{"status", "charged"}};
    auto back = decode_object_op(encode_object_op(c), kMeta);
    REQUIRE(back);
    CHECK(*back == c);

    // One change, one encoding: map entries are written in key order, not protobuf's
    // per-process hash order (signatures cover exact bytes; tests and fuzz corpora need this).
    Change many = c;
    for (int i = 0; i < 20; ++i) many.fields["k" + std::to_string(i * 7 % 20)] = "v";
    const auto encoded_once = encode_object_op(many);
    for (int i = 0; i < 5; ++i) CHECK(encode_object_op(many) == encoded_once);
    CHECK(set_keys_on_the_wire(encoded_once) ==
          std::vector<std::string>{"k0",  "k1",  "k10", "k11", "k12", "k13", "k14",
                                   "k15", "k16", "k17", "k18", "k19", "k2",  "k3",
                                   "k4",  "k5",  "k6",  "k7",  "k8",  "k9",  "status"});

    Change create_op = create("rec", "alert", kMeta.author, kMeta.lamport, {{"text", "now"}});
    create_op.wall_clock_ms = kMeta.wall_clock_ms;
    auto encoded = encode_object_op(create_op);
    pb::ObjectOp op;
    REQUIRE(op.ParseFromArray(encoded.data(), static_cast<int>(encoded.size())));
    CHECK(op.object_id().empty());  // a create carries no object id
    auto decoded = decode_object_op(encoded, kMeta);
    REQUIRE(decoded);
    CHECK(decoded->is_create());
    CHECK(decoded->target() == kMeta.record_id);

    ObjectSet set;  // and the decoded change folds
    REQUIRE(set.apply(*decoded));
    CHECK(set.view(kMeta.record_id)->get("text") == "now");
}

TEST_CASE("object op decoding refuses malformed payloads before building a change") {
    auto refuse = [](const pb::ObjectOp& op) {
        auto r = decode_object_op(serialize(op), kMeta);
        REQUIRE_FALSE(r);
        return code_of(r.error());
    };
    pb::ObjectOp op;
    CHECK(refuse(op) == ObjectErrc::malformed_payload);  // no type
    op.set_type(std::string(65, 't'));
    CHECK(refuse(op) == ObjectErrc::malformed_payload);
    op.set_type("case");
    op.set_object_id(std::string(31, 'x'));
    CHECK(refuse(op) == ObjectErrc::malformed_payload);
    op.set_object_id(std::string(32, 'x'));
    for (int i = 0; i < 33; ++i) (*op.mutable_set())["f" + std::to_string(i)] = "v";
    CHECK(refuse(op) == ObjectErrc::too_many_fields);
    op.clear_set();
    (*op.mutable_item())["text"] = "orphan item";
    CHECK(refuse(op) == ObjectErrc::malformed_payload);  // item without a list name
    op.set_list("timeline");
    CHECK(decode_object_op(serialize(op), kMeta));
    for (int i = 0; i < 17; ++i) (*op.mutable_item())["f" + std::to_string(i)] = "v";
    CHECK(refuse(op) == ObjectErrc::too_many_fields);

    const Bytes junk = {0xff, 0xff, 0xff, 0xff, 0x0f};
    CHECK(code_of(decode_object_op(junk, kMeta).error()) == ObjectErrc::malformed_payload);
    const Bytes huge(kMaxPayloadBytes + 1, 0);
    auto r = decode_object_op(huge, kMeta);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "object op larger than an envelope");
}

TEST_CASE("chunks round-trip; bad ids and oversized data are refused") {
    AttachmentChunk c{
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 7, Bytes(kMaxChunkBytes, 0xab)};
    auto back = decode_chunk(encode_chunk(c));
    REQUIRE(back);
    CHECK(*back == c);

    pb::AttachmentChunk pc;
    pc.set_attachment_id(std::string(15, 'a'));
    CHECK_FALSE(decode_chunk(serialize(pc)));
    pc.set_attachment_id(std::string(16, 'a'));
    pc.set_data(std::string(kMaxChunkBytes + 1, 'd'));
    auto r = decode_chunk(serialize(pc));
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "attachment chunk holds more than 48 KiB");
    pc.set_data("ok");
    CHECK(decode_chunk(serialize(pc)));
}

TEST_CASE("manifests round-trip; every truncation and bad field is refused") {
    auto m = sample_manifest();
    auto bytes = encode_manifest(m);
    auto back = decode_manifest(bytes);
    REQUIRE(back);
    CHECK(*back == m);

    // Every strict prefix either fails to parse or lacks chunk_bytes, the last field written.
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n);
        CHECK_FALSE(decode_manifest(ByteView(bytes).first(n)));
    }

    m.object_id = id("case");
    back = decode_manifest(encode_manifest(m));
    REQUIRE(back);
    CHECK(back->object_id == id("case"));

    pb::AttachmentManifest pm;
    REQUIRE(pm.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    auto refuse = [](const pb::AttachmentManifest& p) {
        auto r = decode_manifest(serialize(p));
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    auto bad = pm;
    bad.set_sha256(std::string(31, 's'));
    CHECK(refuse(bad) == "manifest SHA-256 is not 32 bytes");
    bad = pm;
    bad.set_attachment_id("short");
    CHECK(refuse(bad) == "manifest attachment id is not 16 bytes");
    bad = pm;
    bad.set_object_id("x");
    CHECK(refuse(bad) == "manifest object id is not 32 bytes");
    bad = pm;
    bad.set_chunk_ids(1, "not 32 bytes");
    CHECK(refuse(bad) == "manifest chunk id is not 32 bytes");
    bad = pm;
    bad.set_size(bad.size() + kMaxChunkBytes);
    CHECK(refuse(bad) == "3 chunks of at most 49152 bytes cannot hold 147461 bytes (4 needed)");
    bad = pm;
    for (std::size_t i = 0; i < kMaxChunks; ++i) bad.add_chunk_ids(std::string(32, 'c'));
    CHECK(refuse(bad) == "manifest lists more than 1536 chunks");
}

TEST_CASE("a full manifest fits in one envelope") {
    AttachmentManifest m = sample_manifest();
    m.name = std::string(kMaxAttachmentNameBytes, 'n');
    m.media_type = std::string(kMaxMediaTypeBytes, 'm');
    m.object_id = id("case");
    m.chunk_ids.assign(kMaxChunks, id("c"));
    m.size = kMaxAttachmentBytes;
    REQUIRE(validate_manifest(m));
    const auto bytes = encode_manifest(m);
    // Leaves at least 4 KiB of the 60 KiB envelope for the record body, signature and AEAD.
    CHECK(bytes.size() + 4096 <= kMaxPayloadBytes);
    CHECK(decode_manifest(bytes));
}

namespace {
// libprotobuf logs every proto3 string that is not UTF-8 to stderr; the process that parses
// outside bytes has to route those logs (see the report to core). Here they are only counted.
int g_protobuf_logs = 0;
void count_log(google::protobuf::LogLevel, const char*, int, const std::string&) {
    ++g_protobuf_logs;
}
}  // namespace

TEST_CASE("mutated and random payloads never decode into something invalid") {
    auto* previous = google::protobuf::SetLogHandler(&count_log);
    crypto::DeterministicRandom rng(77);
    auto manifest_bytes = encode_manifest(sample_manifest());
    Change op = append("rec", "case", id("obj"), kMeta.author, kMeta.lamport, "ledger",
                       {{"amount", "10"}, {"currency", "EUR"}, {"direction", "paid"}});
    auto op_bytes = encode_object_op(op);
    auto chunk_bytes = encode_chunk(AttachmentChunk{
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 3, Bytes(300, 0x42)});
    std::size_t decoded = 0;
    for (int round = 0; round < 3000; ++round) {
        auto mutate = [&](Bytes b) {
            const auto flips = 1 + rng.uniform(4);
            for (std::uint64_t i = 0; i < flips && !b.empty(); ++i)
                b[rng.uniform(b.size())] ^= static_cast<std::uint8_t>(1 + rng.uniform(255));
            if (rng.uniform(4) == 0) b.resize(rng.uniform(b.size() + 1));
            return b;
        };
        if (auto m = decode_manifest(mutate(manifest_bytes))) {
            ++decoded;
            CHECK(validate_manifest(*m));
            CHECK(m->chunk_ids.size() <= kMaxChunks);
        }
        if (auto c = decode_object_op(mutate(op_bytes), kMeta)) {
            ++decoded;
            CHECK(c->fields.size() <= kMaxFieldWrites);
            CHECK(c->type.size() <= kMaxNameBytes);
            ObjectSet set;  // whatever decoded is either refused or folded, never a crash
            (void)set.apply(*c);
        }
        if (auto c = decode_chunk(mutate(chunk_bytes))) {
            ++decoded;
            CHECK(c->data.size() <= kMaxChunkBytes);
        }
        const auto junk = rng.bytes(rng.uniform(200));
        (void)decode_manifest(junk);
        (void)decode_object_op(junk, kMeta);
        (void)decode_chunk(junk);
    }
    google::protobuf::SetLogHandler(previous);
    CHECK(decoded > 0);  // some mutations (in data bytes) must still decode
    CHECK(g_protobuf_logs > 0);
}
