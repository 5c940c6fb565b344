// Relay soak: churning honest clients and hostile ones against one relay process, for a fixed
// time. Prints one JSON document; exits non-zero when an honest client lost anything, a sync of
// an honest client failed, a scraper got an envelope, or the relay's memory passed the bound.
//
//   bench_soak [--seconds S] [--honest N] [--group-size G] [--slowloris K] [--max-rss-mib M]
//
// Honest clients (N threads, groups of G sharing a mailbox) each loop: write 1-3 envelopes,
// sync (a new connection every time), and every 8th round drop their replica and start again
// empty, as a reinstalled device would. Everything written before a sync that succeeded was
// acknowledged by the relay; at the end every honest client syncs once more and must hold every
// acknowledged envelope of its group ("lost" counts those missing).
//
// Hostile clients, from 127.0.0.2 so the relay's per-address cap applies to them and not to the
// honest ones (except the two that need a full session, which count against 127.0.0.1):
//   slowloris  K connections that send one byte every second and reconnect when cut off;
//   oversized  frames announcing 65,535 bytes before the handshake, then a trickle;
//   garbage    random bytes instead of a handshake;
//   scraper    complete handshakes, then open the honest mailboxes with a proof signed by a
//              key that is not theirs, and ask for their envelopes without an open;
//   quota      fills its own mailbox with 60 KB envelopes until the relay declines them.
// The relay runs with its defaults except a 16 MiB per-mailbox byte quota (so the quota
// attacker reaches it within the run). Its RSS is sampled every 200 ms.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/signal_set.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "bench_support.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/relay/relay.hpp"
#include "kolokol/transport/session_connect.hpp"
#include "kolokol/transport/sync.hpp"
#include "sync.pb.h"

using namespace kolokol;
using namespace kolokol::transport;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
    double seconds = 600;
    std::size_t honest = 8;
    std::size_t group_size = 4;
    std::size_t slowloris = 24;
    std::uint64_t max_rss_mib = 512;
};

std::uint64_t rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    return 0;
}

Bytes make_envelope(const MailboxId& mailbox, crypto::Random& rng, std::size_t body) {
    Bytes e{storage::kEnvelopeVersion};
    append(e, mailbox);
    append(e, rng.bytes(24 + body));
    return e;
}

// An in-memory member replica; thread-safe (one sync at a time uses it, the checker reads it).
class MemoryReplica : public Replica {
public:
    Result<std::vector<RecordId>> ids(const MailboxId&) override {
        std::lock_guard lock(m_mutex);
        std::vector<RecordId> out;
        for (const auto& [id, _] : m_bytes) out.push_back(id);
        return out;
    }
    Result<std::optional<Bytes>> get(const RecordId& id) override {
        std::lock_guard lock(m_mutex);
        auto it = m_bytes.find(id);
        if (it == m_bytes.end()) return std::optional<Bytes>{};
        return std::optional<Bytes>(it->second);
    }
    Result<std::vector<bool>> put(const MailboxId&, std::span<const Bytes> envelopes) override {
        std::lock_guard lock(m_mutex);
        for (const auto& e : envelopes) m_bytes.emplace(storage::record_id_of(e), e);
        return std::vector<bool>(envelopes.size(), true);
    }
    RecordId write(Bytes e) {
        std::lock_guard lock(m_mutex);
        auto id = storage::record_id_of(e);
        m_bytes.emplace(id, std::move(e));
        return id;
    }
    bool holds(const RecordId& id) {
        std::lock_guard lock(m_mutex);
        return m_bytes.contains(id);
    }

private:
    std::mutex m_mutex;
    std::map<RecordId, Bytes> m_bytes;
};

MailboxKey copy_key(const MailboxKey& k) {
    return MailboxKey{k.id, k.public_key, k.secret_key.clone()};
}

[[noreturn]] void run_relay_child(const fs::path& dir, int out_fd) {
    RelayQuotas quotas;
    quotas.mailbox_max_bytes = 16 << 20;
    auto store = RelayStore::open(dir, to_bytes("soak"), RelayKdf::fast, quotas);
    if (!store) {
        std::cerr << "relay store: " << store.error().what() << "\n";
        _exit(2);
    }
    RelayOptions options;
    bench::serve_relay_child(**store, options, out_fd, 2);
}

