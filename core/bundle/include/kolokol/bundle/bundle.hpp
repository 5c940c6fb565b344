#pragma once
// Case bundles (DESIGN §4): one or more cases handed to a lawyer as a single age v1 file whose
// payload is a ustar/pax tar holding
//
//   README.txt     how to open and check the bundle with only `age`, `tar` and `sha256sum`
//   manifest.json  the cases (fields, timeline, ledger with totals, history, attachments with
//                  size and SHA-256), the exporter and the export time
//   summary.txt    the cases for people to read, in the exporter's language (optional; named
//                  with its SHA-256 in manifest.json, so the signature covers it)
//   manifest.sig   Ed25519 over the exact bytes of manifest.json (domain kSignatureDomain)
//   signer.card    the exporter's kolokol card (text form): name, signing key, X25519 key
//   custody.log    one line per hand-over, each signed and hash-chained (custody.hpp)
//   SHA256SUMS     `sha256sum -c` lines for every other file
//   files/…        the attachments, byte-identical to the originals, under their own names
//                  (UTF-8 in pax headers)
//
// Everything streams: memory stays bounded by the age batch, a libarchive block and the
// metadata files (each capped by kMaxMetaBytes) whatever the size of the attachments.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kolokol/age/decryptor.hpp"
#include "kolokol/age/encryptor.hpp"
#include "kolokol/age/keys.hpp"
#include "kolokol/bundle/custody.hpp"
#include "kolokol/bundle/error.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"

namespace kolokol::bundle {

inline constexpr std::string_view kFormat = "kolokol-bundle/1";
inline constexpr std::string_view kSignatureDomain = "kolokol/bundle/manifest/v1";
// Largest README.txt, manifest.json, manifest.sig, signer.card, custody.log or SHA256SUMS a
// reader accepts (each is held in memory).
inline constexpr std::size_t kMaxMetaBytes = 32u << 20;
// Most entries in one bundle, and the largest single file (declared size) a reader accepts.
inline constexpr std::size_t kMaxEntries = 100000;
inline constexpr std::uint64_t kMaxFileBytes = std::uint64_t{64} << 30;
// Longest entry path accepted (bytes).
inline constexpr std::size_t kMaxPathBytes = 255;

// Streams exactly the attachment's declared bytes, in order, into `sink`; an error from the
// sink must be returned unchanged.
using AttachmentReader = std::function<Status(const std::function<Status(ByteView)>& sink)>;

struct AttachmentExport {
    std::string id;          // attachment/manifest id (hex), unique within the bundle
    std::string name;        // as the group knows it (untrusted: the writer sanitises the path)
    std::string media_type;  // may be empty
    std::uint64_t size = 0;
    crypto::Hash32 sha256{};      // of the whole file, as its signed manifest in the group says
    nlohmann::ordered_json info;  // author, capture time … copied into manifest.json as is
    AttachmentReader read;
    // `read` itself fails unless the bytes it delivered hash to `sha256` (as a Node's attachment
    // reader does), so the writer need not hash them a second time.
    bool read_checks_sha256 = false;
};

// One case as it goes into manifest.json. `record` holds the case as JSON (fields, timeline,
// ledger, totals, history); the writer adds "attachments" with each file's path, size and hash.
struct CaseExport {
    std::string id;  // hex record id of the case
    nlohmann::ordered_json record;
    std::vector<AttachmentExport> attachments;
};

// The exporter (or, for custody entries, the re-exporter): its card and a signing function
// that signs with the card's key under the given domain.
struct Signer {
    std::string card_text;  // "kolokol-card:…"
    std::function<crypto::Signature(std::string_view domain, ByteView message)> sign;
};

// Where the bundle is encrypted to: X25519 recipients, or (alone) one passphrase.
struct Encryption {
    std::vector<age::X25519Recipient> recipients;
    std::optional<crypto::SecretBytes> passphrase;
    unsigned scrypt_work_factor = age::kDefaultScryptWorkFactor;
    crypto::Random* random = nullptr;  // nullptr: the system CSPRNG
    // Shown in custody entries: the recipients, or "passphrase".
    std::vector<std::string> describe() const;
};

// (bytes done, bytes total) of the attachments; may be empty.
using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

// A plain-text account of the cases for people (summary.txt), written by the front end in the
// exporter's language. Empty text: no summary.
struct Summary {
    std::string text;      // UTF-8, at most kMaxMetaBytes
    std::string language;  // e.g. "ru"; may be empty
};

// Where an attachment goes in a bundle: files/<case id: 12 hex>/<attachment id: 8 hex>-<name>.
// The name keeps its own spelling (any language, spaces) except what is unsafe in a file name
// on common systems — control and invisible direction-changing characters, / \ : * ? " < > |
// — each of which becomes '_'; leading dots and dashes are dropped, and it is cut to 120 bytes
// at a character boundary ("file" when nothing is left). check_entry_path accepts the result.
std::string attachment_path(std::string_view case_id_hex, std::string_view attachment_id_hex,
                            std::string_view name);

struct ExportSummary {
    std::size_t cases = 0;
    std::size_t files = 0;         // attachments
    std::uint64_t file_bytes = 0;  // attachment bytes
    crypto::Hash32 manifest_sha256{};
};

// Writes a bundle of `cases` to `sink` (the age file). `now_ms` stamps the manifest and the
// custody entry. Fails with bad_input (no cases, duplicate ids, a signer card that does not
// parse or a signature that does not verify with it), hash_mismatch when an attachment's bytes
// differ from its declared size or SHA-256 (the output is then unusable: discard it), or the
// age/sink error. `sink` is called on a thread of the encryptor's own (never concurrently with
// itself), and not after this returns.
// With a `summary`, summary.txt follows manifest.json, which names it (path, SHA-256,
// language) under "summary".
Result<ExportSummary> write_bundle(std::span<const CaseExport> cases, const Signer& signer,
                                   const Encryption& encryption, std::int64_t now_ms,
                                   const age::Sink& sink, const Progress& progress = {},
                                   const Summary& summary = {});

// Receives the regular files of a bundle while it is read (bundle open). begin() is called
// with a checked relative path (check_entry_path: no "..", not absolute, UTF-8 components
// without control or direction-changing characters) and the declared size; then write() with
// the bytes in order; then end(). Any error aborts.
class ExtractTarget {
public:
    virtual ~ExtractTarget() = default;
    virtual Status begin(std::string_view path, std::uint64_t size) = 0;
    virtual Status write(ByteView data) = 0;
    virtual Status end() = 0;
};

// What checking a bundle proved. Problems are named one per line ("files/x: SHA-256 differs
// from SHA256SUMS"); the bundle is sound when there are none.
struct VerifyReport {
    bool used_passphrase = false;
    std::size_t files = 0;           // entries in the tar
    std::size_t hashes_checked = 0;  // SHA256SUMS lines that matched
    std::uint64_t bytes = 0;         // payload bytes read
    std::string signer_name;
    crypto::SignPublicKey signer_key{};
    std::string signer_card;  // text form
    bool signature_ok = false;
    std::vector<CustodyEntry> custody;  // parsed entries, in order (valid ones)
    bool custody_ok = false;
    bool summary_ok = false;         // summary.txt is the one manifest.json names (false: none)
    std::vector<std::string> cases;  // "id — person" per case in the manifest
    std::string exported_at;
    // What is wrong, one message each (English in what(); translatable, see error.hpp).
    std::vector<Error> problems;

