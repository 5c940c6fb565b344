// Attachments through the Node (DESIGN §6): a file becomes chunk records of at most 48 KiB,
// written in batches along the author's own chain, then a signed manifest that commits to the
// size, the SHA-256 of the whole file, the chunk count and a hash over the chunks' record ids in
// order. Chunks are found by (attachment id, author, index); reading opens each chunk's envelope
// again, so the data is stored once. Memory stays bounded by one batch of chunks.

#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/values.hpp"
#include "kolokol/storage/output_file.hpp"
#include "node_impl.hpp"

namespace kolokol::core {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kBatch = 64;  // chunk records sealed and ingested together (~3 MiB)
// A scope that wrote this much gives the write-ahead log's space back when it commits.
constexpr std::uint64_t kLargeScopeBytes = std::uint64_t{8} << 20;

bool printable_token(std::string_view s) {
    for (char ch : s)
        if (ch <= ' ' || ch > '~') return false;
    return true;
}

std::uint32_t chunk_count_for(std::uint64_t size, std::uint32_t chunk_bytes) {
    return static_cast<std::uint32_t>((size + chunk_bytes - 1) / chunk_bytes);
}

// read_attachment's hand-off from its store reader to the thread that opens and sinks: batches
// of chunk envelopes in index order, and what stopped the reading after a batch (if anything).
constexpr std::size_t kReadBatch = 32;  // ~1.5 MiB of envelopes

struct ChunkBatch {
    struct Chunk {
        std::uint32_t idx = 0;
        RecordId id{};
        Bytes envelope;
    };
    std::vector<Chunk> chunks;
    std::optional<std::uint32_t> missing;  // this index is not here: the read stops
    std::optional<RecordId> want_again;    // ... because its envelope went, take it back
    std::optional<Error> error;            // reading the store failed
};

// A bounded queue from one producer thread to one consumer.
class BatchQueue {
public:
    explicit BatchQueue(std::size_t capacity) : m_capacity(capacity) {}
    // Producer: waits for room; false once the consumer has cancelled.
    bool push(ChunkBatch batch) {
        std::unique_lock lock(m_mutex);
        m_room.wait(lock, [&] { return m_items.size() < m_capacity || m_cancelled; });
        if (m_cancelled) return false;
        m_items.push_back(std::move(batch));
        m_ready.notify_one();
        return true;
    }
    // Producer: nothing more is coming.
    void close() {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        m_ready.notify_one();
    }
    // Consumer: the next batch; nullopt once the producer has closed and all were taken.
    std::optional<ChunkBatch> pop() {
        std::unique_lock lock(m_mutex);
        m_ready.wait(lock, [&] { return !m_items.empty() || m_closed; });
        if (m_items.empty()) return std::nullopt;
        auto batch = std::move(m_items.front());
        m_items.pop_front();
        m_room.notify_one();
        return batch;
    }
    // Consumer: stop the producer at its next push.
    void cancel() {
        std::lock_guard lock(m_mutex);
        m_cancelled = true;
        m_room.notify_one();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_room, m_ready;
    std::deque<ChunkBatch> m_items;
    std::size_t m_capacity;
    bool m_closed = false;
    bool m_cancelled = false;
};

struct ManifestRow {
    RecordId id{};
    MemberKey author{};
    std::int64_t wall_ms = 0;
    pb::AttachmentManifest manifest;
};

AttachmentInfo info_of(const ManifestRow& row) {
    AttachmentInfo a;
    const auto& m = row.manifest;
    a.manifest_id = row.id;
    a.attachment_id = to_array<16>(as_bytes(m.attachment_id()));
    a.name = m.name();
    a.media_type = m.media_type();
    a.size = m.size();
    a.sha256 = to_array<32>(as_bytes(m.sha256()));
    a.chunk_count = m.chunk_count();
    if (m.object_id().size() == 32) a.object = to_array<32>(as_bytes(m.object_id()));
    a.author = row.author;
    a.wall_ms = row.wall_ms;
    return a;
}

}  // namespace

std::optional<Error> check_manifest(const pb::AttachmentManifest& m) {
    auto bad = [](const char* literal) { return make_error(CoreErrc::bad_input, literal); };
    // Rejection details (stored, shown in `kolokol rejected`) stay English; the CLI shows these
    // translated when an attachment command meets them.
    if (m.attachment_id().size() != 16) return bad(KOLOKOL_TEXT("bad attachment id"));
    if (auto ok = objects::validate_attachment_name(m.name()); !ok)
        return reclassify(CoreErrc::bad_input, ok.error()).error();
    if (m.media_type().size() > objects::kMaxMediaTypeBytes || !printable_token(m.media_type()))
        return bad(KOLOKOL_TEXT("bad media type"));
    if (m.size() > kMaxFileBytes) return bad(KOLOKOL_TEXT("attachment larger than 4 GiB"));
    if (m.sha256().size() != 32) return bad(KOLOKOL_TEXT("bad SHA-256"));
    if (m.chunk_bytes() == 0 || m.chunk_bytes() > objects::kMaxChunkBytes)
        return bad(KOLOKOL_TEXT("chunk size outside 1..48 KiB"));
    if (m.chunk_ids_size() != 0)
        return bad(KOLOKOL_TEXT("manifest lists chunk ids (not this format)"));
    if (m.chunk_count() != chunk_count_for(m.size(), m.chunk_bytes()))
        return bad(KOLOKOL_TEXT("the chunk count does not add up to the size"));
    if (m.chunks_hash().size() != 32) return bad(KOLOKOL_TEXT("bad chunks hash"));
    if (!m.object_id().empty() && m.object_id().size() != 32)
        return bad(KOLOKOL_TEXT("bad object id"));
    return std::nullopt;
}

namespace {

Result<std::optional<ManifestRow>> load_manifest(Node::Impl& m, const GroupId& group,
                                                 const RecordId& id) {
    auto stored = m.records.body_of_kind(group, id, RecordKind::manifest);
    if (!stored) return std::unexpected(stored.error());
    if (!*stored) return std::optional<ManifestRow>{};
    ManifestRow row;
    row.id = id;
    row.author = (*stored)->author;
    row.wall_ms = (*stored)->wall_ms;
    auto body = parse_stored_body((*stored)->body);
    if (!body || !body->has_manifest()) return std::optional<ManifestRow>{};
    row.manifest = body->manifest();
    return std::optional<ManifestRow>(std::move(row));
}

// The chunk indexes of a manifest that are not held (no chunk record, or no envelope).
Result<std::vector<std::uint32_t>> missing_chunks(Node::Impl& m, const ManifestRow& row) {
    std::vector<std::uint32_t> missing;
    auto st = m.db.prepare(
        "SELECT idx, id FROM attachment_chunks WHERE attachment_id = ? AND author = ? AND "
        "idx < ? ORDER BY idx");
    if (!st) return std::unexpected(st.error());
    st->bind(1, as_bytes(row.manifest.attachment_id()))
        .bind(2, ByteView(row.author))
        .bind(3, static_cast<std::int64_t>(row.manifest.chunk_count()));
    std::uint32_t next = 0;
    while (true) {
        auto r = st->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) break;
        auto idx = static_cast<std::uint32_t>(st->column_int64(0));
        if (idx < next) continue;  // a second record for one index: the first will do
        while (next < idx) missing.push_back(next++);
        auto id = to_array<32>(st->column_blob(1));
        auto held = m.envelopes->contains(id);
        if (!held) return std::unexpected(held.error());
        if (!*held) {
            missing.push_back(idx);
            if (auto ok = m.want_again(id); !ok) return std::unexpected(ok.error());
        }
        next = idx + 1;
    }
    while (next < row.manifest.chunk_count()) missing.push_back(next++);
    return missing;
}

// The first chunk of an attachment whose stored envelope does not hash to its id, if any.
Result<std::optional<std::pair<std::uint32_t, RecordId>>> find_misnamed_chunk(
    Node::Impl& m, const std::string& attachment_id, const MemberKey& author, std::uint32_t count) {
    using Found = std::optional<std::pair<std::uint32_t, RecordId>>;
    auto st = m.db.prepare(
        "SELECT idx, id FROM attachment_chunks WHERE attachment_id = ? AND author = ? AND "
        "idx < ? ORDER BY idx");
    if (!st) return std::unexpected(st.error());
    st->bind(1, as_bytes(attachment_id))
        .bind(2, ByteView(author))
        .bind(3, static_cast<std::int64_t>(count));
    std::uint32_t next = 0;
    while (true) {
        auto r = st->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) return Found{};
        auto idx = static_cast<std::uint32_t>(st->column_int64(0));
        if (idx < next) continue;  // as read_attachment: the first record of an index is read
        next = idx + 1;
        auto id = to_array<32>(st->column_blob(1));
        auto bytes = m.envelopes->get(id);
        if (!bytes) return std::unexpected(bytes.error());
        if (*bytes && storage::record_id_of(**bytes) != id) return Found{{idx, id}};
    }
}

}  // namespace