struct Counters {
    std::atomic<std::uint64_t> honest_syncs{0}, honest_failed{0}, honest_written{0},
        honest_received{0}, churns{0};
    std::atomic<std::uint64_t> slowloris_connects{0}, slowloris_cut{0};
    std::atomic<std::uint64_t> oversized_sent{0}, oversized_cut{0};
    std::atomic<std::uint64_t> garbage_sent{0}, garbage_cut{0};
    std::atomic<std::uint64_t> scrape_attempts{0}, scrape_refused{0}, scrape_leaked{0};
    std::atomic<std::uint64_t> quota_stored{0}, quota_declined{0};
    std::mutex errors_mutex;
    std::vector<std::string> errors;
    void error(std::string e) {
        std::lock_guard lock(errors_mutex);
        if (errors.size() < 8) errors.push_back(std::move(e));
    }
};

// A raw TCP connection from 127.0.0.2 to the relay (nullopt when refused).
std::optional<asio::ip::tcp::socket> raw_connect(asio::io_context& io,
                                                 const asio::ip::tcp::endpoint& relay) {
    asio::ip::tcp::socket s(io);
    std::error_code ec;
    s.open(asio::ip::tcp::v4(), ec);
    if (!ec) s.bind({asio::ip::make_address("127.0.0.2"), 0}, ec);
    if (!ec) s.connect(relay, ec);
    if (ec) return std::nullopt;
    return s;
}

