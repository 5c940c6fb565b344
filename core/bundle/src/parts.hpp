#pragma once
// The small text files of a bundle and the names they go by.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/bundle/error.hpp"
#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/sign.hpp"

namespace kolokol::bundle::detail {

inline constexpr std::string_view kReadme = "README.txt";
inline constexpr std::string_view kManifest = "manifest.json";
inline constexpr std::string_view kManifestSig = "manifest.sig";
inline constexpr std::string_view kSignerCard = "signer.card";
inline constexpr std::string_view kCustody = "custody.log";
inline constexpr std::string_view kSums = "SHA256SUMS";
inline constexpr std::string_view kFilesDir = "files/";

// Plain words for the lawyer: what the bundle is and how to check it with standard tools.
std::string readme_text(std::string_view exporter, std::string_view exporter_key_hex,
                        std::string_view exported_at, std::size_t cases, std::size_t files);

// "ed25519 <hex key> <base64 signature>\n"
std::string signature_file(const crypto::SignPublicKey& key, const crypto::Signature& sig);
struct ParsedSignature {
    crypto::SignPublicKey key{};
    crypto::Signature sig{};
};
std::optional<ParsedSignature> parse_signature_file(std::string_view text);

inline constexpr std::string_view kSummary = "summary.txt";

// A safe file name for an attachment (see attachment_path in bundle.hpp).
std::string safe_name(std::string_view name);
// Why one component of an entry path is unsafe (see check_entry_path), or nullptr when it is
// fine.
const char* component_problem(std::string_view part);

struct SumLine {
    std::string hash;  // 64 lower-case hex digits
    std::string path;
};
// `sha256sum` output lines; nullopt names the first bad line in `why`.
std::optional<std::vector<SumLine>> parse_sums(std::string_view text, Error& why);

}  // namespace kolokol::bundle::detail
