// Range-based set reconciliation: round trips and bytes each way for two sets of record ids
// that differ by d, run in-process (no I/O). Prints one JSON document.
//
//   bench_reconcile [--quick]     (--quick: 100k only)
//
// Targets (DESIGN §10): 1 difference in 100k ≤ 2 round trips and ≤ 2,500 bytes in total;
// identical sets 1 round trip and ≤ 400 bytes.

#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/transport/reconcile.hpp"

using namespace kolokol;
using namespace kolokol::transport;

namespace {

struct Run {
    std::size_t round_trips = 0;
    std::size_t bytes_up = 0;
    std::size_t bytes_down = 0;
    std::size_t have = 0;
    std::size_t need = 0;
    double setup_ms = 0;
    double reconcile_ms = 0;
};

Run run(std::vector<RecordId> a, std::vector<RecordId> b) {
    using clock = std::chrono::steady_clock;
    Run out;
    auto t0 = clock::now();
    Reconciler initiator(Reconciler::Role::initiator, std::move(a));
    Reconciler responder(Reconciler::Role::responder, std::move(b));
    auto t1 = clock::now();
    Bytes up = *initiator.initiate();
    for (;;) {
        out.bytes_up += up.size();
        auto reply = responder.reconcile(up);
        if (!reply || !reply->has_value()) throw std::runtime_error("responder failed");
        ++out.round_trips;
        out.bytes_down += (*reply)->size();
        auto next = initiator.reconcile(**reply);
        if (!next) throw std::runtime_error("initiator failed");
        out.have += initiator.take_have().size();
        out.need += initiator.take_need().size();
        if (!next->has_value()) break;
        up = std::move(**next);
    }
    auto t2 = clock::now();
    out.setup_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    out.reconcile_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    crypto::init();
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    nlohmann::json results = nlohmann::json::array();
    std::vector<std::size_t> sizes{100'000};
    if (!quick) sizes.push_back(1'000'000);
    for (std::size_t n : sizes) {
        for (std::size_t d : {std::size_t{0}, std::size_t{1}, std::size_t{100}, n / 100}) {
            crypto::DeterministicRandom rng(n + d);
            std::vector<RecordId> shared(n - d);
            for (auto& id : shared) rng.fill(id);
            // The differences are split between the sides: the initiator holds the first half
            // (rounded down) that the responder lacks, the responder holds the rest.
            std::vector<RecordId> a = shared, b = std::move(shared);
            for (std::size_t i = 0; i < d; ++i) {
                RecordId id;
                rng.fill(id);
                (i < d / 2 ? a : b).push_back(id);
            }
            auto r = run(std::move(a), std::move(b));
            if (r.have + r.need != d) throw std::runtime_error("did not converge");
            results.push_back({{"ids", n},
                               {"differences", d},
                               {"round_trips", r.round_trips},
                               {"bytes_initiator_to_responder", r.bytes_up},
                               {"bytes_responder_to_initiator", r.bytes_down},
                               {"bytes_total", r.bytes_up + r.bytes_down},
                               {"setup_ms", r.setup_ms},
                               {"reconcile_ms", r.reconcile_ms}});
        }
    }
    nlohmann::json doc{{"benchmark", "reconcile"},
                       {"max_message_bytes", kReconcileMaxMessageBytes},
                       {"targets",
                        {{"one_in_100k", {{"round_trips", 2}, {"bytes_total", 2500}}},
                         {"in_sync_100k", {{"round_trips", 1}, {"bytes_total", 400}}}}},
                       {"results", results}};
    std::cout << doc.dump(2) << "\n";
    return 0;
}
