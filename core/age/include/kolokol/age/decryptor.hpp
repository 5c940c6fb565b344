#pragma once
// Streaming age v1 decryption with a pull interface: bounded memory (one batch of kBatchChunks
// encrypted chunks, about 1 MiB, or the header if larger) whatever the size of the file.

#include <functional>
#include <memory>
#include <span>

#include "kolokol/age/format.hpp"
#include "kolokol/age/keys.hpp"

namespace kolokol::age {

// Fills a prefix of the buffer with the next bytes of the encrypted file and returns how many;
// 0 means end of file. An error stops the decryptor and is returned as is (an error without a
// code is reported as AgeErrc::io). Returning more than the buffer size is an io error.
using Source = std::function<Result<std::size_t>(MutableByteView)>;

// Asked for the passphrase only when the header holds an scrypt stanza that passed its checks
// (count, salt, work factor). Its error is returned from open() unchanged.
using PassphraseProvider = std::function<Result<crypto::SecretBytes>()>;

struct DecryptOptions {
    // scrypt stanzas above this work factor are refused (header_failure): 22 as in age, at most
    // kMaxScryptWorkFactor.
    unsigned max_scrypt_work_factor = kDefaultMaxScryptWorkFactor;
    // A header longer than this, or with more stanzas, is refused (header_failure).
    std::size_t max_header_bytes = kDefaultMaxHeaderBytes;
    std::size_t max_stanzas = kDefaultMaxStanzas;
    // Threads opening a batch of chunks: 1 keeps all work on the calling thread; 2 (the default)
    // adds one helper thread, started on the first read that can take two or more chunks.
    unsigned threads = 2;
};

// Not thread-safe; one instance per file. Move-only.
class Decryptor {
public:
    // Reads and checks the header: finds the file key with `identities` (borrowed for this call
    // only) or, for a passphrase-encrypted file, `passphrase`; verifies the header MAC; reads the
    // payload nonce. Errors: armor_unsupported for PEM input; header_failure for a malformed
    // header, an scrypt stanza that is not alone, a refused work factor or a missing nonce;
    // no_match when no identity (or the passphrase) fits; hmac_failure for a bad header MAC.
    static Result<Decryptor> open(Source source, std::span<const X25519Identity> identities,
                                  PassphraseProvider passphrase = {},
                                  const DecryptOptions& options = {});

    Decryptor(Decryptor&&) noexcept;
    Decryptor& operator=(Decryptor&&) noexcept;
    ~Decryptor();

    // Copies up to out.size() plaintext bytes into `out` and returns the count; 0 only at the
    // authenticated end of the file (or for an empty `out`). Plaintext is released one
    // authenticated chunk at a time, so data before a damaged chunk has been returned when the
    // error (payload_failure: bad tag, truncation, trailing data, an empty or misplaced final
    // chunk) is reported. After an error every call fails with the same error. A buffer of at
    // least kChunkBytes receives whole chunks (up to kBatchChunks per call) without an
    // intermediate copy; bytes of `out` past the returned count are unspecified.
    Result<std::size_t> read(MutableByteView out);

    // True when the payload was encrypted with a passphrase (scrypt stanza).
    bool used_passphrase() const;

private:
    struct Impl;
    explicit Decryptor(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace kolokol::age
