#include "kolokol/crypto/hash.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "sha256_ni.hpp"

namespace kolokol::crypto {

Bytes blake2b(std::size_t out_len, ByteView data, ByteView key) {
    Bytes out(out_len);
    if (crypto_generichash(out.data(), out.size(), data.data(), data.size(),
                           key.empty() ? nullptr : key.data(), key.size()) != 0)
        throw std::invalid_argument("blake2b: bad output or key length");
    return out;
}

Hash32 blake2b_256(ByteView data) {
    Hash32 out{};
    crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
    return out;
}

Hash32 blake2b_256(std::string_view domain, ByteView data) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 32);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(domain.data()),
                              domain.size());
    const unsigned char zero = 0;
    crypto_generichash_update(&st, &zero, 1);
    crypto_generichash_update(&st, data.data(), data.size());
    Hash32 out{};
    crypto_generichash_final(&st, out.data(), out.size());
    return out;
}

namespace {
template <class State>
std::unique_ptr<std::uint8_t[]> new_state() {
    return std::make_unique<std::uint8_t[]>(sizeof(State) + alignof(State));
}
template <class State>
State* state_of(const std::unique_ptr<std::uint8_t[]>& p) {
    void* raw = p.get();
    std::size_t space = sizeof(State) + alignof(State);
    return static_cast<State*>(std::align(alignof(State), sizeof(State), raw, space));
}
}  // namespace

Blake2b::Blake2b(std::size_t out_len, ByteView key)
    : m_state(new_state<crypto_generichash_state>()), m_out_len(out_len) {
    if (crypto_generichash_init(state_of<crypto_generichash_state>(m_state),
                                key.empty() ? nullptr : key.data(), key.size(), out_len) != 0)
        throw std::invalid_argument("blake2b: bad output or key length");
}
Blake2b::~Blake2b() = default;
Blake2b::Blake2b(Blake2b&&) noexcept = default;
Blake2b& Blake2b::operator=(Blake2b&&) noexcept = default;
void Blake2b::update(ByteView data) {
    crypto_generichash_update(state_of<crypto_generichash_state>(m_state), data.data(),
                              data.size());
}
Bytes Blake2b::finish() {
    Bytes out(m_out_len);
    crypto_generichash_final(state_of<crypto_generichash_state>(m_state), out.data(), out.size());
    return out;
}

Hash32 sha256(ByteView data) {
    if (data.size() >= 256 && detail::sha256_ni_available()) {
        Sha256 h;
        h.update(data);
        return h.finish();
    }
    Hash32 out{};
    crypto_hash_sha256(out.data(), data.data(), data.size());
    return out;
}

Sha256::Sha256() : m_state(new_state<crypto_hash_sha256_state>()) {
    crypto_hash_sha256_init(state_of<crypto_hash_sha256_state>(m_state));
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
void Sha256::update(ByteView data) {
    auto* st = state_of<crypto_hash_sha256_state>(m_state);
    if (data.size() >= 128 && detail::sha256_ni_available()) {
        // libsodium fills its partial block; whole blocks go through the SHA extensions on
        // its state words; the tail is buffered by libsodium again. `count` is in bits.
        const std::size_t buffered = (st->count >> 3) & 63;
        if (buffered != 0) {
            const std::size_t fill = 64 - buffered;
            crypto_hash_sha256_update(st, data.data(), fill);
            data = data.subspan(fill);
        }
        const std::size_t blocks = data.size() / 64;
        detail::sha256_ni_blocks(st->state, data.data(), blocks);
        st->count += static_cast<std::uint64_t>(blocks) * 512;
        data = data.subspan(blocks * 64);
    }
    crypto_hash_sha256_update(st, data.data(), data.size());
}
Hash32 Sha256::finish() {
    Hash32 out{};
    crypto_hash_sha256_final(state_of<crypto_hash_sha256_state>(m_state), out.data());
    return out;
}

Hash32 hmac_sha256(ByteView key, ByteView data) {
    HmacSha256 h(key);
    h.update(data);
    return h.finish();
}

HmacSha256::HmacSha256(ByteView key) : m_state(new_state<crypto_auth_hmacsha256_state>()) {
    crypto_auth_hmacsha256_init(state_of<crypto_auth_hmacsha256_state>(m_state), key.data(),
                                key.size());
}
HmacSha256::~HmacSha256() {
    if (m_state) sodium_memzero(m_state.get(), sizeof(crypto_auth_hmacsha256_state));
}
HmacSha256::HmacSha256(HmacSha256&&) noexcept = default;
HmacSha256& HmacSha256::operator=(HmacSha256&&) noexcept = default;
void HmacSha256::update(ByteView data) {
    crypto_auth_hmacsha256_update(state_of<crypto_auth_hmacsha256_state>(m_state), data.data(),
                                  data.size());
}
Hash32 HmacSha256::finish() {
    Hash32 out{};
    crypto_auth_hmacsha256_final(state_of<crypto_auth_hmacsha256_state>(m_state), out.data());
    return out;
}

Hash32 hkdf_sha256_extract(ByteView salt, ByteView ikm) {
    // RFC 5869: an absent salt is HashLen zero bytes.
    static const ByteArray<32> zero_salt{};
    return hmac_sha256(salt.empty() ? ByteView(zero_salt) : salt, ikm);
}

SecretBytes hkdf_sha256_expand(ByteView prk, ByteView info, std::size_t out_len) {
    if (out_len > 255 * 32) throw std::invalid_argument("hkdf: output too long");
    SecretBytes out(out_len);
    Hash32 t{};
    std::size_t done = 0;
    for (std::uint8_t i = 1; done < out_len; ++i) {
        HmacSha256 h(prk);
        if (i > 1) h.update(t);
        h.update(info);
        h.update(ByteView(&i, 1));
        t = h.finish();
        std::size_t n = std::min<std::size_t>(32, out_len - done);
        std::copy_n(t.begin(), n, out.data() + done);
        done += n;
    }
    sodium_memzero(t.data(), t.size());
    return out;
}

SecretBytes hkdf_sha256(ByteView salt, ByteView ikm, ByteView info, std::size_t out_len) {
    auto prk = hkdf_sha256_extract(salt, ikm);
    auto out = hkdf_sha256_expand(prk, info, out_len);
    sodium_memzero(prk.data(), prk.size());
    return out;
}

}  // namespace kolokol::crypto
