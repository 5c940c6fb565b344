#pragma once
// Shared pieces of the sync tests: an in-memory Replica, envelope makers and a driver that runs
// two SyncEngines against each other with nothing in between.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/envelope.hpp"
#include "kolokol/transport/sync_engine.hpp"

namespace sync_test {

using namespace kolokol;
using namespace kolokol::transport;

inline Bytes make_envelope(const MailboxId& mailbox, crypto::Random& rng,
                           std::size_t ciphertext_bytes = 200) {
    Bytes e{storage::kEnvelopeVersion};
    append(e, mailbox);
    append(e, rng.bytes(24 + ciphertext_bytes));
    return e;
}

// A server counts a session only after its side of it has ended, which may be a moment after the
// client has returned: poll for what it should reach, for up to five seconds. False if it never
// does, so a check on the result still fails when the count is wrong.
inline bool settles(const std::function<bool()>& reached) {
    for (int i = 0; i < 500; ++i) {
        if (reached()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return reached();
}

inline MailboxKey key_for(std::uint64_t seed) {
    crypto::DeterministicRandom rng(seed);
    auto seed32 = rng.bytes(32);
    return MailboxKey::from_seed(seed32);
}

inline MailboxKey copy_key(const MailboxKey& k) {
    MailboxKey out;
    out.id = k.id;
    out.public_key = k.public_key;
    out.secret_key = k.secret_key.clone();
    out.max_envelope_bytes = k.max_envelope_bytes;
    return out;
}

// Envelopes in memory, per mailbox; thread-safe so the loopback tests can share one.
class MemoryReplica : public Replica {
public:
    Result<std::vector<RecordId>> ids(const MailboxId& mailbox) override {
        std::lock_guard lock(m_mutex);
        if (m_fail) return fail(std::make_error_code(std::errc::io_error), "disk on fire");
        auto it = m_index.find(mailbox);
        if (it == m_index.end()) return std::vector<RecordId>{};
        return std::vector<RecordId>(it->second.begin(), it->second.end());
    }
    Result<std::optional<Bytes>> get(const RecordId& id) override {
        std::lock_guard lock(m_mutex);
        if (m_fail) return fail(std::make_error_code(std::errc::io_error), "disk on fire");
        auto it = m_envelopes.find(id);
        if (it == m_envelopes.end()) return std::optional<Bytes>{};
        return std::optional<Bytes>(it->second);
    }
    Result<std::vector<bool>> put(const MailboxId& mailbox,
                                  std::span<const Bytes> envelopes) override {
        std::vector<RecordId> added;
        std::vector<bool> out;
        std::vector<std::pair<LiveCallback, MailboxId>> notify;
        {
            std::lock_guard lock(m_mutex);
            if (m_fail) return fail(std::make_error_code(std::errc::io_error), "disk on fire");
            ++m_puts;
            for (const auto& e : envelopes) {
                if (m_accept && !m_accept(e)) {
                    out.push_back(false);
                    continue;
                }
                auto id = storage::record_id_of(e);
                if (m_envelopes.emplace(id, e).second) {
                    m_index[mailbox].insert(id);
                    added.push_back(id);
                }
                out.push_back(true);
            }
            for (auto& [token, w] : m_watchers)
                if (w.second == mailbox) notify.push_back(w);
        }
        if (!added.empty())
            for (auto& [cb, mb] : notify) cb(mb, added);
        return out;
    }
    std::unique_ptr<LiveSubscription> watch(const MailboxId& mailbox,
                                            LiveCallback on_written) override {
        std::lock_guard lock(m_mutex);
        const int token = m_next_token++;
        m_watchers[token] = {std::move(on_written), mailbox};
        struct Sub : LiveSubscription {
            MemoryReplica* owner;
            int token;
            ~Sub() override {
                std::lock_guard lock(owner->m_mutex);
                owner->m_watchers.erase(token);
            }
        };
        auto sub = std::make_unique<Sub>();
        sub->owner = this;
        sub->token = token;
        return sub;
    }

    // Test controls.
    void add(const Bytes& envelope) {
        auto view = storage::parse_envelope(envelope);
        REQUIRE(view.has_value());
        Bytes copy = envelope;
        REQUIRE(put(view->mailbox, std::span<const Bytes>(&copy, 1)).has_value());
    }
    std::set<RecordId> held(const MailboxId& mailbox) {
        std::lock_guard lock(m_mutex);
        auto it = m_index.find(mailbox);
        return it == m_index.end() ? std::set<RecordId>{} : it->second;
    }
    void set_accept(std::function<bool(const Bytes&)> accept) { m_accept = std::move(accept); }
    void set_failing(bool fail) { m_fail = fail; }
    std::size_t puts() const { return m_puts; }
    std::size_t watchers() {
        std::lock_guard lock(m_mutex);
        return m_watchers.size();
    }

private:
    std::mutex m_mutex;
    std::map<RecordId, Bytes> m_envelopes;
    std::map<MailboxId, std::set<RecordId>> m_index;
    std::function<bool(const Bytes&)> m_accept;
    std::map<int, std::pair<LiveCallback, MailboxId>> m_watchers;
    int m_next_token = 0;
    bool m_fail = false;
    std::size_t m_puts = 0;
};

// Moves frames between two engines until neither has anything to say. `on_frame` (optional)
// sees every frame with its direction and may drop it by returning false.
struct Exchange {
    std::size_t frames_up = 0;
    std::size_t frames_down = 0;
    Status client_status;
    Status server_status;
};

// Sees each frame in flight: false drops it; it may also rewrite it (a hostile peer).
using FrameFilter = std::function<bool(bool client_to_server, Bytes& frame)>;

inline Exchange run_pair(SyncEngine& client, SyncEngine& server, FrameFilter filter = {}) {
    Exchange ex;
    for (int guard = 0; guard < 100'000; ++guard) {
        auto up = client.take_output();
        auto down = server.take_output();
        if (up.empty() && down.empty()) return ex;
        for (auto& f : up) {
            if (filter && !filter(true, f)) continue;
            if (server.closed()) break;
            ++ex.frames_up;
            if (auto st = server.handle(f); !st) ex.server_status = st;
        }
        for (auto& f : down) {
            if (filter && !filter(false, f)) continue;
            if (client.closed()) break;
            ++ex.frames_down;
            if (auto st = client.handle(f); !st) ex.client_status = st;
        }
    }
    FAIL("the engines never went quiet");
    return ex;
}

inline Bytes fixed_hash(std::uint8_t fill) {
    return Bytes(64, fill);
}

}  // namespace sync_test
