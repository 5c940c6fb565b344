#include "kolokol/age/encryptor.hpp"

#include <cstring>

#include "header.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "payload.hpp"
#include "stanzas.hpp"

namespace kolokol::age {

namespace detail {
Error as_io_error(Error e) {
    if (!e.code) e.code = AgeErrc::io;
    return e;
}
}  // namespace detail

struct Encryptor::Impl {
    Sink sink;
    crypto::SecretBytes key;  // payload key
    // One chunk: plaintext is collected in the first kChunkBytes and sealed in place.
    Bytes buffer = Bytes(kEncryptedChunkBytes);
    std::size_t filled = 0;
    std::uint64_t counter = 0;
    std::uint64_t total = 0;
    std::optional<Error> error;
    bool finished = false;

    Status emit(ByteView bytes) {
        if (auto st = sink(bytes); !st) {
            error = detail::as_io_error(st.error());
            return std::unexpected(*error);
        }
        return {};
    }

    // Seals `plaintext` (which may be the front of `buffer`) into `buffer` and sends it.
    Status seal_and_emit(ByteView plaintext, bool final_chunk) {
        auto nonce = detail::chunk_nonce(counter, final_chunk);
        auto out = MutableByteView(buffer).first(plaintext.size() + kChunkTagBytes);
        crypto::chacha_ietf_seal_into(out, key.view(), nonce, {}, plaintext);
        ++counter;
        return emit(out);
    }

    Status check_usable() const {
        if (error) return std::unexpected(*error);
        if (finished) return fail(AgeErrc::invalid_argument, "age: write after finish");
        return {};
    }
};

Result<Encryptor> Encryptor::start(std::string header, const crypto::SecretBytes& file_key,
                                   Sink sink, crypto::Random& random) {
    auto mac = detail::header_mac(file_key, as_bytes(header));
    header += ' ';
    header += crypto::base64_raw_encode(mac);
    header += '\n';
    auto nonce = random.bytes(kPayloadNonceBytes);
    header += as_chars(nonce);

    auto impl = std::make_unique<Impl>();
    impl->sink = std::move(sink);
    impl->key = detail::payload_key(file_key, nonce);
    if (auto st = impl->emit(as_bytes(header)); !st) return std::unexpected(st.error());
    return Encryptor(std::move(impl));
}

Encryptor::Encryptor(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Encryptor::Encryptor(Encryptor&&) noexcept = default;
Encryptor& Encryptor::operator=(Encryptor&&) noexcept = default;
Encryptor::~Encryptor() = default;

Result<Encryptor> Encryptor::to_recipients(std::span<const X25519Recipient> recipients, Sink sink,
                                           const EncryptOptions& options) {
    if (recipients.empty()) return fail(AgeErrc::invalid_argument, "age: no recipients");
    if (recipients.size() > kDefaultMaxStanzas)
        return fail(AgeErrc::invalid_argument,
                    "age: more than " + std::to_string(kDefaultMaxStanzas) + " recipients");
    auto& random = options.random ? *options.random : crypto::system_random();
    crypto::SecretBytes file_key(kFileKeyBytes);
    random.fill(file_key.mutable_view());
    std::vector<detail::Stanza> stanzas;
    stanzas.reserve(recipients.size());
    for (const auto& r : recipients) {
        auto s = detail::wrap_x25519(r, file_key, random);
        if (!s) return std::unexpected(s.error());
        stanzas.push_back(std::move(*s));
    }
    return start(detail::serialize_without_mac(stanzas), file_key, std::move(sink), random);
}

Result<Encryptor> Encryptor::with_passphrase(ByteView passphrase, Sink sink,
                                             const EncryptOptions& options) {
    if (passphrase.empty()) return fail(AgeErrc::invalid_argument, "age: empty passphrase");
    auto& random = options.random ? *options.random : crypto::system_random();
    crypto::SecretBytes file_key(kFileKeyBytes);
    random.fill(file_key.mutable_view());
    auto s = detail::wrap_scrypt(passphrase, file_key, options.scrypt_work_factor, random);
    if (!s) return std::unexpected(s.error());
    std::vector<detail::Stanza> stanzas;
    stanzas.push_back(std::move(*s));
    return start(detail::serialize_without_mac(stanzas), file_key, std::move(sink), random);
}

Status Encryptor::write(ByteView plaintext) {
    auto& m = *m_impl;
    if (auto st = m.check_usable(); !st) return st;
    m.total += plaintext.size();
    while (!plaintext.empty()) {
        if (m.filled == kChunkBytes) {
            // More plaintext follows, so the buffered chunk is not the last one.
            if (auto st = m.seal_and_emit(ByteView(m.buffer).first(kChunkBytes), false); !st)
                return st;
            m.filled = 0;
        }
        if (m.filled == 0 && plaintext.size() > kChunkBytes) {
            // A whole chunk with more behind it: seal straight from the caller's memory.
            if (auto st = m.seal_and_emit(plaintext.first(kChunkBytes), false); !st) return st;
            plaintext = plaintext.subspan(kChunkBytes);
            continue;
        }
        auto n = std::min(plaintext.size(), kChunkBytes - m.filled);
        std::memcpy(m.buffer.data() + m.filled, plaintext.data(), n);
        m.filled += n;
        plaintext = plaintext.subspan(n);
    }
    return {};
}

Status Encryptor::finish() {
    auto& m = *m_impl;
    if (auto st = m.check_usable(); !st) return st;
    m.finished = true;
    return m.seal_and_emit(ByteView(m.buffer).first(m.filled), true);
}

std::uint64_t Encryptor::plaintext_bytes() const {
    return m_impl->total;
}

}  // namespace kolokol::age
