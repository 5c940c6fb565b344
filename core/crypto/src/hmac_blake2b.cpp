#include "kolokol/crypto/hmac_blake2b.hpp"

#include <sodium.h>

#include <algorithm>
#include <cassert>

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

void hmac_blake2b512_into(MutableByteView out, ByteView key,
                          std::initializer_list<ByteView> parts) {
    assert(out.size() == kHmacBlake2bBytes);
    // Short-lived intermediates stay on the stack and are wiped on the way out (as libsodium
    // does for its own HMACs); only the result goes to sodium_malloc memory. A guarded
    // allocation per intermediate would cost an mmap/mprotect/munmap each, several times per
    // Noise handshake.
    struct Scratch {
        ByteArray<kBlake2bBlockBytes> block{};  // the zero-padded key K'
        ByteArray<kBlake2bBlockBytes> pad{};
        ByteArray<kHmacBlake2bBytes> inner{};
        ~Scratch() {
            sodium_memzero(block.data(), block.size());
            sodium_memzero(pad.data(), pad.size());
            sodium_memzero(inner.data(), inner.size());
        }
    } x;
    if (key.size() > kBlake2bBlockBytes) {
        WipedState h;
        h.update(key);
        h.finish(MutableByteView(x.block).first(kHmacBlake2bBytes));
    } else {
        std::copy(key.begin(), key.end(), x.block.begin());
    }

    for (std::size_t i = 0; i < kBlake2bBlockBytes; ++i) x.pad[i] = x.block[i] ^ 0x36;
    {
        WipedState h;
        h.update(x.pad);
        for (auto part : parts) h.update(part);
        h.finish(x.inner);
    }
    for (std::size_t i = 0; i < kBlake2bBlockBytes; ++i) x.pad[i] = x.block[i] ^ 0x5c;
    {
        WipedState h;
        h.update(x.pad);
        h.update(x.inner);
        h.finish(out);
    }
}

SecretBytes hmac_blake2b512(ByteView key, std::initializer_list<ByteView> parts) {
    SecretBytes out(kHmacBlake2bBytes);
    hmac_blake2b512_into(out.mutable_view(), key, parts);
    return out;
}

}  // namespace kolokol::crypto