    bool ok() const { return problems.empty(); }
};

struct ReadOptions {
    age::DecryptOptions decrypt;
    Progress progress;                 // payload bytes read, total 0 (unknown)
    std::uint64_t total_hint = 0;      // size of the age file, for progress
    ExtractTarget* extract = nullptr;  // also write every file here (bundle open)
    std::uint64_t max_file_bytes = kMaxFileBytes;
};

// Decrypts and reads a bundle, hashing every file and checking SHA256SUMS, the manifest's
// signature against signer.card, the manifest's file list, and the custody chain. Returns an
// error (and stops) for what makes the rest meaningless: age errors (wrong key, altered header,
// a damaged or truncated payload — AgeErrc codes), a payload that is not a tar, an unsafe entry
// (unsafe_entry: "..", absolute, links, devices, duplicate paths, oversized), a missing
// metadata file (not_a_bundle). Mismatched hashes, a bad signature or a broken custody chain
// are listed in the report's problems.
Result<VerifyReport> read_bundle(const age::Source& source,
                                 std::span<const age::X25519Identity> identities,
                                 const age::PassphraseProvider& passphrase,
                                 const ReadOptions& options);

// Re-encrypts a bundle for a new holder, appending a signed custody entry by `signer` (the
// lawyer's kolokol identity) that names the new recipients. The files are copied through
// unchanged; custody.log and its SHA256SUMS line are rewritten. Reads and checks as
// read_bundle does: an error, or a report with problems, means the output must be discarded.
// `sink` is called as by write_bundle.
Result<VerifyReport> reexport_bundle(const age::Source& source,
                                     std::span<const age::X25519Identity> identities,
                                     const age::PassphraseProvider& passphrase,
                                     const ReadOptions& options, const Signer& signer,
                                     std::string_view action, const Encryption& encryption,
                                     std::int64_t now_ms, const age::Sink& sink);

// Checks one tar entry path as the reader does: relative, at most kMaxPathBytes, valid UTF-8;
// no component empty, ".", "..", or starting with '-'; none holding a control character (C0,
// DEL, C1), an invisible or direction-changing character (U+200B–U+200F, U+202A–U+202E,
// U+2060–U+206F, U+FEFF), or any of \ : * ? " < > |. Exposed for tests and the fuzz target.
Status check_entry_path(std::string_view path);

}  // namespace kolokol::bundle
