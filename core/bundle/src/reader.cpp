// Reading a bundle: age decryption feeding libarchive's tar reader, every entry checked before
// a byte of it is used, every file hashed as it streams past, then the cross-checks.
#include <archive.h>
#include <archive_entry.h>

#include <map>
#include <memory>
#include <set>

#include "encryption.hpp"
#include "kolokol/bundle/bundle.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "parts.hpp"
#include "tar_writer.hpp"
#include "utf8_locale.hpp"

namespace kolokol::bundle {

namespace {

constexpr std::size_t kReadBytes = 1 << 20;

bool is_meta(std::string_view path) {
    return path == detail::kReadme || path == detail::kManifest || path == detail::kManifestSig ||
           path == detail::kSignerCard || path == detail::kCustody || path == detail::kSums ||
           path == detail::kSummary;
}

// Rewrites metadata on its way to the extract target (re-export: custody.log and SHA256SUMS).
using MetaRewrite =
    std::function<Result<std::string>(std::string_view path, const std::string& content)>;

struct FileSeen {
    std::uint64_t size = 0;
    std::string sha256;  // hex
};

class Reader {
public:
    Reader(const age::Source& source, std::span<const age::X25519Identity> identities,
           const age::PassphraseProvider& passphrase, const ReadOptions& options)
        : m_source(source),
          m_identities(identities),
          m_passphrase(passphrase),
          m_options(options) {}
    ~Reader() {
        if (m_archive) archive_read_free(m_archive);
    }

    Result<VerifyReport> run(ExtractTarget* target, const MetaRewrite& rewrite);

private:
    static la_ssize_t on_read(struct archive*, void* self, const void** buffer);
    Status entry(struct archive_entry* e, ExtractTarget* target, const MetaRewrite& rewrite);
    Status archive_error(const char* what);
    void cross_check();

    const age::Source& m_source;
    std::span<const age::X25519Identity> m_identities;
    const age::PassphraseProvider& m_passphrase;
    const ReadOptions& m_options;
    std::optional<age::Decryptor> m_decryptor;
    std::optional<Error> m_age_error;  // a decryption failure, kept with its AgeErrc code
    Bytes m_buffer = Bytes(kReadBytes);
    struct archive* m_archive = nullptr;
    std::map<std::string, FileSeen> m_files;
    std::map<std::string, std::string, std::less<>> m_meta;
    VerifyReport m_report;
};

la_ssize_t Reader::on_read(struct archive*, void* self, const void** buffer) {
    auto& r = *static_cast<Reader*>(self);
    auto n = r.m_decryptor->read(r.m_buffer);
    if (!n) {
        r.m_age_error = n.error();
        return -1;
    }
    r.m_report.bytes += *n;
    if (r.m_options.progress) r.m_options.progress(r.m_report.bytes, r.m_options.total_hint);
    *buffer = r.m_buffer.data();
    return static_cast<la_ssize_t>(*n);
}

Status Reader::archive_error(const char* what) {
    if (m_age_error) return std::unexpected(*m_age_error);
    const char* msg = archive_error_string(m_archive);
    if (!msg) return fail(BundleErrc::not_a_bundle, "the payload is not a readable tar ({})", what);
    return fail(BundleErrc::not_a_bundle, "the payload is not a readable tar ({}: {})", what,
                std::string(msg));
}

Status Reader::entry(struct archive_entry* e, ExtractTarget* target, const MetaRewrite& rewrite) {
    // Names are UTF-8 (pax), whatever this process's locale: read them as such.
    const char* raw = archive_entry_pathname_utf8(e);
    if (!raw) raw = archive_entry_pathname(e);
    const std::string path = raw ? raw : "";
    // Every refusal below happens before any byte of the entry is used or written.
    if (auto st = check_entry_path(path); !st) return st;
    const auto type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e) || type == AE_IFLNK || archive_entry_symlink(e))
        return fail(BundleErrc::unsafe_entry, "{}: links are not allowed in a bundle", path);
    if (type == AE_IFDIR) return {};  // directories are implied by the files' paths
    if (type != AE_IFREG)
        return fail(BundleErrc::unsafe_entry,
                    "{}: only regular files are allowed (devices, fifos and sockets are not)",
                    path);
    if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)
        return fail(BundleErrc::unsafe_entry, "{}: no size", path);
    const auto size = static_cast<std::uint64_t>(archive_entry_size(e));
    const bool meta = is_meta(path);
    if (size > (meta ? kMaxMetaBytes : m_options.max_file_bytes))
        return fail(BundleErrc::too_large, "{}: declares {} bytes, over the limit of {}", path,
                    size, meta ? kMaxMetaBytes : m_options.max_file_bytes);
    if (!meta && !path.starts_with(detail::kFilesDir))
        return fail(BundleErrc::unsafe_entry, "{}: not a part of a case bundle", path);
    if (m_files.contains(path))
        return fail(BundleErrc::unsafe_entry, "{}: appears twice in the bundle", path);
    if (m_files.size() >= kMaxEntries)
        return fail(BundleErrc::too_large, "more than {} files in the bundle", kMaxEntries);

    crypto::Sha256 hash;
    std::string content;
    std::uint64_t seen = 0;
    if (target && !meta) {
        if (auto st = target->begin(path, size); !st) return st;
    }
    while (true) {
        const void* block = nullptr;
        size_t len = 0;
        la_int64_t offset = 0;
        int rc = archive_read_data_block(m_archive, &block, &len, &offset);
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK) return archive_error("file data");
        if (offset < 0 || static_cast<std::uint64_t>(offset) != seen)
            return fail(BundleErrc::unsafe_entry, "{}: sparse files are not allowed", path);
        ByteView data(static_cast<const std::uint8_t*>(block), len);
        seen += len;
        if (seen > size) return fail(BundleErrc::not_a_bundle, "{}: longer than declared", path);
        hash.update(data);
        if (meta) {
            content.append(as_chars(data));
        } else if (target) {
            if (auto st = target->write(data); !st) return st;
        }
    }
    if (seen != size) return fail(BundleErrc::not_a_bundle, "{}: shorter than declared", path);
    if (meta && target) {
        std::string out = content;
        if (rewrite) {
            auto r = rewrite(path, content);
            if (!r) return std::unexpected(r.error());
            out = std::move(*r);
        }
        if (auto st = target->begin(path, out.size()); !st) return st;
        if (auto st = target->write(as_bytes(out)); !st) return st;
    }
    if (target) {
        if (auto st = target->end(); !st) return st;
    }
    m_files[path] = {size, crypto::hex_encode(hash.finish())};
    if (meta) m_meta.emplace(path, std::move(content));
    return {};
}

