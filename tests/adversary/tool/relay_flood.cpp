// Attacks on a relay's resources (SECURITY.md "Adversary tests", relay resources): sessions
// that handshake and then say nothing, a mailbox filled with many tiny envelopes, many parallel
// reconciliations built to cost the relay as much as they can, and a flood of new mailboxes
// against its disk. Every command speaks the real protocol over real Noise sessions
// (relay_flood_client.hpp) and prints one JSON document of what happened.
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "command.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/envelope.hpp"
#include "relay_flood_client.hpp"

namespace kolokol::adversary {
namespace {

using namespace transport;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// ADDRESS then --name value pairs; `allowed` names the options this command takes.
struct Options {
    Address address;
    std::map<std::string, std::string> values;

    std::string get(const std::string& name, std::string fallback = {}) const {
        auto it = values.find(name);
        return it == values.end() ? fallback : it->second;
    }
    std::uint64_t number(const std::string& name, std::uint64_t fallback) const {
        auto text = get(name);
        if (text.empty()) return fallback;
        try {
            std::size_t used = 0;
            auto v = std::stoull(text, &used);
            if (used != text.size()) throw std::invalid_argument(text);
            return v;
        } catch (const std::exception&) {
            usage_error("--" + name + " needs a number");
        }
    }
    std::optional<asio::ip::address> source() const {
        auto text = get("from");
        if (text.empty()) return std::nullopt;
        return parse_sources(text).front();
    }
};

Options parse(std::span<const std::string> args, std::initializer_list<std::string> allowed) {
    if (args.empty()) usage_error("the relay's address is missing");
    Options o;
    auto a = Address::parse(args[0]);
    if (!a) usage_error(a.error().what());
    o.address = *a;
    for (std::size_t i = 1; i < args.size(); i += 2) {
        const auto& flag = args[i];
        if (flag.rfind("--", 0) != 0 || i + 1 >= args.size())
            usage_error("expected --OPTION VALUE at " + flag);
        const auto name = flag.substr(2);
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
            usage_error("unknown option " + flag);
        o.values[name] = args[i + 1];
    }
    return o;
}

// Runs `body` on a fresh io_context on this thread until it returns.
template <class T>
T run(const std::function<asio::awaitable<T>()>& body) {
    asio::io_context io;
    std::optional<T> out;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { out = co_await body(); }, asio::detached);
    io.run();
    return std::move(*out);
}

void print(const nlohmann::json& doc) {
    std::printf("%s\n", doc.dump().c_str());
    std::fflush(stdout);
}

// Runs `spawn(io, slot)` for every slot on `threads` io_contexts, each on a thread of its own
// (slot i on context i mod threads), until `deadline`; `tick` runs on this thread every half
// second meanwhile. Attack steps cost the tool as much CPU as the relay, and a loaded machine
// gives each thread a share: one thread would measure the tool, not the relay.
void run_slots(std::uint64_t slots, unsigned threads, Clock::time_point deadline,
               const std::function<void(asio::io_context&, std::uint64_t)>& spawn,
               const std::function<void()>& tick) {
    threads = std::max(1u, threads);
    std::vector<std::unique_ptr<asio::io_context>> ios;
    for (unsigned t = 0; t < threads; ++t) ios.push_back(std::make_unique<asio::io_context>());
    for (std::uint64_t slot = 0; slot < slots; ++slot) spawn(*ios[slot % threads], slot);
    std::vector<std::thread> workers;
    for (auto& io : ios) {
        auto* ctx = io.get();
        workers.emplace_back([ctx, deadline] {
            asio::steady_timer end(*ctx);
            end.expires_at(deadline);
            end.async_wait([ctx](std::error_code) { ctx->stop(); });
            ctx->run();
        });
    }
    while (Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        tick();
    }
    for (auto& w : workers) w.join();
}

// relay-silent: N sessions, each a complete handshake followed by silence; whatever the relay
// closes is opened again at once, and a refused connection is retried after --retry-ms. With
// --open yes each session first opens a mailbox of its own (a fresh key: anyone can) and then
// only answers the relay's pings, so that it counts as a member's idle live session.
int relay_silent(std::span<const std::string> args) {
    const auto o = parse(args, {"sessions", "from", "seconds", "retry-ms", "threads", "open"});
    const bool open = o.get("open", "no") == "yes";
    const auto sessions = o.number("sessions", 2'000);
    const auto sources = parse_sources(o.get("from", "127.0.0.2"));
    const auto seconds = o.number("seconds", 60);
    const auto retry = std::chrono::milliseconds(o.number("retry-ms", 100));
    const auto threads = static_cast<unsigned>(o.number("threads", 4));
    const auto local = crypto::box_keypair();
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::seconds(seconds);

    struct Counts {
        std::atomic<std::uint64_t> handshakes{0}, closed_by_relay{0}, refused{0};
        std::atomic<std::int64_t> held{0};
    } n;
    auto spawn = [&](asio::io_context& io, std::uint64_t slot) {
        const auto source = sources[slot % sources.size()];
        asio::co_spawn(
            io,
            [&, source]() -> asio::awaitable<void> {
                asio::steady_timer pause(co_await asio::this_coro::executor);
                while (Clock::now() < deadline) {
                    auto s = co_await RawSync::connect(o.address, local, source);
                    if (!s) {
                        ++n.refused;
                        pause.expires_after(retry);
                        co_await pause.async_wait(use_tuple);
                        continue;
                    }
                    ++n.handshakes;
                    ++n.held;
                    if (open) {
                        const auto key =
                            mailbox_key_from(crypto::hex_encode(crypto::system_random().bytes(16)));
                        if (co_await hello_and_open(*s, key)) {
                            for (;;) {
                                auto f = co_await s->receive();
                                if (!f) break;
                                if (!f->has_ping()) continue;
                                pb::SyncFrame pong;
                                pong.mutable_ping();
                                if (!co_await s->send(pong)) break;
                            }
                        }
                    } else {
                        // Silent: never a Hello, never a request; only read what the relay
                        // sends.
                        while (co_await s->receive()) {
                        }
                    }
                    --n.held;
                    if (Clock::now() < deadline) ++n.closed_by_relay;
                }
            },
            asio::detached);
    };
    // Sessions held, sampled every half second; the first ten seconds are the build-up.
    std::vector<std::int64_t> samples;
    std::int64_t peak = 0;
    run_slots(sessions, threads, deadline, spawn, [&] {
        peak = std::max(peak, n.held.load());
        if (Clock::now() - start >= std::chrono::seconds(10)) samples.push_back(n.held);
    });
    double mean = 0;
    std::int64_t low = samples.empty() ? 0 : samples.front();
    for (auto s : samples) {
        mean += static_cast<double>(s);
        low = std::min(low, s);
    }
    if (!samples.empty()) mean /= static_cast<double>(samples.size());
    print({{"command", "relay-silent"},
           {"sessions", sessions},
           {"sources", sources.size()},
           {"seconds", seconds},
           {"handshakes", n.handshakes.load()},
           {"closed_by_relay", n.closed_by_relay.load()},
           {"refused", n.refused.load()},
           {"held_peak", peak},
           {"held_mean", mean},
           {"held_min", low},
           {"held_end", n.held.load()}});
    return 0;
}

// relay-fill: one mailbox, many envelopes, pushed as fast as the relay's window allows.
int relay_fill(std::span<const std::string> args) {
    const auto o = parse(args, {"mailbox", "envelopes", "size", "from"});
    const auto key = mailbox_key_from(o.get("mailbox", "flood"));
    const auto count = o.number("envelopes", 100'000);
    const auto size = o.number("size", storage::kEnvelopeMinBytes);
    auto& rng = crypto::system_random();
    std::vector<Bytes> envelopes;
    envelopes.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i)
        envelopes.push_back(random_envelope(key.id, size, rng));
    const auto local = crypto::box_keypair();
    auto stored =
        run<Result<std::vector<bool>>>([&]() -> asio::awaitable<Result<std::vector<bool>>> {
            auto s = co_await RawSync::connect(o.address, local, o.source());
            if (!s) co_return std::unexpected(s.error());
            auto opened = co_await hello_and_open(*s, key);
            if (!opened) co_return std::unexpected(opened.error());
            auto r = co_await push_envelopes(*s, key, opened->window_bytes, envelopes);
            co_await s->session().close();
            co_return r;
        });
    if (!stored) throw std::runtime_error(stored.error().what());
    const auto acked = static_cast<std::uint64_t>(std::count(stored->begin(), stored->end(), true));
    print({{"command", "relay-fill"},
           {"envelopes", count},
           {"acked", acked},
           {"declined", count - acked}});
    return 0;
}

// relay-reconcile: N sessions open the same mailbox and each starts one reconciliation of it;
// once all N have started (or half the time is gone), each keeps its reconciliation going with
// costly_reconcile_message() rounds for the rest of the time. A session the relay ends is
// opened again. Starting them all first makes sure N reconciliations are held at once, however
// slowly a loaded relay answers rounds.
int relay_reconcile(std::span<const std::string> args) {
    const auto o = parse(args, {"mailbox", "sessions", "from", "seconds", "threads"});
    const auto key = mailbox_key_from(o.get("mailbox", "flood"));
    const auto sessions = o.number("sessions", 256);
    const auto sources = parse_sources(o.get("from", "127.0.0.2"));
    const auto seconds = o.number("seconds", 20);
    const auto threads = static_cast<unsigned>(o.number("threads", 4));
    const auto local = crypto::box_keypair();
    const auto begin = Clock::now();
    const auto deadline = begin + std::chrono::seconds(seconds);
    const auto ramp_end = begin + std::chrono::seconds(seconds) / 2;
    struct Counts {
        std::atomic<std::uint64_t> sessions{0}, failed{0}, reconciliations{0}, rounds{0}, ended{0};
        std::atomic<std::int64_t> running{0};
    } n;
    std::int64_t running_peak = 0;
    auto spawn = [&](asio::io_context& io, std::uint64_t slot) {
        const auto source = sources[slot % sources.size()];
        asio::co_spawn(
            io,
            [&, source, slot]() -> asio::awaitable<void> {
                crypto::DeterministicRandom rng(slot);
                asio::steady_timer pause(co_await asio::this_coro::executor);
                while (Clock::now() < deadline) {
                    auto s = co_await RawSync::connect(o.address, local, source);
                    bool opened = false;
                    if (s) opened = (co_await hello_and_open(*s, key)).has_value();
                    if (!opened) {
                        ++n.failed;
                        pause.expires_after(std::chrono::milliseconds(100));
                        co_await pause.async_wait(use_tuple);
                        continue;
                    }
                    ++n.sessions;
                    pb::SyncFrame f;
                    f.mutable_reconcile()->set_mailbox(to_string(key.id));
                    f.mutable_reconcile()->set_message(to_string(costly_reconcile_message(rng)));
                    if (!co_await s->send(f)) continue;
                    ++n.reconciliations;
                    ++n.running;
                    // The first reply waits until every session has started.
                    while (n.reconciliations < sessions && Clock::now() < ramp_end) {
                        pause.expires_after(std::chrono::milliseconds(100));
                        co_await pause.async_wait(use_tuple);
                    }
                    // Every reply is answered with another costly round, until the relay ends
                    // the session (its round limit, a timeout) or the time is up.
                    while (Clock::now() < deadline) {
                        auto reply = co_await s->receive();
                        if (!reply || reply->has_close()) break;
                        if (!reply->has_reconcile()) continue;
                        ++n.rounds;
                        f.mutable_reconcile()->set_message(
                            to_string(costly_reconcile_message(rng)));
                        if (!co_await s->send(f)) break;
                    }
                    --n.running;
                    if (Clock::now() < deadline) ++n.ended;
                }
            },
            asio::detached);
    };
    run_slots(sessions, threads, deadline, spawn,
              [&] { running_peak = std::max(running_peak, n.running.load()); });
    print({{"command", "relay-reconcile"},
           {"sessions_wanted", sessions},
           {"sessions_opened", n.sessions.load()},
           {"sessions_failed", n.failed.load()},
           {"reconciliations", n.reconciliations.load()},
           {"running_peak", running_peak},
           {"rounds_answered", n.rounds.load()},
           {"ended_by_relay", n.ended.load()}});
    return 0;
}

// relay-quota: M new mailboxes (random keys), N envelopes of B bytes pushed to each; every id
// the relay acknowledged as stored is written to --state for relay-verify.
int relay_quota(std::span<const std::string> args) {
    const auto o = parse(args, {"mailboxes", "envelopes", "size", "state", "from"});
    const auto mailboxes = o.number("mailboxes", 100);
    const auto count = o.number("envelopes", 100);
    const auto size = o.number("size", 1'024);
    const auto state_path = o.get("state");
    if (state_path.empty()) usage_error("--state FILE is required");
    auto& rng = crypto::system_random();
    const auto local = crypto::box_keypair();
    nlohmann::json state = nlohmann::json::array();
    std::uint64_t acked = 0, declined = 0, acked_bytes = 0, refused_sessions = 0;
    for (std::uint64_t m = 0; m < mailboxes; ++m) {
        const auto name = crypto::hex_encode(rng.bytes(16));
        const auto key = mailbox_key_from(name);
        std::vector<Bytes> envelopes;
        for (std::uint64_t i = 0; i < count; ++i)
            envelopes.push_back(random_envelope(key.id, size, rng));
        auto stored =
            run<Result<std::vector<bool>>>([&]() -> asio::awaitable<Result<std::vector<bool>>> {
                auto s = co_await RawSync::connect(o.address, local, o.source());
                if (!s) co_return std::unexpected(s.error());
                auto opened = co_await hello_and_open(*s, key);
                if (!opened) co_return std::unexpected(opened.error());
                auto r = co_await push_envelopes(*s, key, opened->window_bytes, envelopes);
                co_await s->session().close();
                co_return r;
            });
        nlohmann::json ids = nlohmann::json::array();
        if (!stored) {
            ++refused_sessions;
        } else {
            for (std::size_t i = 0; i < envelopes.size(); ++i) {
                if ((*stored)[i]) {
                    ++acked;
                    acked_bytes += envelopes[i].size();
                    ids.push_back(crypto::hex_encode(storage::record_id_of(envelopes[i])));
                } else {
                    ++declined;
                }
            }
        }
        state.push_back({{"mailbox", name}, {"acked", ids}});
    }
    std::ofstream(state_path) << state.dump() << "\n";
    print({{"command", "relay-quota"},
           {"mailboxes", mailboxes},
           {"pushed", mailboxes * count},
           {"pushed_bytes", mailboxes * count * size},
           {"acked", acked},
           {"acked_bytes", acked_bytes},
           {"declined", declined},
           {"sessions_failed", refused_sessions}});
    return 0;
}

// relay-verify: fetches every mailbox of a --state file and counts the acknowledged envelopes
// the relay no longer holds. Exit 1 when any is missing.
int relay_verify(std::span<const std::string> args) {
    const auto o = parse(args, {"state", "from"});
    const auto state = nlohmann::json::parse(read_file_or_stdin(o.get("state", "-")));
    const auto local = crypto::box_keypair();
    std::uint64_t expected = 0, missing = 0;
    for (const auto& entry : state) {
        const auto key = mailbox_key_from(entry.at("mailbox").get<std::string>());
        if (entry.at("acked").empty()) continue;
        auto held = run<Result<std::vector<RecordId>>>(
            [&]() -> asio::awaitable<Result<std::vector<RecordId>>> {
                auto s = co_await RawSync::connect(o.address, local, o.source());
                if (!s) co_return std::unexpected(s.error());
                auto opened = co_await hello_and_open(*s, key);
                if (!opened) co_return std::unexpected(opened.error());
                auto r = co_await fetch_all(*s, key);
                co_await s->session().close();
                co_return r;
            });
        if (!held) throw std::runtime_error(held.error().what());
        std::set<std::string> have;
        for (const auto& id : *held) have.insert(crypto::hex_encode(id));
        for (const auto& id : entry.at("acked")) {
            ++expected;
            if (!have.contains(id.get<std::string>())) ++missing;
        }
    }
    print({{"command", "relay-verify"}, {"acked", expected}, {"missing", missing}});
    return missing == 0 ? 0 : 1;
}

const Registration silent{
    {"relay-silent",
     "ADDRESS [--sessions N] [--from IP,IP…] [--seconds S] [--retry-ms R] [--threads T] "
     "[--open yes]: holds N handshaken silent sessions (or idle ones that opened a mailbox of "
     "their own), reopening what the relay closes",
     relay_silent}};
const Registration fill{{"relay-fill",
                         "ADDRESS [--mailbox TEXT] [--envelopes N] [--size B] [--from IP]: fills "
                         "a mailbox of our own with N envelopes",
                         relay_fill}};
const Registration reconcile{
    {"relay-reconcile",
     "ADDRESS [--mailbox TEXT] [--sessions N] [--from IP,IP…] [--seconds S] [--threads T]: N "
     "sessions keep costly reconciliations of the mailbox going",
     relay_reconcile}};
const Registration quota{
    {"relay-quota",
     "ADDRESS --state FILE [--mailboxes M] [--envelopes N] [--size B] [--from IP]: pushes to M "
     "new mailboxes, records what was acknowledged",
     relay_quota}};
const Registration verify{{"relay-verify",
                           "ADDRESS --state FILE [--from IP]: every acknowledged envelope of "
                           "relay-quota is still held (exit 1 if not)",
                           relay_verify}};

}  // namespace
}  // namespace kolokol::adversary
