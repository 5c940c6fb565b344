#include "kolokol/crypto/hmac_blake2b.hpp"

#include <sodium.h>

#include <algorithm>

namespace kolokol::crypto {

namespace {

// Wipes a generichash state on every exit path: after absorbing the padded key it is as
// sensitive as the key itself.
struct WipedState {
    crypto_generichash_state st;
    WipedState() { crypto_generichash_init(&st, nullptr, 0, kHmacBlake2bBytes); }
    ~WipedState() { sodium_memzero(&st, sizeof st); }
    WipedState(const WipedState&) = delete;
    WipedState& operator=(const WipedState&) = delete;
    void update(ByteView data) { crypto_generichash_update(&st, data.data(), data.size()); }
    void finish(MutableByteView out) { crypto_generichash_final(&st, out.data(), out.size()); }
};

}  // namespace

SecretBytes hmac_blake2b512(ByteView key, std::initializer_list<ByteView> parts) {
    SecretBytes block(kBlake2bBlockBytes);  // zero padded key K'
    if (key.size() > kBlake2bBlockBytes) {
        WipedState h;
        h.update(key);
        h.finish(block.mutable_view().first(kHmacBlake2bBytes));
    } else {
        std::copy(key.begin(), key.end(), block.data());
    }

    SecretBytes pad(kBlake2bBlockBytes);
    SecretBytes inner(kHmacBlake2bBytes);
    {
        for (std::size_t i = 0; i < kBlake2bBlockBytes; ++i) pad.data()[i] = block.data()[i] ^ 0x36;
        WipedState h;
        h.update(pad.view());
        for (auto part : parts) h.update(part);
        h.finish(inner.mutable_view());
    }
    SecretBytes out(kHmacBlake2bBytes);
    {
        for (std::size_t i = 0; i < kBlake2bBlockBytes; ++i) pad.data()[i] = block.data()[i] ^ 0x5c;
        WipedState h;
        h.update(pad.view());
        h.update(inner.view());
        h.finish(out.mutable_view());
    }
    return out;
}

}  // namespace kolokol::crypto
