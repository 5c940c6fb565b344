#include "kolokol/objects/codec.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <string>

#include "kolokol/objects/error.hpp"
#include "record.pb.h"

namespace kolokol::objects {

namespace {

std::string str(ByteView b) {
    return std::string(as_chars(b));
}

template <class Message>
Status parse(Message& msg, ByteView payload, const char* what) {
    // Size first: the parser never sees more than one envelope's worth of bytes.
    if (payload.size() > kMaxPayloadBytes)
        return fail(ObjectErrc::malformed_payload, "{} larger than an envelope", what);
    if (!msg.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
        return fail(ObjectErrc::malformed_payload, "{} does not parse", what);
    return {};
}

// Deterministic: map entries (ObjectOp's fields and item) are written sorted by key, so one
// change always encodes to the same bytes. Protobuf's default map order varies between runs.
Bytes serialize(const google::protobuf::MessageLite& msg) {
    Bytes out(msg.ByteSizeLong());
    google::protobuf::io::ArrayOutputStream array(out.data(), static_cast<int>(out.size()));
    google::protobuf::io::CodedOutputStream coded(&array);
    coded.SetSerializationDeterministic(true);
    msg.SerializeWithCachedSizes(&coded);
    return out;
}

}  // namespace

Bytes encode_object_op(const Change& change) {
    pb::ObjectOp op;
    op.set_type(change.type);
    if (!change.is_create()) op.set_object_id(str(change.object_id));
    for (const auto& [k, v] : change.fields) (*op.mutable_set())[k] = v;
    if (change.append) {
        op.set_list(change.append->list);
        for (const auto& [k, v] : change.append->item) (*op.mutable_item())[k] = v;
    }
    if (change.carry_mark)
        op.set_carry(*change.carry_mark ? pb::ObjectOp::CARRY : pb::ObjectOp::UNCARRY);
    op.set_carried(change.carried);
    if (change.copies_item()) op.set_carried_item(str(change.carried_item));
    for (const auto& [k, from] : change.carried_from) {
        auto& src = (*op.mutable_carried_from())[k];
        src.set_record(str(from.record));
        src.set_author(str(from.author));
    }
    if (change.carried_item_author != MemberKey{})
        op.set_carried_item_author(str(change.carried_item_author));
    return serialize(op);
}

Result<Change> decode_object_op(ByteView payload, const RecordMeta& meta) {
    pb::ObjectOp op;
    if (auto ok = parse(op, payload, "object op"); !ok) return std::unexpected(ok.error());
    if (op.type().empty() || op.type().size() > kMaxNameBytes)
        return fail(ObjectErrc::malformed_payload, "object op type empty or too long");
    if (!op.object_id().empty() && op.object_id().size() != 32)
        return fail(ObjectErrc::malformed_payload, "object op object id is not 32 bytes");
    if (static_cast<std::size_t>(op.set_size()) > kMaxFieldWrites)
        return fail(ObjectErrc::too_many_fields, "object op writes too many fields");
    if (static_cast<std::size_t>(op.item_size()) > kMaxItemFields)
        return fail(ObjectErrc::too_many_fields, "object op list item has too many fields");
    if (op.list().empty() && op.item_size() > 0)
        return fail(ObjectErrc::malformed_payload, "object op has a list item but no list name");
    if (op.list().size() > kMaxNameBytes)
        return fail(ObjectErrc::malformed_payload, "object op list name too long");
    if (!op.carried_item().empty() && op.carried_item().size() != 32)
        return fail(ObjectErrc::malformed_payload, "object op carried item is not 32 bytes");
    if (op.carry() != pb::ObjectOp::CARRY_UNSET && op.carry() != pb::ObjectOp::CARRY &&
        op.carry() != pb::ObjectOp::UNCARRY)
        return fail(ObjectErrc::malformed_payload, "object op with an unknown carry mark");

    Change c;
    c.record_id = meta.record_id;
    c.author = meta.author;
    c.lamport = meta.lamport;
    c.wall_clock_ms = meta.wall_clock_ms;
    c.type = op.type();
    c.object_id = to_array<32>(as_bytes(op.object_id()));
    if (op.carry() != pb::ObjectOp::CARRY_UNSET) c.carry_mark = op.carry() == pb::ObjectOp::CARRY;
    c.carried = op.carried();
    if (!op.carried_item().empty()) c.carried_item = to_array<32>(as_bytes(op.carried_item()));
    if (!op.carried_item_author().empty() && op.carried_item_author().size() != 32)
        return fail(ObjectErrc::malformed_payload, "object op carried item author is not 32 bytes");
    if (!op.carried_item_author().empty())
        c.carried_item_author = to_array<32>(as_bytes(op.carried_item_author()));
    if (static_cast<std::size_t>(op.carried_from_size()) > kMaxFieldWrites)
        return fail(ObjectErrc::too_many_fields, "object op names too many carried sources");
    for (const auto& [k, from] : op.carried_from()) {
        if (from.record().size() != 32 || from.author().size() != 32)
            return fail(ObjectErrc::malformed_payload, "object op carried source is not 32 bytes");
        c.carried_from.emplace(k, CarriedSource{to_array<32>(as_bytes(from.record())),
                                                to_array<32>(as_bytes(from.author()))});
    }
    for (const auto& [k, v] : op.set()) {
        if (k.size() > kMaxNameBytes)
            return fail(ObjectErrc::malformed_payload, "object op field name too long");
        c.fields.emplace(k, v);
    }
    if (!op.list().empty()) {
        ListAppend a;
        a.list = op.list();
        for (const auto& [k, v] : op.item()) {
            if (k.size() > kMaxNameBytes)
                return fail(ObjectErrc::malformed_payload, "object op item field name too long");
            a.item.emplace(k, v);
        }
        c.append = std::move(a);
    }
    return c;
}

Bytes encode_chunk(const AttachmentChunk& chunk) {
    pb::AttachmentChunk pc;
    pc.set_attachment_id(str(chunk.attachment_id));
    pc.set_index(chunk.index);
    pc.set_data(as_chars(chunk.data).data(), chunk.data.size());
    return serialize(pc);
}

Result<AttachmentChunk> decode_chunk(ByteView payload) {
    pb::AttachmentChunk pc;
    if (auto ok = parse(pc, payload, "attachment chunk"); !ok) return std::unexpected(ok.error());
    if (pc.attachment_id().size() != 16)
        return fail(ObjectErrc::malformed_payload, "attachment chunk id is not 16 bytes");
    if (pc.data().size() > kMaxChunkBytes)
        return fail(ObjectErrc::malformed_payload, "attachment chunk holds more than 48 KiB");
    AttachmentChunk c;
    c.attachment_id = to_array<16>(as_bytes(pc.attachment_id()));
    c.index = pc.index();
    c.data = to_bytes(pc.data());
    return c;
}

Bytes encode_manifest(const AttachmentManifest& m) {
    pb::AttachmentManifest pm;
    pm.set_attachment_id(str(m.attachment_id));
    pm.set_name(m.name);
    pm.set_media_type(m.media_type);
    pm.set_size(m.size);
    pm.set_sha256(str(m.sha256));
    for (const auto& id : m.chunk_ids) pm.add_chunk_ids(str(id));
    pm.set_chunk_bytes(m.chunk_bytes);
    if (m.object_id != RecordId{}) pm.set_object_id(str(m.object_id));
    return serialize(pm);
}

Result<AttachmentManifest> decode_manifest(ByteView payload) {
    pb::AttachmentManifest pm;
    if (auto ok = parse(pm, payload, "attachment manifest"); !ok)
        return std::unexpected(ok.error());
    if (pm.attachment_id().size() != 16)
        return fail(ObjectErrc::malformed_payload, "manifest attachment id is not 16 bytes");
    if (pm.sha256().size() != 32)
        return fail(ObjectErrc::malformed_payload, "manifest SHA-256 is not 32 bytes");
    if (!pm.object_id().empty() && pm.object_id().size() != 32)
        return fail(ObjectErrc::malformed_payload, "manifest object id is not 32 bytes");
    if (static_cast<std::size_t>(pm.chunk_ids_size()) > kMaxChunks)
        return fail(ObjectErrc::bad_manifest, "manifest lists more than {} chunks", kMaxChunks);
    AttachmentManifest m;
    m.attachment_id = to_array<16>(as_bytes(pm.attachment_id()));
    m.name = pm.name();
    m.media_type = pm.media_type();
    m.size = pm.size();
    m.sha256 = to_array<32>(as_bytes(pm.sha256()));
    m.chunk_bytes = pm.chunk_bytes();
    m.object_id = to_array<32>(as_bytes(pm.object_id()));
    m.chunk_ids.reserve(static_cast<std::size_t>(pm.chunk_ids_size()));
    for (const auto& id : pm.chunk_ids()) {
        if (id.size() != 32)
            return fail(ObjectErrc::malformed_payload, "manifest chunk id is not 32 bytes");
        m.chunk_ids.push_back(to_array<32>(as_bytes(id)));
    }
    if (auto ok = validate_manifest(m); !ok) return std::unexpected(ok.error());
    return m;
}

}  // namespace kolokol::objects
