#include "noise_pattern.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>

#include "kolokol/transport/noise.hpp"

namespace kolokol::transport::noise {

namespace {

struct PatternText {
    std::string_view name;
    std::string_view pre_initiator;  // "" or "s"
    std::string_view pre_responder;  // "" or "s"
    std::string_view messages;       // "-> e, es | <- e, ee" (first arrow always "->")
};

// Copied from the spec's tables; "|" separates messages. The vectors cover every row.
constexpr std::array kPatterns = {
    // one-way (§7.4)
    PatternText{"N", "", "s", "-> e, es"},
    PatternText{"K", "s", "s", "-> e, es, ss"},
    PatternText{"X", "", "s", "-> e, es, s, ss"},
    // interactive fundamental (§7.5)
    PatternText{"NN", "", "", "-> e | <- e, ee"},
    PatternText{"NK", "", "s", "-> e, es | <- e, ee"},
    PatternText{"NX", "", "", "-> e | <- e, ee, s, es"},
    PatternText{"XN", "", "", "-> e | <- e, ee | -> s, se"},
    PatternText{"XK", "", "s", "-> e, es | <- e, ee | -> s, se"},
    PatternText{"XX", "", "", "-> e | <- e, ee, s, es | -> s, se"},
    PatternText{"KN", "s", "", "-> e | <- e, ee, se"},
    PatternText{"KK", "s", "s", "-> e, es, ss | <- e, ee, se"},
    PatternText{"KX", "s", "", "-> e | <- e, ee, se, s, es"},
    PatternText{"IN", "", "", "-> e, s | <- e, ee, se"},
    PatternText{"IK", "", "s", "-> e, es, s, ss | <- e, ee, se"},
    PatternText{"IX", "", "", "-> e, s | <- e, ee, se, s, es"},
    // deferred (§18.2)
    PatternText{"NK1", "", "s", "-> e | <- e, ee, es"},
    PatternText{"NX1", "", "", "-> e | <- e, ee, s | -> es"},
    PatternText{"X1N", "", "", "-> e | <- e, ee | -> s | <- se"},
    PatternText{"X1K", "", "s", "-> e, es | <- e, ee | -> s | <- se"},
    PatternText{"XK1", "", "s", "-> e | <- e, ee, es | -> s, se"},
    PatternText{"X1K1", "", "s", "-> e | <- e, ee, es | -> s | <- se"},
    PatternText{"X1X", "", "", "-> e | <- e, ee, s, es | -> s | <- se"},
    PatternText{"XX1", "", "", "-> e | <- e, ee, s | -> es, s, se"},
    PatternText{"X1X1", "", "", "-> e | <- e, ee, s | -> es, s | <- se"},
    PatternText{"K1N", "s", "", "-> e | <- e, ee | -> se"},
    PatternText{"K1K", "s", "s", "-> e, es | <- e, ee | -> se"},
    PatternText{"KK1", "s", "s", "-> e | <- e, ee, se, es"},
    PatternText{"K1K1", "s", "s", "-> e | <- e, ee, es | -> se"},
    PatternText{"K1X", "s", "", "-> e | <- e, ee, s, es | -> se"},
    PatternText{"KX1", "s", "", "-> e | <- e, ee, se, s | -> es"},
    PatternText{"K1X1", "s", "", "-> e | <- e, ee, s | -> se, es"},
    PatternText{"I1N", "", "", "-> e, s | <- e, ee | -> se"},
    PatternText{"I1K", "", "s", "-> e, es, s | <- e, ee | -> se"},
    PatternText{"IK1", "", "s", "-> e, s | <- e, ee, se, es"},
    PatternText{"I1K1", "", "s", "-> e, s | <- e, ee, es | -> se"},
    PatternText{"I1X", "", "", "-> e, s | <- e, ee, s, es | -> se"},
    PatternText{"IX1", "", "", "-> e, s | <- e, ee, se, s | -> es"},
    PatternText{"I1X1", "", "", "-> e, s | <- e, ee, s | -> se, es"},
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

Token token_of(std::string_view t) {
    if (t == "e") return Token::e;
    if (t == "s") return Token::s;
    if (t == "ee") return Token::ee;
    if (t == "es") return Token::es;
    if (t == "se") return Token::se;
    return Token::ss;  // the table holds nothing else; a typo would break its vector test
}

// The table is our own constant text, so parsing it cannot fail on outside input.
HandshakePattern parse_table_entry(const PatternText& p) {
    HandshakePattern out;
    out.initiator_pre_static = p.pre_initiator == "s";
    out.responder_pre_static = p.pre_responder == "s";
    std::string_view rest = p.messages;
    while (!rest.empty()) {
        auto bar = rest.find('|');
        auto msg = trim(rest.substr(0, bar));
        rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
        MessagePattern m;
        m.from_initiator = msg.starts_with("->");
        msg = trim(msg.substr(2));
        while (!msg.empty()) {
            auto comma = msg.find(',');
            m.tokens.push_back(token_of(trim(msg.substr(0, comma))));
            msg = comma == std::string_view::npos ? std::string_view{} : msg.substr(comma + 1);
        }
        out.messages.push_back(std::move(m));
    }
    out.one_way = out.messages.size() == 1;
    return out;
}

std::unexpected<Error> unknown(const char* literal) {
    return fail(TransportErrc::unknown_protocol, literal);
}

}  // namespace

bool HandshakePattern::sends_static(bool initiator) const {
    if (initiator ? initiator_pre_static : responder_pre_static) return true;
    for (const auto& m : messages)
        if (m.from_initiator == initiator &&
            std::find(m.tokens.begin(), m.tokens.end(), Token::s) != m.tokens.end())
            return true;
    return false;
}

Result<HandshakePattern> find_pattern(std::string_view protocol_name) {
    // Bounded before anything else: the name is hashed into h and may come from configuration.
    if (protocol_name.size() > 255) return unknown(KOLOKOL_TEXT("Noise protocol name too long"));
    constexpr std::string_view prefix = "Noise_";
    if (!protocol_name.starts_with(prefix) || !protocol_name.ends_with(kSuffix))
        return unknown(KOLOKOL_TEXT("only Noise_*_25519_ChaChaPoly_BLAKE2b is supported"));
    auto full =
        protocol_name.substr(prefix.size(), protocol_name.size() - prefix.size() - kSuffix.size());
    auto psk_at = full.find("psk");
    auto base = full.substr(0, psk_at);
    auto it = std::find_if(kPatterns.begin(), kPatterns.end(),
                           [&](const PatternText& p) { return p.name == base; });
    if (it == kPatterns.end()) return unknown(KOLOKOL_TEXT("unknown Noise handshake pattern"));
    auto pattern = parse_table_entry(*it);
    if (psk_at == std::string_view::npos) return pattern;

    // Modifiers: "psk0+psk2". psk0 goes first in the first message, pskN last in message N.
    std::vector<bool> seen(pattern.messages.size() + 1, false);
    auto mods = full.substr(psk_at);
    while (true) {
        auto plus = mods.find('+');
        auto mod = mods.substr(0, plus);
        if (!mod.starts_with("psk") || mod.size() < 4)
            return unknown(KOLOKOL_TEXT("unknown Noise modifier"));
        auto digits = mod.substr(3);
        std::size_t n = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc{} || end != digits.data() + digits.size() || digits.size() > 1 ||
            n >= seen.size() || seen[n])
            return unknown(KOLOKOL_TEXT("bad psk modifier"));
        seen[n] = true;
        if (n == 0)
            pattern.messages.front().tokens.insert(pattern.messages.front().tokens.begin(),
                                                   Token::psk);
        else
            pattern.messages[n - 1].tokens.push_back(Token::psk);
        ++pattern.psk_count;
        if (plus == std::string_view::npos) break;
        mods = mods.substr(plus + 1);
    }
    return pattern;
}

}  // namespace kolokol::transport::noise