Result<bool> Node::Impl::refetched(const RecordId& id, const MailboxId& mailbox,
                                   ByteView envelope) {
    if (refetch_rows < 0) {
        auto n = db.cached("SELECT COUNT(*) FROM refetch");
        if (!n) return std::unexpected(n.error());
        auto c = (*n)->step();
        refetch_rows = c && *c ? (*n)->column_int64(0) : 0;
        (*n)->reset();
        if (refetch_rows == 0) return false;
    }
    auto st = db.cached("SELECT 1 FROM refetch WHERE id = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(id));
    auto r = (*st)->step();
    (*st)->reset();
    if (!r) return std::unexpected(r.error());
    if (!*r) return false;
    // The id is the hash of these very bytes, so they are the envelope we once verified.
    if (auto ok = store_envelope(id, mailbox, envelope); !ok) return std::unexpected(ok.error());
    auto del = db.cached("DELETE FROM refetch WHERE id = ?");
    if (!del) return std::unexpected(del.error());
    (*del)->bind(1, ByteView(id));
    if (auto d = (*del)->step(); !d) return std::unexpected(d.error());
    if (refetch_rows > 0) --refetch_rows;
    return true;
}

Status Node::Impl::want_again(const RecordId& id) {
    auto st = db.cached("INSERT OR IGNORE INTO refetch(id) VALUES (?)");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(id));
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    refetch_rows = -1;  // recounted when next needed
    return {};
}

