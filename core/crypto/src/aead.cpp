#include "kolokol/crypto/aead.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

// ChaCha20-Poly1305 runs on OpenSSL's libcrypto where it offers the cipher: its vectorised code
// (AVX2, AVX-512) seals bulk data about three times as fast as libsodium's on the same machine,
// which decides how fast age files, bundles and stored attachments go. XChaCha20-Poly1305 is
// HChaCha20 (libsodium) followed by the same IETF construction, exactly as libsodium builds it.
// Without the cipher in libcrypto (a FIPS-only configuration), libsodium does the work. Both
// produce the same bytes; tests/unit/crypto checks them against each other and the RFC vectors.

namespace kolokol::crypto {

namespace {

void check_sizes(ByteView key, ByteView nonce, std::size_t nonce_len) {
    if (key.size() != kAeadKeyBytes || nonce.size() != nonce_len)
        throw std::invalid_argument("aead: bad key or nonce length");
}

const EVP_CIPHER* openssl_cipher() {
    static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
    return cipher;
}

struct CtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

// EVP lengths are ints: feed larger inputs in pieces.
constexpr std::size_t kPiece = std::size_t{1} << 30;

bool update(EVP_CIPHER_CTX* c, unsigned char* out, ByteView in) {
    while (!in.empty()) {
        const auto n = std::min(in.size(), kPiece);
        int len = 0;
        if (EVP_CipherUpdate(c, out, &len, in.data(), static_cast<int>(n)) != 1 ||
            static_cast<std::size_t>(len) != n)
            return false;
        if (out) out += n;
        in = in.subspan(n);
    }
    return true;
}

[[noreturn]] void sealing_failed() {
    // Only an allocation failure inside libcrypto gets here. Nothing half-sealed may go on.
    throw std::runtime_error("aead: sealing failed in libcrypto");
}

void openssl_seal(unsigned char* out, ByteView key, const unsigned char* nonce12, ByteView ad,
                  ByteView plaintext) {
    Ctx c(EVP_CIPHER_CTX_new());
    int len = 0;
    if (!c || EVP_EncryptInit_ex2(c.get(), openssl_cipher(), key.data(), nonce12, nullptr) != 1 ||
        !update(c.get(), nullptr, ad) || !update(c.get(), out, plaintext) ||
        EVP_EncryptFinal_ex(c.get(), out + plaintext.size(), &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kAeadTagBytes),
                            out + plaintext.size()) != 1)
        sealing_failed();
}

// On failure `out` is wiped: libcrypto writes the plaintext before it checks the tag, and none
// of it may be used.
bool openssl_open(unsigned char* out, ByteView key, const unsigned char* nonce12, ByteView ad,
                  ByteView ciphertext) {
    const auto body = ciphertext.first(ciphertext.size() - kAeadTagBytes);
    // The tag is copied out first: `out` may alias the ciphertext.
    unsigned char tag[kAeadTagBytes];
    std::copy(ciphertext.end() - kAeadTagBytes, ciphertext.end(), tag);
    Ctx c(EVP_CIPHER_CTX_new());
    int len = 0;
    const bool ok =
        c && EVP_DecryptInit_ex2(c.get(), openssl_cipher(), key.data(), nonce12, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kAeadTagBytes), tag) ==
            1 &&
        update(c.get(), nullptr, ad) && update(c.get(), out, body) &&
        EVP_DecryptFinal_ex(c.get(), out + body.size(), &len) == 1;
    if (!ok) sodium_memzero(out, body.size());
    return ok;
}

void ietf_seal(unsigned char* out, ByteView key, const unsigned char* nonce12, ByteView ad,
               ByteView plaintext) {
    if (openssl_cipher()) return openssl_seal(out, key, nonce12, ad, plaintext);
    unsigned long long len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out, &len, plaintext.data(), plaintext.size(),
                                              ad.data(), ad.size(), nullptr, nonce12, key.data());
}

