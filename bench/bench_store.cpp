// Storage benchmarks (DESIGN §10): SQLCipher's overhead over plain SQLite on the same bulk
// insert, the unlock time with tuned Argon2id parameters, and the time to open a 100k-record
// store. Prints one JSON object.
//
//   bench_store [--rows N] [--batches N,N,...] [--rounds N] [--unlock-ms N] [--dir PATH]
//
// Each batch size is one row of "insert": the same corpus inserted into a fresh plain and a
// fresh encrypted store, alternately, `rounds` times; the best round of each counts. Both wall
// time (which includes the fsync of every commit) and process CPU time (which other load on the
// machine disturbs least) are reported. Overhead = time(SQLCipher) / time(plain) - 1.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/envelope_store.hpp"
#include "kolokol/storage/keyfile.hpp"

using namespace kolokol;
using namespace kolokol::storage;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::size_t rows = 100'000;
    std::vector<std::size_t> batches{1'000, 5'000};
    int rounds = 3;
    int unlock_ms = 500;
    std::filesystem::path dir;
};

double cpu_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

[[noreturn]] void die(std::string_view what, const Error& e) {
    std::fprintf(stderr, "bench_store: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
                 e.what().c_str());
    std::exit(1);
}

template <class T>
T must(Result<T> r, std::string_view what) {
    if (!r) die(what, r.error());
    return std::move(*r);
}
void must(Status s, std::string_view what) {
    if (!s) die(what, s.error());
}

// 100k envelopes of ~400 bytes over 64 mailboxes, as a relay would receive them.
struct Corpus {
    std::vector<Bytes> bytes;
    std::vector<StoredEnvelope> envelopes;
};

Corpus make_corpus(std::size_t rows) {
    crypto::DeterministicRandom rng(2024);
    std::vector<MailboxId> mailboxes(64);
    for (auto& m : mailboxes) m = rng.array<32>();
    Corpus c;
    c.bytes.reserve(rows);
    c.envelopes.reserve(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        const auto& mb = mailboxes[i % mailboxes.size()];
        Bytes b{kEnvelopeVersion};
        append(b, mb);
        append(b, rng.bytes(24 + 323 + rng.uniform(40)));  // 380..419 bytes in all
        c.bytes.push_back(std::move(b));
        c.envelopes.push_back(
            {record_id_of(c.bytes.back()), mb, c.bytes.back(), static_cast<std::int64_t>(i), 0});
    }
    return c;
}

Database open_fresh(const std::filesystem::path& path, const crypto::SecretBytes* key) {
    for (auto suffix : {"", "-wal", "-shm"}) {
        std::filesystem::path p = path;
        p += suffix;
        std::filesystem::remove(p);
    }
    auto db = key ? Database::open(path, *key, true) : Database::open_plain(path, true);
    auto out = must(std::move(db), "open");
    must(EnvelopeStore::migrate(out), "migrate");
    return out;
}

struct Timing {
    double wall_ms = 1e300;
    double cpu_ms = 1e300;
    void keep_best(const Timing& t) {
        wall_ms = std::min(wall_ms, t.wall_ms);
        cpu_ms = std::min(cpu_ms, t.cpu_ms);
    }
};

// Inserts the corpus in transactions of `batch` envelopes. Wall time includes the fsync at every
// commit; CPU time is what encryption adds to and what other load on the machine disturbs least.
Timing bulk_insert(Database& db, const Corpus& corpus, std::size_t batch) {
    EnvelopeStore store(db);
    std::span<const StoredEnvelope> all(corpus.envelopes);
    auto start = Clock::now();
    const double cpu_start = cpu_ms();
    for (std::size_t at = 0; at < all.size(); at += batch) {
        auto tx = must(db.begin(), "begin");
        auto added = must(store.put(all.subspan(at, std::min(batch, all.size() - at))), "put");
        must(tx.commit(), "commit");
        (void)added;
    }
    return {ms_since(start), cpu_ms() - cpu_start};
}

