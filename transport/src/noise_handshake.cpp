#include <algorithm>

#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/noise.hpp"
#include "noise_pattern.hpp"
#include "noise_symmetric.hpp"

namespace kolokol::transport::noise {

struct HandshakeState::Impl {
    HandshakePattern pattern;
    Role role;
    SymmetricState symmetric;
    crypto::Random* rng = nullptr;
    crypto::SecretBytes fixed_ephemeral;  // tests only

    crypto::SecretBytes s;  // local static private key
    PublicKey s_pub{};
    crypto::SecretBytes e;  // local ephemeral private key
    PublicKey e_pub{};
    std::optional<PublicKey> rs;
    std::optional<PublicKey> re;
    std::vector<crypto::SecretBytes> psks;
    std::size_t next_psk = 0;

    std::size_t next_message = 0;
    bool failed = false;
    bool split_done = false;

    Impl(HandshakePattern p, Role r, std::string_view name)
        : pattern(std::move(p)), role(r), symmetric(name) {}

    bool initiator() const { return role == Role::initiator; }
    bool finished() const { return next_message == pattern.messages.size(); }
    bool write_turn() const {
        return !failed && !finished() &&
               pattern.messages[next_message].from_initiator == initiator();
    }

    std::unexpected<Error> poison(TransportErrc code, const char* literal) {
        failed = true;
        return fail(code, literal);
    }
    std::unexpected<Error> poison(Error error) {
        failed = true;
        return std::unexpected(std::move(error));
    }

    Status generate_ephemeral() {
        if (!fixed_ephemeral.empty()) {
            e = std::move(fixed_ephemeral);
            fixed_ephemeral = crypto::SecretBytes();
        } else {
            e = crypto::SecretBytes(kDhBytes);
            rng->fill(e.mutable_view());
        }
        e_pub = crypto::x25519_base(e.view());
        return {};
    }

    // DH(local private, remote public) mixed into the key; an all-zero result (a low-order
    // remote point) aborts the handshake, as the spec's pitfalls list requires.
    Status mix_dh(const crypto::SecretBytes& local, const std::optional<PublicKey>& remote) {
        if (local.empty() || !remote)
            return poison(TransportErrc::bad_config,
                          KOLOKOL_TEXT("a key the pattern needs is missing"));
        auto shared = symmetric.dh_scratch();
        if (!crypto::x25519_into(shared, local.view(), *remote))
            return poison(TransportErrc::invalid_dh, KOLOKOL_TEXT("the peer sent an invalid key"));
        symmetric.mix_key(shared);
        return {};
    }

    Status apply_dh(Token t) {
        switch (t) {
            case Token::ee:
                return mix_dh(e, re);
            case Token::es:
                return initiator() ? mix_dh(e, rs) : mix_dh(s, re);
            case Token::se:
                return initiator() ? mix_dh(s, re) : mix_dh(e, rs);
            case Token::ss:
                return mix_dh(s, rs);
            default:
                return {};
        }
    }

    Status mix_psk() {
        if (next_psk >= psks.size())
            return poison(TransportErrc::bad_config, KOLOKOL_TEXT("not enough pre-shared keys"));
        symmetric.mix_key_and_hash(psks[next_psk].view());
        // The psk is used once; wipe it as soon as it is mixed in.
        psks[next_psk] = crypto::SecretBytes();
        ++next_psk;
        return {};
    }

