// Ingest benchmark (issue: foundation). Prints JSON:
//  - seal and open rates of records beside raw libsodium Ed25519 sign/verify in the same run;
//  - ingest of N records (default 100k) in batches of 1000, records/s, and its ratio to
//    verify rate × threads used (target ≥ 0.70), and the store's bytes on disk per record
//    beside the envelope's (target ≤ 1.5×);
//  - unlock time with the tuned KDF, and the open time of the N-record store.
// Usage: bench_ingest [N]
// With KOLOKOL_BENCH_PERF_CTL set to the control fifo of `perf record --control fifo:PATH -D -1`,
// only the ingest is recorded. With KOLOKOL_BENCH_DEFER=1 the reader ingests as `kolokol sync`
// does (Node::defer_durability: commits reach the log without an fsync each, and the one at
// the end, end_deferred_durability, is timed too).

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "node_impl.hpp"

namespace kolokol::core {
struct NodeTestAccess {
    static Node::Impl& impl(Node& n) { return *n.m_impl; }
};
}  // namespace kolokol::core

using namespace kolokol;
using namespace kolokol::core;
using Clock = std::chrono::steady_clock;

namespace {
// Tells a waiting `perf record --control fifo:...` to start or stop recording.
void perf_control(const char* command) {
    const char* path = std::getenv("KOLOKOL_BENCH_PERF_CTL");
    if (path == nullptr) return;
    if (std::FILE* f = std::fopen(path, "w")) {
        std::fprintf(f, "%s\n", command);
        std::fclose(f);
    }
}

// User and system CPU time of the whole process (every thread), in seconds.
double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

// Bytes this process has passed to write calls so far (/proc/self/io wchar): the log, the
// database at checkpoints, and nothing else during ingest.
double written_bytes() {
    std::FILE* f = std::fopen("/proc/self/io", "r");
    if (f == nullptr) return 0;
    char line[128];
    double out = 0;
    while (std::fgets(line, sizeof line, f) != nullptr)
        if (std::sscanf(line, "wchar: %lf", &out) == 1) break;
    std::fclose(f);
    return out;
}

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::unique_ptr<Node> make(const std::filesystem::path& home, const char* name, KdfProfile kdf) {
    InitOptions o;
    o.display_name = name;
    o.passphrase = as_bytes("bench passphrase");
    o.kdf = kdf;
    if (!Node::init(home, o)) std::abort();
    return std::move(*Node::open(home, as_bytes("bench passphrase")));
}
}  // namespace

