// Sync files for sneakernet (DESIGN §5): envelopes wrapped with each epoch's file key.
// Layout: "KKSYNC01", then length-prefixed (4 bytes big-endian) protobuf messages: one
// SyncFileHeader, then SyncFileChunks. Reading checks the whole file first — framing, sizes and
// every chunk we hold a key for — so a damaged file changes nothing; then it ingests in batches,
// each its own transaction, so an interrupted import keeps what it committed. A file holding
// chunks under keys we do not hold (which the file itself may grant) is ingested as one
// transaction instead: those chunks are checked only once their key arrives.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <set>

#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/storage/output_file.hpp"
#include "kolokol/storage/posix_io.hpp"
#include "node_impl.hpp"
#include "output_temp.hpp"
#include "syncfile.pb.h"

namespace kolokol::core {

namespace {
constexpr std::string_view kMagic = "KKSYNC01";
constexpr std::size_t kChunkPlainTarget = 1 << 20;
constexpr std::size_t kMaxChunkBytes = (4 << 20) + 4096;
constexpr std::size_t kMaxHeaderBytes = 1024;
constexpr int kMaxEnvelopesPerChunk = 20000;
constexpr std::size_t kIngestBatch = 1000;

Bytes key_tag(const crypto::SecretBytes& file_key, ByteView salt) {
    return crypto::blake2b(32, salt, file_key.view());
}

bool write_framed(int fd, const std::string& msg) {
    Bytes len;
    put_u32be(len, static_cast<std::uint32_t>(msg.size()));
    return storage::write_all(fd, len) && storage::write_all(fd, as_bytes(msg)).has_value();
}

// Where a sync file's bytes come from: the file itself, or the parts it was cut into.
using SyncFileSource = std::function<Result<std::size_t>(std::span<std::uint8_t>)>;
// Opens a sync file's source, from its start.
using SyncFileOpen = std::function<Result<SyncFileSource>()>;

// Reads framed messages from a sync file with strict bounds.
class SyncFileReader {
public:
    explicit SyncFileReader(SyncFileSource source) : m_source(std::move(source)) {}
    Status read_header(Bytes& salt) {
        std::uint8_t magic[8];
        auto got = read(magic);
        if (!got) return std::unexpected(got.error());
        if (*got != 8 || as_chars(magic) != kMagic)
            return fail(CoreErrc::bad_input, "not a Kolokol sync file");
        auto msg = next(kMaxHeaderBytes);
        if (!msg) return std::unexpected(msg.error());
        pb::SyncFileHeader h;
        if (!*msg || !h.ParseFromString(**msg) || h.version() != 1 || h.salt().size() != 32)
            return fail(CoreErrc::bad_input, "the sync file's header is damaged");
        salt = to_bytes(h.salt());
        return {};
    }
    // nullopt at a clean end of file.
    Result<std::optional<std::string>> next(std::size_t max) {
        std::uint8_t len_bytes[4];
        auto got = read(len_bytes);
        if (!got) return std::unexpected(got.error());
        if (*got == 0) return std::optional<std::string>{};
        if (*got != 4) return fail(CoreErrc::bad_input, "the sync file is truncated");
        std::uint32_t len = (std::uint32_t{len_bytes[0]} << 24) |
                            (std::uint32_t{len_bytes[1]} << 16) |
                            (std::uint32_t{len_bytes[2]} << 8) | len_bytes[3];
        // Refuse before allocating: the length field itself may be corrupt.
        if (len > max)
            return fail(CoreErrc::bad_input, "the sync file is damaged (oversized chunk)");
        std::string buf(len, '\0');
        got = read({reinterpret_cast<std::uint8_t*>(buf.data()), buf.size()});
        if (!got) return std::unexpected(got.error());
        if (*got != len) return fail(CoreErrc::bad_input, "the sync file is truncated");
        return std::optional<std::string>(std::move(buf));
    }

private:
    // Fills `out` unless the file ends first; returns how much it filled.
    Result<std::size_t> read(std::span<std::uint8_t> out) {
        std::size_t done = 0;
        while (done < out.size()) {
            auto n = m_source(out.subspan(done));
            if (!n) return std::unexpected(n.error());
            if (*n == 0) break;
            done += *n;
        }
        return done;
    }