Result<AttachmentInfo> Node::attach_file(const GroupId& group, const fs::path& path,
                                         const AttachOptions& options) {
    auto scope = WriteScope::open(*m_impl);
    if (!scope) return std::unexpected(scope.error());
    auto info = attach_in_scope(group, path, options);
    if (!info) return info;
    if (auto ok = scope->commit(info->size >= kLargeScopeBytes); !ok)
        return std::unexpected(ok.error());
    return info;
}

Result<ObjectWithFiles> Node::object_change_with_files(const GroupId& group, const ObjectEdit& edit,
                                                       std::span<const FileToAttach> files,
                                                       const AttachProgress& progress) {
    // Every file is looked at before anything is written: a missing one changes nothing.
    std::uint64_t total = 0;
    for (const auto& f : files) {
        std::error_code ec;
        if (!fs::is_regular_file(f.path, ec))
            return fail(CoreErrc::not_found, "no such file: {}", f.path.string());
        auto size = fs::file_size(f.path, ec);
        if (ec) return fail(CoreErrc::io, "cannot read {}: {}", f.path.string(), ec.message());
        if (size > kMaxFileBytes)
            return fail(CoreErrc::bad_input, "{}: an attachment is at most 4 GiB", f.path.string());
        auto name = f.name.empty() ? f.path.filename().string() : f.name;
        if (auto ok = objects::validate_attachment_name(name); !ok)
            return reclassify(make_error_code(CoreErrc::bad_input), ok.error());
        total += size;
    }
    auto scope = WriteScope::open(*m_impl);
    if (!scope) return std::unexpected(scope.error());
    ObjectWithFiles out;
    auto id = object_change(group, edit);
    if (!id) return std::unexpected(id.error());
    out.change = *id;
    const RecordId object = edit.object ? *edit.object : *id;
    std::uint64_t before = 0;
    for (const auto& f : files) {
        AttachOptions o;
        o.object = object;
        o.name = f.name;
        o.media_type = f.media_type;
        if (progress)
            o.progress = [&](std::uint64_t done, std::uint64_t) { progress(before + done, total); };
        auto info = attach_in_scope(group, f.path, o);
        if (!info) return std::unexpected(info.error());
        before += info->size;
        out.attachments.push_back(std::move(*info));
    }
    if (auto ok = scope->commit(total >= kLargeScopeBytes); !ok) return std::unexpected(ok.error());
    return out;
}

