#include "parts.hpp"

#include <algorithm>
#include <utility>

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
  summary.txt    The same cases written out to be read: the timeline in the order
                 things happened, the ledger with totals, the charges and the people,
                 in the exporter's language and time zone. manifest.json names it
                 with its fingerprint, so the signature covers it too.
  files/         The attached files, byte for byte as they were recorded, under
                 their own names.
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

namespace {

constexpr std::size_t kMaxNameBytes = 120;

// One UTF-8 sequence at `at`: its code point and length, or nullopt when it is not valid UTF-8
// (overlong, surrogate, past U+10FFFF, truncated).
std::optional<std::pair<char32_t, std::size_t>> next_code_point(std::string_view s,
                                                                std::size_t at) {
    const auto c = static_cast<unsigned char>(s[at]);
    if (c < 0x80) return std::pair{static_cast<char32_t>(c), std::size_t{1}};
    std::size_t len = 0;
    char32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
    } else {
        return std::nullopt;
    }
    if (at + len > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[at + k]);
        if ((cc & 0xc0) != 0x80) return std::nullopt;
        cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
    return std::pair{cp, len};
}

// Characters no file name in a bundle may hold: controls (they reach a terminal), invisible and
// direction-changing ones (they disguise "gpj.exe" as "exe.jpg"), and what Windows and shells
// treat specially.
bool unsafe_in_name(char32_t c) {
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) return true;
    if ((c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2060 && c <= 0x206f) || c == 0xfeff)
        return true;
    return c == '/' || c == '\\' || c == ':' || c == '*' || c == '?' || c == '"' || c == '<' ||
           c == '>' || c == '|';
}

}  // namespace

std::string safe_name(std::string_view name) {
    std::string out;
    std::size_t at = 0;
    while (at < name.size()) {
        auto cp = next_code_point(name, at);
        std::string piece;
        if (!cp) {
            piece = "_";
            at += 1;
        } else {
            piece = unsafe_in_name(cp->first) ? std::string("_")
                                              : std::string(name.substr(at, cp->second));
            at += cp->second;
        }
        // Leading dots and dashes would hide the file or read as an option.
        if (out.empty() && (piece == "." || piece == "-")) continue;
        if (out.size() + piece.size() > kMaxNameBytes) break;
        out += piece;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (out.empty()) out = "file";
    return out;
}

const char* component_problem(std::string_view part) {
    if (part.empty() || part == ".") return "empty or \".\" path component";
    if (part == "..") return "\"..\" would write outside the folder";
    if (part.front() == '-') return "a name starting with '-'";
    std::size_t at = 0;
    while (at < part.size()) {
        auto cp = next_code_point(part, at);
        if (!cp) return "a name that is not valid UTF-8";
        if (unsafe_in_name(cp->first))
            return "control, invisible or direction-changing characters, or one of \\ : * ? \" "
                   "< > |";
        at += cp->second;
    }
    return nullptr;
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
