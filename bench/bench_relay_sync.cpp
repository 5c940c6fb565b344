// Fresh sync from a relay (issue: network sync). Prints JSON:
//  - a member who holds all N records (default 100k) pushes them to an empty relay on loopback;
//  - a member who holds nothing then syncs them from the relay: records/s end to end
//    (handshake, fetch, transfer, ingest);
//  - the same envelopes ingested straight from memory by another fresh member in the same run;
//  - their ratio (target ≥ 0.70).
// Usage: bench_relay_sync [N] [fetch|reconcile]   (how the fresh member asks: FetchAll, the
// default, or a reconciliation as before sync version 2)

#include <unistd.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>

#include "bench_support.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/relay/relay.hpp"
#include "kolokol/relay/relay_store.hpp"
#include "kolokol/transport/sync.hpp"
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
using bench::seconds_since;

std::unique_ptr<Node> make(const std::filesystem::path& home, const char* name) {
    InitOptions o;
    o.display_name = name;
    o.passphrase = as_bytes("bench passphrase");
    o.kdf = KdfProfile::fast;
    if (!Node::init(home, o)) std::abort();
    return std::move(*Node::open(home, as_bytes("bench passphrase")));
}

[[noreturn]] void die(const char* what, const Error& e) {
    std::fprintf(stderr, "%s: %s\n", what, e.what().c_str());
    std::exit(1);
}
}  // namespace

int main(int argc, char** argv) {
    crypto::init();
    const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
    const bool fetch_all = argc <= 2 || std::string_view(argv[2]) != "reconcile";
    auto dir = std::filesystem::temp_directory_path() /
               ("kolokol-bench-relay-sync-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);

    auto writer = make(dir / "w", "Writer");
    auto direct = make(dir / "direct", "Direct");
    auto fresh = make(dir / "fresh", "Fresh");
    auto group = *writer->create_group("Bench");
    for (Node* reader : {direct.get(), fresh.get()}) {
        auto token = writer->add_member(group, card_to_text(reader->card()), false, true);
        if (!token) die("add", token.error());
        if (auto joined = reader->join(*token); !joined) die("join", joined.error());
    }
    auto& w = NodeTestAccess::impl(*writer);

    // The writer's own records (group set-up), then a chain of N messages sealed without
    // storing them on the writer's side.
    std::vector<Bytes> envelopes;
    envelopes.reserve(n + 16);
    for (const auto& mb : writer->mailboxes(&group)) {
        auto ids = writer->envelope_ids(mb);
        if (!ids) die("ids", ids.error());
        for (const auto& id : *ids) envelopes.push_back(**writer->envelope(id));
    }
    pb::RecordBody body;
    body.mutable_message()->set_text(std::string(120, 'x'));
    auto epoch = w.prepare(group, body, std::nullopt);
    if (!epoch) die("prepare", epoch.error());
    for (std::size_t i = 0; i < n; ++i) {
        envelopes.push_back(w.seal(body, *epoch));
        auto id = storage::record_id_of(envelopes.back());
        body.mutable_prev()->set_id(to_string(id));
        body.mutable_prev()->set_epoch_id(to_string(*epoch));
        body.clear_parents();
        auto* p = body.add_parents();
        p->set_id(to_string(id));
        p->set_epoch_id(to_string(*epoch));
        body.set_seq(body.seq() + 1);
        body.set_lamport(body.lamport() + 1);
    }

    // Baseline: the same envelopes ingested from memory, in batches of 1000.
    auto t = Clock::now();
    std::size_t direct_added = 0;
    for (std::size_t at = 0; at < envelopes.size(); at += 1000) {
        const auto end = std::min(envelopes.size(), at + 1000);
        auto r = direct->ingest(std::span<const Bytes>(envelopes.data() + at, end - at));
        if (!r) die("ingest", r.error());
        direct_added += r->added;
    }
    const double ingest_rate = static_cast<double>(direct_added) / seconds_since(t);

    // The relay, empty; the member who ingested everything fills it over the network, as a
    // member's first push does (reconciliation, then the envelopes in that member's order).
    transport::RelayQuotas quotas;
    quotas.mailbox_max_count = 10 * (n + 1000);
    quotas.mailbox_max_bytes = std::uint64_t{1} << 40;
    auto store = transport::RelayStore::open(dir / "relay", as_bytes("relay passphrase"),
                                             transport::RelayKdf::fast, quotas);
    if (!store) die("relay store", store.error());
    const auto relay_bytes = [&] {
        std::uint64_t total = 0;
        for (const auto& e : envelopes) total += e.size();
        return total;
    }();
    envelopes.clear();
    envelopes.shrink_to_fit();

    asio::io_context io;
    std::string address;
    {
        transport::Relay relay(io.get_executor(), **store);
        if (auto l = relay.listen(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
            !l)
            die("listen", l.error());
        relay.start();
        address = relay.address().to_string();
        auto guard = asio::make_work_guard(io);
        std::thread server([&io] { io.run(); });

        auto seed_replica = direct->replica();
        t = Clock::now();
        auto seeded = transport::sync_with(address, direct->transport_key(), direct->mailbox_keys(),
                                           *seed_replica, {});
        const double seed_seconds = seconds_since(t);
        if (!seeded) die("push to the relay", seeded.error());

        auto replica = fresh->replica();
        auto local = fresh->transport_key();
        t = Clock::now();
        transport::SyncOptions options;
        options.fetch_all = fetch_all;
        auto report = transport::sync_with(address, local, fresh->mailbox_keys(), *replica,
                                           std::move(options));
        const double seconds = seconds_since(t);
        if (!report) die("sync", report.error());
        const double sync_rate = static_cast<double>(report->received) / seconds;

        relay.stop();
        guard.reset();
        io.stop();
        server.join();

        auto last = fresh->messages(group, 1);
        if (!last || last->empty()) die("read", last ? Error{} : last.error());

        nlohmann::json out;
        out["records"] = n;
        out["envelope_bytes"] = relay_bytes;
        out["ingest_from_memory_per_s"] = ingest_rate;
        out["relay_push_sent"] = seeded->sent;
        out["relay_push_seconds"] = seed_seconds;
        out["relay_sync_received"] = report->received;
        out["relay_sync_seconds"] = seconds;
        out["relay_sync_per_s"] = sync_rate;
        out["fresh_member_asks"] = fetch_all ? "fetch_all" : "reconcile";
        out["relay_sync_round_trips"] = report->round_trips;
        out["relay_sync_bytes_received"] = report->bytes_received;
        out["ratio_to_ingest"] = sync_rate / ingest_rate;
        out["target_ratio"] = 0.70;
        out["threads_hardware"] = std::thread::hardware_concurrency();
        std::printf("%s\n", out.dump(2).c_str());
    }
    store->reset();
    std::filesystem::remove_all(dir);
    return 0;
}
