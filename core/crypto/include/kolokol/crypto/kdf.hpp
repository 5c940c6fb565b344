#pragma once
// Key derivation: libsodium crypto_kdf (BLAKE2b) with an 8-byte context and a subkey id, and
// Argon2id / scrypt password hashing.

#include <cstdint>
#include <optional>
#include <string_view>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::crypto {

// `context` must be exactly 8 ASCII bytes; `key` 32 bytes; `out_len` 16..64.
SecretBytes kdf_derive(ByteView key, std::uint64_t subkey_id, std::string_view context,
                       std::size_t out_len = 32);

struct Argon2Params {
    std::uint64_t opslimit = 0;
    std::uint64_t memlimit = 0;  // bytes
};
Argon2Params argon2_interactive();
Argon2Params argon2_moderate();
Argon2Params argon2_sensitive();
Argon2Params argon2_min();  // the smallest libsodium accepts: tests only
inline constexpr std::size_t kArgon2SaltBytes = 16;

// Argon2id13 (crypto_pwhash_ALG_ARGON2ID13). nullopt if libsodium refuses (out of memory,
// parameters out of range).
std::optional<SecretBytes> argon2id(std::size_t out_len, ByteView passphrase, ByteView salt16,
                                    const Argon2Params& params);

// scrypt with explicit N = 2^log_n, r = 8, p = 1 (age's parameters).
std::optional<SecretBytes> scrypt(std::size_t out_len, ByteView passphrase, ByteView salt,
                                  unsigned log_n);

}  // namespace kolokol::crypto
