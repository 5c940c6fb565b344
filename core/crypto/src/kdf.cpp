#include "kolokol/crypto/kdf.hpp"

#include <sodium.h>

#include <stdexcept>

namespace kolokol::crypto {

SecretBytes kdf_derive(ByteView key, std::uint64_t subkey_id, std::string_view context,
                       std::size_t out_len) {
    if (key.size() != crypto_kdf_KEYBYTES || context.size() != crypto_kdf_CONTEXTBYTES ||
        out_len < crypto_kdf_BYTES_MIN || out_len > crypto_kdf_BYTES_MAX)
        throw std::invalid_argument("kdf: bad key, context or output length");
    SecretBytes out(out_len);
    crypto_kdf_derive_from_key(out.data(), out_len, subkey_id, context.data(), key.data());
    return out;
}

Argon2Params argon2_interactive() {
    return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}
Argon2Params argon2_moderate() {
    return {crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
}
Argon2Params argon2_sensitive() {
    return {crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE};
}
Argon2Params argon2_min() {
    return {crypto_pwhash_argon2id_OPSLIMIT_MIN, 8192};
}

std::optional<SecretBytes> argon2id(std::size_t out_len, ByteView passphrase, ByteView salt16,
                                    const Argon2Params& params) {
    if (salt16.size() != crypto_pwhash_argon2id_SALTBYTES) return std::nullopt;
    if (params.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
        params.opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
        params.memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
        params.memlimit > (std::uint64_t{1} << 32))  // 4 GiB: refuse absurd stored parameters
        return std::nullopt;
    SecretBytes out(out_len);
    if (crypto_pwhash(out.data(), out_len, reinterpret_cast<const char*>(passphrase.data()),
                      passphrase.size(), salt16.data(), params.opslimit,
                      static_cast<std::size_t>(params.memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0)
        return std::nullopt;
    return out;
}

std::optional<SecretBytes> scrypt(std::size_t out_len, ByteView passphrase, ByteView salt,
                                  unsigned log_n) {
    if (log_n == 0 || log_n > 30) return std::nullopt;
    SecretBytes out(out_len);
    if (crypto_pwhash_scryptsalsa208sha256_ll(passphrase.data(), passphrase.size(), salt.data(),
                                              salt.size(), std::uint64_t{1} << log_n, 8, 1,
                                              out.data(), out_len) != 0)
        return std::nullopt;
    return out;
}

}  // namespace kolokol::crypto
