#include "kolokol/age/decryptor.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "header.hpp"
#include "kolokol/crypto/aead.hpp"
#include "parallel.hpp"
#include "payload.hpp"
#include "stanzas.hpp"

namespace kolokol::age {

namespace {

constexpr std::string_view kArmorBegin = "-----BEGIN AGE ENCRYPTED FILE-----";
constexpr std::string_view kIntro = "age-encryption.org/v1\n";
// A batch of encrypted chunks plus one byte of lookahead: a chunk is the last one exactly when
// the file ends within it, so the final flag is known before decrypting and trailing data after a
// full final chunk fails authentication instead of being silently ignored.
constexpr std::size_t kInputBytes = kBatchChunks * kEncryptedChunkBytes + 1;

std::unexpected<Error> payload_error(const char* literal) {
    return fail(AgeErrc::payload_failure, literal);
}

}  // namespace

struct Decryptor::Impl {
    explicit Impl(unsigned threads) : runner(threads) {}

    Source source;
    detail::ChunkRunner runner;
    crypto::SecretBytes key;  // payload key
    Bytes in;  // ciphertext [pos, end); decrypted-in-place plaintext [plain, plain_end)
    std::size_t pos = 0;
    std::size_t end = 0;
    std::size_t plain = 0;
    std::size_t plain_end = 0;
    bool eof = false;
    bool done = false;
    bool used_passphrase = false;
    std::uint64_t counter = 0;
    std::optional<Error> error;

    // Records the first failure: every later read() returns it again.
    std::unexpected<Error> stop(Error e) {
        error = std::move(e);
        return std::unexpected(*error);
    }

    // Reads until at least `want` unconsumed bytes are buffered or the source is exhausted.
    Status fill(std::size_t want) {
        if (end - pos >= want || eof) return {};
        if (in.size() - pos < want) {
            std::memmove(in.data(), in.data() + pos, end - pos);
            end -= pos;
            pos = 0;
            if (in.size() < want) in.resize(want);
        }
        while (end - pos < want && !eof) {
            auto space = MutableByteView(in).subspan(end);
            auto got = source(space);
            if (!got) return std::unexpected(detail::as_io_error(got.error()));
            if (*got > space.size())
                return fail(AgeErrc::io, "age: source returned more bytes than asked for");
            if (*got == 0)
                eof = true;
            else
                end += *got;
        }
        return {};
    }

