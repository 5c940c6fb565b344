#include "kolokol/age/keys.hpp"

#include "bech32.hpp"
#include "kolokol/crypto/x25519.hpp"

namespace kolokol::age {

namespace {

constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kIdentityHrp = "age-secret-key-";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

// Calls `on_line(line_number, line)` for every line that is not blank or a comment.
template <class F>
Status for_each_key_line(std::string_view text, F&& on_line) {
    if (text.size() > kMaxKeyFileBytes)
        return fail(AgeErrc::invalid_key, "key file larger than {} bytes", kMaxKeyFileBytes);
    std::size_t number = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++number;
        line = trim(line);
        if (line.empty() || line.front() == '#') continue;
        if (auto st = on_line(number, line); !st) return st;
    }
    return {};
}

}  // namespace

Result<X25519Recipient> X25519Recipient::parse(std::string_view text) {
    if (text.size() > kMaxKeyStringChars)
        return fail(AgeErrc::invalid_key, "recipient is too long to be an age public key");
    auto decoded = bech32::decode(text);
    if (!decoded) return fail(AgeErrc::invalid_key, "malformed age recipient (bad Bech32)");
    if (decoded->hrp != kRecipientHrp) return fail(AgeErrc::invalid_key, "not an age1… recipient");
    if (decoded->data.size() != kX25519KeyBytes)
        return fail(AgeErrc::invalid_key, "age recipient has the wrong length");
    return from_bytes(to_array<kX25519KeyBytes>(decoded->data));
}

X25519Recipient X25519Recipient::from_bytes(const ByteArray<kX25519KeyBytes>& public_key) {
    X25519Recipient r;
    r.m_public = public_key;
    return r;
}

std::string X25519Recipient::to_string() const {
    return bech32::encode(kRecipientHrp, m_public, false);
}

X25519Identity X25519Identity::generate(crypto::Random& random) {
    crypto::SecretBytes secret(kX25519KeyBytes);
    random.fill(secret.mutable_view());
    auto recipient = X25519Recipient::from_bytes(crypto::x25519_base(secret.view()));
    return X25519Identity(std::move(secret), recipient);
}

Result<X25519Identity> X25519Identity::from_secret(ByteView secret) {
    if (secret.size() != kX25519KeyBytes)
        return fail(AgeErrc::invalid_key, "age secret key has the wrong length");
    auto copy = crypto::SecretBytes::copy_of(secret);
    auto recipient = X25519Recipient::from_bytes(crypto::x25519_base(copy.view()));
    return X25519Identity(std::move(copy), recipient);
}

Result<X25519Identity> X25519Identity::parse(std::string_view text) {
    if (text.size() > kMaxKeyStringChars)
        return fail(AgeErrc::invalid_key, "too long to be an age secret key");
    auto decoded = bech32::decode(text);
    if (!decoded) return fail(AgeErrc::invalid_key, "malformed age secret key (bad Bech32)");
    auto wipe = [&] { crypto::memzero(decoded->data); };
    if (decoded->hrp != kIdentityHrp) {
        wipe();
        return fail(AgeErrc::invalid_key, "not an AGE-SECRET-KEY-1… identity");
    }
    auto identity = from_secret(decoded->data);
    wipe();
    return identity;
}

X25519Identity X25519Identity::clone() const {
    return X25519Identity(m_secret.clone(), m_recipient);
}

std::string X25519Identity::to_string() const {
    return bech32::encode(kIdentityHrp, m_secret.view(), true);
}

Result<std::vector<X25519Identity>> parse_identities(std::string_view text) {
    std::vector<X25519Identity> out;
    auto st = for_each_key_line(text, [&](std::size_t number, std::string_view line) -> Status {
        auto id = X25519Identity::parse(line);
        if (!id)
            return fail(AgeErrc::invalid_key, "line {} is not an age secret key ({})", number,
                        id.error());
        out.push_back(std::move(*id));
        return {};
    });
    if (!st) return std::unexpected(st.error());
    if (out.empty()) return fail(AgeErrc::invalid_key, "no secret keys found");
    return out;
}

Result<std::vector<X25519Recipient>> parse_recipients(std::string_view text) {
    std::vector<X25519Recipient> out;
    auto st = for_each_key_line(text, [&](std::size_t number, std::string_view line) -> Status {
        if (starts_with_ci(line, "age-secret-key-1"))
            return fail(AgeErrc::invalid_key,
                        "line {} is a secret key, not a recipient: keep it out of recipients files",
                        number);
        auto r = X25519Recipient::parse(line);
        if (!r) return fail(AgeErrc::invalid_key, "line {}: {}", number, r.error());
        out.push_back(*r);
        return {};
    });
    if (!st) return std::unexpected(st.error());
    if (out.empty()) return fail(AgeErrc::invalid_key, "no recipients found");
    return out;
}

}  // namespace kolokol::age
