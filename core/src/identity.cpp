#include "kolokol/core/identity.hpp"

#include <cctype>
#include <string>

#include "domains.hpp"
#include "identity.pb.h"
#include "kolokol/core/errors.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"

namespace kolokol::core {

namespace {
constexpr std::size_t kMaxCardText = 1024;

Result<std::uint32_t> next_utf8(std::string_view s, std::size_t& i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    std::uint32_t cp;
    int extra;
    if (c < 0x80) {
        cp = c;
        extra = 0;
    } else if ((c & 0xE0) == 0xC0) {
        cp = c & 0x1F;
        extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
        cp = c & 0x0F;
        extra = 2;
    } else if ((c & 0xF8) == 0xF0) {
        cp = c & 0x07;
        extra = 3;
    } else
        return fail(CoreErrc::bad_input);
    if (i + static_cast<std::size_t>(extra) >= s.size()) return fail(CoreErrc::bad_input);
    for (int k = 1; k <= extra; ++k) {
        unsigned char cc = byte(i + k);
        if ((cc & 0xC0) != 0x80) return fail(CoreErrc::bad_input);
        cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return fail(CoreErrc::bad_input);
    i += static_cast<std::size_t>(extra) + 1;
    return cp;
}
}  // namespace

bool is_clean_utf8(std::string_view text, std::string_view allowed) {
    std::size_t i = 0;
    while (i < text.size()) {
        auto cp = next_utf8(text, i);
        if (!cp) return false;
        bool control = *cp < 0x20 || *cp == 0x7F || (*cp >= 0x80 && *cp < 0xA0);
        if (control &&
            (*cp >= 0x80 || allowed.find(static_cast<char>(*cp)) == std::string_view::npos))
            return false;
    }
    return true;
}

Status check_display_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxDisplayNameBytes)
        return fail(CoreErrc::bad_input, "a display name has 1 to 64 bytes");
    if (!is_clean_utf8(name))
        return fail(CoreErrc::bad_input, "the display name is not clean UTF-8");
    return {};
}

Identity Identity::generate(std::string display_name) {
    return Identity{crypto::sign_keypair(), crypto::box_keypair(), std::move(display_name)};
}

Card Identity::card(std::int64_t now_ms) const {
    pb::Card c;
    c.set_version(1);
    c.set_sign_key(to_string(sign.public_key));
    c.set_box_key(to_string(box.public_key));
    c.set_display_name(display_name);
    c.set_created_ms(now_ms);
    auto card_bytes = c.SerializeAsString();
    auto sig = crypto::sign(sign.secret_key, kCardDomain, as_bytes(card_bytes));
    pb::SignedCard sc;
    sc.set_card(card_bytes);
    sc.set_signature(to_string(sig));
    Card out;
    out.sign_key = sign.public_key;
    out.box_key = box.public_key;
    out.display_name = display_name;
    out.created_ms = now_ms;
    out.signed_bytes = to_bytes(sc.SerializeAsString());
    return out;
}

std::string card_to_text(const Card& card) {
    return std::string(kCardPrefix) + crypto::base64url_encode(card.signed_bytes);
}

Result<Card> card_from_signed_bytes(ByteView signed_card) {
    if (signed_card.size() > kMaxCardText) return fail(CoreErrc::bad_input, "the card is too long");
    pb::SignedCard sc;
    if (!sc.ParseFromArray(signed_card.data(), static_cast<int>(signed_card.size())))
        return fail(CoreErrc::bad_input, "the card does not parse");
    pb::Card c;
    if (!c.ParseFromString(sc.card())) return fail(CoreErrc::bad_input, "the card does not parse");
    if (c.version() != 1) return fail(CoreErrc::bad_input, "unknown card version");
    if (c.sign_key().size() != 32 || c.box_key().size() != 32)
        return fail(CoreErrc::bad_input, "the card's keys have the wrong size");
    if (!crypto::verify(as_bytes(c.sign_key()), kCardDomain, as_bytes(sc.card()),
                        as_bytes(sc.signature())))
        return fail(CoreErrc::bad_input, "the card's signature does not verify");
    if (auto ok = check_display_name(c.display_name()); !ok) return std::unexpected(ok.error());
    Card out;
    out.sign_key = to_array<32>(as_bytes(c.sign_key()));
    out.box_key = to_array<32>(as_bytes(c.box_key()));
    out.display_name = c.display_name();
    out.created_ms = c.created_ms();
    out.signed_bytes = Bytes(signed_card.begin(), signed_card.end());
    return out;
}

std::string compact_pasted(std::string_view text) {
    // UTF-8 forms of the invisible and non-breaking spaces.
    static constexpr std::string_view kInvisible[] = {
        "\xC2\xA0",      // U+00A0 no-break space
        "\xE2\x80\x87",  // U+2007 figure space
        "\xE2\x80\xAF",  // U+202F narrow no-break space
        "\xE2\x80\x8B",  // U+200B zero width space
        "\xE2\x80\x8C",  // U+200C zero width non-joiner
        "\xE2\x80\x8D",  // U+200D zero width joiner
        "\xE2\x81\xA0",  // U+2060 word joiner
        "\xEF\xBB\xBF",  // U+FEFF byte order mark
    };
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        if (std::isspace(static_cast<unsigned char>(text.front()))) {
            text.remove_prefix(1);
            continue;
        }
        bool skipped = false;
        for (auto invisible : kInvisible)
            if (text.starts_with(invisible)) {
                text.remove_prefix(invisible.size());
                skipped = true;
                break;
            }
        if (skipped) continue;
        out += text.front();
        text.remove_prefix(1);
    }
    return out;
}

Result<Card> card_from_text(std::string_view pasted) {
    // Whitespace is dropped first, but a text far longer than any card is refused before.
    if (pasted.size() > 16 * kMaxCardText) return fail(CoreErrc::bad_input, "the card is too long");
    const auto text = compact_pasted(pasted);
    if (text.size() > kMaxCardText) return fail(CoreErrc::bad_input, "the card is too long");
    if (!text.starts_with(kCardPrefix))
        return fail(CoreErrc::bad_input,
                    "not a Kolokol card (it should start with \"kolokol-card:\")");
    auto raw = crypto::base64url_decode(std::string_view(text).substr(kCardPrefix.size()));
    if (!raw) return fail(CoreErrc::bad_input, "the card is damaged (bad base64)");
    return card_from_signed_bytes(*raw);
}

std::string safety_number(ByteView a, ByteView b) {
    Bytes input;
    bool a_first = std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
    append(input, a_first ? a : b);
    append(input, a_first ? b : a);
    crypto::Blake2b h(64);
    h.update(kSafetyNumberDomain);
    h.update(input);
    auto digest = h.finish();
    std::string out;
    for (int group = 0; group < 12; ++group) {
        std::uint64_t v = 0;
        for (int k = 0; k < 5; ++k) v = (v << 8) | digest[static_cast<std::size_t>(group * 5 + k)];
        auto digits = std::to_string(v % 100000);
        if (group > 0) out += ' ';
        out += std::string(5 - digits.size(), '0') + digits;
    }
    return out;
}

std::string short_key(ByteView sign_key) {
    return crypto::hex_encode(sign_key.first(std::min<std::size_t>(8, sign_key.size())));
}

}  // namespace kolokol::core
