// kolokol relay — a store-and-forward node that never holds a key that opens content.
#include <malloc.h>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "app.hpp"
#include "exit_codes.hpp"
#include "i18n.hpp"
#include "kolokol/relay/relay.hpp"
#include "kolokol/storage/error.hpp"
#include "store_gone.hpp"
#include "terminal.hpp"
#include "ws_front.hpp"

namespace kolokol::cli {

namespace {

struct RelayArgs {
    std::string listen;
    std::string data;
    std::size_t max_sessions = 1024;
    std::size_t per_address = 32;
    std::size_t per_prefix = 128;
    unsigned open_timeout = 10;
    std::size_t reconcile_memory_mib = 64;
    std::size_t session_memory_mib = 128;
    std::uint64_t mailbox_max_count = 100'000;
    std::uint64_t mailbox_max_bytes = std::uint64_t{1} << 30;
    std::uint64_t store_max_bytes = std::uint64_t{4} << 30;
    unsigned ttl_days = 30;
    unsigned threads = 0;
    std::string kdf = "tuned";
    WsFrontArgs ws;
};

void run_relay(const RelayArgs& a) {
    auto endpoint = transport::parse_listen_address(a.listen);
    if (!endpoint) throw CommandError(Exit::usage, translated(endpoint.error()));
    if (a.ws.given()) WsFront::check(a.ws);
    if (a.mailbox_max_bytes < storage::kEnvelopeMaxBytes)
        throw CommandError(
            Exit::usage, subst(_("--mailbox-max-bytes must hold at least one envelope ({} bytes)"),
                               storage::kEnvelopeMaxBytes));

    if (a.store_max_bytes < storage::kEnvelopeMaxBytes + transport::kStoredEnvelopeOverheadBytes)
        throw CommandError(
            Exit::usage,
            subst(_("--store-max-bytes must hold at least one envelope ({} bytes)"),
                  storage::kEnvelopeMaxBytes + transport::kStoredEnvelopeOverheadBytes));

    transport::RelayQuotas quotas;
    quotas.mailbox_max_count = a.mailbox_max_count;
    quotas.mailbox_max_bytes = a.mailbox_max_bytes;
    quotas.store_max_bytes = a.store_max_bytes;
    quotas.ttl = std::chrono::hours(24) * a.ttl_days;

    const bool exists = transport::RelayStore::exists(a.data);
    auto pass = exists ? read_passphrase(_("Relay passphrase"))
                       : read_new_passphrase(_("New passphrase for the relay's store"));
    auto opened = transport::RelayStore::open(
        a.data, pass.view(),
        a.kdf == "fast" ? transport::RelayKdf::fast : transport::RelayKdf::tuned, quotas);
    if (!opened) throw CommandError(exit_for(opened.error()), translated(opened.error()));
    auto& store = **opened;
    // A relay's data dir is a store of its own: destroyed or erased while the relay runs, the
    // relay ends at once, its keys wiped, as a member's commands do.
    if (auto g = store.guard(end_when_gone(a.data)); !g)
        throw CommandError(exit_for(g.error()), translated(g.error()));

    // The quota is a promise about the disk only if the disk can keep it.
    std::error_code space_ec;
    const auto space = std::filesystem::space(a.data, space_ec);
    if (!space_ec && space.available + store.store_bytes() < a.store_max_bytes)
        std::cerr << subst(_("kolokol: relay: warning: --store-max-bytes ({} bytes) is more than "
                             "the disk has free ({} bytes)\n"),
                           a.store_max_bytes, space.available + store.store_bytes());

    // Transport's log lines (a handler's bug, a failing accept loop or expiry), one whole line on
    // stderr each, also when several of the relay's threads log at once.
    std::mutex log_mutex;
    transport::RelayOptions options;
    options.session.log = [&log_mutex](transport::LogLevel, std::string_view line) {
        std::lock_guard lock(log_mutex);
        std::cerr << "kolokol: " << line << "\n";
    };
    options.max_sessions = a.max_sessions;
    options.per_address = a.per_address;
    options.per_prefix = a.per_prefix;
    options.first_request_timeout = std::chrono::seconds(a.open_timeout);
    options.reconcile_memory_bytes = a.reconcile_memory_mib << 20;
    options.session_memory_bytes = a.session_memory_mib << 20;

    asio::io_context io;
    // Behind the web server the caps per address and prefix count the client the gateway
    // names for each connection.
    std::optional<WsFront> front;
    if (a.ws.given()) {
        front.emplace(a.ws);
        options.origins = front->origins();
    }
    transport::Relay relay(io.get_executor(), store, options);
    // With --ws-path the relay's own port is a free one on loopback, and --listen is the
    // gateway's, where the web server sends the secret path.
    if (auto st = relay.listen(front ? WsFront::server_endpoint() : *endpoint); !st)
        throw CommandError(Exit::network, translated(st.error()));
    if (front)
        front->open(io.get_executor(), *endpoint, relay.address().port, relay.address().key,
                    transport::SlotLimits{a.max_sessions, a.per_address, a.per_prefix},
                    options.session.log);
    // Handlers are in place before the address is printed: whoever reads it may signal at once.
    // On SIGINT/SIGTERM: stop accepting and abort the sessions, then let the io_context run
    // dry. A watchdog ends it regardless after a grace period, so one stuck handler cannot keep
    // the process alive.
    std::mutex stop_mutex;
    std::condition_variable stop_cv;
    bool done = false;
    std::thread watchdog;
    // glibc keeps what a burst of sessions freed in its arenas until asked to give it back:
    // asked every 10 s, so memory comes down after an attack as it went up.
    asio::steady_timer trim(io);
    std::function<void()> arm_trim = [&] {
        trim.expires_after(std::chrono::seconds(10));
        trim.async_wait([&](const std::error_code& ec) {
            if (ec) return;
            malloc_trim(0);
            arm_trim();
        });
    };
    arm_trim();
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const std::error_code& ec, int) {
        if (ec) return;
        std::cerr << _("kolokol: relay: stopping\n");
        trim.cancel();
        if (front) front->stop();
        relay.stop();
        watchdog = std::thread([&] {
            std::unique_lock wait_lock(stop_mutex);
            if (!stop_cv.wait_for(wait_lock, std::chrono::seconds(10), [&] { return done; }))
                io.stop();
        });
    });