    SyncFileSource m_source;
};

// A source reading a file from its start.
SyncFileOpen file_source(const std::filesystem::path& path) {
    return [path]() -> Result<SyncFileSource> {
        auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
        if (!in->is_open()) return fail(CoreErrc::io, "cannot read {}", path.string());
        return [in, path](std::span<std::uint8_t> out) -> Result<std::size_t> {
            in->read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
            if (in->bad()) return fail(CoreErrc::io, "cannot read {}", path.string());
            return static_cast<std::size_t>(in->gcount());
        };
    };
}
}  // namespace

namespace {
// Writes the sync file of `groups` (all when empty) to `fd`; returns the envelopes written.
// `path` names the file in errors.
Result<std::size_t> write_sync_to(Node::Impl& m, int fd, std::span<const GroupId> groups,
                                  const std::filesystem::path& path) {
    auto salt = m.random->bytes(32);
    pb::SyncFileHeader header;
    header.set_version(1);
    header.set_salt(to_string(salt));
    bool ok = storage::write_all(fd, as_bytes(kMagic)).has_value() &&
              write_framed(fd, header.SerializeAsString());
    std::size_t count = 0;
    for (const auto& [mailbox, keys] : m.epochs) {
        if (!ok) break;
        if (!groups.empty() &&
            std::find(groups.begin(), groups.end(), keys.group_id) == groups.end())
            continue;
        auto held = m.envelopes->ids(mailbox);
        if (!held) return std::unexpected(held.error());
        // Causal order (by Lamport clock) where we know it, so the reader rarely has to hold
        // records back; envelopes we could not open ourselves follow.
        std::vector<RecordId> ids;
        std::set<RecordId> placed;
        if (auto ordered = m.records.ids_in_epoch(keys.epoch_id)) {
            for (const auto& id : *ordered) {
                ids.push_back(id);
                placed.insert(id);
            }
        }
        for (const auto& id : *held)
            if (!placed.contains(id)) ids.push_back(id);
        auto tag = key_tag(keys.file_key, salt);
        Bytes ad = salt;
        append(ad, tag);
        pb::EnvelopeBatch batch;
        std::size_t batch_bytes = 0;
        auto flush = [&] {
            if (batch.envelopes_size() == 0) return true;
            auto plain = batch.SerializeAsString();
            auto nonce = m.random->bytes(24);
            pb::SyncFileChunk chunk;
            chunk.set_key_tag(to_string(tag));
            chunk.set_nonce(to_string(nonce));
            chunk.set_ciphertext(
                to_string(crypto::xchacha_seal(keys.file_key.view(), nonce, ad, as_bytes(plain))));
            batch.Clear();
            batch_bytes = 0;
            return write_framed(fd, chunk.SerializeAsString());
        };
        for (const auto& id : ids) {
            auto env = m.envelopes->get(id);
            if (!env || !*env) continue;
            batch_bytes += (*env)->size();
            batch.add_envelopes(to_string(**env));
            ++count;
            if (batch_bytes >= kChunkPlainTarget && !(ok = flush())) break;
        }
        if (ok) ok = flush();
    }
    if (!ok) return fail(CoreErrc::io, "cannot write {}", path.string());
    return count;
}

}  // namespace

Result<std::size_t> Node::write_sync_file(const std::filesystem::path& path,
                                          std::span<const GroupId> groups) {
    auto& m = *m_impl;
    for (const auto& g : groups)
        if (!m.genesis.contains(g)) return fail(CoreErrc::not_found, "no such group");
    auto tmp = path;
    tmp += ".partial";
    auto fd = create_temp_output(tmp);
    if (!fd) return std::unexpected(fd.error());
    auto count = write_sync_to(m, *fd, groups, path);
    const bool ok = count && ::fsync(*fd) == 0;
    ::close(*fd);
    if (!ok) {
        std::filesystem::remove(tmp);
        if (!count) return std::unexpected(count.error());
        return fail(CoreErrc::io, "cannot write {}", path.string());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return fail(CoreErrc::io, "cannot write {}: {}", path.string(), ec.message());
    return count;
}

Result<std::size_t> Node::write_sync_parts(const std::filesystem::path& path,
                                           std::span<const GroupId> groups,
                                           const PartOptions& options, PartsWritten* written) {
    auto& m = *m_impl;
    for (const auto& g : groups)
        if (!m.genesis.contains(g)) return fail(CoreErrc::not_found, "no such group");
    // The whole file first, in the temporary a whole sync file would have: the parts name
    // its size, and it is cut from there.
    auto tmp = path;
    tmp += ".partial";
    auto fd = create_temp_output(tmp);
    if (!fd) return std::unexpected(fd.error());
    auto count = write_sync_to(m, *fd, groups, path);
    Result<PartsWritten> parts = fail(CoreErrc::io, "cannot write {}", path.string());
    if (count) {
        // The temporary is open for writing only; read it back through the same file (the
        // inode checked), never through whatever may have been put at its name meanwhile.
        const int in = ::open(tmp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat written_st {};
        struct stat read_st {};
        if (in >= 0 && ::fstat(*fd, &written_st) == 0 && ::fstat(in, &read_st) == 0 &&
            written_st.st_ino == read_st.st_ino && written_st.st_dev == read_st.st_dev)
            parts = write_parts(in, static_cast<std::uint64_t>(written_st.st_size), path, options,
                                to_array<8>(m.random->bytes(8)));
        if (in >= 0) ::close(in);
    }
    ::close(*fd);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    if (!count) return std::unexpected(count.error());
    if (!parts) return std::unexpected(parts.error());
    if (written) *written = std::move(*parts);
    return count;
}

namespace {
// Reads the sync file `open` gives from its start (as often as needed): checks it all, then
// ingests what it holds.
Result<IngestReport> read_sync_source(Node::Impl& m, const SyncFileOpen& open) {
    // Runs `on_batch` for every chunk we hold a key for; fails on any damage.
    // `done` marks chunk indices already handed over, so a later pass (after a rotation in the
    // file gave us a new epoch's key) picks up only what was foreign before.
    std::vector<bool> done;
    auto walk = [&](const std::function<Status(pb::EnvelopeBatch&, const EpochKeys&)>& on_batch,
                    std::size_t* foreign) -> Status {
        std::size_t index = 0;
        auto source = open();
        if (!source) return std::unexpected(source.error());
        SyncFileReader reader(std::move(*source));
        Bytes salt;
        if (auto ok = reader.read_header(salt); !ok) return ok;
        std::map<Bytes, const EpochKeys*> by_tag;
        for (const auto& [mailbox, keys] : m.epochs) by_tag[key_tag(keys.file_key, salt)] = &keys;
        for (;;) {
            auto msg = reader.next(kMaxChunkBytes);
            if (!msg) return std::unexpected(msg.error());
            if (!*msg) break;
            if (done.size() <= index) done.resize(index + 1, false);
            if (done[index++]) continue;
            pb::SyncFileChunk chunk;
            if (!chunk.ParseFromString(**msg) || chunk.key_tag().size() != 32 ||
                chunk.nonce().size() != 24)
                return fail(CoreErrc::bad_input,
                            "the sync file is damaged (a chunk does not parse)");
            auto it = by_tag.find(to_bytes(chunk.key_tag()));
            if (it == by_tag.end()) {
                ++*foreign;
                continue;
            }
            Bytes ad = salt;
            append(ad, as_bytes(chunk.key_tag()));
            auto plain = crypto::xchacha_open(it->second->file_key.view(), as_bytes(chunk.nonce()),
                                              ad, as_bytes(chunk.ciphertext()));
            if (!plain)
                return fail(CoreErrc::bad_input,
                            "the sync file is damaged (a chunk does not authenticate)");
            pb::EnvelopeBatch batch;
            if (!batch.ParseFromArray(plain->data(), static_cast<int>(plain->size())) ||
                batch.envelopes_size() > kMaxEnvelopesPerChunk)
                return fail(CoreErrc::bad_input,
                            "the sync file is damaged (a batch does not parse)");
            if (auto ok = on_batch(batch, *it->second); !ok) return ok;
            done[index - 1] = true;
        }
        return {};
    };

    std::size_t foreign = 0;
    if (auto ok = walk([](pb::EnvelopeBatch&, const EpochKeys&) -> Status { return {}; }, &foreign);
        !ok)
        return std::unexpected(ok.error());
    done.assign(done.size(), false);
    IngestReport total;
    auto ingest_pass = [&](std::size_t* left) {
        return walk(
            [&](pb::EnvelopeBatch& batch, const EpochKeys& keys) -> Status {
                std::vector<Bytes> pending;
                for (auto& e : *batch.mutable_envelopes()) {
                    // A writer puts each epoch's envelopes under that epoch's file key. Others
                    // were put there by someone holding the key (a removed member keeps old
                    // ones) and have no reason to be kept here.
                    auto view = storage::parse_envelope(as_bytes(e));
                    if (view && view->mailbox != keys.mailbox) {
                        ++total.dropped;
                        continue;
                    }
                    pending.push_back(to_bytes(e));
                    if (pending.size() == kIngestBatch) {
                        auto r = m.ingest(pending);
                        if (!r) return std::unexpected(r.error());
                        total.merge(*r);
                        pending.clear();
                    }
                }
                if (!pending.empty()) {
                    auto r = m.ingest(pending);
                    if (!r) return std::unexpected(r.error());
                    total.merge(*r);
                }
                return {};
            },
            left);
    };
    // Chunks under keys we do not hold may be opened by a key the file itself grants, and
    // checked only then: a later pass may find the file damaged after the earlier one ingested.
    // Such a file is imported as one transaction, so that a damaged chunk anywhere changes
    // nothing; a file we hold every key for was checked whole above and commits batch by batch.
    std::optional<WriteScope> whole;
    if (foreign > 0) {
        auto scope = WriteScope::open(m);
        if (!scope) return std::unexpected(scope.error());
        whole.emplace(std::move(*scope));
    }
    for (;;) {
        auto epochs_before = m.epochs.size();
        std::size_t left = 0;
        if (auto ok = ingest_pass(&left); !ok) return std::unexpected(ok.error());
        total.foreign_chunks = left;
        if (left == 0 || m.epochs.size() == epochs_before) break;
    }
    if (whole)
        if (auto ok = whole->commit(true); !ok) return std::unexpected(ok.error());
    return total;
}
}  // namespace

Result<IngestReport> Node::read_sync_file(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return fail(CoreErrc::not_found, "no such file: {}", path.string());
    return read_sync_source(*m_impl, file_source(path));
}

Result<IngestReport> Node::read_sync_files(std::span<const std::filesystem::path> paths,
                                           PartSet* parts) {
    if (paths.size() == 1 && is_whole_sync_file(paths.front()))
        return read_sync_file(paths.front());
    auto set = collect_parts(paths);
    if (!set) return std::unexpected(set.error());
    SyncFileOpen open = [&set]() -> Result<SyncFileSource> {
        auto reader = std::make_shared<PartSetReader>(*set);
        return [reader](std::span<std::uint8_t> out) { return reader->read(out); };
    };
    auto report = read_sync_source(*m_impl, open);
    if (report && parts) *parts = std::move(*set);
    return report;
}

}  // namespace kolokol::core
