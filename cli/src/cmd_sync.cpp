// kolokol sync (files and the network) · serve
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "delivery.hpp"
#include "i18n.hpp"
#include "kolokol/transport/relay.hpp"
#include "kolokol/transport/sync.hpp"
#include "network.hpp"
#include "node_session.hpp"
#include "settings.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {
struct SyncArgs {
    std::string to_file, from_file, listen = "127.0.0.1:0";
    std::vector<std::string> targets, groups;
    bool json = false;
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
        auto n = value_or_raise(node.write_sync_file(a.to_file, ids));
        if (a.json)
            std::cout << nlohmann::json{{"written", n}}.dump() << "\n";
        else
            std::cout << subst(P_("Wrote {} record to {}.\n", "Wrote {} records to {}.\n", n), n,
                               a.to_file);
        return 0;
    }
    auto r = value_or_raise(node.read_sync_file(a.from_file));
    if (a.json) {
        std::cout << nlohmann::json{{"received", r.received},
                                    {"new", r.added},
                                    {"duplicate", r.duplicate},
                                    {"pending", r.pending},
                                    {"unreadable", r.unreadable},
                                    {"over_quota", r.over_quota},
                                    {"rejected", r.rejected},
                                    {"dropped", r.dropped},
                                    {"foreign_chunks", r.foreign_chunks}}
                         .dump()
                  << "\n";
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

// "host:port" of a kolokol:// address, for progress labels (the key is long and says little).
std::string transport_host_of(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    if (!parsed) return address;
    return parsed->host + ":" + std::to_string(parsed->port);
}

std::string canonical_address(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    return parsed ? parsed->to_string() : address;
}

// Which groups go to which address. Every session carries one group's mailboxes only: a relay
// (or a peer) learns of a member's groups only those that list it, or that the member named,
// and cannot link two groups' sessions by key (each has its own static key), by circuit (each
// its own SOCKS5 credentials) or by what they open.
struct SyncPlan {
    std::vector<std::pair<std::string, std::vector<core::GroupId>>> sessions;  // by address
    bool excluded_hit = false;  // a group asked for was left out (Tor only without a proxy)
};

SyncPlan plan_sync(core::Node& node, const NetworkPolicy& policy) {
    auto& a = args();
    std::vector<core::GroupId> chosen;
    if (a.groups.empty()) {
        for (const auto& g : node.groups()) chosen.push_back(g.id);
    } else {
        for (const auto& name : a.groups) {
            auto id = value_or_raise(node.resolve_group(name));
            if (std::find(chosen.begin(), chosen.end(), id) == chosen.end()) chosen.push_back(id);
        }
    }
    SyncPlan plan;
    auto add = [&](const std::string& address, const core::GroupId& group) {
        if (!policy.allows(group)) {
            plan.excluded_hit = true;
            return;
        }
        auto it = std::find_if(plan.sessions.begin(), plan.sessions.end(),
                               [&](const auto& s) { return s.first == address; });
        if (it == plan.sessions.end())
            it = plan.sessions.insert(plan.sessions.end(), {address, {}});
        if (std::find(it->second.begin(), it->second.end(), group) == it->second.end())
            it->second.push_back(group);
    };
    if (a.targets.empty()) {
        for (const auto& g : chosen)
            for (const auto& r : node.relays(g)) add(canonical_address(r), g);
        return plan;
    }
    for (const auto& target : a.targets) {
        auto parsed = transport::Address::parse(target);
        if (!parsed)
            throw CommandError(Exit::bad_input, target + ": " + translated(parsed.error()));
        const auto address = parsed->to_string();
        // An address named on the command line is asked for the groups that list it, or with
        // --group for the groups named: never for all of them.
        std::vector<core::GroupId> groups;
        if (!a.groups.empty()) {
            groups = chosen;
        } else {
            for (const auto& g : chosen)
                for (const auto& r : node.relays(g))
                    if (canonical_address(r) == address) groups.push_back(g);
        }
        if (groups.empty())
            throw CommandError(
                Exit::usage,
                subst(_("no group of yours lists {} as a relay: name the groups to sync with it "
                        "(--group NAME)"),
                      target));
        for (const auto& g : groups) add(address, g);
    }
    return plan;
}

void add_up(transport::SyncReport& into, const transport::SyncReport& more) {
    into.sent += more.sent;
    into.received += more.received;
    into.rejected += more.rejected;
    into.peer_rejected += more.peer_rejected;
    into.bytes_sent += more.bytes_sent;
    into.bytes_received += more.bytes_received;
    into.round_trips += more.round_trips;
    into.refused.insert(into.refused.end(), more.refused.begin(), more.refused.end());
}

// One group's session with one address; again while a rotation brings a new mailbox.
Result<transport::SyncReport> sync_group(core::Node& node, transport::Replica& replica,
                                         const NetworkPolicy& policy, const std::string& address,
                                         const core::GroupId& group,
                                         const transport::SyncStop& stop) {
    // What a round offers: the mailboxes, and which of them take only small envelopes.
    auto offer_of = [](const std::vector<transport::MailboxKey>& keys) {
        std::set<std::pair<core::MailboxId, std::uint32_t>> offer;
        for (const auto& k : keys) offer.emplace(k.id, k.max_envelope_bytes);
        return offer;
    };
    std::set<std::pair<core::MailboxId, std::uint32_t>> known;
    Result<transport::SyncReport> r = fail(transport::SyncErrc::stopped);
    for (int round = 0; round < 8; ++round) {
        auto keys = node.mailbox_keys(&group);
        // Again while a round changes the offer: a rotation brought a new mailbox, or a record
        // waits for one of a capped mailbox's larger envelopes.
        auto offer = offer_of(keys);
        if (round > 0 && offer == known) break;
        known = std::move(offer);
        Progress bar(subst(_("Syncing {}"), transport_host_of(address)), 0);
        transport::SyncOptions options;
        options.stop = stop;
        policy.apply(options.connect, address, &group);
        options.progress = [&bar](const transport::SyncReport& so_far) {
            bar.update(so_far.sent + so_far.peer_rejected + so_far.received + so_far.rejected,
                       so_far.to_send + so_far.to_receive);
        };
        auto one = transport::sync_with(address, std::move(keys), replica, std::move(options));
        bar.finish(one.has_value());
        if (!one) return one;
        if (round == 0)
            r = std::move(one);
        else
            add_up(*r, *one);
    }
    return r;
}

void network_sync(core::Node& node) {
    auto& a = args();
    // Without a proxy, Tor-only groups are left out: their relays and their mailboxes.
    auto policy = network_policy(node);
    auto plan = plan_sync(node, policy);
    if (plan.sessions.empty() && (plan.excluded_hit || !policy.excluded.empty()))
        refuse_tor_only(policy);
    warn_excluded(policy);
    if (plan.sessions.empty())
        throw CommandError(
            Exit::usage, _("no peer or relay known: give an address (kolokol://HOST:PORT/KEY), or "
                           "add a relay with `kolokol group relay add`"));
    auto inner = node.replica();
    CountingReplica counted(*inner);
    auto* replica = &counted;
    // Ctrl-C ends the sync at its next frame; what was stored before is kept, and said.
    auto kept_text = [&counted] {
        return subst(P_("stopped (Ctrl-C): the {} record received before it is kept; the rest "
                        "goes with the next `kolokol sync`",
                        "stopped (Ctrl-C): the {} records received before it are kept; the "
                        "rest goes with the next `kolokol sync`",
                        counted.stored()),
                     counted.stored());
    };
    InterruptGuard interrupt(kept_text);
    transport::SyncReport total;
    std::uint64_t over_quota = 0;
    // Each failure is said once: all but the gravest here, that one as the command's error.
    std::vector<std::pair<Exit, std::string>> errors;
    std::size_t failures = 0;
    for (const auto& [address, groups] : plan.sessions) {
        if (interrupt.interrupted()) break;
        transport::SyncReport here;
        bool failed = false;
        for (const auto& group : groups) {
            auto r = sync_group(node, *replica, policy, address, group, interrupt.stop());
            if (interrupt.interrupted()) break;
            if (!r) {
                failed = true;
                auto line = address + ": " + translated(r.error());
                if (std::find_if(errors.begin(), errors.end(),
                                 [&](const auto& e) { return e.second == line; }) == errors.end())
                    errors.emplace_back(sync_failure_exit(r.error()), std::move(line));
                continue;
            }
            add_up(here, *r);
        }
        if (failed) ++failures;
        total.sent += here.sent;
        total.received += here.received;
        // Our replica declines only what the unverified quota has no room for.
        over_quota += here.rejected;
        total.rejected += here.peer_rejected;
        total.bytes_sent += here.bytes_sent;
        total.bytes_received += here.bytes_received;
        total.round_trips += here.round_trips;
        for (const auto& refusal : here.refused) {
            std::cerr << "kolokol: "
                      << subst(_("{} refused a mailbox: {}"), transport_host_of(address),
                               refusal.reason)
                      << "\n";
            total.refused.push_back(refusal);
        }
    }
    if (interrupt.interrupted()) {
        // What arrived is in the store; the owed rotations wait for a sync that ends.
        throw CommandError(Exit::interrupted, kept_text());
    }
    auto done = value_or_raise(node.maintain());
    const auto synced = plan.sessions.size() - failures;
    if (a.json) {
        std::cout << nlohmann::json{{"peers", plan.sessions.size()},
                                    {"failed", failures},
                                    {"sent", total.sent},
                                    {"received", total.received},
                                    {"rejected", total.rejected},
                                    {"over_quota", over_quota},
                                    {"bytes_sent", total.bytes_sent},
                                    {"bytes_received", total.bytes_received},
                                    {"round_trips", total.round_trips},
                                    {"refused", total.refused.size()}}
                         .dump()
                  << "\n";
    } else if (synced > 0) {
        std::cout << subst(_("Synced with {} of {}: sent {}, received {}, rejected {}, {} bytes, "
                             "{} round trips.\n"),
                           synced, plan.sessions.size(), total.sent, total.received, total.rejected,
                           total.bytes_sent + total.bytes_received, total.round_trips);
    }
    for (const auto& line : done) std::cerr << line << "\n";
    // Anything done locally (a rotation) goes out on the next sync; do it now if we can.
    if (!done.empty())
        for (const auto& [address, groups] : plan.sessions)
            for (const auto& group : groups) {
                if (interrupt.interrupted()) break;
                transport::SyncOptions options;
                options.stop = interrupt.stop();
                policy.apply(options.connect, address, &group);
                (void)transport::sync_with(address, node.mailbox_keys(&group), *replica,
                                           std::move(options));
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
        if (over_quota > 0)
            std::cerr << "kolokol: "
                      << subst(_("also refused {} envelopes for the unverified quota"), over_quota)
                      << "\n";
        throw CommandError(gravest, last->second);
    }
    refuse_over_quota(node, over_quota);
}
}  // namespace

