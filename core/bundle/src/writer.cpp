// write_bundle: README, manifest, signature, card, custody, sums, then the files, as one tar
// streamed into an age encryptor. Attachment hashes come from the group's signed manifests, so
// the metadata goes first and each file is checked against its hash as it streams past.
#include <set>

#include "encryption.hpp"
#include "kolokol/bundle/bundle.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "parts.hpp"
#include "tar_writer.hpp"
#include "utf8_locale.hpp"

namespace kolokol::bundle {

std::vector<std::string> Encryption::describe() const {
    if (passphrase) return {"passphrase"};
    std::vector<std::string> out;
    for (const auto& r : recipients) out.push_back(r.to_string());
    return out;
}

namespace {

struct PlannedFile {
    const AttachmentExport* source;
    std::string path;
};

}  // namespace

Result<ExportSummary> write_bundle(std::span<const CaseExport> cases, const Signer& signer,
                                   const Encryption& encryption, std::int64_t now_ms,
                                   const age::Sink& sink, const Progress& progress,
                                   const Summary& summary_text) {
    const detail::Utf8Locale utf8;
    if (cases.empty()) return fail(BundleErrc::bad_input, "no cases to export");
    auto card = core::card_from_text(signer.card_text);
    if (!card) return fail(BundleErrc::bad_input, "signer card: {}", card.error());
    const auto key_hex = crypto::hex_encode(card->sign_key);
    const auto at = rfc3339_utc(now_ms);

    // Paths: files/<case id, 12 hex>/<attachment id, 8 hex>-<safe name>.
    ExportSummary summary;
    std::vector<PlannedFile> planned;
    std::set<std::string> case_ids, paths;
    nlohmann::ordered_json manifest;
    manifest["format"] = kFormat;
    manifest["exported_at"] = at;
    manifest["exported_at_ms"] = now_ms;
    manifest["exporter"] = {
        {"name", card->display_name}, {"sign_key", key_hex}, {"card", signer.card_text}};
    manifest["encrypted_to"] = encryption.describe();
    if (summary_text.text.size() > kMaxMetaBytes)
        return fail(BundleErrc::bad_input, "the summary is larger than a bundle may hold");
    if (!summary_text.text.empty())
        manifest["summary"] = {
            {"path", detail::kSummary},
            {"sha256", crypto::hex_encode(crypto::sha256(as_bytes(summary_text.text)))},
            {"language", summary_text.language}};
    manifest["cases"] = nlohmann::ordered_json::array();
    std::uint64_t total = 0;
    for (const auto& c : cases) {
        if (!case_ids.insert(c.id).second)
            return fail(BundleErrc::bad_input, "case {} is listed twice", c.id);
        nlohmann::ordered_json jc;
        jc["id"] = c.id;
        for (const auto& [k, v] : c.record.items()) jc[k] = v;
        jc["attachments"] = nlohmann::ordered_json::array();
        for (const auto& a : c.attachments) {
            auto path = attachment_path(c.id, a.id, a.name);
            if (!paths.insert(path).second)
                return fail(BundleErrc::bad_input, "attachment {} is listed twice", a.id);
            if (auto st = check_entry_path(path); !st) return std::unexpected(st.error());
            nlohmann::ordered_json ja;
            ja["path"] = path;
            ja["name"] = a.name;
            ja["media_type"] = a.media_type;
            ja["size"] = a.size;
            ja["sha256"] = crypto::hex_encode(a.sha256);
            for (const auto& [k, v] : a.info.items()) ja[k] = v;
            jc["attachments"].push_back(std::move(ja));
            planned.push_back({&a, path});
            total += a.size;
        }
        manifest["cases"].push_back(std::move(jc));
    }
    const std::string manifest_text = manifest.dump(2) + "\n";
    const auto manifest_hash = crypto::sha256(as_bytes(manifest_text));
    const auto manifest_hex = crypto::hex_encode(manifest_hash);
    const auto sig = signer.sign(kSignatureDomain, as_bytes(manifest_text));
    if (!crypto::verify(card->sign_key, kSignatureDomain, as_bytes(manifest_text), sig))
        return fail(BundleErrc::bad_input, "the manifest signature does not verify with the card");

    CustodyEntry entry;
    entry.seq = 1;
    entry.action = "export";
    entry.by = card->display_name;
    entry.by_key = card->sign_key;
    entry.by_card = signer.card_text;
    entry.at = at;
    entry.at_ms = now_ms;
    entry.to = encryption.describe();
    entry.manifest_sha256 = manifest_hex;
    entry.prev = manifest_hex;
    auto custody = custody_line(entry, signer.sign);
    if (!custody) return std::unexpected(custody.error());

    const auto readme =
        detail::readme_text(card->display_name, key_hex, at, cases.size(), planned.size());
    const auto sig_text = detail::signature_file(card->sign_key, sig);
    const auto card_text = signer.card_text + "\n";
    std::string sums;
    auto sum = [&](std::string_view path, std::string_view hex) {
        sums += std::string(hex) + "  " + std::string(path) + "\n";
    };
    auto sum_text = [&](std::string_view path, std::string_view content) {
        sum(path, crypto::hex_encode(crypto::sha256(as_bytes(content))));
    };
    sum_text(detail::kReadme, readme);
    sum(detail::kManifest, manifest_hex);
    if (!summary_text.text.empty()) sum_text(detail::kSummary, summary_text.text);
    sum_text(detail::kManifestSig, sig_text);
    sum_text(detail::kSignerCard, card_text);
    sum_text(detail::kCustody, *custody);
    for (const auto& f : planned) sum(f.path, crypto::hex_encode(f.source->sha256));

    auto enc = detail::make_encryptor(encryption, sink);
    if (!enc) return std::unexpected(enc.error());
    detail::TarWriter tar([&](ByteView b) { return enc->write(b); });
    const std::int64_t mtime = now_ms / 1000;
    if (auto st = tar.open(); !st) return std::unexpected(st.error());
    for (auto [path, content] : {std::pair{detail::kReadme, std::string_view(readme)},
                                 std::pair{detail::kManifest, std::string_view(manifest_text)},
                                 std::pair{detail::kSummary, std::string_view(summary_text.text)},
                                 std::pair{detail::kManifestSig, std::string_view(sig_text)},
                                 std::pair{detail::kSignerCard, std::string_view(card_text)},
                                 std::pair{detail::kCustody, std::string_view(*custody)},
                                 std::pair{detail::kSums, std::string_view(sums)}}) {
        if (path == detail::kSummary && content.empty()) continue;
        if (auto st = tar.add(std::string(path), content, mtime); !st)
            return std::unexpected(st.error());
    }
    std::uint64_t done = 0;
    for (const auto& f : planned) {
        const auto& a = *f.source;
        if (auto st = tar.begin(f.path, a.size, mtime); !st) return std::unexpected(st.error());
        crypto::Sha256 hash;
        const bool hashing = !a.read_checks_sha256;
        std::uint64_t seen = 0;
        auto st = a.read([&](ByteView data) -> Status {
            seen += data.size();
            if (seen > a.size)
                return fail(BundleErrc::hash_mismatch, "{}: longer than its declared {} bytes",
                            f.path, a.size);
            if (progress) progress(done + seen, total);
            // Hashed beside the sealing of the same bytes, on the encryptor's other thread.
            if (hashing) enc->run_beside([&hash, data] { hash.update(data); });
            auto written = tar.write(data);
            enc->run_beside_now();
            return written;
        });
        if (!st) return std::unexpected(st.error());
        if (seen != a.size)
            return fail(BundleErrc::hash_mismatch, "{}: {} bytes, not the declared {}", f.path,
                        seen, a.size);
        if (hashing && hash.finish() != a.sha256)
            return fail(BundleErrc::hash_mismatch, "{}: SHA-256 differs from its manifest", f.path);
        if (auto e = tar.end(); !e) return std::unexpected(e.error());
        done += a.size;
        summary.file_bytes += a.size;
        ++summary.files;
    }
    if (auto st = tar.close(); !st) return std::unexpected(st.error());
    if (auto st = enc->finish(); !st) return std::unexpected(st.error());
    summary.cases = cases.size();
    summary.manifest_sha256 = manifest_hash;
    return summary;
}

}  // namespace kolokol::bundle