Result<AttachmentInfo> Node::attach_in_scope(const GroupId& group, const fs::path& path,
                                             const AttachOptions& options) {
    auto& m = *m_impl;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        return fail(CoreErrc::not_found, "no such file: {}", path.string());
    auto total = fs::file_size(path, ec);
    if (ec) return fail(CoreErrc::io, "cannot read {}: {}", path.string(), ec.message());
    if (total > kMaxFileBytes) return fail(CoreErrc::bad_input, "an attachment is at most 4 GiB");
    std::string name = options.name.empty() ? path.filename().string() : options.name;
    if (auto ok = objects::validate_attachment_name(name); !ok)
        return reclassify(CoreErrc::bad_input, ok.error());
    if (options.media_type.size() > objects::kMaxMediaTypeBytes ||
        !printable_token(options.media_type))
        return fail(CoreErrc::bad_input, "a media type is printable ASCII without spaces");
    std::optional<ObjectView> owner;
    if (options.object) {
        auto v = object(group, *options.object);
        if (!v) return std::unexpected(v.error());
        if (!objects::builtin_types().find(v->type)->list("attachments"))
            return fail(CoreErrc::bad_input, "a {} has no attachments", v->type);
        owner = std::move(*v);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(CoreErrc::io, "cannot open {}", path.string());

    auto attachment_id = m.random->array<16>();
    crypto::Sha256 sha;
    crypto::Blake2b ids_hash(32);
    ids_hash.update(kChunksHashDomain);
    const std::uint8_t zero = 0;
    ids_hash.update(ByteView(&zero, 1));

    // The chain of chunk records: the first is prepared as any record is, the rest follow it
    // on the author's own chain (seq + 1, prev = parent = the chunk before).
    std::optional<pb::RecordBody> last;
    std::optional<RecordId> last_id;
    EpochId epoch{};
    std::vector<Bytes> batch;
    batch.reserve(kBatch);
    auto flush = [&]() -> Status {
        if (batch.empty()) return {};
        auto report = m.ingest(batch);
        if (!report) return std::unexpected(report.error());
        if (report->added != batch.size())
            return fail(CoreErrc::not_permitted, "a chunk record was refused");
        for (auto& b : batch) crypto::memzero(b);
        batch.clear();
        return {};
    };
    Bytes buf(objects::kMaxChunkBytes);
    std::uint64_t done = 0;
    std::uint32_t index = 0;
    while (done < total) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), total - done));
        in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(want));
        if (static_cast<std::size_t>(in.gcount()) != want)
            return fail(CoreErrc::io, "reading {} failed (did it shrink?)", path.string());
        ByteView data(buf.data(), want);
        sha.update(data);
        pb::RecordBody body;
        auto* ch = body.mutable_chunk();
        ch->set_attachment_id(to_string(attachment_id));
        ch->set_index(index);
        ch->set_data(std::string(as_chars(data)));
        if (!last) {
            auto e = m.prepare(group, body, std::nullopt);
            if (!e) return std::unexpected(e.error());
            epoch = *e;
        } else {
            body.set_group_id(last->group_id());
            body.set_epoch_id(last->epoch_id());
            body.set_author(last->author());
            *body.mutable_control_heads() = last->control_heads();
            body.set_seq(last->seq() + 1);
            auto* prev = body.mutable_prev();
            prev->set_id(to_string(*last_id));
            prev->set_epoch_id(last->epoch_id());
            *body.add_parents() = *prev;
            body.set_lamport(last->lamport() + 1);
            body.set_wall_clock_ms(m.now());
        }
        auto envelope = m.seal(body, epoch);
        auto id = storage::record_id_of(envelope);
        ids_hash.update(ByteView(id));
        batch.push_back(std::move(envelope));
        body.mutable_chunk()->clear_data();
        last = std::move(body);
        last_id = id;
        done += want;
        ++index;
        if (batch.size() == kBatch) {
            if (auto ok = flush(); !ok) return std::unexpected(ok.error());
            if (options.progress) options.progress(done, total);
        }
    }
    if (auto ok = flush(); !ok) return std::unexpected(ok.error());
    crypto::memzero(buf);

    pb::RecordBody body;
    auto* mf = body.mutable_manifest();
    mf->set_attachment_id(to_string(attachment_id));
    mf->set_name(name);
    mf->set_media_type(options.media_type);
    mf->set_size(total);
    mf->set_sha256(to_string(sha.finish()));
    mf->set_chunk_bytes(static_cast<std::uint32_t>(objects::kMaxChunkBytes));
    mf->set_chunk_count(index);
    auto h = ids_hash.finish();
    mf->set_chunks_hash(std::string(as_chars(ByteView(h))));
    if (options.object) mf->set_object_id(to_string(*options.object));
    if (auto why = check_manifest(*mf)) return std::unexpected(*why);
    auto manifest_id = m.write(group, body);
    if (!manifest_id) return std::unexpected(manifest_id.error());
    if (options.progress) options.progress(total, total);

    if (owner) {
        ObjectEdit edit;
        edit.type = owner->type;
        edit.object = owner->id;
        edit.append = objects::ListAppend{
            "attachments", {{"manifest", objects::key_hex(*manifest_id)}, {"name", name}}};
        if (auto ok = object_change(group, edit); !ok) return std::unexpected(ok.error());
    }
    ManifestRow row{*manifest_id, me(), body.wall_clock_ms(), *mf};
    return info_of(row);
}

