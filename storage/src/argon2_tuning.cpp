#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/keyfile.hpp"

namespace kolokol::storage {

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kMemoryCap = std::uint64_t{1} << 30;

double thread_cpu_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// The CPU time of one derivation (including its page faults). CPU rather than wall time, so that
// other processes competing for the cores while we calibrate do not make us pick weak
// parameters; on an idle machine, which is where unlocking happens, the two agree.
double time_one_ms(const crypto::Argon2Params& params) {
    auto salt = crypto::system_random().array<crypto::kArgon2SaltBytes>();
    const double start = thread_cpu_ms();
    auto out = crypto::argon2id(32, as_bytes("kolokol argon2id calibration"), salt, params);
    const double elapsed = thread_cpu_ms() - start;
    // A failed run (out of memory) counts as infinitely slow, which steers towards less memory.
    if (!out) return 1e12;
    return elapsed;
}

std::uint64_t memory_cap() {
    long pages = ::sysconf(_SC_PHYS_PAGES);
    long page_size = ::sysconf(_SC_PAGE_SIZE);
    std::uint64_t cap = kMemoryCap;
    if (pages > 0 && page_size > 0) {
        std::uint64_t quarter =
            static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) / 4;
        cap = std::min(cap, quarter);
    }
    return std::max(cap, crypto::argon2_interactive().memlimit);
}

// Spreads a budget of opslimit x memlimit "work" over memory first, then passes.
crypto::Argon2Params shape(double work, std::uint64_t cap) {
    const auto floor = crypto::argon2_interactive();
    constexpr std::uint64_t kPreferredOps = 3;  // MODERATE's pass count
    crypto::Argon2Params p;
    double mem = work / kPreferredOps;
    if (mem > static_cast<double>(cap)) {
        p.memlimit = cap;
        p.opslimit = static_cast<std::uint64_t>(work / static_cast<double>(cap));
    } else {
        p.memlimit = static_cast<std::uint64_t>(mem);
        p.opslimit = kPreferredOps;
    }
    if (p.memlimit < floor.memlimit) {
        p.memlimit = floor.memlimit;
        p.opslimit = static_cast<std::uint64_t>(work / static_cast<double>(floor.memlimit));
    }
    p.memlimit = std::max(floor.memlimit, p.memlimit / kMiB * kMiB);
    p.opslimit = std::clamp(p.opslimit, floor.opslimit, kMaxOpslimit);
    return p;
}

double work_of(const crypto::Argon2Params& p) {
    return static_cast<double>(p.opslimit) * static_cast<double>(p.memlimit);
}

}  // namespace

crypto::Argon2Params tune_argon2(std::chrono::milliseconds per_derivation) {
    const auto floor = crypto::argon2_interactive();
    const double target = static_cast<double>(per_derivation.count());
    // The best of two probes: the first one also pays for faulting in fresh pages.
    const double t0 = std::min(time_one_ms(floor), time_one_ms(floor));
    if (t0 >= target) return floor;
    const std::uint64_t cap = memory_cap();
    // Argon2id's cost is close to linear in passes x memory; one probe at the floor gives the
    // rate, one run at the estimate corrects for cache and memory-bandwidth effects.
    auto p = shape(target * work_of(floor) / t0, cap);
    const double t1 = time_one_ms(p);
    if (t1 > 1.2 * target || t1 < 0.8 * target) p = shape(target * work_of(p) / t1, cap);
    return p;
}

}  // namespace kolokol::storage
