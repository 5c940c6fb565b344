#include "parts.hpp"

#include <algorithm>

#include "kolokol/crypto/encoding.hpp"

namespace kolokol::bundle::detail {

std::string readme_text(std::string_view exporter, std::string_view exporter_key_hex,
                        std::string_view exported_at, std::size_t cases, std::size_t files) {
    std::string t;
    t += "CASE BUNDLE\n===========\n\n";
    t += "This folder holds " + std::to_string(cases) + (cases == 1 ? " case" : " cases") +
         " exported from Kolokol by \"" + std::string(exporter) + "\" on " +
         std::string(exported_at) + ",\nwith " + std::to_string(files) +
         (files == 1 ? " attached file" : " attached files") + ".\n\n";
    t += R"(What is here
------------
  manifest.json  Everything recorded about each case: its fields (person, detention,
                 charges, lawyer, status), the timeline, the ledger of money pledged,
                 received and paid with totals, the list of attached files with their
                 size and SHA-256 fingerprint, and the full history of who changed what
                 and when (times are the authors' own clocks).
  files/         The attached files, byte for byte as they were recorded.
  SHA256SUMS     The SHA-256 fingerprint of every other file here.
  manifest.sig   A digital signature (Ed25519) over manifest.json by the person who
                 exported the bundle.
  signer.card    That person's Kolokol card: their name and public keys.
  custody.log    One signed line for every hand-over of this bundle: who exported or
                 passed it on, when, and to whom it was encrypted. Each line is linked to
                 the one before it by a fingerprint, so a line cannot be removed or
                 changed without it showing.

How to check it without Kolokol
-------------------------------
The bundle arrived as one encrypted file in the standard "age" format. With the key or
passphrase you were given:

    age -d -i key.txt case.age | tar x        (or: age -d case.age | tar x)
    sha256sum -c SHA256SUMS

Every line must say "OK". If any says "FAILED", a file was changed after export.
This proves the files match each other; it does not prove who made them.

How to check who made it (with Kolokol)
---------------------------------------
    kolokol bundle verify case.age -i key.txt

This also checks the signature on manifest.json against signer.card, that every file
matches manifest.json, and that the custody log is whole. It prints the signer's name
and signing key. Compare the key (or the safety number it prints when you give it your
own card with --card) with the exporter in person or over a channel you trust: the
signature means something only if the key really is theirs.

The exporter's signing key is:
    )";
    t += std::string(exporter_key_hex) + "\n";
    return t;
}

std::string signature_file(const crypto::SignPublicKey& key, const crypto::Signature& sig) {
    return "ed25519 " + crypto::hex_encode(key) + " " + crypto::base64_raw_encode(sig) + "\n";
}

std::optional<ParsedSignature> parse_signature_file(std::string_view text) {
    if (!text.starts_with("ed25519 ") || !text.ends_with('\n') || text.size() > 512)
        return std::nullopt;
    text.remove_prefix(8);
    text.remove_suffix(1);
    auto sp = text.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    auto key = crypto::hex_decode(text.substr(0, sp));
    auto sig = crypto::base64_raw_decode(text.substr(sp + 1));
    if (!key || key->size() != 32 || !sig || sig->size() != 64) return std::nullopt;
    return ParsedSignature{to_array<32>(*key), to_array<64>(*sig)};
}

std::string safe_name(std::string_view name) {
    std::string out;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (out.size() < 80) out += ok ? c : '_';
    }
    auto first = out.find_first_not_of('.');
    out = first == std::string::npos ? std::string{} : out.substr(first);
    if (out.empty()) out = "file";
    return out;
}

std::optional<std::vector<SumLine>> parse_sums(std::string_view text, Error& why) {
    std::vector<SumLine> lines;
    std::size_t n = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        if (nl == std::string_view::npos) {
            why = make_error(BundleErrc::not_a_bundle, "the last line has no newline");
            return std::nullopt;
        }
        auto line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        ++n;
        // "<64 hex><space><space or *><path>", as sha256sum writes in text or binary mode.
        const bool hex_ok =
            line.size() > 66 && std::all_of(line.begin(), line.begin() + 64, [](char c) {
                return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            });
        if (!hex_ok || line[64] != ' ' || (line[65] != ' ' && line[65] != '*')) {
            why = make_error(BundleErrc::not_a_bundle, "line {} is not \"<sha256>  <file>\"", n);
            return std::nullopt;
        }
        lines.push_back({std::string(line.substr(0, 64)), std::string(line.substr(66))});
    }
    return lines;
}

}  // namespace kolokol::bundle::detail
