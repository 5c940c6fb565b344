#pragma once
// Identities and cards (DESIGN §4 "Identity"). A card is the public half of an identity: an
// Ed25519 signing key, a separate X25519 key and a display name, signed by the signing key.

#include <string>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"

namespace kolokol::core {

inline constexpr std::size_t kMaxDisplayNameBytes = 64;
inline constexpr std::string_view kCardPrefix = "kolokol-card:";

struct Card {
    crypto::SignPublicKey sign_key{};
    crypto::BoxPublicKey box_key{};
    std::string display_name;
    std::int64_t created_ms = 0;
    Bytes signed_bytes;  // the SignedCard encoding this card was read from or made as
};

struct Identity {
    crypto::SignKeyPair sign;
    crypto::BoxKeyPair box;
    std::string display_name;

    static Identity generate(std::string display_name);
    Card card(std::int64_t now_ms) const;
};

// Checks the name: 1..64 bytes of valid UTF-8 without control characters.
Status check_display_name(std::string_view name);

// "kolokol-card:" + base64url(SignedCard).
std::string card_to_text(const Card& card);
// Parses and verifies a card in text form. Whitespace anywhere is ignored (compact_pasted), so a
// card wrapped by a terminal or a messenger still reads. Bounded: refuses over 16 KiB of text,
// and over 1 KiB once the whitespace is gone, before decoding.
Result<Card> card_from_text(std::string_view text);
// A card or token as pasted: without its whitespace — ASCII spaces, tabs and line breaks, and
// the invisible or non-breaking spaces messengers insert (U+00A0, U+2007, U+202F, U+200B–U+200D,
// U+2060, U+FEFF). Their alphabets (base64url and the prefix) hold no whitespace, so nothing
// else changes.
std::string compact_pasted(std::string_view text);
Result<Card> card_from_signed_bytes(ByteView signed_card);

// 60 decimal digits (12 groups of 5) from BLAKE2b over both signing keys, sorted: the same for
// both people. Compare it in person.
std::string safety_number(ByteView sign_key_a, ByteView sign_key_b);

// A short, non-secret fingerprint of a signing key for display (first 8 bytes, hex).
std::string short_key(ByteView sign_key);

// True when `text` is valid UTF-8 (no overlongs, no surrogates) with no C0/C1 control characters
// except those in `allowed` (e.g. "\n").
bool is_clean_utf8(std::string_view text, std::string_view allowed = {});

}  // namespace kolokol::core