Result<VerifyReport> Reader::run(ExtractTarget* target, const MetaRewrite& rewrite) {
    auto dec = age::Decryptor::open(m_source, m_identities, m_passphrase, m_options.decrypt);
    if (!dec) return std::unexpected(dec.error());
    m_decryptor.emplace(std::move(*dec));
    m_report.used_passphrase = m_decryptor->used_passphrase();

    m_archive = archive_read_new();
    if (!m_archive) return fail(BundleErrc::io, "out of memory");
    // Tar only (ustar, pax, GNU): no compression filters, no other formats.
    archive_read_support_format_tar(m_archive);
    if (archive_read_open(m_archive, this, nullptr, &Reader::on_read, nullptr) != ARCHIVE_OK)
        return std::unexpected(archive_error("open").error());
    while (true) {
        struct archive_entry* e = nullptr;
        int rc = archive_read_next_header(m_archive, &e);
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK) return std::unexpected(archive_error("entry header").error());
        if (auto st = entry(e, target, rewrite); !st) return std::unexpected(st.error());
    }
    // The age payload must end where the tar does: the decryptor authenticates the final chunk
    // only when it is read, and bytes after the tar would be unverified by anyone.
    while (true) {
        auto n = m_decryptor->read(m_buffer);
        if (!n) return std::unexpected(n.error());
        if (*n == 0) break;
        m_report.bytes += *n;
    }
    m_report.files = m_files.size();
    for (auto name : {detail::kManifest, detail::kManifestSig, detail::kSignerCard,
                      detail::kCustody, detail::kSums})
        if (!m_meta.contains(name))
            return fail(BundleErrc::not_a_bundle,
                        "{} is missing: this is not a kolokol case bundle", name);
    cross_check();
    return std::move(m_report);
}

