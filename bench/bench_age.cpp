// Encrypts and decrypts one 256 MiB file with the age library and with the `age` CLI in the same
// run, and prints throughput (MB/s, wall clock, file to file) and the ratio library / age as
// JSON. Target (DESIGN §10): ratio >= 1.0 both ways. Usage: bench_age [MiB] [runs]. Needs `age`
// on PATH; the machine should be otherwise idle (the JSON records the load average).

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "kolokol/age/decryptor.hpp"
#include "kolokol/age/encryptor.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/posix_io.hpp"

namespace fs = std::filesystem;
using namespace kolokol;

namespace {

constexpr std::size_t kIoBytes = 1 << 20;

using storage::read_some;
using storage::write_all;

using bench::Fd;

using bench::seconds_since;

void library_encrypt(const fs::path& in, const fs::path& out, const age::X25519Recipient& r,
                     unsigned threads) {
    Fd src(in, O_RDONLY);
    Fd dst(out, O_WRONLY | O_CREAT | O_TRUNC);
    age::EncryptOptions options;
    options.threads = threads;
    auto enc = age::Encryptor::to_recipients(
        std::span(&r, 1), [&](ByteView b) { return write_all(dst.get(), b); }, options);
    if (!enc) throw std::runtime_error(enc.error().what());
    Bytes buffer(kIoBytes);
    while (true) {
        auto n = read_some(src.get(), buffer);
        if (!n) throw std::runtime_error(n.error().what());
        if (*n == 0) break;
        if (auto st = enc->write(ByteView(buffer).first(*n)); !st)
            throw std::runtime_error(st.error().what());
    }
    if (auto st = enc->finish(); !st) throw std::runtime_error(st.error().what());
}

void library_decrypt(const fs::path& in, const fs::path& out, const age::X25519Identity& id,
                     unsigned threads) {
    Fd src(in, O_RDONLY);
    Fd dst(out, O_WRONLY | O_CREAT | O_TRUNC);
    age::DecryptOptions options;
    options.threads = threads;
    auto dec = age::Decryptor::open([&](MutableByteView b) { return read_some(src.get(), b); },
                                    std::span(&id, 1), {}, options);
    if (!dec) throw std::runtime_error(dec.error().what());
    Bytes buffer(kIoBytes);
    while (true) {
        auto n = dec->read(buffer);
        if (!n) throw std::runtime_error(n.error().what());
        if (*n == 0) break;
        if (auto st = write_all(dst.get(), ByteView(buffer).first(*n)); !st)
            throw std::runtime_error(st.error().what());
    }
}

void run_age(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        execvp(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("age exited with status " + std::to_string(status));
}

std::string sha256_file(const fs::path& path) {
    Fd src(path, O_RDONLY);
    crypto::Sha256 h;
    Bytes buffer(kIoBytes);
    while (true) {
        auto n = read_some(src.get(), buffer);
        if (!n || *n == 0) break;
        h.update(ByteView(buffer).first(*n));
    }
    return crypto::hex_encode(h.finish());
}

// CPU seconds (user + system) of this process and of its waited-for children.
double cpu_seconds() {
    auto total = [](int who) {
        rusage u{};
        getrusage(who, &u);
        auto sec = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
        return sec(u.ru_utime) + sec(u.ru_stime);
    };
    return total(RUSAGE_SELF) + total(RUSAGE_CHILDREN);
}

// Wall and CPU time per run. CPU time does not depend on how busy the machine is, so it shows
// the cost of each side even when the wall times are disturbed by other work.
struct Timings {
    std::vector<double> seconds;
    std::vector<double> cpu;
    void time(const std::function<void()>& f) {
        auto start = std::chrono::steady_clock::now();
        auto cpu_start = cpu_seconds();
        f();
        seconds.push_back(seconds_since(start));
        cpu.push_back(cpu_seconds() - cpu_start);
    }
    double best() const { return *std::min_element(seconds.begin(), seconds.end()); }
    double median() const { return median_of(seconds); }
    double cpu_median() const { return median_of(cpu); }
    static double median_of(std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    }
};

double load_average() {
    double load = -1;
    if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf", &load) != 1) load = -1;
        std::fclose(f);
    }
    return load;
}

}  // namespace