// True when the relay has closed the connection (a read returns EOF or an error).
bool closed_by_peer(asio::ip::tcp::socket& s) {
    std::error_code ec;
    s.non_blocking(true, ec);
    std::array<std::uint8_t, 256> buf{};
    s.read_some(asio::buffer(buf), ec);
    s.non_blocking(false);
    return ec && ec != asio::error::would_block;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const std::string v = argv[i + 1];
        if (k == "--seconds")
            a.seconds = std::stod(v);
        else if (k == "--honest")
            a.honest = std::stoull(v);
        else if (k == "--group-size")
            a.group_size = std::stoull(v);
        else if (k == "--slowloris")
            a.slowloris = std::stoull(v);
        else if (k == "--max-rss-mib")
            a.max_rss_mib = std::stoull(v);
        else {
            std::cerr << "bench_soak: unknown option " << k << "\n";
            return 2;
        }
    }
    a.group_size = std::max<std::size_t>(1, a.group_size);
    crypto::init();

    const fs::path dir = fs::temp_directory_path() / ("kolokol-soak-" + std::to_string(getpid()));
    fs::remove_all(dir);
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t child = fork();
    if (child == 0) {
        ::close(fds[0]);
        run_relay_child(dir, fds[1]);
    }
    ::close(fds[1]);
    std::string address;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') address.push_back(c);
    ::close(fds[0]);
    auto parsed = Address::parse(address);
    if (!parsed) {
        std::cerr << "the relay did not start\n";
        kill(child, SIGKILL);
        return 1;
    }
    const asio::ip::tcp::endpoint relay_ep(asio::ip::make_address(parsed->host), parsed->port);
    const auto rss_idle = rss_kib(child);

    Counters n;
    std::atomic<bool> stop{false};
    const auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::duration<double>(a.seconds);

    // Groups: one mailbox each; acknowledged envelopes per group.
    const std::size_t groups = (a.honest + a.group_size - 1) / a.group_size;
    std::vector<MailboxKey> keys;
    crypto::DeterministicRandom key_rng(1);
    for (std::size_t g = 0; g < groups; ++g)
        keys.push_back(MailboxKey::from_seed(key_rng.bytes(32)));
    std::vector<std::set<RecordId>> acked(groups);
    std::mutex acked_mutex;
    std::vector<std::unique_ptr<MemoryReplica>> replicas(a.honest);
    for (auto& r : replicas) r = std::make_unique<MemoryReplica>();
    std::mutex replicas_mutex;

    auto honest_sync = [&](std::size_t i, MemoryReplica& r) -> Result<SyncReport> {
        std::vector<MailboxKey> k;
        k.push_back(copy_key(keys[i % groups]));
        static const crypto::BoxKeyPair local = crypto::box_keypair();
        SyncOptions options;
        return sync_with(address, local, std::move(k), r, options);
    };

    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < a.honest; ++i) {
        threads.emplace_back([&, i] {
            crypto::DeterministicRandom rng(100 + i);
            std::size_t round = 0;
            while (Clock::now() < deadline) {
                std::unique_ptr<MemoryReplica> fresh;
                if (++round % 8 == 0) {
                    fresh = std::make_unique<MemoryReplica>();
                    ++n.churns;
                }
                MemoryReplica* r;
                {
                    std::lock_guard lock(replicas_mutex);
                    if (fresh) replicas[i] = std::move(fresh);
                    r = replicas[i].get();
                }
                std::vector<RecordId> written;
                const auto count = 1 + rng.uniform(3);
                for (std::uint32_t k = 0; k < count; ++k)
                    written.push_back(r->write(make_envelope(keys[i % groups].id, rng, 200)));
                auto rep = honest_sync(i, *r);
                if (!rep || rep->peer_rejected != 0 || !rep->refused.empty()) {
                    ++n.honest_failed;
                    n.error("honest: " +
                            (rep ? std::string("declined or refused") : rep.error().what()));
                    continue;
                }
                ++n.honest_syncs;
                n.honest_written += written.size();
                n.honest_received += rep->received;
                std::lock_guard lock(acked_mutex);
                acked[i % groups].insert(written.begin(), written.end());
            }
        });
    }

    // Slowloris: hold connections open with a byte a second.
    threads.emplace_back([&] {
        asio::io_context io;
        std::vector<asio::ip::tcp::socket> socks;
        while (Clock::now() < deadline) {
            while (socks.size() < a.slowloris) {
                auto s = raw_connect(io, relay_ep);
                if (!s) break;
                ++n.slowloris_connects;
                socks.push_back(std::move(*s));
            }
            std::this_thread::sleep_for(std::chrono::seconds(1));
            for (auto it = socks.begin(); it != socks.end();) {
                std::error_code ec;
                const std::uint8_t b = 0;
                asio::write(*it, asio::buffer(&b, 1), ec);
                if (ec || closed_by_peer(*it)) {
                    ++n.slowloris_cut;
                    it = socks.erase(it);
                } else {
                    ++it;
                }
            }
        }
    });
    // Oversized frames and garbage before the handshake.
    threads.emplace_back([&] {
        asio::io_context io;
        crypto::DeterministicRandom rng(3);
        bool big = false;
        while (Clock::now() < deadline) {
            big = !big;
            auto s = raw_connect(io, relay_ep);
            if (!s) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                continue;
            }
            Bytes out = big ? Bytes{0xff, 0xff} : rng.bytes(2048);
            if (big) append(out, rng.bytes(4096));
            std::error_code ec;
            asio::write(*s, asio::buffer(out), ec);
            (big ? n.oversized_sent : n.garbage_sent)++;
            // The relay must cut us off: wait for EOF, up to the handshake timeout and a bit.
            s->non_blocking(false);
            std::array<std::uint8_t, 256> buf{};
            const auto until = Clock::now() + std::chrono::seconds(12);
            bool cut = false;
            while (Clock::now() < until && !cut) {
                s->read_some(asio::buffer(buf), ec);
                cut = static_cast<bool>(ec);
            }
            if (cut) (big ? n.oversized_cut : n.garbage_cut)++;
        }
    });
    // Mailbox scraping: a real session, then Opens of the honest mailboxes signed by a key that
    // is not theirs (the open proof is valid for the attacker's own key), then Wants for the
    // honest mailbox's ids without any open. Leaked: an accepted open or any envelope received.
    threads.emplace_back([&] {
        crypto::DeterministicRandom rng(4);
        const auto local = crypto::box_keypair();
        while (Clock::now() < deadline) {
            asio::io_context io;
            const MailboxId victim = keys[n.scrape_attempts % groups].id;
            auto own = MailboxKey::from_seed(rng.bytes(32));
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    ConnectOptions co;
                    co.session.handshake_timeout = std::chrono::seconds(20);
                    auto session = co_await connect(*parsed, local, co);
                    if (!session) co_return;
                    const auto proof = sign_mailbox_open(own, session->handshake_hash());
                    std::vector<pb::SyncFrame> frames(3);
                    frames[0].mutable_hello()->set_version(kSyncVersion);
                    frames[0].mutable_hello()->set_window_bytes(kSyncMinWindowBytes);
                    frames[0].mutable_hello()->set_max_reconciliations(8);
                    frames[0].mutable_hello()->set_max_wants(8192);
                    auto* open = frames[1].mutable_open();
                    open->set_mailbox(to_string(victim));
                    open->set_public_key(to_string(own.public_key));
                    open->set_signature(to_string(proof));
                    auto* want = frames[2].mutable_want();
                    want->set_mailbox(to_string(victim));
                    want->add_ids(std::string(32, '\x01'));
                    for (const auto& f : frames) {
                        const auto text = f.SerializeAsString();
                        Bytes bytes(text.begin(), text.end());  // see SessionOptions on co_await
                        auto sent = co_await session->send(std::move(bytes));
                        if (!sent) break;
                    }
                    bool refused = false;
                    while (true) {
                        auto msg = co_await session->receive();
                        if (!msg) {
                            refused = true;  // cut off
                            break;
                        }
                        pb::SyncFrame f;
                        if (!f.ParseFromArray(msg->data(), static_cast<int>(msg->size()))) break;
                        if (f.has_open_result() && f.open_result().accepted()) ++n.scrape_leaked;
                        if (f.has_open_result() && !f.open_result().accepted()) refused = true;
                        if (f.has_envelopes() && f.envelopes().envelopes_size() > 0)
                            ++n.scrape_leaked;
                        if (f.has_close()) {
                            refused = true;
                            break;
                        }
                    }
                    if (refused) ++n.scrape_refused;
                    co_await session->close();
                },
                asio::detached);
            io.run();
            ++n.scrape_attempts;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    // Quota exhaustion: one mailbox, 60 KB envelopes, until declined (and on: it stays declined).
    threads.emplace_back([&] {
        crypto::DeterministicRandom rng(5);
        const auto local = crypto::box_keypair();
        auto key = MailboxKey::from_seed(rng.bytes(32));
        MemoryReplica mine;
        while (Clock::now() < deadline) {
            for (int k = 0; k < 16; ++k) mine.write(make_envelope(key.id, rng, 60 * 1024 - 200));
            std::vector<MailboxKey> ks;
            ks.push_back(copy_key(key));
            SyncOptions options;
            auto rep = sync_with(address, local, std::move(ks), mine, options);
            if (rep) {
                n.quota_stored += rep->sent;
                n.quota_declined += rep->peer_rejected;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });

    // Sample the relay's memory while all this runs.
    std::uint64_t rss_peak = rss_idle, rss_first_quarter = 0;
    std::vector<std::uint64_t> rss_samples;
    while (Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const auto r = rss_kib(child);
        rss_peak = std::max(rss_peak, r);
        rss_samples.push_back(r);
        if (Clock::now() < t0 + std::chrono::duration<double>(a.seconds / 4))
            rss_first_quarter = std::max(rss_first_quarter, r);
    }
    stop = true;
    for (auto& t : threads) t.join();

    // Final sync of every honest client, then count what is missing.
    std::uint64_t lost = 0, expected = 0;
    for (std::size_t i = 0; i < a.honest; ++i) {
        auto rep = honest_sync(i, *replicas[i]);
        if (!rep) {
            ++n.honest_failed;
            n.error("final: " + std::string(rep.error().what()));
        }
        for (const auto& id : acked[i % groups]) {
            ++expected;
            if (!replicas[i]->holds(id)) ++lost;
        }
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto rss_end = rss_kib(child);
    kill(child, SIGTERM);
    int status = 0;
    waitpid(child, &status, 0);
    fs::remove_all(dir);

    const bool rss_ok = rss_peak <= a.max_rss_mib * 1024;
    const bool ok = lost == 0 && n.honest_failed == 0 && n.scrape_leaked == 0 && rss_ok &&
                    n.honest_syncs > 0 && n.quota_declined > 0 && n.scrape_refused > 0;
    nlohmann::json doc{{"benchmark", "soak"},
                       {"seconds", elapsed},
                       {"honest",
                        {{"clients", a.honest},
                         {"groups", groups},
                         {"syncs", n.honest_syncs.load()},
                         {"syncs_per_second", static_cast<double>(n.honest_syncs) / elapsed},
                         {"failed", n.honest_failed.load()},
                         {"envelopes_written_acked", n.honest_written.load()},
                         {"envelopes_received", n.honest_received.load()},
                         {"churned_devices", n.churns.load()},
                         {"expected_at_end", expected},
                         {"lost", lost}}},
                       {"hostile",
                        {{"slowloris_connections", n.slowloris_connects.load()},
                         {"slowloris_cut_off", n.slowloris_cut.load()},
                         {"oversized_frames", n.oversized_sent.load()},
                         {"oversized_cut_off", n.oversized_cut.load()},
                         {"garbage", n.garbage_sent.load()},
                         {"garbage_cut_off", n.garbage_cut.load()},
                         {"scrape_attempts", n.scrape_attempts.load()},
                         {"scrape_refused", n.scrape_refused.load()},
                         {"scrape_leaked", n.scrape_leaked.load()},
                         {"quota_envelopes_stored", n.quota_stored.load()},
                         {"quota_envelopes_declined", n.quota_declined.load()}}},
                       {"relay_rss_kib",
                        {{"idle", rss_idle},
                         {"peak_first_quarter", rss_first_quarter},
                         {"peak", rss_peak},
                         {"end", rss_end},
                         {"bound", a.max_rss_mib * 1024}}},
                       {"errors", n.errors},
                       {"ok", ok}};
    std::cout << doc.dump(2) << "\n";
    return ok ? 0 : 1;
}
