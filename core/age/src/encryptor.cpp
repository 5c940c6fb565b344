#include "kolokol/age/encryptor.hpp"

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "header.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "parallel.hpp"
#include "payload.hpp"
#include "stanzas.hpp"

namespace kolokol::age {

namespace detail {
Error as_io_error(Error e) {
    if (!e.code) e.code = AgeErrc::io;
    return e;
}
}  // namespace detail

// Calls the sink on a thread of its own, one batch at a time.
class SinkThread {
public:
    explicit SinkThread(Sink& sink) : m_sink(sink), m_thread([this] { loop(); }) {}
    ~SinkThread() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_one();
        m_thread.join();
    }
    SinkThread(const SinkThread&) = delete;
    SinkThread& operator=(const SinkThread&) = delete;

    // Waits until the batch handed over last has gone to the sink; its error, if it failed.
    std::optional<Error> wait() {
        std::unique_lock lock(m_mutex);
        m_idle.wait(lock, [&] { return !m_pending; });
        return m_error;
    }
    // Hands over `bytes`, which must stay unchanged until wait() returns. Call wait() first.
    void post(ByteView bytes) {
        {
            std::lock_guard lock(m_mutex);
            m_bytes = bytes;
            m_pending = true;
        }
        m_wake.notify_one();
    }

private:
    void loop() {
        std::unique_lock lock(m_mutex);
        while (true) {
            m_wake.wait(lock, [&] { return m_pending || m_stop; });
            if (!m_pending) return;
            auto bytes = m_bytes;
            const bool failed = m_error.has_value();
            lock.unlock();
            // After a failure nothing more goes to the sink; the encryptor reports the error.
            Status st = failed ? Status{} : m_sink(bytes);
            lock.lock();
            if (!st && !m_error) m_error = st.error();
            m_pending = false;
            m_idle.notify_one();
        }
    }

    Sink& m_sink;
    std::mutex m_mutex;
    std::condition_variable m_wake, m_idle;
    ByteView m_bytes;
    bool m_pending = false;
    bool m_stop = false;
    std::optional<Error> m_error;
    std::thread m_thread;  // last: started once everything above exists
};

struct Encryptor::Impl {
    explicit Impl(unsigned threads) : runner(threads) {}

    struct Job {
        ByteView plaintext;  // the staging buffer or the caller's memory
        bool final_chunk;
    };

    Sink sink;
    crypto::SecretBytes key;  // payload key
    detail::ChunkRunner runner;
    // A partial chunk waiting for more plaintext (or for finish()): one of the two buffers,
    // locked with EncryptOptions::secret_plaintext.
    Bytes staging_heap;
    crypto::SecretBytes staging_locked;
    MutableByteView staging;
    std::size_t filled = 0;
    // Up to kBatchChunks chunks are sealed together (in parallel) and sent in one sink call.
    std::vector<Job> jobs;
    Bytes out = Bytes(kBatchChunks * kEncryptedChunkBytes);
    // With a sink thread: the buffer it may still be writing out, swapped with `out` each batch.
    Bytes out_behind;
    std::unique_ptr<SinkThread> sink_thread;  // after `sink` and the buffers: goes first
    std::uint64_t counter = 0;
    std::uint64_t total = 0;
    std::optional<Error> error;
    bool finished = false;
    std::function<void()> beside;  // run_beside(): waits for the next batch

    Status emit(ByteView bytes) {
        if (auto st = sink(bytes); !st) {
            error = detail::as_io_error(st.error());
            return std::unexpected(*error);
        }
        return {};
    }

    Status add(ByteView plaintext, bool final_chunk) {
        jobs.push_back({plaintext, final_chunk});
        if (jobs.size() == kBatchChunks) return flush();
        return {};
    }

    // Seals the queued chunks into `out` and sends them. Must run before the memory the jobs
    // point to (staging, or the caller's buffer) changes.
    Status flush() {
        if (jobs.empty()) return {};
        // The task beside goes first: it is usually the longest job of the batch.
        const std::size_t side = beside ? 1 : 0;
        runner.run(jobs.size() + side, [&](std::size_t i) {
            if (side == 1 && i == 0) {
                beside();
                return;
            }
            i -= side;
            const auto& job = jobs[i];
            auto nonce = detail::chunk_nonce(counter + i, job.final_chunk);
            auto dst = MutableByteView(out).subspan(i * kEncryptedChunkBytes,
                                                    job.plaintext.size() + kChunkTagBytes);
            crypto::chacha_ietf_seal_into(dst, key.view(), nonce, {}, job.plaintext);
        });
        if (side == 1) beside = nullptr;
        // Every job but a final one is a full chunk, so the sealed chunks are contiguous.
        auto bytes = (jobs.size() - 1) * kEncryptedChunkBytes + jobs.back().plaintext.size() +
                     kChunkTagBytes;
        counter += jobs.size();
        jobs.clear();
        if (!sink_thread) return emit(ByteView(out).first(bytes));
        // The previous batch (in out_behind) has gone out once wait() returns.
        if (auto st = drain(); !st) return st;
        sink_thread->post(ByteView(out).first(bytes));
        std::swap(out, out_behind);
        return {};
    }