Result<std::vector<AttachmentInfo>> Node::attachments(const GroupId& group,
                                                      std::optional<RecordId> object) {
    auto& m = *m_impl;
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    auto ids = m.records.ids(group, RecordKind::manifest);
    if (!ids) return std::unexpected(ids.error());
    std::vector<AttachmentInfo> out;
    for (const auto& id : *ids) {
        auto row = m.record_row(id);
        if (!row || !m.record_valid_now(*row)) continue;
        auto mf = load_manifest(m, group, id);
        if (!mf) return std::unexpected(mf.error());
        if (!*mf) continue;
        auto info = info_of(**mf);
        if (object && info.object != object) continue;
        auto missing = missing_chunks(m, **mf);
        if (!missing) return std::unexpected(missing.error());
        info.missing = std::move(*missing);
        out.push_back(std::move(info));
    }
    return out;
}

Result<AttachmentInfo> Node::resolve_attachment(const GroupId& group, std::string_view prefix) {
    if (prefix.size() < 4 || prefix.size() > 64)
        return fail(CoreErrc::bad_input, "an attachment is named by 4 to 64 hex digits of its id");
    auto all = attachments(group);
    if (!all) return std::unexpected(all.error());
    std::optional<AttachmentInfo> found;
    auto matches = [&](ByteView key) {
        auto hex = crypto::hex_encode(key);
        if (prefix.size() > hex.size()) return false;
        for (std::size_t i = 0; i < prefix.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(prefix[i])) != hex[i]) return false;
        return true;
    };
    for (auto& a : *all) {
        if (!matches(a.manifest_id) && !matches(a.attachment_id)) continue;
        if (found)
            return fail(CoreErrc::bad_input, "\"{}\" matches several attachments: give more digits",
                        prefix);
        found = std::move(a);
    }
    if (!found) return fail(CoreErrc::not_found, "no attachment matches \"{}\"", prefix);
    return std::move(*found);
}