// The same rows into one append-only table without indexes: SQLCipher's overhead when each
// commit dirties only the pages its rows fill, for comparison with the real schema, whose
// random-keyed id index dirties about one more page per row at this size.
Timing bulk_insert_append_only(Database& db, const Corpus& corpus, std::size_t batch) {
    must(db.exec("CREATE TABLE IF NOT EXISTS t(id BLOB, mailbox BLOB, bytes BLOB)"), "create");
    auto start = Clock::now();
    const double cpu_start = cpu_ms();
    Statement* insert = must(db.cached("INSERT INTO t VALUES(?, ?, ?)"), "prepare");
    for (std::size_t at = 0; at < corpus.envelopes.size(); at += batch) {
        auto tx = must(db.begin(), "begin");
        const std::size_t end = std::min(at + batch, corpus.envelopes.size());
        for (std::size_t i = at; i < end; ++i) {
            const auto& e = corpus.envelopes[i];
            insert->reset();
            insert->bind(1, e.id).bind(2, e.mailbox).bind(3, e.bytes);
            must(insert->step(), "insert");
        }
        must(tx.commit(), "commit");
    }
    return {ms_since(start), cpu_ms() - cpu_start};
}

std::vector<std::size_t> parse_list(const std::string& text) {
    std::vector<std::size_t> out;
    std::size_t at = 0;
    while (at <= text.size()) {
        auto comma = text.find(',', at);
        if (comma == std::string::npos) comma = text.size();
        out.push_back(std::stoul(text.substr(at, comma - at)));
        at = comma + 1;
    }
    return out;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string_view flag = argv[i];
        std::string value = argv[i + 1];
        if (flag == "--rows")
            o.rows = std::stoul(value);
        else if (flag == "--batches")
            o.batches = parse_list(value);
        else if (flag == "--rounds")
            o.rounds = std::stoi(value);
        else if (flag == "--unlock-ms")
            o.unlock_ms = std::stoi(value);
        else if (flag == "--dir")
            o.dir = value;
        else {
            std::fprintf(stderr, "bench_store: unknown flag %s\n", argv[i]);
            std::exit(2);
        }
    }
    if (o.rows == 0 || o.batches.empty() || std::ranges::count(o.batches, 0u) > 0 ||
        o.rounds <= 0 || o.unlock_ms <= 0) {
        std::fprintf(stderr, "bench_store: counts must be positive\n");
        std::exit(2);
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    crypto::init();
    Options opt = parse(argc, argv);
    bool own_dir = opt.dir.empty();
    if (own_dir) {
        std::string tmpl = (std::filesystem::temp_directory_path() / "bench-store-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) return 1;
        opt.dir = tmpl;
    }
    std::filesystem::create_directories(opt.dir);

    crypto::SecretBytes key(kDatabaseKeyBytes);
    crypto::system_random().fill(key.mutable_view());
    const Corpus corpus = make_corpus(opt.rows);
    std::size_t corpus_bytes = 0;
    for (const auto& b : corpus.bytes) corpus_bytes += b.size();

    auto rate = [&](double ms) { return static_cast<double>(opt.rows) / (ms / 1000.0); };
    auto pct = [](double slow, double base) { return (slow / base - 1.0) * 100.0; };
    const auto plain_path = opt.dir / "plain.db";
    const auto cipher_path = opt.dir / "cipher.db";
    nlohmann::json inserts = nlohmann::json::array();
    for (std::size_t batch : opt.batches) {
        // Alternate the two so that background load hits both alike.
        Timing plain;
        Timing cipher;
        Timing plain_append;
        Timing cipher_append;
        for (int round = 0; round < opt.rounds; ++round) {
            {
                auto db = open_fresh(plain_path, nullptr);
                plain.keep_best(bulk_insert(db, corpus, batch));
            }
            {
                auto db = open_fresh(cipher_path, &key);
                cipher.keep_best(bulk_insert(db, corpus, batch));
            }
            {
                auto db = open_fresh(opt.dir / "plain_append.db", nullptr);
                plain_append.keep_best(bulk_insert_append_only(db, corpus, batch));
            }
            {
                auto db = open_fresh(opt.dir / "cipher_append.db", &key);
                cipher_append.keep_best(bulk_insert_append_only(db, corpus, batch));
            }
        }
        // Once with SQLite's default cache (2000 KiB), to show why the store sets 128 MiB.
        Timing small_cache;
        {
            auto db = open_fresh(opt.dir / "small.db", &key);
            must(db.exec("PRAGMA cache_size = -2000"), "cache_size");
            small_cache = bulk_insert(db, corpus, batch);
        }
        inserts.push_back({
            {"batch", batch},
            {"plain_rows_per_s", rate(plain.wall_ms)},
            {"sqlcipher_rows_per_s", rate(cipher.wall_ms)},
            {"sqlcipher_overhead_pct", pct(cipher.wall_ms, plain.wall_ms)},
            {"plain_cpu_rows_per_s", rate(plain.cpu_ms)},
            {"sqlcipher_cpu_rows_per_s", rate(cipher.cpu_ms)},
            {"sqlcipher_cpu_overhead_pct", pct(cipher.cpu_ms, plain.cpu_ms)},
            {"sqlcipher_default_cache_rows_per_s", rate(small_cache.wall_ms)},
            {"sqlcipher_default_cache_overhead_pct", pct(small_cache.wall_ms, plain.wall_ms)},
            {"sqlcipher_default_cache_cpu_overhead_pct", pct(small_cache.cpu_ms, plain.cpu_ms)},
            {"append_only_table",
             {{"plain_rows_per_s", rate(plain_append.wall_ms)},
              {"sqlcipher_rows_per_s", rate(cipher_append.wall_ms)},
              {"sqlcipher_overhead_pct", pct(cipher_append.wall_ms, plain_append.wall_ms)},
              {"sqlcipher_cpu_overhead_pct", pct(cipher_append.cpu_ms, plain_append.cpu_ms)}}},
        });
    }

    // Open a 100k-record store: open (key, settings, sqlite_master) + migrate check + first
    // lookup. The file is in the OS page cache, as right after unlocking a recently used store.
    double open_ms = 1e300;
    for (int round = 0; round < 5; ++round) {
        auto start = Clock::now();
        auto db = must(Database::open(cipher_path, key, false), "reopen");
        must(EnvelopeStore::migrate(db), "migrate");
        EnvelopeStore store(db);
        auto found = must(store.contains(corpus.envelopes[opt.rows / 2].id), "contains");
        open_ms = std::min(open_ms, ms_since(start));
        if (!found) die("reopen", Error{make_error_code(StorageErrc::corrupt), "row missing"});
    }

    // Unlock with parameters tuned on this machine for ~unlock_ms per derivation.
    auto tune_start = Clock::now();
    auto params = tune_argon2(std::chrono::milliseconds(opt.unlock_ms));
    const double tune_ms = ms_since(tune_start);
    const auto key_path = opt.dir / "key";
    std::filesystem::remove(key_path);
    must(KeyFile::create(key_path, as_bytes("bench passphrase"), as_bytes("bench duress"), params),
         "create key file");
    double unlock_ms = 1e300;
    for (int round = 0; round < 2; ++round) {
        auto start = Clock::now();
        auto u = must(KeyFile::unlock(key_path, as_bytes("bench passphrase")), "unlock");
        unlock_ms = std::min(unlock_ms, ms_since(start));
    }

    nlohmann::json out = {
        {"rows", opt.rows},
        {"rounds", opt.rounds},
        {"avg_envelope_bytes", static_cast<double>(corpus_bytes) / static_cast<double>(opt.rows)},
        {"insert", inserts},
        {"target_overhead_pct", 15},
        {"open_store_ms", open_ms},
        {"open_store_records", opt.rows},
        {"unlock",
         {{"target_per_derivation_ms", opt.unlock_ms},
          {"opslimit", params.opslimit},
          {"memlimit_mib", params.memlimit >> 20},
          {"tune_ms", tune_ms},
          {"unlock_both_slots_ms", unlock_ms}}},
        {"database_file_mib",
         static_cast<double>(std::filesystem::file_size(cipher_path)) / (1 << 20)},
    };
    std::cout << out.dump(2) << "\n";

    if (own_dir) std::filesystem::remove_all(opt.dir);
    return 0;
}
