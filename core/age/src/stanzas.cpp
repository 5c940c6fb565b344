#include "stanzas.hpp"

#include "kolokol/age/format.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/x25519.hpp"

namespace kolokol::age::detail {

namespace {

constexpr std::string_view kX25519Label = "age-encryption.org/v1/X25519";
constexpr std::string_view kScryptLabel = "age-encryption.org/v1/scrypt";
constexpr std::size_t kScryptSaltBytes = 16;
constexpr std::size_t kWrappedKeyBytes = kFileKeyBytes + crypto::kAeadTagBytes;
// Key-wrapping keys are used once, so the nonce is all zero (as the spec says).
constexpr ByteArray<crypto::kIetfNonceBytes> kZeroNonce{};

std::unexpected<Error> stanza_error(std::string_view type, const char* literal) {
    return fail(AgeErrc::header_failure, "invalid {} stanza: {}", type, literal);
}

crypto::SecretBytes x25519_wrap_key(ByteView shared, ByteView share, ByteView recipient) {
    Bytes salt(share.begin(), share.end());
    append(salt, recipient);
    return crypto::hkdf_sha256(salt, shared, as_bytes(kX25519Label), 32);
}

Result<crypto::SecretBytes> scrypt_key(ByteView passphrase, ByteView salt, unsigned work_factor) {
    Bytes full_salt = to_bytes(kScryptLabel);
    append(full_salt, salt);
    auto key = crypto::scrypt(32, passphrase, full_salt, work_factor);
    if (!key)
        return fail(AgeErrc::header_failure, "scrypt with work factor {} failed", work_factor);
    return std::move(*key);
}

Stanza make_stanza(std::string_view type, std::vector<std::string> args,
                   const crypto::SecretBytes& wrap_key, const crypto::SecretBytes& file_key) {
    Stanza s;
    s.type = std::string(type);
    s.args = std::move(args);
    s.body = crypto::chacha_ietf_seal(wrap_key.view(), kZeroNonce, {}, file_key.view());
    return s;
}

std::optional<crypto::SecretBytes> open_file_key(const crypto::SecretBytes& wrap_key,
                                                 ByteView body) {
    crypto::SecretBytes file_key(kFileKeyBytes);
    if (!crypto::chacha_ietf_open_into(file_key.mutable_view(), wrap_key.view(), kZeroNonce, {},
                                       body))
        return std::nullopt;
    return file_key;
}

}  // namespace

Result<Stanza> wrap_x25519(const X25519Recipient& recipient, const crypto::SecretBytes& file_key,
                           crypto::Random& random) {
    crypto::SecretBytes ephemeral(32);
    random.fill(ephemeral.mutable_view());
    auto share = crypto::x25519_base(ephemeral.view());
    auto shared = crypto::x25519(ephemeral.view(), recipient.public_key());
    if (!shared)
        return fail(AgeErrc::invalid_key, "recipient {} is a low-order point and cannot be used",
                    recipient.to_string());
    auto wrap_key = x25519_wrap_key(shared->view(), share, recipient.public_key());
    return make_stanza(kX25519Type, {crypto::base64_raw_encode(share)}, wrap_key, file_key);
}

Result<Stanza> wrap_scrypt(ByteView passphrase, const crypto::SecretBytes& file_key,
                           unsigned work_factor, crypto::Random& random) {
    if (work_factor < 1 || work_factor > kMaxScryptWorkFactor)
        return fail(AgeErrc::invalid_argument, "scrypt work factor must be 1..{}",
                    kMaxScryptWorkFactor);
    auto salt = random.bytes(kScryptSaltBytes);
    auto key = scrypt_key(passphrase, salt, work_factor);
    if (!key) return std::unexpected(key.error());
    return make_stanza(kScryptType, {crypto::base64_raw_encode(salt), std::to_string(work_factor)},
                       *key, file_key);
}

Result<std::optional<crypto::SecretBytes>> unwrap_x25519(const Stanza& stanza,
                                                         const X25519Identity& identity) {
    if (stanza.type != kX25519Type) return std::optional<crypto::SecretBytes>{};
    if (stanza.args.size() != 1)
        return stanza_error(kX25519Type, KOLOKOL_TEXT("wrong number of arguments"));
    auto share = crypto::base64_raw_decode(stanza.args[0]);
    if (!share || share->size() != 32)
        return stanza_error(kX25519Type, KOLOKOL_TEXT("invalid share"));
    // The length is checked before decrypting, so an oversized file key is an error rather
    // than a mismatch.
    if (stanza.body.size() != kWrappedKeyBytes)
        return stanza_error(kX25519Type, KOLOKOL_TEXT("wrapped file key has the wrong size"));
    auto shared = crypto::x25519(identity.secret().view(), *share);
    if (!shared) return stanza_error(kX25519Type, KOLOKOL_TEXT("share is a low-order point"));
    auto wrap_key = x25519_wrap_key(shared->view(), *share, identity.recipient().public_key());
    return open_file_key(wrap_key, stanza.body);
}

Result<unsigned> check_scrypt_stanza(const Stanza& stanza, unsigned max_work_factor) {
    if (stanza.args.size() != 2)
        return stanza_error(kScryptType, KOLOKOL_TEXT("wrong number of arguments"));
    auto salt = crypto::base64_raw_decode(stanza.args[0]);
    if (!salt || salt->size() != kScryptSaltBytes)
        return stanza_error(kScryptType, KOLOKOL_TEXT("invalid salt"));
    // Decimal only: no sign, no leading zero (which other parsers read as octal), no hex.
    const auto& wf = stanza.args[1];
    if (wf.empty() || wf.size() > 2 || wf[0] < '1' || wf[0] > '9')
        return stanza_error(kScryptType, KOLOKOL_TEXT("invalid work factor"));
    unsigned value = 0;
    for (char c : wf) {
        if (c < '0' || c > '9')
            return stanza_error(kScryptType, KOLOKOL_TEXT("invalid work factor"));
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > max_work_factor || value > kMaxScryptWorkFactor)
        return fail(AgeErrc::header_failure,
                    "invalid scrypt stanza: work factor {} is above the limit of {}", value,
                    max_work_factor);
    if (stanza.body.size() != kWrappedKeyBytes)
        return stanza_error(kScryptType, KOLOKOL_TEXT("wrapped file key has the wrong size"));
    return value;
}

Result<std::optional<crypto::SecretBytes>> unwrap_scrypt(const Stanza& stanza, unsigned work_factor,
                                                         ByteView passphrase) {
    auto salt = crypto::base64_raw_decode(stanza.args.at(0));
    if (!salt) return stanza_error(kScryptType, KOLOKOL_TEXT("invalid salt"));
    auto key = scrypt_key(passphrase, *salt, work_factor);
    if (!key) return std::unexpected(key.error());
    return open_file_key(*key, stanza.body);
}

}  // namespace kolokol::age::detail