void register_sync_commands(CLI::App& app) {
    auto& a = args();
    auto* sync =
        app.add_subcommand("sync", _("Exchange records with the group: by file, peer or relay"));
    sync->add_option("--to-file", a.to_file,
                     _("Write a sync file (sneakernet) for the given groups (all when none)"));
    sync->add_option("--from-file", a.from_file, _("Read a sync file and take in what is new"));
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
    add_proxy_option(sync);
    sync->footer(_(
        "Examples:\n  kolokol sync\n  kolokol sync kolokol://203.0.113.5:7000/mfrgg…\n  kolokol "
        "sync --group Lawyers kolokol://203.0.113.5:7000/mfrgg…\n  kolokol sync --to-file "
        "/media/usb/kolokol.sync\n  kolokol sync --from-file /media/usb/kolokol.sync\n\nEverything "
        "is encrypted: a relay or a file holds envelopes only members can open. Each relay or "
        "peer is asked only for the groups that list it (or that --group names), one group a "
        "session, each session under a new key: it cannot learn or link your other groups."));
    sync->callback([] {
        auto& a = args();
        if (!a.to_file.empty() && !a.from_file.empty())
            throw CommandError(Exit::usage, _("give at most one of --to-file and --from-file"));
        auto node = open_node();
        if (!a.to_file.empty() || !a.from_file.empty()) {
            const auto refused = file_sync(*node);
            for (const auto& line : value_or_raise(node->maintain())) std::cerr << line << "\n";
            refuse_over_quota(*node, refused);
            return;
        }
        network_sync(*node);
    });

    auto* serve =
        app.add_subcommand("serve", _("Let other members sync with you directly over the network"));
    serve->add_option("--listen", a.listen,
                      _("HOST:PORT to listen on (default 127.0.0.1:0, a free port)"));
    serve->footer(
        _("Example:\n  kolokol serve --listen 0.0.0.0:7000\n\nPrints the address others give to "
          "`kolokol sync`. Only mailboxes you hold yourself are served."));
    add_lan_options(serve);
    register_proxy_command(app);
    serve->callback([serve] {
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
        core::ListenOptions listen_options;
        listen_options.endpoint = *endpoint;
        listen_options.lan = lan_requested();
        if (listen_options.lan) listen_options.discovery = lan_discovery_options();
        listen_options.lan_live = false;
        core::SyncService service(*node, &events, std::move(options));
        auto address = service.listen(listen_options);
        if (!address) throw CommandError(listen_exit(address.error()), translated(address.error()));
        std::cout << *address << std::endl;
        // This thread only waits for SIGINT/SIGTERM; the service's thread does the work.
        asio::io_context signals_io;
        asio::signal_set signals(signals_io, SIGINT, SIGTERM);
        signals.async_wait([](const asio::error_code&, int) {});
        signals_io.run();
        service.stop();
    });
}

}  // namespace kolokol::cli
