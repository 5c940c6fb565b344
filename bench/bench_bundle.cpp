// Case bundles and `kolokol age` against the `age` CLI on the same 256 MiB file in the same run
// (DESIGN §10: target >= 1.0x age's throughput). Times, file to file, wall clock:
//   - `kolokol age encrypt` / `kolokol age decrypt` (the real binary) vs `age -e` / `age -d`;
//   - bundle export (write_bundle: one case, the file as its attachment, hashed on the way,
//     tar, age) vs `age -e` of the same file; bundle verify (read_bundle: decrypt, untar, hash,
//     check) vs `age -d`;
//   - `kolokol bundle export` of a case in a real store (default key derivation) with the file
//     as its attachment, end to end, vs `age -e`; and the same minus what every command pays
//     to unlock the store (timed alone as `kolokol case list`), which is the rate at which the
//     export moves the data.
// Usage: bench_bundle [MiB] [runs] [path to kolokol] (default: ../cli/kolokol beside this
// binary, or $KOLOKOL). Needs `age` on PATH. Files go under $TMPDIR (TMPDIR=/dev/shm takes the
// disk out of the comparison). Prints JSON, including the load average: the ratios mean little
// on a busy machine.

#include <fcntl.h>
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
#include "kolokol/bundle/bundle.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/storage/posix_io.hpp"

namespace fs = std::filesystem;
using namespace kolokol;

