// kolokol sync (files and the network) · serve
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "delivery.hpp"
#include "group_audit.hpp"
#include "i18n.hpp"
#include "kolokol/core/sync_once.hpp"
#include "kolokol/transport/relay.hpp"
#include "kolokol/transport/sync.hpp"
#include "network.hpp"
#include "node_session.hpp"
#include "rekey_warning.hpp"
#include "settings.hpp"
#include "terminal.hpp"
#include "ws_front.hpp"

namespace kolokol::cli {

namespace {
struct SyncArgs {
    std::string to_file, listen = "127.0.0.1:0", part_size;
    std::vector<std::string> from_files, targets, groups;
    bool json = false, armor = false;
    bool verbose = false;
};
SyncArgs& args() {
    static SyncArgs a;
    return a;
}

// Envelopes refused for the unverified quota end the command with its own exit code, after
// the summary: the rest of the sync happened.
void refuse_over_quota(core::Node& node, std::size_t refused) {
    if (refused == 0) return;
    throw CommandError(
        Exit::quota_full,
        subst(P_("refused {} envelope that this store cannot check: its unverified quota ({}) is "
                 "full — a relay, peer or file is sending what no member wrote, or the quota is "
                 "too small (`kolokol settings`)",
                 "refused {} envelopes that this store cannot check: its unverified quota ({}) "
                 "is full — a relay, peer or file is sending what no member wrote, or the quota "
                 "is too small (`kolokol settings`)",
                 refused),
              refused, format_size(node.unverified_usage().quota)));
}

// Returns how many envelopes the unverified quota refused.
std::size_t file_sync(core::Node& node) {
    auto& a = args();
    if (!a.to_file.empty()) {
        std::vector<core::GroupId> ids;
        for (const auto& g : a.targets) ids.push_back(value_or_raise(node.resolve_group(g)));
        for (const auto& g : a.groups) ids.push_back(value_or_raise(node.resolve_group(g)));
        if (a.part_size.empty() && !a.armor) {
            auto n = value_or_raise(node.write_sync_file(a.to_file, ids));
            if (a.json)
                std::cout << nlohmann::json{{"written", n}}.dump() << "\n";
            else
                std::cout << subst(P_("Wrote {} record to {}.\n", "Wrote {} records to {}.\n", n),
                                   n, a.to_file);
            return 0;
        }
        core::PartOptions options;
        options.armor = a.armor;
        if (!a.part_size.empty())
            options.part_size = value_or_raise(core::parse_part_size(a.part_size));
        core::PartsWritten parts;
        auto n = value_or_raise(node.write_sync_parts(a.to_file, ids, options, &parts));
        std::vector<std::string> files;
        for (const auto& f : parts.files) files.push_back(f.string());
        if (a.json)
            std::cout << nlohmann::json{{"written", n},
                                        {"set", core::set_name(parts.set)},
                                        {"parts", files}}
                             .dump()
                      << "\n";
        else if (files.size() == 1)
            std::cout << subst(P_("Wrote {} record to {}.\n", "Wrote {} records to {}.\n", n), n,
                               files.front());
        else
            std::cout << subst(P_("Wrote {} record to {} parts of set {}: {} … {}\n",
                                  "Wrote {} records to {} parts of set {}: {} … {}\n", n),
                               n, files.size(), core::set_name(parts.set), files.front(),
                               files.back());
        return 0;
    }
    std::vector<std::filesystem::path> paths(a.from_files.begin(), a.from_files.end());
    core::PartSet parts;
    auto r = value_or_raise(node.read_sync_files(paths, &parts));
    // The copies of a part carried twice, and what in the folders was no part, are said.
    std::vector<std::string> duplicates;
    for (const auto& d : parts.duplicates) {
        duplicates.push_back(d.path.string());
        if (!a.json)
            std::cerr << subst(_("{}: a second copy of part {} of {}, ignored"), d.path.string(),
                               d.header.index, d.header.count)
                      << "\n";
    }
    // Damaged parts the set is whole without (a copy beside a good one, most often).
    std::vector<std::string> damaged;
    for (const auto& d : parts.damaged) {
        damaged.push_back(translated(d));
        if (!a.json)
            std::cerr << subst(_("{} (passed over: the set is whole without it)"), translated(d))
                      << "\n";
    }
    if (!a.json && parts.ignored_files > 0)
        std::cerr << subst(P_("Left alone {} file that holds no part of a sync file.",
                              "Left alone {} files that hold no part of a sync file.",
                              parts.ignored_files),
                           parts.ignored_files)
                  << "\n";
    if (!a.json && parts.count > 0)
        std::cout << subst(P_("Put the file together from its {} part (set {}).\n",
                              "Put the file together from its {} parts (set {}).\n", parts.count),
                           parts.count, core::set_name(parts.set));
    if (a.json) {
        nlohmann::json out{{"received", r.received},
                           {"new", r.added},
                           {"duplicate", r.duplicate},
                           {"pending", r.pending},
                           {"unreadable", r.unreadable},
                           {"over_quota", r.over_quota},
                           {"rejected", r.rejected},
                           {"dropped", r.dropped},
                           {"foreign_chunks", r.foreign_chunks}};
        if (parts.count > 0) {
            out["set"] = core::set_name(parts.set);
            out["parts"] = parts.count;
            out["duplicates"] = duplicates;
            out["damaged"] = damaged;
            out["ignored_files"] = parts.ignored_files;
        }
        std::cout << out.dump() << "\n";
    } else {
        std::cout << subst(_("Read {} records: {} new, {} duplicate, {} waiting for earlier "
                             "records, {} not readable by you, {} rejected.\n"),
                           r.received, r.added, r.duplicate, r.pending, r.unreadable, r.rejected);
        if (r.dropped > 0)
            std::cout << subst(P_("Dropped {} envelope that no member writes (sealed with one "
                                  "epoch's file key for another mailbox): whoever made this file "
                                  "holds a key of the group but is not writing as Kolokol does.\n",
                                  "Dropped {} envelopes that no member writes (sealed with one "
                                  "epoch's file key for another mailbox): whoever made this file "
                                  "holds a key of the group but is not writing as Kolokol does.\n",
                                  r.dropped),
                               r.dropped);
    }
    return r.over_quota;
}

// The plan of `kolokol sync`: the groups and addresses named (or all), Tor-only groups left
// out by the policy's route.
core::SyncPlan plan_of(core::Node& node, const core::SyncRoute& route) {
    auto& a = args();
    std::vector<core::GroupId> groups;
    for (const auto& name : a.groups) groups.push_back(value_or_raise(node.resolve_group(name)));
    std::vector<std::string> targets;
    for (const auto& target : a.targets) {
        auto parsed = transport::Address::parse(target);
        if (!parsed)
            throw CommandError(Exit::bad_input, target + ": " + translated(parsed.error()));
        targets.push_back(parsed->to_string());
    }
    auto plan = value_or_raise(core::plan_sync(node, groups, targets, route));
    if (!plan.unlisted.empty()) {
        // Named as the user typed it.
        const auto at = std::find(targets.begin(), targets.end(), plan.unlisted.front());
        throw CommandError(
            Exit::usage,
            subst(_("no group of yours lists {} as a relay: name the groups to sync with it "
                    "(--group NAME)"),
                  a.targets[static_cast<std::size_t>(at - targets.begin())]));
    }
    return plan;
}

// What `kolokol sync` shows while it runs: a bar a session, a mailbox's refusal when its
// address is done, and the summary once the sessions ended.
class SyncScreen final : public core::SyncOnceObserver {
public:
    explicit SyncScreen(std::size_t addresses) : m_addresses(addresses) {}
    std::atomic<std::size_t> stored{0};
    std::uint64_t over_quota = 0;