    // With a sink thread: waits until everything handed to it has gone to the sink.
    Status drain() {
        if (!sink_thread) return {};
        if (auto e = sink_thread->wait()) {
            error = detail::as_io_error(*e);
            return std::unexpected(*error);
        }
        return {};
    }

    Status check_usable() const {
        if (error) return std::unexpected(*error);
        if (finished) return fail(AgeErrc::invalid_argument, "age: write after finish");
        return {};
    }
};

Result<Encryptor> Encryptor::start(std::string header, const crypto::SecretBytes& file_key,
                                   Sink sink, crypto::Random& random,
                                   const EncryptOptions& options) {
    auto mac = detail::header_mac(file_key, as_bytes(header));
    header += ' ';
    header += crypto::base64_raw_encode(mac);
    header += '\n';
    auto nonce = random.bytes(kPayloadNonceBytes);
    header += as_chars(nonce);

    auto impl = std::make_unique<Impl>(options.threads);
    if (options.secret_plaintext) {
        impl->staging_locked = crypto::SecretBytes(kChunkBytes);
        impl->staging = impl->staging_locked.mutable_view();
    } else {
        impl->staging_heap = Bytes(kChunkBytes);
        impl->staging = MutableByteView(impl->staging_heap);
    }
    impl->sink = std::move(sink);
    impl->key = detail::payload_key(file_key, nonce);
    if (auto st = impl->emit(as_bytes(header)); !st) return std::unexpected(st.error());
    if (options.sink_thread) {
        impl->out_behind = Bytes(impl->out.size());
        impl->sink_thread = std::make_unique<SinkThread>(impl->sink);
    }
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
        return fail(AgeErrc::invalid_argument, "age: more than {} recipients", kDefaultMaxStanzas);
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
    return start(detail::serialize_without_mac(stanzas), file_key, std::move(sink), random,
                 options);
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
    return start(detail::serialize_without_mac(stanzas), file_key, std::move(sink), random,
                 options);
}

Status Encryptor::write(ByteView plaintext) {
    auto& m = *m_impl;
    if (auto st = m.check_usable(); !st) return st;
    // Nothing to stage; and an empty span may carry a null pointer, which memcpy must not see.
    if (plaintext.empty()) return {};
    m.total += plaintext.size();
    if (m.filled > 0) {
        auto n = std::min(plaintext.size(), kChunkBytes - m.filled);
        std::memcpy(m.staging.data() + m.filled, plaintext.data(), n);
        m.filled += n;
        plaintext = plaintext.subspan(n);
        // A full staged chunk stays until more plaintext shows it is not the last one.
        if (plaintext.empty()) return {};
        if (auto st = m.add(m.staging, false); !st) return st;
        m.filled = 0;
    }
    // Whole chunks with more plaintext behind them are sealed straight from the caller's memory.
    while (plaintext.size() > kChunkBytes) {
        if (auto st = m.add(plaintext.first(kChunkBytes), false); !st) return st;
        plaintext = plaintext.subspan(kChunkBytes);
    }
    if (auto st = m.flush(); !st) return st;
    std::memcpy(m.staging.data(), plaintext.data(), plaintext.size());
    m.filled = plaintext.size();
    return {};
}

Status Encryptor::finish() {
    auto& m = *m_impl;
    if (auto st = m.check_usable(); !st) return st;
    m.finished = true;
    if (auto st = m.add(ByteView(m.staging).first(m.filled), true); !st) return st;
    if (auto st = m.flush(); !st) return st;
    return m.drain();
}

void Encryptor::run_beside(std::function<void()> task) {
    run_beside_now();
    m_impl->beside = std::move(task);
}

void Encryptor::run_beside_now() {
    if (auto task = std::exchange(m_impl->beside, nullptr)) task();
}

std::uint64_t Encryptor::plaintext_bytes() const {
    return m_impl->total;
}

}  // namespace kolokol::age