void Reader::cross_check() {
    auto& problems = m_report.problems;
    constexpr auto code = BundleErrc::hash_mismatch;
    // 1. SHA256SUMS against the files as read.
    Error why;
    auto sums = detail::parse_sums(m_meta.find(detail::kSums)->second, why);
    if (!sums) {
        problems.push_back(make_error(code, "SHA256SUMS: {}", why));
    } else {
        std::set<std::string> listed;
        for (const auto& line : *sums) {
            listed.insert(line.path);
            auto it = m_files.find(line.path);
            if (it == m_files.end())
                problems.push_back(
                    make_error(code, "{}: listed in SHA256SUMS but missing", line.path));
            else if (it->second.sha256 != line.hash)
                problems.push_back(make_error(
                    code, "{}: SHA-256 differs from SHA256SUMS (altered or swapped)", line.path));
            else
                ++m_report.hashes_checked;
        }
        for (const auto& [path, seen] : m_files)
            if (path != detail::kSums && !listed.contains(path))
                problems.push_back(make_error(code, "{}: not listed in SHA256SUMS", path));
    }

    // 2. The signature over manifest.json, by the key of signer.card.
    const auto& manifest_text = m_meta.find(detail::kManifest)->second;
    auto card_text = m_meta.find(detail::kSignerCard)->second;
    if (card_text.ends_with('\n')) card_text.pop_back();
    auto card = core::card_from_text(card_text);
    auto sig = detail::parse_signature_file(m_meta.find(detail::kManifestSig)->second);
    if (!card) {
        problems.push_back(make_error(code, "signer.card: {}", card.error()));
    } else {
        m_report.signer_name = card->display_name;
        m_report.signer_key = card->sign_key;
        m_report.signer_card = card_text;
        if (!sig)
            problems.push_back(make_error(code, "manifest.sig: not an Ed25519 signature line"));
        else if (sig->key != card->sign_key)
            problems.push_back(
                make_error(code, "manifest.sig: made with another key than signer.card's"));
        else if (!crypto::verify(sig->key, kSignatureDomain, as_bytes(manifest_text), sig->sig))
            problems.push_back(make_error(
                code,
                "manifest.sig: the signature does not verify: manifest.json was edited or the "
                "signature forged"));
        else
            m_report.signature_ok = true;
    }

    // 3. The manifest's own list of files, sizes and hashes (signed, unlike SHA256SUMS).
    auto manifest = nlohmann::json::parse(manifest_text, nullptr, false);
    std::set<std::string> in_manifest;
    if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("cases") ||
        !manifest["cases"].is_array()) {
        problems.push_back(make_error(code, "manifest.json: not a bundle manifest"));
    } else {
        if (manifest.value("format", "") != kFormat)
            problems.push_back(make_error(code, "manifest.json: unknown format"));
        if (auto at = manifest.find("exported_at"); at != manifest.end() && at->is_string())
            m_report.exported_at = at->get<std::string>();
        if (card) {
            auto exporter = manifest.find("exporter");
            if (exporter == manifest.end() || !exporter->is_object() ||
                exporter->value("sign_key", "") != crypto::hex_encode(card->sign_key))
                problems.push_back(make_error(
                    code, "manifest.json: the exporter is not the signer of signer.card"));
        }
        for (const auto& c : manifest["cases"]) {
            if (!c.is_object()) {
                problems.push_back(make_error(code, "manifest.json: a case is not an object"));
                continue;
            }
            std::string label = c.value("id", "?");
            if (auto f = c.find("fields"); f != c.end() && f->is_object()) {
                if (auto p = f->find("person"); p != f->end() && p->is_string())
                    label += " — " + p->get<std::string>();
            }
            m_report.cases.push_back(label);
            auto atts = c.find("attachments");
            if (atts == c.end() || !atts->is_array()) continue;
            for (const auto& a : *atts) {
                if (!a.is_object() || !a.contains("path") || !a["path"].is_string()) {
                    problems.push_back(
                        make_error(code, "manifest.json: an attachment without a path"));
                    continue;
                }
                const auto path = a["path"].get<std::string>();
                in_manifest.insert(path);
                auto it = m_files.find(path);
                if (it == m_files.end()) {
                    problems.push_back(
                        make_error(code, "{}: named in manifest.json but missing", path));
                    continue;
                }
                const bool size_ok = a.contains("size") && a["size"].is_number_unsigned() &&
                                     a["size"].get<std::uint64_t>() == it->second.size;
                if (!size_ok || a.value("sha256", "") != it->second.sha256)
                    problems.push_back(make_error(
                        code, "{}: differs from manifest.json (altered or swapped file)", path));
            }
        }
    }
    for (const auto& [path, seen] : m_files)
        if (path.starts_with(detail::kFilesDir) && !in_manifest.contains(path))
            problems.push_back(
                make_error(code, "{}: not named in manifest.json (added after export)", path));
    // The summary for people (bundles before it have none): the one the manifest names, or
    // none at all.
    const auto summary_seen = m_files.find(std::string(detail::kSummary));
    const auto named = manifest.is_object() ? manifest.find("summary") : manifest.end();
    if (manifest.is_object() && named != manifest.end()) {
        if (!named->is_object() || named->value("path", "") != detail::kSummary)
            problems.push_back(make_error(code, "manifest.json: the summary entry is malformed"));
        else if (summary_seen == m_files.end())
            problems.push_back(make_error(code, "summary.txt: named in manifest.json but missing"));
        else if (named->value("sha256", "") != summary_seen->second.sha256)
            problems.push_back(
                make_error(code, "summary.txt: differs from manifest.json (altered)"));
        else
            m_report.summary_ok = true;
    } else if (summary_seen != m_files.end()) {
        problems.push_back(
            make_error(code, "summary.txt: not named in manifest.json (added after export)"));
    }

    // 4. The custody chain, tied to this manifest and to the exporter.
    const auto manifest_hex = crypto::hex_encode(crypto::sha256(as_bytes(manifest_text)));
    m_report.custody_ok = check_custody_log(m_meta.find(detail::kCustody)->second, manifest_hex,
                                            m_report.custody, problems);
    if (!m_report.custody.empty() && card && m_report.custody.front().seq == 1 &&
        m_report.custody.front().by_key != card->sign_key) {
        problems.push_back(
            make_error(code, "custody entry 1: the export is not by the manifest's signer"));
        m_report.custody_ok = false;
    }
    // The newest entry names who the file was encrypted to; the key that opened it must be
    // one of them, or a newer hand-over was cut from the log.
    if (m_report.custody_ok && !m_report.custody.empty()) {
        const auto& to = m_report.custody.back().to;
        bool matches = false;
        if (m_report.used_passphrase) {
            matches = std::find(to.begin(), to.end(), "passphrase") != to.end();
        } else {
            for (const auto& id : m_identities)
                if (std::find(to.begin(), to.end(), id.recipient().to_string()) != to.end())
                    matches = true;
        }
        if (!matches) {
            problems.push_back(make_error(
                code,
                "custody.log: the newest entry hands the bundle to others than the key that "
                "opened it: a later custody entry was removed, or the file was re-encrypted "
                "outside kolokol"));
            m_report.custody_ok = false;
        }
    }
}