    void on_session(const std::string& address, const core::GroupId& group) override {
        // Each address a group's sessions try, once (not each round).
        if (args().verbose &&
            std::exchange(m_trying, {address, group}) != std::pair{address, group})
            std::cerr << "kolokol: " << subst(_("trying {}"), address) << "\n";
        m_bar.emplace(subst(_("Syncing {}"), host_of(address)), 0);
    }
    void on_fallback(const std::string& address, const Error& error,
                     const std::string& next) override {
        if (args().verbose)
            std::cerr << "kolokol: "
                      << subst(_("{} failed ({}); trying the relay's next address"), address,
                               translated(error))
                      << "\n";
        (void)next;
    }
    void on_progress(const transport::SyncReport& so_far) override {
        if (m_bar)
            m_bar->update(so_far.sent + so_far.peer_rejected + so_far.received + so_far.rejected,
                          so_far.to_send + so_far.to_receive);
    }
    void on_session_end(bool ok) override {
        if (m_bar) m_bar->finish(ok);
        m_bar.reset();
    }
    void on_address(const core::SyncAddressReport& done) override {
        const auto& here = done.report;
        if (!done.errors.empty()) ++m_failures;
        m_total.sent += here.sent;
        m_total.received += here.received;
        // Our replica declines only what the unverified quota has no room for.
        over_quota += here.rejected;
        m_total.rejected += here.peer_rejected;
        m_total.bytes_sent += here.bytes_sent;
        m_total.bytes_received += here.bytes_received;
        m_total.round_trips += here.round_trips;
        for (const auto& refusal : here.refused) {
            std::cerr << "kolokol: "
                      << subst(_("{} refused a mailbox: {}"), host_of(done.address), refusal.reason)
                      << "\n";
            m_total.refused.push_back(refusal);
        }
    }
    void on_maintained(const core::SyncOnceReport& so_far) override {
        const auto synced = m_addresses - m_failures;
        if (args().json) {
            std::cout << nlohmann::json{{"peers", m_addresses},
                                        {"failed", m_failures},
                                        {"sent", m_total.sent},
                                        {"received", m_total.received},
                                        {"rejected", m_total.rejected},
                                        {"over_quota", over_quota},
                                        {"bytes_sent", m_total.bytes_sent},
                                        {"bytes_received", m_total.bytes_received},
                                        {"round_trips", m_total.round_trips},
                                        {"refused", m_total.refused.size()}}
                             .dump()
                      << "\n";
        } else if (synced > 0) {
            std::cout << subst(_("Synced with {} of {}: sent {}, received {}, rejected {}, {} "
                                 "bytes, {} round trips.\n"),
                               synced, m_addresses, m_total.sent, m_total.received,
                               m_total.rejected, m_total.bytes_sent + m_total.bytes_received,
                               m_total.round_trips);
        }
        for (const auto& line : so_far.maintained) std::cerr << line << "\n";
    }
    void on_stored(std::size_t total) override { stored = total; }
    void on_short_connections(const std::string& address, std::uint64_t limit,
                              std::uint64_t budget) override {
        if (!args().verbose) return;
        std::cerr << "kolokol: "
                  << subst(_("connections to {} froze after {} bytes before: syncing in short "
                             "connections of {} bytes"),
                           host_of(address), limit, budget)
                  << "\n";
    }
    void on_connections(const std::string& address, int connections, std::uint64_t bytes,
                        std::uint64_t fetches) override {
        if (!args().verbose) return;
        if (m_bar) m_bar->finish(false);
        m_bar.reset();
        std::cerr << "kolokol: "
                  << subst(P_("{} short connection to {} brought {} bytes ({} fetches resumed "
                              "where the last connection stopped)",
                              "{} short connections to {} brought {} bytes ({} fetches resumed "
                              "where the last connection stopped)",
                              connections),
                           connections, host_of(address), bytes, fetches)
                  << "\n";
    }
    void on_hedge(const std::string& address, std::uint64_t bytes, std::uint64_t budget) override {
        if (!args().verbose) return;
        if (m_bar) m_bar->finish(false);
        m_bar.reset();
        std::cerr << "kolokol: "
                  << subst(_("the connection to {} went quiet after {} bytes: going on in short "
                             "connections of {} bytes while it is watched"),
                           host_of(address), bytes, budget)
                  << "\n";
    }
    void on_retry(const std::string& address, const Error& error, int attempt,
                  std::chrono::milliseconds wait) override {
        if (!args().verbose) return;
        if (m_bar) m_bar->finish(false);
        m_bar.reset();
        std::cerr << "kolokol: "
                  << subst(_("the connection to {} failed ({}): trying again in {} ms (attempt "
                             "{})"),
                           host_of(address), translated(error), wait.count(), attempt)
                  << "\n";
    }
    void on_freeze(const std::string& address, std::uint64_t bytes, std::uint64_t budget) override {
        if (!args().verbose) return;
        if (m_bar) m_bar->finish(false);
        m_bar.reset();
        if (budget > 0)
            std::cerr << "kolokol: "
                      << subst(_("the connection to {} froze after {} bytes: redialling, in "
                                 "short connections of {} bytes"),
                               host_of(address), bytes, budget)
                      << "\n";
        else
            std::cerr << "kolokol: "
                      << subst(_("the connection to {} froze after {} bytes: redialling"),
                               host_of(address), bytes)
                      << "\n";
    }

private:
    std::size_t m_addresses;
    std::size_t m_failures = 0;
    transport::SyncReport m_total;
    std::optional<Progress> m_bar;
    std::pair<std::string, core::GroupId> m_trying;
};

void network_sync(core::Node& node) {
    // Without a proxy, Tor-only groups are left out: their relays and their mailboxes.
    auto policy = network_policy(node);
    const auto route = route_of(policy);
    auto plan = plan_of(node, route);
    if (plan.sessions.empty() && (plan.excluded || !policy.excluded.empty()))
        refuse_tor_only(policy);
    warn_excluded(policy);
    if (plan.sessions.empty())
        throw CommandError(
            Exit::usage, _("no peer or relay known: give an address (kolokol://HOST:PORT/KEY), or "
                           "add a relay with `kolokol group relay add`"));
    SyncScreen screen(plan.sessions.size());
    // Ctrl-C ends the sync at its next frame; what was stored before is kept, and said.
    auto kept_text = [&screen] {
        const std::size_t stored = screen.stored.load();
        return subst(P_("stopped (Ctrl-C): the {} record received before it is kept; the rest "
                        "goes with the next `kolokol sync`",
                        "stopped (Ctrl-C): the {} records received before it are kept; the "
                        "rest goes with the next `kolokol sync`",
                        stored),
                     stored);
    };
    InterruptGuard interrupt(kept_text);
    // Views compared with members met directly in this sync are those from here on (§5.12).
    const auto started_ms = node.now_ms();
    core::SyncOnceOptions options;
    options.route = route;
    options.stop = interrupt.stop();
    options.observer = &screen;
    auto report = core::sync_once(node, plan, options);
    if (report.stopped) throw CommandError(Exit::interrupted, kept_text());
    if (report.maintain_error) raise(*report.maintain_error);
    for (const auto& line : foreign_key_update_warnings(node))
        std::cerr << "kolokol: " << line << "\n";
    // What other members' records name and this member still lacks was withheld somewhere
    // (§5.12) — or is on an address that failed, which is said below: a relay that withholds a
    // record is not hidden by another one being blocked.
    warn_missing_control(node);
    warn_view_differences(node, started_ms);
    warn_void_quorums(node);
    // Each failure is said once: all but the gravest here, that one as the command's error.
    std::vector<std::pair<Exit, std::string>> errors;
    for (const auto& done : report.addresses)
        for (const auto& error : done.errors) {
            auto line = done.address + ": " + translated(error);
            if (std::find_if(errors.begin(), errors.end(),
                             [&](const auto& e) { return e.second == line; }) == errors.end())
                errors.emplace_back(sync_failure_exit(error), std::move(line));
        }
    if (!errors.empty()) {
        // A listed relay or a named peer that failed fails the command, also when others
        // synced: what it did not get, members who use only it do not get either.
        auto gravest = errors.front().first;
        for (const auto& e : errors) gravest = graver(gravest, e.first);
        auto last = std::find_if(errors.begin(), errors.end(),
                                 [&](const auto& e) { return e.first == gravest; });
        for (auto it = errors.begin(); it != errors.end(); ++it)
            if (it != last) std::cerr << "kolokol: " << it->second << "\n";
        if (screen.over_quota > 0)
            std::cerr << "kolokol: "
                      << subst(_("also refused {} envelopes for the unverified quota"),
                               screen.over_quota)
                      << "\n";
        throw CommandError(gravest, last->second);
    }
    refuse_over_quota(node, screen.over_quota);
}
}  // namespace

void register_sync_commands(CLI::App& app) {
    auto& a = args();
    auto* sync =
        app.add_subcommand("sync", _("Exchange records with the group: by file, peer or relay"));
    sync->add_option("--to-file", a.to_file,
                     _("Write a sync file (sneakernet) for the given groups (all when none)"));
    sync->add_option("--part-size", a.part_size,
                     _("With --to-file: cut the sync file into parts of at most this size (4K to "
                       "64M, such as 2M), written as FILE.part01, FILE.part02…"));
    sync->add_flag("--armor", a.armor,
                   _("With --to-file: write text (FILE, or FILE.partNN.txt with --part-size) that "
                     "survives being pasted into a messenger or mail"));
    sync->add_option("--from-file", a.from_files,
                     _("Read a sync file and take in what is new; or the parts of one (files or "
                       "folders, in any order), once all are there"));
    sync->add_option(
        "TARGET", a.targets,
        _("Peers or relays (kolokol://HOST:PORT/KEY) to sync with — every relay your groups "
          "know when none; with --to-file, the groups to include"));
    sync->add_option("--group", a.groups,
                     _("Only this group (name or id; repeatable). An address given as TARGET is "
                       "asked only for the groups that list it as a relay, or for the groups "
                       "named here — never for all your groups"))
        ->allow_extra_args(false);  // one group a --group, so a TARGET may follow
    sync->add_flag("--json", a.json, _("Machine-readable summary"));
    sync->add_flag("-v,--verbose", a.verbose,
                   _("Say which address of each relay is tried and why one was passed over, "
                     "and what happens to the connections (freezes, redials, short connections)"));
    add_proxy_option(sync);
    sync->footer(
        _("Examples:\n  kolokol sync\n  kolokol sync kolokol://203.0.113.5:7000/mfrgg…\n  kolokol "
          "sync --group Lawyers kolokol://203.0.113.5:7000/mfrgg…\n  kolokol sync --to-file "
          "/media/usb/kolokol.sync\n  kolokol sync --from-file /media/usb/kolokol.sync\n  kolokol "
          "sync "
          "--to-file kolokol.sync --part-size 2M --armor\n  kolokol sync --from-file "
          "~/Downloads/parts/"
          "\n\nEverything "
          "is encrypted: a relay or a file holds envelopes only members can open. Each relay or "
          "peer is asked only for the groups that list it (or that --group names), one group a "
          "session, each session under a new key: it cannot learn or link your other groups."));
    sync->callback([] {
        auto& a = args();
        if (!a.to_file.empty() && !a.from_files.empty())
            throw CommandError(Exit::usage, _("give at most one of --to-file and --from-file"));
        if (a.to_file.empty() && (a.armor || !a.part_size.empty()))
            throw CommandError(Exit::usage, _("--part-size and --armor go with --to-file"));
        auto node = open_node();
        if (!a.to_file.empty() || !a.from_files.empty()) {
            const auto refused = file_sync(*node);
            for (const auto& line : value_or_raise(node->maintain())) std::cerr << line << "\n";
            if (a.to_file.empty()) warn_missing_control(*node);
            for (const auto& line : foreign_key_update_warnings(*node))
                std::cerr << "kolokol: " << line << "\n";
            refuse_over_quota(*node, refused);
            return;
        }
        network_sync(*node);
    });

    auto* serve =
        app.add_subcommand("serve", _("Let other members sync with you directly over the network"));
    serve->add_option("--listen", a.listen,
                      _("HOST:PORT to listen on (default 127.0.0.1:0, a free port)"));
    static WsFrontArgs ws;
    add_ws_options(*serve, ws);
    serve->footer(
        _("Example:\n  kolokol serve --listen 0.0.0.0:7000\n\nPrints the address others give to "
          "`kolokol sync`. Only mailboxes you hold yourself are served."));
    add_lan_options(serve);
    register_proxy_command(app);
    serve->callback([serve] {
        if (ws.given()) {
            WsFront::check(ws);
            if (lan_requested())
                throw CommandError(Exit::usage,
                                   _("--lan cannot go with --ws-path: LAN members could not reach "
                                     "a port that only the web server sees"));
        }
        auto node = open_node();
        // With --lan and no --listen, listen where LAN peers can reach us.
        auto listen = lan_requested() && serve->count("--listen") == 0 ? std::string("0.0.0.0:0")
                                                                       : args().listen;
        auto endpoint = transport::parse_listen_address(listen);
        if (!endpoint) raise(endpoint.error());
        // Notices (LAN discovery, one-shot LAN syncs) go to stderr, as lines of their own.
        class Events final : public core::SyncObserver {
        public:
            void on_event(const core::SyncEvent& event) override {
                bool error = false;
                auto text = sync_event_text(event, &error);
                std::cerr << (error ? "kolokol: " : "") << text << std::endl;
            }
        } events;
        core::SyncServiceOptions options;
        options.route = sync_route();
        // What this member writes with another command meanwhile reaches live sessions within
        // a second.
        options.store_poll = std::chrono::seconds(1);
        // This thread waits for SIGINT/SIGTERM and, with --ws-path, carries the web server's
        // connections; the service's thread does the rest.
        asio::io_context io;
        bool stopping = false;
        std::optional<WsFront> front;
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const asio::error_code&, int) {
            stopping = true;
            if (front) front->stop();
        });
        if (ws.given()) front.emplace(ws);
        core::ListenOptions listen_options;
        // With --ws-path the Server's own port is a free one on loopback, and --listen is the
        // gateway's, where the web server sends the secret path.
        listen_options.endpoint = front ? WsFront::server_endpoint() : *endpoint;
        if (front) listen_options.server.origins = front->origins();
        listen_options.lan = lan_requested();
        if (listen_options.lan) listen_options.discovery = lan_discovery_options();
        listen_options.lan_live = false;
        core::SyncService service(*node, &events, std::move(options));
        auto address = service.listen(listen_options);
        if (!address) throw CommandError(listen_exit(address.error()), translated(address.error()));
        if (front) {
            auto own = transport::Address::parse(*address);
            if (!own) raise(own.error());
            front->open(io.get_executor(), *endpoint, own->port, own->key,
                        transport::SlotLimits{listen_options.server.max_sessions,
                                              listen_options.server.max_sessions_per_address,
                                              listen_options.server.max_sessions_per_prefix,
                                              listen_options.server.evict_authorized},
                        [](transport::LogLevel, std::string_view line) {
                            std::cerr << "kolokol: " << line << std::endl;
                        });
            front->start();
        }
        std::cout << (front ? front->address().to_string() : *address) << std::endl;
        while (!stopping && io.run_one() > 0) {
        }
        // The gateway's connections close; what does not within the grace is dropped.
        io.run_for(std::chrono::seconds(2));
        service.stop();
        std::cerr << subst(
            _("kolokol: serve: stopped after {}\n"),
            subst(P_("{} session", "{} sessions", service.served()), service.served()));
        if (front) std::cerr << front->stats_line("serve");
    });
}

}  // namespace kolokol::cli
