#pragma once
// Streaming age v1 encryption with a push interface: bounded memory (a 64 KiB staging chunk and
// one batch of kBatchChunks sealed chunks, about 1.1 MiB) whatever the size of the plaintext.

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "kolokol/age/format.hpp"
#include "kolokol/age/keys.hpp"
#include "kolokol/crypto/random.hpp"

namespace kolokol::age {

// Receives the encrypted file in order. The view is only valid during the call. A failure stops
// the encryptor: the error is returned from the write()/finish() that called the sink (an error
// without a code is reported as AgeErrc::io).
using Sink = std::function<Status(ByteView)>;

struct EncryptOptions {
    // log2 N for the scrypt stanza (passphrase encryption only): 1..kMaxScryptWorkFactor.
    unsigned scrypt_work_factor = kDefaultScryptWorkFactor;
    // Source of the file key, nonces, ephemeral keys and salts; nullptr means the system CSPRNG.
    // Must outlive create()/with_passphrase() only (all randomness is drawn there).
    crypto::Random* random = nullptr;
    // Threads sealing a batch of chunks: 1 keeps all work on the calling thread; 2 (the default)
    // adds one helper thread, started on the first batch of two or more chunks.
    unsigned threads = 2;
    // Calls the sink on a thread of the encryptor's own, one batch behind the sealing, so that
    // writing a batch out overlaps with sealing the next (one more batch buffer, ~1 MiB). The
    // sink is then never called on the caller's thread, nor concurrently with itself; a write()
    // may return before its bytes reach the sink, and a sink error is returned by a later
    // write() or by finish(), which returns once every byte has gone to the sink. The header
    // still goes to the sink before create()/with_passphrase() returns.
    bool sink_thread = false;
    // The plaintext holds keys (a backup): the partial chunk the encryptor keeps between writes
    // lies in locked memory (crypto::SecretBytes, wiped when the encryptor goes), not in the
    // heap. The chunks sealed straight from the caller's memory are the caller's to keep locked.
    bool secret_plaintext = false;
};

// Writes header, nonce and STREAM chunks to the sink as plaintext arrives. Not thread-safe (the
// sink is called on the thread calling write()/finish(), unless EncryptOptions::sink_thread);
// one instance per file.
// Move-only. If finish() is never called the output is an incomplete
// (undecryptable) file.
class Encryptor {
public:
    // Encrypts to one or more X25519 recipients (duplicates are kept, as age does). The header
    // and payload nonce go to the sink before this returns. Fails with invalid_argument when
    // `recipients` is empty, invalid_key for a low-order recipient, or the sink's error.
    static Result<Encryptor> to_recipients(std::span<const X25519Recipient> recipients, Sink sink,
                                           const EncryptOptions& options = {});
    // Encrypts with a passphrase (a single scrypt stanza: age forbids mixing it with recipients).
    // Runs scrypt here (about a second at work factor 18). Fails with invalid_argument for an
    // empty passphrase or a work factor out of range.
    static Result<Encryptor> with_passphrase(ByteView passphrase, Sink sink,
                                             const EncryptOptions& options = {});

    Encryptor(Encryptor&&) noexcept;
    Encryptor& operator=(Encryptor&&) noexcept;
    ~Encryptor();

    // Encrypts `plaintext`. Full chunks go to the sink once it is known they are not the last,
    // up to kBatchChunks per sink call; at most one partial or full chunk stays buffered, and
    // `plaintext` is not referenced after the call. After an error or finish() every call fails.
    Status write(ByteView plaintext);
    // Seals the final chunk (empty only if the whole plaintext was empty) and sends it.
    Status finish();

    // Work to do beside the sealing — hashing the same plaintext, say — so that it overlaps
    // with it on the encryptor's second thread. `task` runs exactly once, concurrently with the
    // next batch of chunks sealed by write() or finish(), or by run_beside_now() if none was;
    // call that before the data the task reads goes away. It must not throw or call this
    // encryptor. A task still waiting is replaced (after running it) by a new one.
    void run_beside(std::function<void()> task);
    void run_beside_now();

    // Plaintext bytes accepted so far.
    std::uint64_t plaintext_bytes() const;

private:
    struct Impl;
    explicit Encryptor(std::unique_ptr<Impl> impl);
    // Sends the header (given up to "---"), its MAC and the payload nonce.
    static Result<Encryptor> start(std::string header, const crypto::SecretBytes& file_key,
                                   Sink sink, crypto::Random& random,
                                   const EncryptOptions& options);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace kolokol::age