// Sends every file of the bundle being read into a new tar.
class TarCopy final : public ExtractTarget {
public:
    TarCopy(detail::TarWriter& tar, std::int64_t mtime) : m_tar(tar), m_mtime(mtime) {}
    Status begin(std::string_view path, std::uint64_t size) override {
        return m_tar.begin(std::string(path), size, m_mtime);
    }
    Status write(ByteView data) override { return m_tar.write(data); }
    Status end() override { return m_tar.end(); }

private:
    detail::TarWriter& m_tar;
    std::int64_t m_mtime;
};

}  // namespace

Status check_entry_path(std::string_view path) {
    if (path.empty()) return fail(BundleErrc::unsafe_entry, "an entry without a name");
    // Names are shown in errors: keep what is echoed short and printable.
    auto shown = [&] {
        std::string s;
        for (char c : path.substr(0, 80)) s += (c >= 0x20 && c < 0x7f) ? c : '?';
        return "\"" + s + "\"";
    };
    if (path.size() > kMaxPathBytes)
        return fail(BundleErrc::unsafe_entry, "{}: the name is too long", shown());
    if (path.front() == '/')
        return fail(BundleErrc::unsafe_entry, "{}: absolute paths are not allowed", shown());
    auto rest = path;
    if (rest.back() == '/') rest.remove_suffix(1);  // a directory entry
    while (true) {
        auto slash = rest.find('/');
        auto part = rest.substr(0, slash);
        if (const char* why = detail::component_problem(part))
            return fail(BundleErrc::unsafe_entry, "{}: {}", shown(), why);
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    return {};
}

std::string attachment_path(std::string_view case_id_hex, std::string_view attachment_id_hex,
                            std::string_view name) {
    return std::string(detail::kFilesDir) + std::string(case_id_hex.substr(0, 12)) + "/" +
           std::string(attachment_id_hex.substr(0, 8)) + "-" + detail::safe_name(name);
}

Result<VerifyReport> read_bundle(const age::Source& source,
                                 std::span<const age::X25519Identity> identities,
                                 const age::PassphraseProvider& passphrase,
                                 const ReadOptions& options) {
    const detail::Utf8Locale utf8;
    Reader reader(source, identities, passphrase, options);
    return reader.run(options.extract, {});
}

Result<VerifyReport> reexport_bundle(const age::Source& source,
                                     std::span<const age::X25519Identity> identities,
                                     const age::PassphraseProvider& passphrase,
                                     const ReadOptions& options, const Signer& signer,
                                     std::string_view action, const Encryption& encryption,
                                     std::int64_t now_ms, const age::Sink& sink) {
    const detail::Utf8Locale utf8;
    auto card = core::card_from_text(signer.card_text);
    if (!card) return fail(BundleErrc::bad_input, "signer card: {}", card.error());
    auto enc = detail::make_encryptor(encryption, sink);
    if (!enc) return std::unexpected(enc.error());
    detail::TarWriter tar([&](ByteView b) { return enc->write(b); });
    if (auto st = tar.open(); !st) return std::unexpected(st.error());
    TarCopy copy(tar, now_ms / 1000);

    // The writer's order is manifest.json, …, custody.log, SHA256SUMS, files: the new custody
    // line needs the manifest's hash, and the new SHA256SUMS the new custody.log's.
    std::optional<std::string> manifest_hex;
    std::optional<std::pair<std::string, std::string>> custody;  // old hash, new content
    MetaRewrite rewrite = [&](std::string_view path,
                              const std::string& content) -> Result<std::string> {
        if (path == detail::kManifest)
            manifest_hex = crypto::hex_encode(crypto::sha256(as_bytes(content)));
        if (path == detail::kCustody) {
            if (!manifest_hex)
                return fail(BundleErrc::not_a_bundle,
                            "custody.log comes before manifest.json: re-export needs the order "
                            "kolokol writes");
            std::string last;
            std::size_t count = 0;
            for (std::size_t start = 0; start < content.size();) {
                auto nl = content.find('\n', start);
                if (nl == std::string::npos) nl = content.size();
                last = content.substr(start, nl - start);
                ++count;
                start = nl + 1;
            }
            CustodyEntry entry;
            entry.seq = count + 1;
            entry.action = std::string(action);
            entry.by = card->display_name;
            entry.by_key = card->sign_key;
            entry.by_card = signer.card_text;
            entry.at = rfc3339_utc(now_ms);
            entry.at_ms = now_ms;
            entry.to = encryption.describe();
            entry.manifest_sha256 = *manifest_hex;
            entry.prev = count == 0 ? *manifest_hex : chain_hash(last);
            auto line = custody_line(entry, signer.sign);
            if (!line) return std::unexpected(line.error());
            auto updated = content + *line;
            custody.emplace(crypto::hex_encode(crypto::sha256(as_bytes(content))),
                            crypto::hex_encode(crypto::sha256(as_bytes(updated))));
            return updated;
        }
        if (path == detail::kSums) {
            if (!custody)
                return fail(BundleErrc::not_a_bundle,
                            "SHA256SUMS comes before custody.log: re-export needs the order "
                            "kolokol writes");
            Error why;
            auto lines = detail::parse_sums(content, why);
            if (!lines) return fail(BundleErrc::not_a_bundle, "SHA256SUMS: {}", why);
            std::string out;
            for (const auto& l : *lines) {
                auto hash = l.hash;
                // Only a custody line that matched the old log is replaced; a wrong one stays
                // wrong, and the check of the original reports it.
                if (l.path == detail::kCustody && l.hash == custody->first) hash = custody->second;
                out += hash + "  " + l.path + "\n";
            }
            return out;
        }
        return content;
    };
    Reader reader(source, identities, passphrase, options);
    auto report = reader.run(&copy, rewrite);
    if (!report) return report;
    if (auto st = tar.close(); !st) return std::unexpected(st.error());
    if (auto st = enc->finish(); !st) return std::unexpected(st.error());
    return report;
}

}  // namespace kolokol::bundle