bool ietf_open(unsigned char* out, ByteView key, const unsigned char* nonce12, ByteView ad,
               ByteView ciphertext) {
    if (openssl_cipher()) return openssl_open(out, key, nonce12, ad, ciphertext);
    unsigned long long len = 0;
    return crypto_aead_chacha20poly1305_ietf_decrypt(out, &len, nullptr, ciphertext.data(),
                                                     ciphertext.size(), ad.data(), ad.size(),
                                                     nonce12, key.data()) == 0;
}

// XChaCha20: the subkey from HChaCha20 over the first 16 nonce bytes, and an IETF nonce of four
// zero bytes and the last 8.
// The subkey lives on the stack and is wiped on the way out, as libsodium does it.
struct XKey {
    unsigned char subkey[kAeadKeyBytes];
    unsigned char nonce12[kIetfNonceBytes] = {};
    XKey(ByteView key_in, ByteView nonce24) {
        crypto_core_hchacha20(subkey, nonce24.data(), key_in.data(), nullptr);
        std::copy(nonce24.begin() + 16, nonce24.end(), nonce12 + 4);
    }
    ~XKey() { sodium_memzero(subkey, sizeof subkey); }
    XKey(const XKey&) = delete;
    XKey& operator=(const XKey&) = delete;
    ByteView key() const { return {subkey, sizeof subkey}; }
};

template <typename Out>
std::optional<Out> xopen(ByteView key, ByteView nonce24, ByteView ad, ByteView ciphertext) {
    check_sizes(key, nonce24, kXNonceBytes);
    if (ciphertext.size() < kAeadTagBytes) return std::nullopt;
    Out out(ciphertext.size() - kAeadTagBytes);
    XKey x(key, nonce24);
    if (!ietf_open(out.data(), x.key(), x.nonce12, ad, ciphertext)) return std::nullopt;
    return out;
}

}  // namespace

bool aead_uses_libcrypto() {
    return openssl_cipher() != nullptr;
}

Bytes xchacha_seal(ByteView key, ByteView nonce24, ByteView ad, ByteView plaintext) {
    check_sizes(key, nonce24, kXNonceBytes);
    Bytes out(plaintext.size() + kAeadTagBytes);
    XKey x(key, nonce24);
    ietf_seal(out.data(), x.key(), x.nonce12, ad, plaintext);
    return out;
}

std::optional<Bytes> xchacha_open(ByteView key, ByteView nonce24, ByteView ad,
                                  ByteView ciphertext) {
    return xopen<Bytes>(key, nonce24, ad, ciphertext);
}

std::optional<SecretBytes> xchacha_open_secret(ByteView key, ByteView nonce24, ByteView ad,
                                               ByteView ciphertext) {
    return xopen<SecretBytes>(key, nonce24, ad, ciphertext);
}

Bytes chacha_ietf_seal(ByteView key, ByteView nonce12, ByteView ad, ByteView plaintext) {
    Bytes out(plaintext.size() + kAeadTagBytes);
    chacha_ietf_seal_into(out, key, nonce12, ad, plaintext);
    return out;
}

std::optional<Bytes> chacha_ietf_open(ByteView key, ByteView nonce12, ByteView ad,
                                      ByteView ciphertext) {
    if (ciphertext.size() < kAeadTagBytes) return std::nullopt;
    Bytes out(ciphertext.size() - kAeadTagBytes);
    if (!chacha_ietf_open_into(out, key, nonce12, ad, ciphertext)) return std::nullopt;
    return out;
}

void chacha_ietf_seal_into(MutableByteView out, ByteView key, ByteView nonce12, ByteView ad,
                           ByteView plaintext) {
    check_sizes(key, nonce12, kIetfNonceBytes);
    if (out.size() != plaintext.size() + kAeadTagBytes)
        throw std::invalid_argument("aead: bad output length");
    ietf_seal(out.data(), key, nonce12.data(), ad, plaintext);
}

bool chacha_ietf_open_into(MutableByteView out, ByteView key, ByteView nonce12, ByteView ad,
                           ByteView ciphertext) {
    check_sizes(key, nonce12, kIetfNonceBytes);
    if (ciphertext.size() < kAeadTagBytes || out.size() != ciphertext.size() - kAeadTagBytes)
        return false;
    return ietf_open(out.data(), key, nonce12.data(), ad, ciphertext);
}

}  // namespace kolokol::crypto
