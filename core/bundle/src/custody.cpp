#include "kolokol/bundle/custody.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "kolokol/bundle/error.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"

namespace kolokol::bundle {

namespace {

constexpr std::string_view kSigPrefix = " ed25519:";

std::string entry_json(const CustodyEntry& e) {
    // Field order is fixed by ordered_json so the line reads the same for every exporter.
    nlohmann::ordered_json j;
    j["seq"] = e.seq;
    j["action"] = e.action;
    j["by"] = e.by;
    j["by_key"] = crypto::hex_encode(e.by_key);
    j["by_card"] = e.by_card;
    j["at"] = e.at;
    j["at_ms"] = e.at_ms;
    j["to"] = e.to;
    j["manifest_sha256"] = e.manifest_sha256;
    j["prev"] = e.prev;
    return j.dump(-1, ' ', true);
}

// Reads one entry's JSON; the types are checked field by field, so a line with a missing or
// mistyped field is a named problem rather than an exception.
std::optional<CustodyEntry> parse_entry(std::string_view json, Error& why) {
    auto j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        why = make_error(BundleErrc::bad_input, "not a JSON object");
        return std::nullopt;
    }
    auto str = [&](const char* k) -> const std::string* {
        auto it = j.find(k);
        return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
    };
    CustodyEntry e;
    auto seq = j.find("seq");
    auto at_ms = j.find("at_ms");
    auto to = j.find("to");
    if (seq == j.end() || !seq->is_number_unsigned() || at_ms == j.end() ||
        !at_ms->is_number_integer() || to == j.end() || !to->is_array() || !str("action") ||
        !str("by") || !str("by_key") || !str("by_card") || !str("at") || !str("manifest_sha256") ||
        !str("prev")) {
        why = make_error(BundleErrc::bad_input, "a field is missing or has the wrong type");
        return std::nullopt;
    }
    e.seq = seq->get<std::uint64_t>();
    e.at_ms = at_ms->get<std::int64_t>();
    for (const auto& r : *to) {
        if (!r.is_string()) {
            why = make_error(BundleErrc::bad_input, "\"to\" holds something other than text");
            return std::nullopt;
        }
        e.to.push_back(r.get<std::string>());
    }
    e.action = *str("action");
    e.by = *str("by");
    e.by_card = *str("by_card");
    e.at = *str("at");
    e.manifest_sha256 = *str("manifest_sha256");
    e.prev = *str("prev");
    auto key = crypto::hex_decode(*str("by_key"));
    if (!key || key->size() != e.by_key.size()) {
        why = make_error(BundleErrc::bad_input, "by_key is not a 32-byte hex key");
        return std::nullopt;
    }
    e.by_key = to_array<32>(*key);
    return e;
}

}  // namespace

std::string rfc3339_utc(std::int64_t ms) {
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    int millis = static_cast<int>(ms % 1000);
    if (millis < 0) {
        millis += 1000;
        --secs;
    }
    std::tm t{};
    gmtime_r(&secs, &t);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                  t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, millis);
    return buf;
}

std::string chain_hash(std::string_view line) {
    if (line.ends_with('\n')) line.remove_suffix(1);
    return crypto::hex_encode(crypto::sha256(as_bytes(line)));
}

Result<std::string> custody_line(const CustodyEntry& entry, const SignFunction& sign) {
    auto card = core::card_from_text(entry.by_card);
    if (!card) return fail(BundleErrc::bad_input, "signer card: {}", card.error());
    if (card->sign_key != entry.by_key)
        return fail(BundleErrc::bad_input, "the signer card names another signing key");
    auto json = entry_json(entry);
    auto sig = sign(kCustodyDomain, as_bytes(json));
    if (!crypto::verify(entry.by_key, kCustodyDomain, as_bytes(json), sig))
        return fail(BundleErrc::bad_input, "the custody signature does not verify");
    return json + std::string(kSigPrefix) + crypto::base64_raw_encode(sig) + "\n";
}

bool check_custody_log(std::string_view text, std::string_view manifest_sha256,
                       std::vector<CustodyEntry>& entries, std::vector<Error>& problems) {
    const auto problems_before = problems.size();
    constexpr auto code = BundleErrc::bad_input;
    auto problem = [&](std::size_t n, const Error& what) {
        problems.push_back(make_error(code, "custody entry {}: {}", n, what));
    };
    if (text.empty()) {
        problems.push_back(make_error(code, "custody.log is empty: the export entry is missing"));
        return false;
    }
    if (!text.ends_with('\n'))
        problems.push_back(make_error(code, "custody.log does not end with a newline"));
    std::string prev(manifest_sha256);
    std::size_t n = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++n;
        if (n > kMaxCustodyEntries) {
            problems.push_back(
                make_error(code, "custody.log has more than {} entries", kMaxCustodyEntries));
            break;
        }
        const auto this_hash = chain_hash(line);
        // Whatever is wrong with this entry, the next one is checked against this line.
        auto next_prev = [&] { prev = this_hash; };
        if (line.size() > kMaxCustodyLineBytes) {
            problem(n, make_error(code, "longer than {} bytes", kMaxCustodyLineBytes));
            next_prev();
            continue;
        }
        auto cut = line.rfind(kSigPrefix);
        if (cut == std::string_view::npos) {
            problem(n, make_error(code, "no signature"));
            next_prev();
            continue;
        }
        auto json = line.substr(0, cut);
        auto sig = crypto::base64_raw_decode(line.substr(cut + kSigPrefix.size()));
        Error why;
        auto e = parse_entry(json, why);
        if (!e) {
            problem(n, why);
            next_prev();
            continue;
        }
        bool good = true;
        if (!sig || sig->size() != crypto::kSignatureBytes ||
            !crypto::verify(e->by_key, kCustodyDomain, as_bytes(json), *sig)) {
            problem(n,
                    make_error(code, "the signature by {} does not verify: the entry was altered",
                               e->by));
            good = false;
        }
        auto card = core::card_from_text(e->by_card);
        if (!card || card->sign_key != e->by_key || card->display_name != e->by) {
            problem(n, make_error(code, "by_card does not match by and by_key"));
            good = false;
        }
        if (e->seq != n) {
            problem(n, make_error(code, "numbered {}: an entry was removed or reordered", e->seq));
            good = false;
        }
        if (e->prev != prev) {
            problem(n, n == 1 ? make_error(code, "does not chain to manifest.json")
                              : make_error(code,
                                           "does not chain to entry {}: an entry was removed, "
                                           "reordered or edited",
                                           n - 1));
            good = false;
        }
        if (e->manifest_sha256 != manifest_sha256) {
            problem(n, make_error(code, "names another manifest"));
            good = false;
        }
        if (n == 1 && e->action != "export") {
            problem(n, make_error(code,
                                  "the first entry is \"{}\", not the export: the export entry "
                                  "was removed",
                                  e->action));
            good = false;
        }
        if (good) entries.push_back(std::move(*e));
        next_prev();
    }
    return problems.size() == problems_before;
}

}  // namespace kolokol::bundle
