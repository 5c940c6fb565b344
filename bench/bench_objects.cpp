// Coordination objects: folding 100k changes (changes/s), building a case view with 10k
// timeline entries (ms), and attachment split + reassemble throughput (MB/s) beside
// crypto::xchacha_seal over the same bytes in the same run. Prints JSON.
// Usage: bench_objects [changes] [attachment MiB] [runs]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/objects/attachment.hpp"
#include "kolokol/objects/codec.hpp"
#include "kolokol/objects/object_set.hpp"
#include "kolokol/objects/views.hpp"

using namespace kolokol;
using namespace kolokol::objects;
using Clock = std::chrono::steady_clock;

namespace {

using bench::seconds_since;

// CPU time of this thread: on a loaded machine wall-clock rates mostly measure the neighbours,
// so each figure is reported both ways.
double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Stopwatch {
    Clock::time_point wall = Clock::now();
    double cpu = cpu_now();
    double wall_s() const { return seconds_since(wall); }
    double cpu_s() const { return cpu_now() - cpu; }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

RecordId rid(crypto::Random& rng) {
    return rng.array<32>();
}

// A realistic mix over 1,000 objects: field edits by 16 authors with colliding Lamport
// values, timeline and ledger appends, RSVPs; delivered in a random order.
std::vector<Change> make_changes(std::size_t count, crypto::Random& rng) {
    std::vector<MemberKey> authors(16);
    for (auto& a : authors) a = rng.array<32>();
    std::vector<Change> out;
    out.reserve(count);
    std::vector<std::pair<RecordId, std::string>> objects;
    const std::size_t n_objects = std::max<std::size_t>(1, count / 100);
    for (std::size_t i = 0; i < n_objects; ++i) {
        Change c;
        c.record_id = rid(rng);
        c.author = authors[rng.uniform(authors.size())];
        c.lamport = 1;
        c.type = i % 4 == 0 ? "event" : "case";
        if (c.type == "case")
            c.fields = {{"person", "person " + std::to_string(i)}};
        else
            c.fields = {{"title", "event " + std::to_string(i)}};
        objects.emplace_back(c.record_id, c.type);
        out.push_back(std::move(c));
    }
    static const char* kStatus[] = {"detained", "charged", "in_court", "released"};
    while (out.size() < count) {
        const auto& [obj, type] = objects[rng.uniform(objects.size())];
        Change c;
        c.record_id = rid(rng);
        c.author = authors[rng.uniform(authors.size())];
        c.lamport = 2 + rng.uniform(500);
        c.wall_clock_ms = 1'700'000'000'000 + static_cast<std::int64_t>(c.lamport) * 1000;
        c.type = type;
        c.object_id = obj;
        const auto pick = rng.uniform(4);
        if (type == "event") {
            if (pick < 2)
                c.fields = {{"status", pick ? "confirmed" : "planned"}};
            else
                c.append = ListAppend{"rsvp", {{"answer", pick == 2 ? "yes" : "no"}}};
        } else if (pick == 0) {
            c.fields = {{"status", kStatus[rng.uniform(4)]},
                        {"lawyer", "lawyer " + std::to_string(rng.uniform(50))}};
        } else if (pick == 1) {
            c.append = ListAppend{
                "timeline",
                {{"text", "moved to another cell, parcel passed"}, {"at", "2024-03-01T18:30:00Z"}}};
        } else if (pick == 2) {
            c.append = ListAppend{"ledger",
                                  {{"amount", std::to_string(1 + rng.uniform(10000)) + ".50"},
                                   {"currency", "EUR"},
                                   {"direction", "paid"}}};
        } else {
            c.fields = {{"charges", "art. 20.2 part 5"}};
        }
        out.push_back(std::move(c));
    }
    for (std::size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[rng.uniform(i)]);
    return out;
}

nlohmann::json bench_fold(std::size_t count, int runs) {
    crypto::DeterministicRandom rng(1);
    const auto changes = make_changes(count, rng);
    std::vector<double> rates, cpu_rates;
    std::size_t pending = 0, objects = 0;
    for (int r = 0; r < runs; ++r) {
        auto copy = changes;  // apply() takes changes by value; copying is not part of the fold
        ObjectSet set;
        const Stopwatch sw;
        for (auto& c : copy) {
            if (!set.apply(std::move(c))) std::abort();
        }
        rates.push_back(static_cast<double>(count) / sw.wall_s());
        cpu_rates.push_back(static_cast<double>(count) / sw.cpu_s());
        pending = set.pending_count();
        objects = set.object_count();
    }
    return {{"changes", count},
            {"objects", objects},
            {"pending_after", pending},
            {"changes_per_s_median", median(rates)},
            {"changes_per_cpu_s_median", median(cpu_rates)},
            {"changes_per_s_runs", rates}};
}

nlohmann::json bench_case_view(std::size_t entries, int runs) {
    crypto::DeterministicRandom rng(2);
    ObjectSet set;
    Change create;
    create.record_id = rid(rng);
    create.author = rng.array<32>();
    create.lamport = 1;
    create.type = "case";
    create.fields = {{"person", "Ivan Petrov"}, {"status", "detained"}};
    const auto id = create.record_id;
    if (!set.apply(create)) std::abort();
    for (std::size_t i = 0; i < entries; ++i) {
        Change c;
        c.record_id = rid(rng);
        c.author = create.author;
        c.lamport = 2 + i;
        c.type = "case";
        c.object_id = id;
        c.append = ListAppend{"timeline",
                              {{"text", "entry " + std::to_string(i) +
                                            ": transferred to court, lawyer present, next "
                                            "hearing scheduled"},
                               {"at", "2024-03-01T18:30:00Z"}}};
        if (!set.apply(std::move(c))) std::abort();
    }
    std::vector<double> view_ms, view_cpu_ms, history_ms, history_cpu_ms;
    std::size_t items = 0;
    for (int r = 0; r < runs; ++r) {
        Stopwatch sw;
        auto v = set.view(id);
        view_ms.push_back(sw.wall_s() * 1e3);
        view_cpu_ms.push_back(sw.cpu_s() * 1e3);
        items = v->list("timeline").size();
        sw = Stopwatch{};
        auto h = set.history(id);
        history_ms.push_back(sw.wall_s() * 1e3);
        history_cpu_ms.push_back(sw.cpu_s() * 1e3);
        if (h.size() != entries + 3) std::abort();
    }
    return {{"timeline_entries", items},
            {"view_ms_median", median(view_ms)},
            {"view_cpu_ms_median", median(view_cpu_ms)},
            {"history_ms_median", median(history_ms)},
            {"history_cpu_ms_median", median(history_cpu_ms)}};
}

nlohmann::json bench_attachment(std::size_t mib, int runs) {
    crypto::DeterministicRandom rng(3);
    const Bytes data = rng.bytes(mib << 20);
    const double mb = static_cast<double>(data.size()) / 1e6;
    std::vector<double> split, join, both, seal, sha;  // wall MB/s
    std::vector<double> both_cpu, seal_cpu, sha_cpu;   // MB per CPU second
    const AttachmentId aid = rng.array<16>();
    for (int r = 0; r < runs; ++r) {
        // Split: each chunk encoded as its record payload and kept, as a store would.
        std::map<RecordId, Bytes> store;
        std::uint64_t next = 0;
        Stopwatch sw;
        AttachmentWriter w(aid, "evidence.mp4", "video/mp4",
                           [&](const AttachmentChunk& chunk) -> Result<RecordId> {
                               RecordId id{};
                               for (int i = 0; i < 8; ++i)
                                   id[i] = static_cast<std::uint8_t>(next >> (8 * i));
                               ++next;
                               store[id] = encode_chunk(chunk);
                               return id;
                           });
        if (!w.write(data)) std::abort();
        auto manifest = w.finish();
        if (!manifest) std::abort();
        const double split_s = sw.wall_s(), split_cpu = sw.cpu_s();

        sw = Stopwatch{};
        auto reader = AttachmentReader::open(*manifest);
        std::size_t out = 0;
        auto ok = reader->read(
            [&](std::uint32_t, const RecordId& id) -> std::optional<AttachmentChunk> {
                auto it = store.find(id);
                if (it == store.end()) return std::nullopt;
                auto c = decode_chunk(it->second);
                if (!c) return std::nullopt;
                return std::move(*c);
            },
            [&](ByteView b) -> Status {
                out += b.size();
                return {};
            });
        const double join_s = sw.wall_s(), join_cpu = sw.cpu_s();
        if (!ok || out != data.size()) std::abort();
        split.push_back(mb / split_s);
        join.push_back(mb / join_s);
        both.push_back(mb / (split_s + join_s));
        both_cpu.push_back(mb / (split_cpu + join_cpu));

        // The same bytes through XChaCha20-Poly1305, chunk by chunk, as sealing records would.
        const auto key = rng.bytes(32);
        const auto nonce = rng.bytes(24);
        std::size_t sealed = 0;
        sw = Stopwatch{};
        for (std::size_t off = 0; off < data.size(); off += kMaxChunkBytes) {
            const auto n = std::min(kMaxChunkBytes, data.size() - off);
            sealed += crypto::xchacha_seal(key, nonce, {}, ByteView(data).subspan(off, n)).size();
        }
        seal.push_back(mb / sw.wall_s());
        seal_cpu.push_back(mb / sw.cpu_s());
        if (sealed < data.size()) std::abort();

        // SHA-256 alone: splitting and reassembling each hash the whole file once (the
        // manifest's checksum), which bounds the pair at half this rate.
        sw = Stopwatch{};
        const auto digest = crypto::sha256(data);
        sha.push_back(mb / sw.wall_s());
        sha_cpu.push_back(mb / sw.cpu_s());
        if (digest != manifest->sha256) std::abort();
    }
    return {{"bytes", data.size()},
            {"chunks", (data.size() + kMaxChunkBytes - 1) / kMaxChunkBytes},
            {"split_mb_per_s", median(split)},
            {"reassemble_mb_per_s", median(join)},
            {"split_plus_reassemble_mb_per_s", median(both)},
            {"xchacha_seal_mb_per_s", median(seal)},
            {"sha256_mb_per_s", median(sha)},
            {"ratio_to_xchacha_seal", median(both) / median(seal)},
            {"cpu",
             {{"split_plus_reassemble_mb_per_cpu_s", median(both_cpu)},
              {"xchacha_seal_mb_per_cpu_s", median(seal_cpu)},
              {"sha256_mb_per_cpu_s", median(sha_cpu)},
              {"ratio_to_xchacha_seal", median(both_cpu) / median(seal_cpu)},
              {"ratio_to_half_sha256", median(both_cpu) / (median(sha_cpu) / 2)}}}};
}

}  // namespace

int main(int argc, char** argv) {
    crypto::init();
    const std::size_t changes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
    const std::size_t mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64;
    const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
    if (changes == 0 || mib == 0 || mib > kMaxAttachmentBytes >> 20 || runs <= 0) {
        std::fprintf(stderr, "usage: bench_objects [changes] [attachment MiB <= 72] [runs]\n");
        return 2;
    }
    double load = 0;
    if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf", &load) != 1) load = -1;
        std::fclose(f);
    }
    nlohmann::json out = {{"bench", "objects"},
                          {"runs", runs},
                          {"loadavg_1m", load},
                          {"fold", bench_fold(changes, runs)},
                          {"case_view", bench_case_view(10'000, runs)},
                          {"attachment", bench_attachment(mib, runs)}};
    std::puts(out.dump(2).c_str());
    return 0;
}