    // Reads the whole header into `in` and returns its length.
    Result<std::size_t> read_header(const DecryptOptions& options) {
        std::size_t scan = 0;
        while (true) {
            auto have = ByteView(in).first(end);
            auto text = as_chars(have);
            auto first = text.find_first_not_of(" \t\r\n");
            auto rest = first == std::string_view::npos ? std::string_view{} : text.substr(first);
            if (rest.starts_with(kArmorBegin))
                return fail(AgeErrc::armor_unsupported,
                            "ASCII-armored age files are not supported: ask for a binary file "
                            "or remove the armor with `age -d`");
            // Refuse non-age input as soon as its first bytes are known, without reading on.
            const bool maybe_armor = !eof && kArmorBegin.starts_with(rest);
            auto n = std::min(text.size(), kIntro.size());
            if (!maybe_armor && text.substr(0, n) != kIntro.substr(0, n))
                return fail(AgeErrc::header_failure,
                            "invalid age header: unsupported version or not an age file");
            auto header_end = detail::find_header_end(have, scan);
            if (header_end.value_or(end) > options.max_header_bytes)
                return fail(AgeErrc::header_failure, "invalid age header: longer than {} bytes",
                            options.max_header_bytes);
            if (header_end) return *header_end;
            if (eof)
                return end == 0 ? fail(AgeErrc::header_failure, "empty input: not an age file")
                                : fail(AgeErrc::header_failure, "invalid age header: truncated");
            if (end == in.size()) in.resize(std::min(in.size() * 2, options.max_header_bytes + 1));
            if (auto st = fill(end + 1); !st) return std::unexpected(st.error());
        }
    }
};

Decryptor::Decryptor(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Decryptor::Decryptor(Decryptor&&) noexcept = default;
Decryptor& Decryptor::operator=(Decryptor&&) noexcept = default;
Decryptor::~Decryptor() = default;

Result<Decryptor> Decryptor::open(Source source, std::span<const X25519Identity> identities,
                                  PassphraseProvider passphrase, const DecryptOptions& options) {
    auto impl = std::make_unique<Impl>(options.threads);
    impl->source = std::move(source);
    impl->in.resize(kInputBytes);

    auto header_len = impl->read_header(options);
    if (!header_len) return std::unexpected(header_len.error());
    auto header_bytes = ByteView(impl->in).first(*header_len);
    auto header = detail::parse_header(header_bytes, options.max_stanzas);
    if (!header) return std::unexpected(header.error());

    const auto& stanzas = header->stanzas;
    const detail::Stanza* scrypt = nullptr;
    for (const auto& s : stanzas)
        if (s.type == detail::kScryptType) scrypt = &s;
    // The spec requires a passphrase stanza to stand alone: a passphrase-encrypted file is
    // expected to open only with the passphrase, and to come from someone who knew it.
    if (scrypt && stanzas.size() != 1)
        return fail(AgeErrc::header_failure,
                    "invalid age header: an scrypt stanza must be the only one");

    std::optional<crypto::SecretBytes> file_key;
    for (const auto& identity : identities) {
        for (const auto& s : stanzas) {
            auto key = detail::unwrap_x25519(s, identity);
            if (!key) return std::unexpected(key.error());
            if (*key) {
                file_key = std::move(**key);
                break;
            }
        }
        if (file_key) break;
    }
    if (!file_key && scrypt) {
        auto work_factor = detail::check_scrypt_stanza(*scrypt, options.max_scrypt_work_factor);
        if (!work_factor) return std::unexpected(work_factor.error());
        if (!passphrase)
            return fail(AgeErrc::no_match,
                        "the file is encrypted with a passphrase and none was given");
        auto secret = passphrase();
        if (!secret) return std::unexpected(secret.error());
        auto key = detail::unwrap_scrypt(*scrypt, *work_factor, secret->view());
        if (!key) return std::unexpected(key.error());
        if (!*key) return fail(AgeErrc::no_match, "incorrect passphrase");
        file_key = std::move(**key);
        impl->used_passphrase = true;
    }
    if (!file_key) return fail(AgeErrc::no_match, "no identity matched any of the recipients");

    auto mac = detail::header_mac(*file_key, header_bytes.first(header->mac_input_bytes));
    if (!crypto::equal_ct(mac, header->mac))
        return fail(AgeErrc::hmac_failure, "bad header MAC: the header was altered");

    impl->pos = *header_len;
    if (auto st = impl->fill(kPayloadNonceBytes); !st) return std::unexpected(st.error());
    if (impl->end - impl->pos < kPayloadNonceBytes)
        return fail(AgeErrc::header_failure, "invalid age file: missing payload nonce");
    impl->key =
        detail::payload_key(*file_key, ByteView(impl->in).subspan(impl->pos, kPayloadNonceBytes));
    impl->pos += kPayloadNonceBytes;
    return Decryptor(std::move(impl));
}

Result<std::size_t> Decryptor::read(MutableByteView out) {
    auto& m = *m_impl;
    if (m.plain < m.plain_end) {
        auto n = std::min(out.size(), m.plain_end - m.plain);
        std::memcpy(out.data(), m.in.data() + m.plain, n);
        m.plain += n;
        return n;
    }
    if (m.error) return std::unexpected(*m.error);
    if (m.done || out.empty()) return 0;

    // As many whole chunks as `out` can take (at least one), plus one byte of lookahead.
    const std::size_t want = std::clamp<std::size_t>(out.size() / kChunkBytes, 1, kBatchChunks);
    if (auto st = m.fill(want * kEncryptedChunkBytes + 1); !st) return m.stop(st.error());
    const std::size_t avail = m.end - m.pos;
    const bool ends_here = avail <= want * kEncryptedChunkBytes;
    const std::size_t count =
        ends_here
            ? std::max<std::size_t>(1, (avail + kEncryptedChunkBytes - 1) / kEncryptedChunkBytes)
            : want;
    // The last chunk before the end of the file is the final one; its length is what is left.
    auto ct_length = [&](std::size_t i) {
        return ends_here && i == count - 1 ? avail - i * kEncryptedChunkBytes
                                           : kEncryptedChunkBytes;
    };

    // Structural checks first: a chunk too short for its tag, or an empty final chunk after
    // others (only an empty payload may end with an empty chunk).
    std::size_t valid = count;
    std::optional<Error> failure;
    for (std::size_t i = 0; i < count && !failure; ++i) {
        const auto len = ct_length(i);
        const bool final_chunk = ends_here && i == count - 1;
        if (len < kChunkTagBytes) {
            failure = payload_error(avail == 0 && m.counter == 0
                                        ? KOLOKOL_TEXT("age file has no payload chunks")
                                        : KOLOKOL_TEXT("age file is truncated"))
                          .error();
            valid = i;
        } else if (final_chunk && len == kChunkTagBytes && m.counter + i != 0) {
            failure = payload_error(KOLOKOL_TEXT("last payload chunk is empty")).error();
            valid = i;
        }
    }

    // Whole chunks are opened straight into `out`; a caller buffer smaller than the chunk gets
    // it decrypted in place in `in` and handed out piecewise.
    const bool in_place = count == 1 && out.size() < ct_length(0) - kChunkTagBytes;
    std::array<bool, kBatchChunks> opened{};
    m.runner.run(valid, [&](std::size_t i) {
        const auto len = ct_length(i);
        auto ciphertext = ByteView(m.in).subspan(m.pos + i * kEncryptedChunkBytes, len);
        auto target = in_place ? MutableByteView(m.in).subspan(m.pos, len - kChunkTagBytes)
                               : out.subspan(i * kChunkBytes, len - kChunkTagBytes);
        auto nonce = detail::chunk_nonce(m.counter + i, ends_here && i == count - 1);
        opened[i] = crypto::chacha_ietf_open_into(target, m.key.view(), nonce, {}, ciphertext);
    });

    std::size_t released = 0;
    std::size_t good = 0;
    while (good < valid && opened[good]) {
        released += ct_length(good) - kChunkTagBytes;
        ++good;
    }
    if (good < valid)
        failure =
            make_error(AgeErrc::payload_failure,
                       "failed to decrypt and authenticate payload chunk {}", m.counter + good);
    const std::size_t consumed =
        good == count ? std::min(avail, count * kEncryptedChunkBytes) : good * kEncryptedChunkBytes;
    const std::size_t start = m.pos;
    m.pos += consumed;
    m.counter += good;
    m.done = ends_here && good == count;
    // Plaintext of the chunks before a failure is released; the failure is reported next.
    if (failure) {
        m.error = std::move(failure);
        if (released == 0) return std::unexpected(*m.error);
    }
    if (!in_place) return released;
    m.plain = start;
    m.plain_end = start + released;
    auto n = std::min(out.size(), released);
    std::memcpy(out.data(), m.in.data() + m.plain, n);
    m.plain += n;
    return n;
}

bool Decryptor::used_passphrase() const {
    return m_impl->used_passphrase;
}

}  // namespace kolokol::age