int main(int argc, char** argv) {
    crypto::init();
    std::size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
    auto dir =
        std::filesystem::temp_directory_path() / ("kolokol-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    nlohmann::json out;
    out["records"] = n;

    // Raw libsodium rates on a message of a record's size.
    auto kp = crypto::sign_keypair();
    auto msg = crypto::system_random().bytes(200);
    const int kRaw = 20000;
    auto t = Clock::now();
    crypto::Signature sig{};
    for (int i = 0; i < kRaw; ++i) sig = crypto::sign_raw(kp.secret_key, msg);
    double sign_rate = kRaw / seconds_since(t);
    t = Clock::now();
    for (int i = 0; i < kRaw; ++i)
        if (!crypto::verify_raw(kp.public_key, msg, sig)) std::abort();
    double verify_rate = kRaw / seconds_since(t);

    auto writer = make(dir / "w", "Writer", KdfProfile::fast);
    auto reader = make(dir / "r", "Reader", KdfProfile::fast);
    auto group = *writer->create_group("Bench");
    auto token = *writer->add_member(group, card_to_text(reader->card()), false, true);
    if (!reader->join(token)) std::abort();
    auto& w = NodeTestAccess::impl(*writer);

    // A chain of N messages by the writer, sealed without storing them on the writer's side.
    pb::RecordBody body;
    body.mutable_message()->set_text(std::string(120, 'x'));
    auto epoch = *w.prepare(group, body, std::nullopt);
    std::vector<Bytes> envelopes;
    envelopes.reserve(n);
    for (const auto& mb : writer->mailboxes(&group)) {
        auto ids = writer->envelope_ids(mb);
        for (const auto& id : *ids) envelopes.push_back(**writer->envelope(id));
    }
    const std::size_t setup = envelopes.size();
    t = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        envelopes.push_back(w.seal(body, epoch));
        auto id = storage::record_id_of(envelopes.back());
        body.mutable_prev()->set_id(to_string(id));
        body.mutable_prev()->set_epoch_id(to_string(epoch));
        body.clear_parents();
        auto* p = body.add_parents();
        p->set_id(to_string(id));
        p->set_epoch_id(to_string(epoch));
        body.set_seq(body.seq() + 1);
        body.set_lamport(body.lamport() + 1);
    }
    double seal_rate = n / seconds_since(t);

    const auto* keys = w.keys_for_epoch(epoch);
    t = Clock::now();
    for (std::size_t i = setup; i < setup + std::min<std::size_t>(n, 20000); ++i)
        if (!open_record(envelopes[i], *keys)) std::abort();
    double open_rate = std::min<std::size_t>(n, 20000) / seconds_since(t);

    unsigned threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
    const bool defer = std::getenv("KOLOKOL_BENCH_DEFER") != nullptr;
    out["ingest_deferred_durability"] = defer;
    perf_control("enable");
    const double cpu_before = cpu_seconds();
    const double written_before = written_bytes();
    t = Clock::now();
    if (defer && !reader->defer_durability()) std::abort();
    std::size_t added = 0;
    for (std::size_t at = 0; at < envelopes.size(); at += 1000) {
        std::vector<Bytes> batch(
            envelopes.begin() + static_cast<std::ptrdiff_t>(at),
            envelopes.begin() + static_cast<std::ptrdiff_t>(std::min(envelopes.size(), at + 1000)));
        auto r = reader->ingest(batch);
        if (!r) {
            std::fprintf(stderr, "ingest failed: %s\n", r.error().what().c_str());
            return 1;
        }
        added += r->added;
    }
    if (defer && !reader->end_deferred_durability()) std::abort();
    double ingest_seconds = seconds_since(t);
    const double ingest_cpu = cpu_seconds() - cpu_before;
    const double ingest_written = written_bytes() - written_before;
    perf_control("disable");
    double ingest_rate = added / ingest_seconds;
    reader.reset();
    // The store's file once closed (the log is checkpointed into it), per record, beside the
    // envelopes it holds.
    std::uintmax_t disk = 0;
    for (const char* f : {"store.db", "store.db-wal"})
        if (std::filesystem::exists(dir / "r" / f))
            disk += std::filesystem::file_size(dir / "r" / f);
    std::size_t envelope_bytes = 0;
    for (const auto& e : envelopes) envelope_bytes += e.size();

    t = Clock::now();
    auto reopened = Node::open(dir / "r", as_bytes("bench passphrase"));
    auto last = (*reopened)->messages(group, 20);
    double open_store_ms = seconds_since(t) * 1000;
    if (!last || last->empty()) std::abort();
    reopened->reset();

    // Unlock with the default (tuned) cost: both slot derivations.
    auto tuned = make(dir / "tuned", "Tuned", KdfProfile::tuned);
    tuned.reset();
    t = Clock::now();
    auto unlocked = Node::open(dir / "tuned", as_bytes("bench passphrase"));
    double unlock_ms = seconds_since(t) * 1000;
    if (!unlocked) std::abort();

    out["raw_sign_per_s"] = sign_rate;
    out["raw_verify_per_s"] = verify_rate;
    out["seal_per_s"] = seal_rate;
    out["seal_vs_raw_sign"] = seal_rate / sign_rate;
    out["open_per_s"] = open_rate;
    out["open_vs_raw_verify"] = open_rate / verify_rate;
    out["ingest_threads"] = threads;
    out["ingest_records_added"] = added;
    out["ingest_seconds"] = ingest_seconds;
    out["ingest_per_s"] = ingest_rate;
    // CPU time per record (all threads) and the cores used on average: on a shared machine the
    // rate falls with the CPU others take, the CPU per record does not.
    out["ingest_cpu_us_per_record"] = ingest_cpu * 1e6 / static_cast<double>(added);
    out["ingest_cores_used"] = ingest_cpu / ingest_seconds;
    // What ingest wrote to files per record (the log and the checkpoints into the database).
    out["ingest_written_bytes_per_record"] = ingest_written / static_cast<double>(added);
    // The rate the CPU per record allows on `threads` cores of our own, beside verify × threads.
    out["ingest_cpu_bound_vs_verify_x_threads"] =
        (threads / ingest_cpu * static_cast<double>(added)) / (verify_rate * threads);
    out["ingest_vs_verify_x_threads"] = ingest_rate / (verify_rate * threads);
    out["ingest_target"] = 0.70;
    out["disk_bytes"] = disk;
    out["disk_bytes_per_record"] =
        static_cast<double>(disk) / static_cast<double>(envelopes.size());
    out["envelope_bytes_per_record"] =
        static_cast<double>(envelope_bytes) / static_cast<double>(envelopes.size());
    out["disk_vs_envelope"] = static_cast<double>(disk) / static_cast<double>(envelope_bytes);
    out["disk_target"] = 1.5;
    out["open_store_ms"] = open_store_ms;
    out["unlock_tuned_ms"] = unlock_ms;
    std::printf("%s\n", out.dump(2).c_str());
    std::filesystem::remove_all(dir);
    return 0;
}