    // Exact size of the next written message: the only variable is whether a key is in place
    // when "s" and the payload are encrypted, which the tokens before them decide.
    std::size_t written_size(std::size_t payload) const {
        bool keyed = symmetric.has_key();
        std::size_t size = 0;
        for (auto t : pattern.messages[next_message].tokens) {
            switch (t) {
                case Token::e:
                    size += kDhBytes;
                    if (pattern.psk_count > 0) keyed = true;
                    break;
                case Token::s:
                    size += kDhBytes + (keyed ? kTagBytes : 0);
                    break;
                default:
                    keyed = true;
                    break;
            }
        }
        return size + payload + (keyed ? kTagBytes : 0);
    }
};

HandshakeState::HandshakeState(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
HandshakeState::HandshakeState(HandshakeState&&) noexcept = default;
HandshakeState& HandshakeState::operator=(HandshakeState&&) noexcept = default;
HandshakeState::~HandshakeState() = default;

Result<HandshakeState> HandshakeState::create(HandshakeConfig config, crypto::Random& rng) {
    auto pattern = find_pattern(config.protocol_name);
    if (!pattern) return std::unexpected(pattern.error());
    const bool initiator = config.role == Role::initiator;
    const auto& p = *pattern;

    const bool need_s = p.sends_static(initiator);
    if (need_s && config.local_static.size() != kDhBytes)
        return fail(TransportErrc::bad_config, "the pattern needs a 32-byte local static key");
    if (!need_s && !config.local_static.empty())
        return fail(TransportErrc::bad_config, "the pattern never uses a local static key");
    const bool need_rs = initiator ? p.responder_pre_static : p.initiator_pre_static;
    if (need_rs && !config.remote_static)
        return fail(TransportErrc::bad_config, "the pattern needs the peer's static key");
    if (!need_rs && config.remote_static)
        return fail(TransportErrc::bad_config,
                    "the pattern sends the peer's static key in the handshake; check "
                    "remote_static() afterwards");
    if (config.psks.size() != p.psk_count)
        return fail(TransportErrc::bad_config, "wrong number of pre-shared keys");
    for (const auto& psk : config.psks)
        if (psk.size() != kPskBytes)
            return fail(TransportErrc::bad_config, "a pre-shared key must be 32 bytes");

    auto impl = std::make_unique<Impl>(std::move(*pattern), config.role, config.protocol_name);
    impl->rng = &rng;
    impl->psks = std::move(config.psks);
    if (need_s) {
        impl->s = std::move(config.local_static);
        impl->s_pub = crypto::x25519_base(impl->s.view());
    }
    impl->rs = config.remote_static;

    auto& sym = impl->symmetric;
    sym.mix_hash(config.prologue);
    // Pre-messages: the initiator's first, then the responder's (§7.1).
    if (impl->pattern.initiator_pre_static) sym.mix_hash(initiator ? impl->s_pub : *impl->rs);
    if (impl->pattern.responder_pre_static) sym.mix_hash(initiator ? *impl->rs : impl->s_pub);
    return HandshakeState(std::move(impl));
}

Result<HandshakeState> HandshakeState::create_with_fixed_ephemeral_for_testing(
    HandshakeConfig config, crypto::SecretBytes ephemeral_private) {
    if (ephemeral_private.size() != kDhBytes)
        return fail(TransportErrc::bad_config, "the ephemeral key must be 32 bytes");
    auto hs = create(std::move(config));
    if (hs) hs->m_impl->fixed_ephemeral = std::move(ephemeral_private);
    return hs;
}

Role HandshakeState::role() const {
    return m_impl->role;
}
bool HandshakeState::is_write_turn() const {
    return m_impl->write_turn();
}
bool HandshakeState::is_finished() const {
    return !m_impl->failed && m_impl->finished();
}
bool HandshakeState::has_failed() const {
    return m_impl->failed;
}
std::size_t HandshakeState::message_count() const {
    return m_impl->pattern.messages.size();
}
std::optional<PublicKey> HandshakeState::remote_static() const {
    return m_impl->rs;
}
const HandshakeHash& HandshakeState::handshake_hash() const {
    return m_impl->symmetric.h();
}

Result<Bytes> HandshakeState::write_message(ByteView payload) {
    auto& st = *m_impl;
    if (!st.write_turn())
        return fail(TransportErrc::wrong_state,
                    "not this side's turn to write a handshake message");
    if (payload.size() > kMaxMessageBytes || st.written_size(payload.size()) > kMaxMessageBytes)
        return fail(TransportErrc::message_too_large, "handshake message over 65,535 bytes");

    Bytes out;
    for (auto t : st.pattern.messages[st.next_message].tokens) {
        switch (t) {
            case Token::e: {
                if (auto ok = st.generate_ephemeral(); !ok) return std::unexpected(ok.error());
                append(out, st.e_pub);
                st.symmetric.mix_hash(st.e_pub);
                if (st.pattern.psk_count > 0) st.symmetric.mix_key(st.e_pub);
                break;
            }
            case Token::s: {
                auto ct = st.symmetric.encrypt_and_hash(st.s_pub);
                if (!ct) return st.poison(ct.error());
                append(out, *ct);
                break;
            }
            case Token::psk:
                if (auto ok = st.mix_psk(); !ok) return std::unexpected(ok.error());
                break;
            default:
                if (auto ok = st.apply_dh(t); !ok) return std::unexpected(ok.error());
                break;
        }
    }
    auto ct = st.symmetric.encrypt_and_hash(payload);
    if (!ct) return st.poison(ct.error());
    append(out, *ct);
    ++st.next_message;
    return out;
}

Result<Bytes> HandshakeState::read_message(ByteView message) {
    auto& st = *m_impl;
    if (st.failed || st.finished() || st.write_turn())
        return fail(TransportErrc::wrong_state, "not this side's turn to read a handshake message");
    if (message.size() > kMaxMessageBytes)
        return st.poison(TransportErrc::message_too_large, "handshake message over 65,535 bytes");

    ByteReader reader(message);
    for (auto t : st.pattern.messages[st.next_message].tokens) {
        switch (t) {
            case Token::e: {
                auto re = reader.array<kDhBytes>();
                if (!re) return st.poison(TransportErrc::malformed_message, "handshake truncated");
                st.re = *re;
                st.symmetric.mix_hash(*re);
                if (st.pattern.psk_count > 0) st.symmetric.mix_key(*re);
                break;
            }
            case Token::s: {
                auto len = kDhBytes + (st.symmetric.has_key() ? kTagBytes : 0);
                auto field = reader.take(len);
                if (!field)
                    return st.poison(TransportErrc::malformed_message, "handshake truncated");
                auto rs = st.symmetric.decrypt_and_hash(*field);
                if (!rs)
                    return st.poison(TransportErrc::decrypt_failed,
                                     "the peer's static key did not decrypt");
                st.rs = to_array<kDhBytes>(*rs);
                break;
            }
            case Token::psk:
                if (auto ok = st.mix_psk(); !ok) return std::unexpected(ok.error());
                break;
            default:
                if (auto ok = st.apply_dh(t); !ok) return std::unexpected(ok.error());
                break;
        }
    }
    auto rest = reader.rest();
    if (st.symmetric.has_key() && rest.size() < kTagBytes)
        return st.poison(TransportErrc::malformed_message, "handshake truncated");
    auto payload = st.symmetric.decrypt_and_hash(rest);
    if (!payload)
        return st.poison(TransportErrc::decrypt_failed, "the handshake payload did not decrypt");
    ++st.next_message;
    return payload;
}

Result<TransportCiphers> HandshakeState::split() {
    auto& st = *m_impl;
    if (st.failed || !st.finished() || st.split_done)
        return fail(TransportErrc::wrong_state, "split() before the handshake finished or twice");
    st.split_done = true;
    auto [c1, c2] = st.symmetric.split();
    st.e = crypto::SecretBytes();
    st.s = crypto::SecretBytes();
    TransportCiphers out;
    if (st.initiator()) {
        out.send = std::move(c1);
        if (!st.pattern.one_way) out.receive = std::move(c2);
    } else {
        out.receive = std::move(c1);
        if (!st.pattern.one_way) out.send = std::move(c2);
    }
    return out;
}

bool is_supported_protocol(std::string_view protocol_name) {
    return find_pattern(protocol_name).has_value();
}

}  // namespace kolokol::transport::noise
