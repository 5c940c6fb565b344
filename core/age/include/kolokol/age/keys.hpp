#pragma once
// age X25519 keys: recipients (`age1…`, Bech32, lower case) and identities
// (`AGE-SECRET-KEY-1…`, Bech32, upper case), and the line-based files that hold them.

#include <string>
#include <string_view>
#include <vector>

#include "kolokol/age/error.hpp"
#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::age {

inline constexpr std::size_t kX25519KeyBytes = 32;
// Longest key string accepted by the parsers (real keys are 62 and 74 characters).
inline constexpr std::size_t kMaxKeyStringChars = 256;
// Longest recipients or identities text accepted by parse_recipients / parse_identities.
inline constexpr std::size_t kMaxKeyFileBytes = 1 << 20;

// A public X25519 recipient. Cheap to copy.
class X25519Recipient {
public:
    // Parses "age1…" (Bech32 with HRP "age", 32-byte key). Mixed case, a bad checksum, a wrong
    // HRP or length fails with AgeErrc::invalid_key; the message does not echo the input.
    static Result<X25519Recipient> parse(std::string_view text);
    static X25519Recipient from_bytes(const ByteArray<kX25519KeyBytes>& public_key);

    // The canonical "age1…" form (lower case).
    std::string to_string() const;
    const ByteArray<kX25519KeyBytes>& public_key() const { return m_public; }

    friend bool operator==(const X25519Recipient&, const X25519Recipient&) = default;

private:
    ByteArray<kX25519KeyBytes> m_public{};
};

// A secret X25519 identity. The scalar lives in sodium_malloc memory; move-only (use clone()).
class X25519Identity {
public:
    static X25519Identity generate(crypto::Random& random = crypto::system_random());
    // Parses "AGE-SECRET-KEY-1…" (Bech32, 32-byte key). Failure is AgeErrc::invalid_key with a
    // message that never contains the input.
    static Result<X25519Identity> parse(std::string_view text);
    // `secret` must be 32 bytes; otherwise AgeErrc::invalid_key.
    static Result<X25519Identity> from_secret(ByteView secret);

    X25519Identity clone() const;

    // The canonical "AGE-SECRET-KEY-1…" form (upper case). The string is ordinary heap memory:
    // wipe it (crypto::memzero) once written out.
    std::string to_string() const;
    const X25519Recipient& recipient() const { return m_recipient; }
    const crypto::SecretBytes& secret() const { return m_secret; }

private:
    X25519Identity(crypto::SecretBytes secret, X25519Recipient recipient)
        : m_secret(std::move(secret)), m_recipient(recipient) {}
    crypto::SecretBytes m_secret;
    X25519Recipient m_recipient;
};

// Identity files (age's format): one "AGE-SECRET-KEY-1…" per line; lines starting with '#' and
// blank lines are ignored; surrounding whitespace and a trailing '\r' are tolerated. Fails with
// AgeErrc::invalid_key naming the line number (never its content) on any other line, when the
// text is larger than kMaxKeyFileBytes, or when it holds no key at all.
Result<std::vector<X25519Identity>> parse_identities(std::string_view text);

// Recipients files: the same layout with one "age1…" per line. A secret key found where a
// recipient belongs is refused with a message saying so.
Result<std::vector<X25519Recipient>> parse_recipients(std::string_view text);

}  // namespace kolokol::age