Status Node::read_attachment(const GroupId& group, const RecordId& manifest_id,
                             const AttachmentSink& sink) {
    auto& m = *m_impl;
    auto loaded = load_manifest(m, group, manifest_id);
    if (!loaded) return std::unexpected(loaded.error());
    if (!*loaded) return fail(CoreErrc::not_found, "no such attachment in this group");
    const auto& row = **loaded;
    const auto& mf = row.manifest;
    if (auto why = check_manifest(mf)) return std::unexpected(*why);
    const std::uint32_t count = mf.chunk_count();
    const std::uint64_t size = mf.size();
    const std::uint32_t cb = mf.chunk_bytes();

    // `why` is a message literal.
    auto damaged = [&](std::uint32_t idx, const RecordId& id, const char* why) -> Status {
        // Drop it so that the next sync fetches it again from a peer that holds it whole.
        RecordId one[] = {id};
        if (auto rm = m.envelopes->remove(one); !rm) return std::unexpected(rm.error());
        if (auto ok = m.want_again(id); !ok) return ok;
        return std::unexpected(make_error(
            objects::ObjectErrc::chunk_corrupt,
            "chunk {} of \"{}\" is damaged ({}); it was dropped and the next sync fetches it again",
            idx, mf.name(), why));
    };

    // One pass over the chunks: a page read once gains nothing from staying in the cache, and
    // filling 128 MiB of fresh cache memory costs a page fault per page. Keep the cache small
    // while reading, and give it back its size after.
    if (auto small = m.db.exec("PRAGMA cache_size = -4096"); !small)
        return std::unexpected(small.error());
    struct RestoreCache {
        storage::Database& db;
        ~RestoreCache() {
            (void)db.exec("PRAGMA cache_size = -" + std::to_string(storage::kCacheBytes / 1024));
        }
    } restore{m.db};
    auto st = m.db.prepare(
        "SELECT idx, id FROM attachment_chunks WHERE attachment_id = ? AND author = ? AND idx < ? "
        "ORDER BY idx");
    if (!st) return std::unexpected(st.error());
    st->bind(1, as_bytes(mf.attachment_id()))
        .bind(2, ByteView(row.author))
        .bind(3, static_cast<std::int64_t>(count));

    // Reading the store (SQLCipher decrypts and authenticates every page) runs on a thread of its
    // own, up to two batches ahead; opening, checking, hashing and the sink run on this one. The
    // database is the reader's alone until stop_reader() has joined it: nothing here touches
    // m.db before that.
    BatchQueue queue(2);
    auto read_batches = [&] {
        std::uint32_t want = 0;
        bool more = true;
        while (more && want < count) {
            ChunkBatch b;
            while (b.chunks.size() < kReadBatch && want < count) {
                auto r = st->step();
                if (!r) {
                    b.error = r.error();
                    break;
                }
                if (!*r) {
                    b.missing = want;
                    break;
                }
                auto idx = static_cast<std::uint32_t>(st->column_int64(0));
                if (idx < want) continue;
                if (idx > want) {
                    b.missing = want;
                    break;
                }
                auto id = to_array<32>(st->column_blob(1));
                auto bytes = m.envelopes->get(id);
                if (!bytes) {
                    b.error = bytes.error();
                    break;
                }
                if (!*bytes) {
                    // We applied it once, so only its envelope went: take it back on the next
                    // sync.
                    b.want_again = id;
                    b.missing = idx;
                    break;
                }
                b.chunks.push_back({idx, id, std::move(**bytes)});
                ++want;
            }
            more = !b.error && !b.missing;
            if (!queue.push(std::move(b))) break;
        }
    };
    std::thread reader([&] {
        try {
            read_batches();
        } catch (const std::exception& e) {  // out of memory: end the read, not the process
            ChunkBatch b;
            b.error = make_error(make_error_code(CoreErrc::io), "reading the store: {}", e.what());
            try {
                queue.push(std::move(b));
            } catch (...) {
            }
        }
        queue.close();
    });
    auto stop_reader = [&] {
        queue.cancel();
        if (reader.joinable()) reader.join();
    };
    struct JoinReader {
        decltype(stop_reader)& stop;
        ~JoinReader() { stop(); }
    } join_reader{stop_reader};

    crypto::Sha256 sha;
    crypto::Blake2b ids_hash(32);
    ids_hash.update(kChunksHashDomain);
    const std::uint8_t zero = 0;
    ids_hash.update(ByteView(&zero, 1));
    std::uint32_t next = 0;
    // A chunk's envelope is not hashed again to check its id, nor its signature checked again:
    // SQLCipher authenticates every page read, ingest checked both before the envelope was
    // stored, the ids hash to the signed manifest's chunks_hash and the bytes to its SHA-256,
    // both checked below before the read succeeds (open_pinned_record).
    while (auto b = queue.pop()) {
        for (auto& c : b->chunks) {
            const auto idx = c.idx;
            const EpochKeys* keys = nullptr;
            if (auto view = storage::parse_envelope(c.envelope)) {
                auto k = m.epochs.find(view->mailbox);
                if (k != m.epochs.end()) keys = &k->second;
            } else {
                stop_reader();
                return damaged(idx, c.id, KOLOKOL_TEXT("malformed envelope"));
            }
            if (!keys) {
                stop_reader();
                return damaged(idx, c.id, KOLOKOL_TEXT("no key for its mailbox"));
            }
            auto rec = open_pinned_record(c.envelope, *keys, c.id);
            if (!rec) {
                stop_reader();
                return damaged(idx, c.id, reject_reason_name(rec.error().reason).data());
            }
            const auto& ch = rec->body.chunk();
            std::size_t expect =
                idx + 1 < count ? cb : static_cast<std::size_t>(size - std::uint64_t{cb} * idx);
            if (!rec->body.has_chunk() || ch.attachment_id() != mf.attachment_id() ||
                ch.index() != idx || author_of(rec->body) != row.author ||
                ch.data().size() != expect)
                return std::unexpected(make_error(objects::ObjectErrc::chunk_corrupt,
                                                  "chunk {} of \"{}\" does not fit the manifest "
                                                  "(attachment, index, author or size)",
                                                  idx, mf.name()));
            ids_hash.update(ByteView(c.id));
            auto data = as_bytes(ch.data());
            sha.update(data);
            if (auto ok = sink(data); !ok) return ok;
            ++next;
        }
        if (b->error) return std::unexpected(std::move(*b->error));
        if (b->missing) {
            stop_reader();
            if (b->want_again)
                if (auto ok = m.want_again(*b->want_again); !ok) return ok;
            return std::unexpected(
                make_error(objects::ObjectErrc::chunk_missing,
                           "chunk {} of \"{}\" is not here yet: sync with a member who holds it",
                           *b->missing, mf.name()));
        }
    }
    stop_reader();
    if (next != count)  // the reader stopped without saying why: a programming error
        return fail(CoreErrc::io, "reading \"{}\" stopped early", mf.name());
    auto h = ids_hash.finish();
    if (!crypto::equal_ct(ByteView(h), as_bytes(mf.chunks_hash())))
        return std::unexpected(
            make_error(objects::ObjectErrc::hash_mismatch,
                       "the chunks of \"{}\" are not the ones its manifest names", mf.name()));
    auto digest = sha.finish();
    if (!crypto::equal_ct(ByteView(digest), as_bytes(mf.sha256()))) {
        // The ids are the manifest's, so either a stored envelope is not the one its id names
        // (the store was altered by someone holding its key, or a fault) or the author's
        // manifest is false. A second pass tells which, and drops such a chunk.
        auto bad = find_misnamed_chunk(m, mf.attachment_id(), row.author, count);
        if (!bad) return std::unexpected(bad.error());
        if (*bad) return damaged((*bad)->first, (*bad)->second, KOLOKOL_TEXT("its hash is wrong"));
        return std::unexpected(make_error(objects::ObjectErrc::hash_mismatch,
                                          "\"{}\" does not match its SHA-256", mf.name()));
    }
    return {};
}

