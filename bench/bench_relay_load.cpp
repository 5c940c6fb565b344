// Relay under load: N concurrent live clients on loopback, all pushing and pulling through one
// relay process. Prints one JSON document.
//
//   bench_relay_load [--clients N] [--group-size G] [--initial K] [--relay-threads T]
//                    [--client-threads T]
//
// The relay runs in a child process (its own RelayStore in a temporary directory, --kdf fast)
// so its memory can be read from /proc. Every client opens its group's mailbox in live mode
// holding K envelopes of its own; once every client holds its whole group's envelopes, each
// writes one more, stamped with the time, and the relay pushes it live to the rest of the
// group. Reported: latency of the initial sync (connect to settled) and of live delivery
// (write to arrival at each other member), the relay's resident memory per session, and
// envelopes lost (expected, never arrived) or duplicated (arrived twice) — both must be 0.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "bench_support.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/relay/relay.hpp"
#include "kolokol/transport/sync.hpp"

using namespace kolokol;
using namespace kolokol::transport;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
    std::size_t clients = 1000;
    std::size_t group_size = 10;
    std::size_t initial = 5;
    unsigned relay_threads = 2;
    unsigned client_threads = 1;
};

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

// The envelope carries its write time in the first 8 bytes of its "ciphertext".
Bytes stamped_envelope(const MailboxId& mailbox, crypto::Random& rng, std::int64_t stamp) {
    Bytes e{storage::kEnvelopeVersion};
    append(e, mailbox);
    append(e, rng.bytes(24));
    for (int i = 0; i < 8; ++i) e.push_back(static_cast<std::uint8_t>(stamp >> (8 * i)));
    append(e, rng.bytes(192));
    return e;
}

std::int64_t stamp_of(const Bytes& e) {
    std::int64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v |= static_cast<std::int64_t>(e[storage::kEnvelopeHeaderBytes + i]) << (8 * i);
    return v;
}

std::uint64_t rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    return 0;
}

// One client's store: thread-safe, records when live envelopes arrive.
class ClientReplica : public Replica {
public:
    Result<std::vector<RecordId>> ids(const MailboxId&) override {
        std::lock_guard lock(m_mutex);
        return std::vector<RecordId>(m_held.begin(), m_held.end());
    }
    Result<std::optional<Bytes>> get(const RecordId& id) override {
        std::lock_guard lock(m_mutex);
        auto it = m_bytes.find(id);
        if (it == m_bytes.end()) return std::optional<Bytes>{};
        return std::optional<Bytes>(it->second);
    }
    Result<std::vector<bool>> put(const MailboxId& mailbox,
                                  std::span<const Bytes> envelopes) override {
        const auto now = now_ns();
        std::vector<bool> out(envelopes.size(), true);
        std::lock_guard lock(m_mutex);
        for (const auto& e : envelopes) {
            auto id = storage::record_id_of(e);
            if (!m_held.insert(id).second) {
                if (m_measuring) ++m_duplicates;
                continue;
            }
            m_bytes.emplace(id, e);
            if (m_measuring) m_latencies_ns.push_back(now - stamp_of(e));
        }
        (void)mailbox;
        return out;
    }
    std::unique_ptr<LiveSubscription> watch(const MailboxId&, LiveCallback cb) override {
        std::lock_guard lock(m_mutex);
        m_watcher = std::move(cb);
        struct Sub : LiveSubscription {
            ClientReplica* r;
            ~Sub() override {
                std::lock_guard lock(r->m_mutex);
                r->m_watcher = nullptr;
            }
        };
        auto s = std::make_unique<Sub>();
        s->r = this;
        return s;
    }

    // Writes locally (as core would) and tells the live session.
    void write(const MailboxId& mailbox, Bytes e) {
        LiveCallback cb;
        auto id = storage::record_id_of(e);
        {
            std::lock_guard lock(m_mutex);
            m_held.insert(id);
            m_bytes.emplace(id, std::move(e));
            cb = m_watcher;
        }
        if (cb) cb(mailbox, {id});
    }
    std::size_t held() {
        std::lock_guard lock(m_mutex);
        return m_held.size();
    }
    void start_measuring() {
        std::lock_guard lock(m_mutex);
        m_measuring = true;
    }
    std::vector<std::int64_t> latencies() {
        std::lock_guard lock(m_mutex);
        return m_latencies_ns;
    }
    std::size_t duplicates() {
        std::lock_guard lock(m_mutex);
        return m_duplicates;
    }

private:
    std::mutex m_mutex;
    std::set<RecordId> m_held;
    std::map<RecordId, Bytes> m_bytes;
    LiveCallback m_watcher;
    bool m_measuring = false;
    std::vector<std::int64_t> m_latencies_ns;
    std::size_t m_duplicates = 0;
};

