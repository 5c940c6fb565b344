// Coordination objects through a real Node (SQLCipher store, signed records, ingest):
// `case show` on a case with many timeline entries (the fold rebuilt from the records table, and
// served from the cached fold), object changes written per second, and attachment throughput in
// (attach_file) and out (read_attachment) beside raw XChaCha20-Poly1305 over the same bytes in
// 48 KiB pieces in the same run. Prints JSON.
// Usage: bench_node_objects [timeline entries] [attachment MiB] [runs]

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kolokol/core/node.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "node_impl.hpp"

namespace kolokol::core {
struct NodeTestAccess {
    static Node::Impl& impl(Node& n) { return *n.m_impl; }
};
}  // namespace kolokol::core

using namespace kolokol;
using namespace kolokol::core;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
struct Stopwatch {
    Clock::time_point wall = Clock::now();
    double cpu = cpu_now();
    double wall_s() const { return std::chrono::duration<double>(Clock::now() - wall).count(); }
    double cpu_s() const { return cpu_now() - cpu; }
};
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}
[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_node_objects: %s\n", what.c_str());
    std::exit(1);
}
template <class T>
T ok(Result<T> r, const char* what) {
    if (!r) die(std::string(what) + ": " + r.error().what());
    return std::move(*r);
}

}  // namespace

int main(int argc, char** argv) {
    crypto::init();
    const std::size_t entries = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
    const std::size_t mib = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 64;
    const int runs = argc > 3 ? std::atoi(argv[3]) : 5;

    auto dir = fs::temp_directory_path() / ("kolokol-bench-objects-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const std::string pass = "bench passphrase";
    InitOptions init;
    init.display_name = "Bench";
    init.passphrase = as_bytes(pass);
    init.kdf = KdfProfile::fast;
    if (!Node::init(dir / "home", init)) die("init");
    auto node = ok(Node::open(dir / "home", as_bytes(pass)), "open");
    auto group = ok(node->create_group("Bench"), "group");

    ObjectEdit open;
    open.type = "case";
    open.set = {{"person", "Ivan Petrov"}, {"status", "detained"}};
    auto case_id = ok(node->object_change(group, open), "case open");
    Stopwatch write;
    for (std::size_t i = 0; i < entries; ++i) {
        ObjectEdit e;
        e.type = "case";
        e.object = case_id;
        if (i % 10 == 9)
            e.append = objects::ListAppend{
                "ledger", {{"amount", "12.50"}, {"currency", "EUR"}, {"direction", "paid"}}};
        else
            e.append = objects::ListAppend{"timeline", {{"text", "entry " + std::to_string(i)}}};
        (void)ok(node->object_change(group, e), "change");
    }
    double write_s = write.wall_s(), write_cpu = write.cpu_s();

    auto& impl = NodeTestAccess::impl(*node);
    std::vector<double> cold, cold_cpu, warm;
    std::size_t shown = 0;
    for (int r = 0; r < runs; ++r) {
        impl.object_sets.clear();  // as after any object record arrives: the fold is rebuilt
        Stopwatch s;
        auto cv = ok(node->case_view(group, case_id), "case_view");
        cold.push_back(s.wall_s() * 1000);
        cold_cpu.push_back(s.cpu_s() * 1000);
        shown = cv.object.list("timeline").size() + cv.object.list("ledger").size();
        Stopwatch w;
        (void)ok(node->case_view(group, case_id), "case_view");
        warm.push_back(w.wall_s() * 1000);
    }

    // Attachments: a file of `mib` MiB in, then out to a sink that drops the bytes.
    auto file = dir / "file.bin";
    {
        std::ofstream out(file, std::ios::binary);
        Bytes block(1 << 20);
        for (std::size_t i = 0; i < mib; ++i) {
            crypto::system_random().fill(block);
            out.write(reinterpret_cast<const char*>(block.data()),
                      static_cast<std::streamsize>(block.size()));
        }
    }
    const double mb = static_cast<double>(mib << 20) / 1e6;
    Stopwatch in;
    auto info = ok(node->attach_file(group, file, AttachOptions{}), "attach");
    double in_s = in.wall_s(), in_cpu = in.cpu_s();
    std::uint64_t got = 0;
    Stopwatch outw;
    auto read = node->read_attachment(group, info.manifest_id, [&](ByteView d) -> Status {
        got += d.size();
        return {};
    });
    if (!read) die("read: " + read.error().message);
    double out_s = outw.wall_s(), out_cpu = outw.cpu_s();
    if (got != info.size) die("short read");

    // Raw XChaCha20-Poly1305 over the same amount, in the same 48 KiB pieces.
    Bytes key(32), nonce(24), piece(48 * 1024);
    crypto::system_random().fill(key);
    crypto::system_random().fill(piece);
    Stopwatch raw;
    std::size_t pieces = (mib << 20) / piece.size();
    std::size_t sink = 0;
    for (std::size_t i = 0; i < pieces; ++i) {
        nonce[0] = static_cast<std::uint8_t>(i);
        auto ct = crypto::xchacha_seal(key, nonce, {}, piece);
        sink += ct.size();
    }
    double raw_s = raw.wall_s(), raw_cpu = raw.cpu_s();

    nlohmann::json j = {
        {"benchmark", "node_objects"},
        {"timeline_entries", entries},
        {"entries_shown", shown},
        {"object_changes_written_per_s", entries / write_s},
        {"object_changes_written_per_cpu_s", entries / write_cpu},
        {"case_show_cold_ms_median", median(cold)},
        {"case_show_cold_cpu_ms_median", median(cold_cpu)},
        {"case_show_cached_ms_median", median(warm)},
        {"attachment_mib", mib},
        {"attach_in_mb_per_s", mb / in_s},
        {"attach_in_mb_per_cpu_s", mb / in_cpu},
        {"read_out_mb_per_s", mb / out_s},
        {"read_out_mb_per_cpu_s", mb / out_cpu},
        {"raw_xchacha20poly1305_mb_per_s", mb / raw_s},
        {"raw_xchacha20poly1305_mb_per_cpu_s", mb / raw_cpu},
        {"raw_bytes", sink},
        {"runs", runs},
    };
    std::printf("%s\n", j.dump(2).c_str());
    node.reset();
    fs::remove_all(dir);
    return 0;
}