Status Node::export_attachment(const GroupId& group, const RecordId& manifest_id,
                               const fs::path& path, bool overwrite) {
    std::error_code ec;
    if (!overwrite && fs::exists(path, ec))
        return fail(CoreErrc::exists, "{} exists (use --force to overwrite)", path.string());
    auto tmp = path;
    tmp += ".kolokol-partial";
    {
        auto created = storage::create_output_temp(tmp);
        if (!created)
            return reclassify(make_error_code(created.error().code == storage::StorageErrc::exists
                                                  ? CoreErrc::exists
                                                  : CoreErrc::io),
                              created.error());
        const int fd = *created;
        auto ok = read_attachment(group, manifest_id, [&](ByteView data) -> Status {
            while (!data.empty()) {
                auto n = ::write(fd, data.data(), data.size());
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) return fail(CoreErrc::io, "writing {} failed", tmp.string());
                data = data.subspan(static_cast<std::size_t>(n));
            }
            return {};
        });
        if (ok && ::fsync(fd) != 0) ok = fail(CoreErrc::io, "writing {} failed", tmp.string());
        if (::close(fd) != 0 && ok) ok = fail(CoreErrc::io, "writing {} failed", tmp.string());
        if (!ok) {
            fs::remove(tmp, ec);
            return ok;
        }
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return fail(CoreErrc::io, "cannot write {}: {}", path.string(), ec.message());
    }
    return {};
}

}  // namespace kolokol::core