namespace {

constexpr std::size_t kIoBytes = 1 << 20;

using storage::read_some;
using storage::write_all;

using bench::Fd;

void run(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        // Only the JSON goes to our stdout.
        int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) ::dup2(null, STDOUT_FILENO);
        execvp(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(args[0] + " exited with status " + std::to_string(status));
}

// run(), returning the first line the command printed (stdout).
std::string run_first_line(const std::vector<std::string>& args, const fs::path& scratch) {
    std::vector<std::string> shell = {"sh", "-c", "exec \"$0\" \"$@\" > " + scratch.string()};
    shell.insert(shell.end(), args.begin(), args.end());
    run(shell);
    std::ifstream in(scratch);
    std::string line;
    std::getline(in, line);
    return line;
}

crypto::Hash32 sha256_file(const fs::path& path) {
    Fd src(path, O_RDONLY);
    crypto::Sha256 h;
    Bytes buffer(kIoBytes);
    while (true) {
        auto n = read_some(src.get(), buffer);
        if (!n) throw std::runtime_error(n.error().what());
        if (*n == 0) break;
        h.update(ByteView(buffer).first(*n));
    }
    return h.finish();
}

struct Timings {
    std::vector<double> seconds;
    void time(const std::function<void()>& f) {
        auto start = std::chrono::steady_clock::now();
        f();
        seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    double best() const { return *std::min_element(seconds.begin(), seconds.end()); }
    double median() const {
        auto v = seconds;
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

void export_bundle(const fs::path& plain, const crypto::Hash32& hash, std::uint64_t size,
                   const core::Identity& me, const age::X25519Recipient& to, const fs::path& out) {
    bundle::CaseExport c;
    c.id = std::string(64, 'a');
    c.record = {{"fields", {{"person", "Benchmark"}}}};
    bundle::AttachmentExport a;
    a.id = std::string(64, 'b');
    a.name = "evidence.bin";
    a.size = size;
    a.sha256 = hash;
    a.read = [&](const std::function<Status(ByteView)>& sink) -> Status {
        Fd src(plain, O_RDONLY);
        Bytes buffer(kIoBytes);
        while (true) {
            auto n = read_some(src.get(), buffer);
            if (!n) return std::unexpected(n.error());
            if (*n == 0) return {};
            if (auto st = sink(ByteView(buffer).first(*n)); !st) return st;
        }
    };
    c.attachments.push_back(std::move(a));
    bundle::Signer signer{core::card_to_text(me.card(1)), [&](std::string_view domain, ByteView m) {
                              return crypto::sign(me.sign.secret_key, domain, m);
                          }};
    bundle::Encryption enc;
    enc.recipients.push_back(to);
    Fd dst(out, O_WRONLY | O_CREAT | O_TRUNC);
    auto r = bundle::write_bundle(std::span(&c, 1), signer, enc, 1000,
                                  [&](ByteView b) { return write_all(dst.get(), b); });
    if (!r) throw std::runtime_error(r.error().what());
}

void verify_bundle(const fs::path& file, const age::X25519Identity& id) {
    Fd src(file, O_RDONLY);
    bundle::ReadOptions options;
    auto r = bundle::read_bundle([&](MutableByteView b) { return read_some(src.get(), b); },
                                 std::span(&id, 1), {}, options);
    if (!r) throw std::runtime_error(r.error().what());
    if (!r->ok()) throw std::runtime_error("bundle did not verify: " + r->problems.front().what());
}

}  // namespace

int main(int argc, char** argv) {
    crypto::init();
    const std::size_t mib = argc > 1 ? std::stoul(argv[1]) : 256;
    const int runs = argc > 2 ? std::stoi(argv[2]) : 3;
    std::string kolokol = argc > 3 ? argv[3] : "";
    if (kolokol.empty() && std::getenv("KOLOKOL")) kolokol = std::getenv("KOLOKOL");
    if (kolokol.empty())
        kolokol = (fs::canonical("/proc/self/exe").parent_path().parent_path() / "cli" / "kolokol")
                      .string();
    const std::uint64_t bytes = std::uint64_t{mib} << 20;

    auto dir = fs::temp_directory_path() / ("kolokol-bench-bundle-" + std::to_string(getpid()));
    fs::create_directories(dir);
    nlohmann::json out;
    try {
        if (!fs::exists(kolokol)) throw std::runtime_error("no kolokol binary at " + kolokol);
        auto plain = dir / "plain";
        {
            crypto::DeterministicRandom rng(1);
            Fd f(plain, O_WRONLY | O_CREAT | O_TRUNC);
            Bytes block(kIoBytes);
            for (std::uint64_t done = 0; done < bytes; done += block.size()) {
                rng.fill(block);
                if (!write_all(f.get(), block)) throw std::runtime_error("cannot write input");
            }
        }
        const auto hash = sha256_file(plain);
        auto id = age::X25519Identity::generate();
        const auto recipient = id.recipient().to_string();
        {
            std::ofstream key(dir / "key.txt");
            key << id.to_string() << "\n";
        }
        auto me = core::Identity::generate("Bench");
        const auto p = [&](const char* name) { return (dir / name).string(); };

        // A member's store, with the file attached to a case. Its key derivation is tuned as
        // `kolokol init` tunes it for anyone.
        {
            std::ofstream pass(dir / "pass");
            pass << "bench passphrase for a throwaway store\n";
        }
        ::setenv("KOLOKOL_HOME", p("home").c_str(), 1);
        ::setenv("KOLOKOL_PASSPHRASE_FILE", p("pass").c_str(), 1);
        run({kolokol, "init", "--name", "Bench"});
        run({kolokol, "group", "create", "Legal"});
        auto opened = run_first_line({kolokol, "case", "open", "Legal", "--person", "Benchmark"},
                                     dir / "out.txt");
        // "Case <id prefix> created."
        auto case_id = opened.substr(opened.find(' ') + 1);
        case_id = case_id.substr(0, case_id.find(' '));
        run({kolokol, "case", "attach", "Legal", case_id, plain});

        Timings k_enc, a_enc, k_dec, a_dec, b_exp, b_ver, s_exp, s_unlock;
        for (int i = 0; i < runs; ++i) {
            k_enc.time([&] {
                fs::remove(p("k.age"));
                run({kolokol, "age", "encrypt", "-r", recipient, "-o", p("k.age"), plain});
            });
            a_enc.time([&] { run({"age", "-r", recipient, "-o", p("a.age"), plain}); });
            b_exp.time([&] { export_bundle(plain, hash, bytes, me, id.recipient(), p("b.age")); });
            s_exp.time([&] {
                fs::remove(p("s.age"));
                run({kolokol, "bundle", "export", case_id, "-r", recipient, "-o", p("s.age")});
            });
            s_unlock.time([&] {
                run_first_line({kolokol, "case", "list", "Legal"}, dir / "out.txt");
            });
        }
        for (int i = 0; i < runs; ++i) {
            // Each side decrypts the other's file, which also checks interoperability.
            k_dec.time([&] {
                fs::remove(p("k.out"));
                run({kolokol, "age", "decrypt", "-i", p("key.txt"), "-o", p("k.out"), p("a.age")});
            });
            a_dec.time([&] {
                fs::remove(p("a.out"));
                run({"age", "-d", "-i", p("key.txt"), "-o", p("a.out"), p("k.age")});
            });
            b_ver.time([&] { verify_bundle(p("b.age"), id); });
        }
        if (sha256_file(p("k.out")) != hash || sha256_file(p("a.out")) != hash)
            throw std::runtime_error("decrypted output differs from the input");

        auto mbps = [&](double s) { return static_cast<double>(bytes) / 1e6 / s; };
        auto side = [&](const Timings& ours, const Timings& age) {
            return nlohmann::json{{"kolokol_mb_s", mbps(ours.best())},
                                  {"age_cli_mb_s", mbps(age.best())},
                                  {"ratio", age.best() / ours.best()},
                                  {"median_ratio", age.median() / ours.median()}};
        };
        // Export time less the unlock every command pays, best against best.
        Timings moved;
        for (std::size_t i = 0; i < s_exp.seconds.size(); ++i)
            moved.seconds.push_back(s_exp.seconds[i] - s_unlock.seconds[i]);
        auto less_unlock = side(moved, a_enc);
        out = {{"benchmark", "bundle"},
               {"bytes", bytes},
               {"runs", runs},
               {"method",
                "wall time file to file, best of runs (and median); kolokol and age alternate"},
               {"load_average_1m", load_average()},
               {"cli_age_encrypt", side(k_enc, a_enc)},
               {"cli_age_decrypt", side(k_dec, a_dec)},
               {"bundle_export_vs_age_encrypt", side(b_exp, a_enc)},
               {"bundle_verify_vs_age_decrypt", side(b_ver, a_dec)},
               {"store_bundle_export_vs_age_encrypt", side(s_exp, a_enc)},
               {"store_unlock_s", {{"best", s_unlock.best()}, {"median", s_unlock.median()}}},
               {"store_bundle_export_less_unlock_vs_age_encrypt", less_unlock},
               {"target_ratio", 1.0}};
    } catch (const std::exception& e) {
        out = {{"benchmark", "bundle"}, {"error", e.what()}};
    }
    fs::remove_all(dir);
    std::printf("%s\n", out.dump(2).c_str());
    return out.contains("error") ? 1 : 0;
}