int main(int argc, char** argv) {
    crypto::init();
    const std::size_t mib = argc > 1 ? std::stoul(argv[1]) : 256;
    const int runs = argc > 2 ? std::stoi(argv[2]) : 3;
    const std::size_t bytes = mib << 20;

    auto dir = fs::temp_directory_path() / ("kolokol-bench-age-" + std::to_string(getpid()));
    fs::create_directories(dir);
    nlohmann::json out;
    try {
        auto plain = dir / "plain";
        {
            crypto::DeterministicRandom rng(1);
            Fd f(plain, O_WRONLY | O_CREAT | O_TRUNC);
            Bytes block(kIoBytes);
            for (std::size_t done = 0; done < bytes; done += block.size()) {
                rng.fill(block);
                if (!write_all(f.get(), block)) throw std::runtime_error("cannot write input");
            }
        }
        auto id = age::X25519Identity::generate();
        auto recipient = id.recipient();
        {
            std::ofstream key(dir / "key.txt");
            key << id.to_string() << "\n";
        }
        const auto want = sha256_file(plain);

        // Library and CLI runs alternate so that background load hits both alike.
        // The single-threaded library runs show what the helper thread adds.
        Timings lib_enc, age_enc, lib_dec, age_dec, lib1_enc, lib1_dec;
        for (int i = 0; i < runs; ++i) {
            lib_enc.time([&] { library_encrypt(plain, dir / "lib.age", recipient, 2); });
            lib1_enc.time([&] { library_encrypt(plain, dir / "lib1.age", recipient, 1); });
            age_enc.time([&] {
                run_age({"age", "-r", recipient.to_string(), "-o", (dir / "cli.age").string(),
                         plain.string()});
            });
        }
        // Each side decrypts the other's file, which also checks interoperability.
        for (int i = 0; i < runs; ++i) {
            lib_dec.time([&] { library_decrypt(dir / "cli.age", dir / "lib.out", id, 2); });
            lib1_dec.time([&] { library_decrypt(dir / "cli.age", dir / "lib1.out", id, 1); });
            age_dec.time([&] {
                run_age({"age", "-d", "-i", (dir / "key.txt").string(), "-o",
                         (dir / "cli.out").string(), (dir / "lib.age").string()});
            });
        }
        if (sha256_file(dir / "lib.out") != want || sha256_file(dir / "lib1.out") != want ||
            sha256_file(dir / "cli.out") != want)
            throw std::runtime_error("decrypted output differs from the input");

        auto mbps = [&](double s) { return static_cast<double>(bytes) / 1e6 / s; };
        auto side = [&](const Timings& lib, const Timings& cli) {
            return nlohmann::json{{"library_mb_s", mbps(lib.best())},
                                  {"age_cli_mb_s", mbps(cli.best())},
                                  {"ratio", cli.best() / lib.best()},
                                  {"library_median_mb_s", mbps(lib.median())},
                                  {"age_cli_median_mb_s", mbps(cli.median())},
                                  {"median_ratio", cli.median() / lib.median()},
                                  {"library_cpu_s", lib.cpu_median()},
                                  {"age_cli_cpu_s", cli.cpu_median()}};
        };
        out = {
            {"benchmark", "age"},
            {"bytes", bytes},
            {"runs", runs},
            {"method",
             "wall time file to file, library and age CLI alternating; best and median; CPU "
             "seconds (user + system) median"},
            {"load_average_1m", load_average()},
            {"encrypt", side(lib_enc, age_enc)},
            {"decrypt", side(lib_dec, age_dec)},
            {"encrypt_one_thread", side(lib1_enc, age_enc)},
            {"decrypt_one_thread", side(lib1_dec, age_dec)},
            {"target_ratio", 1.0},
        };
    } catch (const std::exception& e) {
        out = {{"benchmark", "age"}, {"error", e.what()}};
    }
    fs::remove_all(dir);
    std::printf("%s\n", out.dump(2).c_str());
    return out.contains("error") ? 1 : 0;
}