    relay.start();
    if (front) front->start();
    // One line on stdout, flushed: scripts and tests read the address from it.
    std::cout << (front ? front->address() : relay.address()).to_string() << std::endl;

    const unsigned n = a.threads ? a.threads : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> workers;
    for (unsigned i = 1; i < n; ++i) workers.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : workers) t.join();
    {
        std::lock_guard lock(stop_mutex);
        done = true;
    }
    stop_cv.notify_all();
    if (watchdog.joinable()) watchdog.join();
    const auto stats = relay.stats();
    std::cerr << subst(_("kolokol: relay: stopped after {} ({} in, {} out)\n"),
                       subst(P_("{} session", "{} sessions", stats.transport.sessions_established),
                             stats.transport.sessions_established),
                       subst(P_("{} envelope", "{} envelopes", stats.envelopes_received),
                             stats.envelopes_received),
                       stats.envelopes_sent);
    std::cerr << subst(_("kolokol: relay: {} connections refused at a cap, {} sessions evicted "
                         "for newcomers, {} closed for opening no mailbox in time, {} closed for "
                         "memory\n"),
                       stats.transport.refused_capacity + stats.transport.refused_per_address +
                           stats.transport.refused_per_prefix,
                       stats.transport.evicted, stats.first_request_timeouts, stats.memory_closes);
    if (front) std::cerr << front->stats_line("relay");
}

}  // namespace

void register_relay_commands(CLI::App& app) {
    static RelayArgs args;
    auto* relay = app.add_subcommand(
        "relay", _("Run a relay: store and forward envelopes for members who are never online "
                   "together (it cannot read them)"));
    relay->add_option("--listen", args.listen, _("Address to listen on, HOST:PORT (port 0: any)"))
        ->required();
    relay->add_option("--data", args.data, _("Directory of the relay's encrypted store"))
        ->required();
    relay->add_option("--max-sessions", args.max_sessions, _("Sessions at once (default 1024)"))
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    relay
        ->add_option("--per-address", args.per_address,
                     _("Sessions at once from one IP address (default 32)"))
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    relay
        ->add_option("--per-prefix", args.per_prefix,
                     _("Sessions at once from one /24 of IPv4 or /48 of IPv6 (default 128); when "
                       "full, a newcomer takes the slot of a session that opened no mailbox"))
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    relay
        ->add_option("--open-timeout", args.open_timeout,
                     _("Seconds a client has, after the handshake, to open a mailbox (default "
                       "10)"))
        ->check(CLI::Range(1u, 3'600u));
    relay
        ->add_option("--reconcile-memory", args.reconcile_memory_mib,
                     _("MiB of memory for reconciliations, shared by all sessions; past it they "
                       "wait (default 64)"))
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
    relay
        ->add_option("--session-memory", args.session_memory_mib,
                     _("MiB of memory for all sessions' buffers and state; past it the biggest "
                       "session is closed (default 128)"))
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
    relay
        ->add_option("--store-max-bytes", args.store_max_bytes,
                     _("Bytes of disk the relay's database may use for all mailboxes together; "
                       "past it envelopes are declined (default 4 GiB)"))
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 50));
    relay
        ->add_option("--mailbox-max-count", args.mailbox_max_count,
                     _("Envelopes kept per mailbox (default 100000)"))
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
    relay
        ->add_option("--mailbox-max-bytes", args.mailbox_max_bytes,
                     _("Bytes kept per mailbox (default 1 GiB)"))
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 50));
    relay
        ->add_option("--ttl-days", args.ttl_days,
                     _("Delete envelopes this many days after they arrive; 0 keeps them (default "
                       "30)"))
        ->check(CLI::Range(0u, 36'500u));
    add_ws_options(*relay, args.ws);
    relay->add_option("--threads", args.threads, _("Worker threads (default: one per core)"))
        ->check(CLI::Range(0u, 256u));
    relay
        ->add_option("--kdf", args.kdf,
                     _("Passphrase hardening when the store is created: tuned (default, ~1 s) or "
                       "fast (tests)"))
        ->check(CLI::IsMember({"tuned", "fast"}));
    relay->footer(
        _("Example:\n  kolokol relay --listen 0.0.0.0:7400 --data /var/lib/kolokol-relay\n\n"
          "Prints its address (kolokol://HOST:PORT/KEY) on one line; give it to the groups that "
          "use the relay. The passphrase of its store is asked on the terminal (or read from "
          "--passphrase-file). SIGINT or SIGTERM stops it cleanly."));
    relay->callback([] { run_relay(args); });
}

}  // namespace kolokol::cli