double percentile_ms(std::vector<std::int64_t> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    return static_cast<double>(v[i]) / 1e6;
}

[[noreturn]] void run_relay_child(const fs::path& dir, int out_fd, const Args& a) {
    auto store = RelayStore::open(dir, to_bytes("bench"), RelayKdf::fast, {});
    if (!store) {
        std::cerr << "relay store: " << store.error().what() << "\n";
        _exit(2);
    }
    RelayOptions options;
    options.max_sessions = a.clients + 64;
    options.per_address = a.clients + 64;
    options.per_prefix = a.clients + 64;
    bench::serve_relay_child(**store, options, out_fd, a.relay_threads);
}

template <class Pred>
bool wait_until(Pred pred, std::chrono::seconds limit) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const auto v = std::stoull(argv[i + 1]);
        if (k == "--clients")
            a.clients = v;
        else if (k == "--group-size")
            a.group_size = v;
        else if (k == "--initial")
            a.initial = v;
        else if (k == "--relay-threads")
            a.relay_threads = static_cast<unsigned>(v);
        else if (k == "--client-threads")
            a.client_threads = static_cast<unsigned>(v);
    }
    a.group_size = std::max<std::size_t>(2, std::min(a.group_size, a.clients));
    crypto::init();

    const fs::path dir =
        fs::temp_directory_path() / ("kolokol-relay-load-" + std::to_string(getpid()));
    fs::remove_all(dir);
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t child = fork();
    if (child == 0) {
        ::close(fds[0]);
        run_relay_child(dir, fds[1], a);
    }
    ::close(fds[1]);
    std::string address;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') address.push_back(c);
    ::close(fds[0]);
    if (address.empty()) {
        std::cerr << "the relay did not start\n";
        return 1;
    }
    auto parsed = Address::parse(address);
    if (!parsed) return 1;
    const auto rss_base = rss_kib(child);

    // Clients, their groups and their first envelopes.
    const std::size_t groups = (a.clients + a.group_size - 1) / a.group_size;
    std::vector<MailboxKey> keys;
    crypto::DeterministicRandom rng(42);
    for (std::size_t g = 0; g < groups; ++g) keys.push_back(MailboxKey::from_seed(rng.bytes(32)));
    std::vector<std::size_t> members(groups, 0);
    std::vector<std::unique_ptr<ClientReplica>> replicas;
    for (std::size_t i = 0; i < a.clients; ++i) {
        replicas.push_back(std::make_unique<ClientReplica>());
        const auto g = i % groups;
        ++members[g];
        for (std::size_t k = 0; k < a.initial; ++k)
            replicas[i]->write(keys[g].id, stamped_envelope(keys[g].id, rng, now_ns()));
    }

    asio::io_context io;
    auto work = asio::make_work_guard(io);
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < a.client_threads; ++t) threads.emplace_back([&] { io.run(); });

    std::vector<SyncStop> stops(a.clients);
    std::vector<std::int64_t> settle_ns(a.clients, 0);
    std::atomic<std::size_t> finished{0}, failed{0};
    std::vector<std::string> errors;
    std::mutex errors_mutex;
    auto local = crypto::box_keypair();
    const auto t0 = Clock::now();
    const auto start_ns = now_ns();
    for (std::size_t i = 0; i < a.clients; ++i) {
        SyncOptions options;
        options.live = true;
        options.stop = stops[i];
        options.connect.session.handshake_timeout = std::chrono::seconds(60);
        std::vector<MailboxKey> k;
        const auto& key = keys[i % groups];
        k.push_back(MailboxKey{key.id, key.public_key, key.secret_key.clone()});
        asio::co_spawn(asio::make_strand(io),
                       async_sync_with(*parsed, local, std::move(k), *replicas[i], options),
                       [&, i](std::exception_ptr e, Result<SyncReport> r) {
                           if (e || !r) {
                               ++failed;
                               std::lock_guard lock(errors_mutex);
                               if (errors.size() < 5)
                                   errors.push_back(e ? "exception" : r.error().what());
                           }
                           ++finished;
                           (void)i;
                       });
    }

    // Settled: each client holds every initial envelope of its group.
    std::vector<bool> settled(a.clients, false);
    std::size_t settled_count = 0;
    const bool all_settled = wait_until(
        [&] {
            for (std::size_t i = 0; i < a.clients; ++i) {
                if (settled[i]) continue;
                if (replicas[i]->held() >= members[i % groups] * a.initial) {
                    settled[i] = true;
                    settle_ns[i] = now_ns() - start_ns;
                    ++settled_count;
                }
            }
            return settled_count == a.clients || failed > 0;
        },
        std::chrono::seconds(300));
    const double initial_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto rss_sessions = rss_kib(child);

    // Live phase: every client writes one stamped envelope, paced over one second.
    for (auto& r : replicas) r->start_measuring();
    const auto t1 = Clock::now();
    for (std::size_t i = 0; i < a.clients; ++i) {
        const auto& key = keys[i % groups];
        replicas[i]->write(key.id, stamped_envelope(key.id, rng, now_ns()));
        std::this_thread::sleep_until(t1 +
                                      std::chrono::microseconds(1'000'000 * (i + 1) / a.clients));
    }
    std::size_t expected = 0;
    for (std::size_t i = 0; i < a.clients; ++i) expected += members[i % groups] - 1;
    auto delivered = [&] {
        std::size_t n = 0;
        for (auto& r : replicas) n += r->latencies().size();
        return n;
    };
    wait_until([&] { return delivered() >= expected || failed > 0; }, std::chrono::seconds(120));
    const auto rss_peak = rss_kib(child);

    std::vector<std::int64_t> live;
    std::size_t duplicates = 0;
    for (auto& r : replicas) {
        auto l = r->latencies();
        live.insert(live.end(), l.begin(), l.end());
        duplicates += r->duplicates();
    }
    std::vector<std::int64_t> settle(settle_ns.begin(), settle_ns.end());
    settle.erase(std::remove(settle.begin(), settle.end(), 0), settle.end());

    for (auto& s : stops) s.request();
    wait_until([&] { return finished == a.clients; }, std::chrono::seconds(60));
    work.reset();
    io.stop();
    for (auto& t : threads) t.join();
    kill(child, SIGTERM);
    int status = 0;
    waitpid(child, &status, 0);
    fs::remove_all(dir);

    nlohmann::json doc{{"benchmark", "relay_load"},
                       {"clients", a.clients},
                       {"group_size", a.group_size},
                       {"mailboxes", groups},
                       {"initial_envelopes_per_client", a.initial},
                       {"relay_threads", a.relay_threads},
                       {"client_threads", a.client_threads},
                       {"all_settled", all_settled},
                       {"initial_sync_seconds", initial_s},
                       {"initial_sync_latency_ms",
                        {{"p50", percentile_ms(settle, 0.5)},
                         {"p99", percentile_ms(settle, 0.99)},
                         {"max", percentile_ms(settle, 1.0)}}},
                       {"live_delivery_latency_ms",
                        {{"p50", percentile_ms(live, 0.5)},
                         {"p99", percentile_ms(live, 0.99)},
                         {"max", percentile_ms(live, 1.0)}}},
                       {"live_expected", expected},
                       {"live_delivered", live.size()},
                       {"lost", expected > live.size() ? expected - live.size() : 0},
                       {"duplicated", duplicates},
                       {"sessions_failed", failed.load()},
                       {"errors", errors},
                       {"relay_rss_kib",
                        {{"idle", rss_base}, {"sessions_open", rss_sessions}, {"peak", rss_peak}}},
                       {"relay_kib_per_session",
                        static_cast<double>(rss_sessions > rss_base ? rss_sessions - rss_base : 0) /
                            static_cast<double>(a.clients)}};
    std::cout << doc.dump(2) << "\n";
    return (failed == 0 && all_settled) ? 0 : 1;
}
