#pragma once
// The custody log of a case bundle: one line per hand-over (the export, every re-export), each
//
//   {"seq":N,"action":…,"by":…,"by_key":…,"by_card":…,"at":…,"at_ms":…,"to":[…],
//    "manifest_sha256":…,"prev":…} ed25519:<base64 signature>
//
// The JSON text before the last space is signed as is (Ed25519, domain kCustodyDomain) by the
// key in "by_key", which must be the key of the card in "by_card". "prev" is the SHA-256 (hex)
// of the previous whole line without its newline — of manifest.json for the first entry — so an
// entry cannot be removed, reordered or edited without breaking the chain. "to" names who the
// file was encrypted to (age1… recipients, or "passphrase").

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/sign.hpp"

namespace kolokol::bundle {

inline constexpr std::string_view kCustodyDomain = "kolokol/bundle/custody/v1";
inline constexpr std::size_t kMaxCustodyEntries = 10000;
inline constexpr std::size_t kMaxCustodyLineBytes = 16384;

struct CustodyEntry {
    std::uint64_t seq = 0;  // 1, 2, … in order
    std::string action;     // "export" (the first entry) or "reexport"
    std::string by;         // display name from by_card
    crypto::SignPublicKey by_key{};
    std::string by_card;  // "kolokol-card:…"
    std::string at;       // RFC 3339, UTC
    std::int64_t at_ms = 0;
    std::vector<std::string> to;
    std::string manifest_sha256;  // hex
    std::string prev;             // hex
};

using SignFunction = std::function<crypto::Signature(std::string_view domain, ByteView message)>;

// RFC 3339 UTC with milliseconds ("2026-11-22T03:04:05.678Z").
std::string rfc3339_utc(std::int64_t ms);

// SHA-256 (hex) of a line as it chains: the bytes without the trailing newline.
std::string chain_hash(std::string_view line);

// Builds one signed line (with its newline) for `entry`; by, by_key and by_card must describe
// the key `sign` uses (bad_input when the card does not parse or names another key, or the
// signature does not verify).
Result<std::string> custody_line(const CustodyEntry& entry, const SignFunction& sign);

// Parses and checks a whole custody.log against the manifest's SHA-256 (hex). Every entry that
// checks out is appended to `entries`; every fault goes to `problems` in words ("custody entry
// 2: prev does not match entry 1 — an entry was removed, reordered or edited"). Returns true
// when the chain is whole: at least one entry, the first an export, seq 1…K, all signatures
// and links good.
bool check_custody_log(std::string_view text, std::string_view manifest_sha256,
                       std::vector<CustodyEntry>& entries, std::vector<Error>& problems);

}  // namespace kolokol::bundle
