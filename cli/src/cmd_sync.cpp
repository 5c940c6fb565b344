// kolokol sync (files and the network) · serve
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "i18n.hpp"
#include "kolokol/transport/relay.hpp"
#include "kolokol/transport/sync.hpp"
#include "live_replica.hpp"
#include "network.hpp"
#include "node_session.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {
struct SyncArgs {
    std::string to_file, from_file, listen = "127.0.0.1:0";
    std::vector<std::string> targets;
    bool json = false;
};
SyncArgs& args() {
    static SyncArgs a;
    return a;
}

void file_sync(core::Node& node) {
    auto& a = args();
    if (!a.to_file.empty()) {
        std::vector<core::GroupId> ids;
        for (const auto& g : a.targets) ids.push_back(value_or_raise(node.resolve_group(g)));
        auto n = value_or_raise(node.write_sync_file(a.to_file, ids));
        if (a.json)
            std::cout << nlohmann::json{{"written", n}}.dump() << "\n";
        else
            std::cout << subst(P_("Wrote {} record to {}.\n", "Wrote {} records to {}.\n", n), n,
                               a.to_file);
        return;
    }
    auto r = value_or_raise(node.read_sync_file(a.from_file));
    if (a.json) {
        std::cout << nlohmann::json{{"received", r.received},
                                    {"new", r.added},
                                    {"duplicate", r.duplicate},
                                    {"pending", r.pending},
                                    {"unreadable", r.unreadable},
                                    {"rejected", r.rejected},
                                    {"foreign_chunks", r.foreign_chunks}}
                         .dump()
                  << "\n";
    } else {
        std::cout << subst(_("Read {} records: {} new, {} duplicate, {} waiting for earlier "
                             "records, {} not readable by you, {} rejected.\n"),
                           r.received, r.added, r.duplicate, r.pending, r.unreadable, r.rejected);
    }
}

// "host:port" of a kolokol:// address, for progress labels (the key is long and says little).
std::string transport_host_of(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    if (!parsed) return address;
    return parsed->host + ":" + std::to_string(parsed->port);
}

void network_sync(core::Node& node) {
    auto& a = args();
    // Without a proxy, Tor-only groups are left out: their relays and their mailboxes.
    auto policy = network_policy(node);
    std::vector<std::string> addresses = a.targets;
    if (addresses.empty()) {
        std::set<std::string> all;
        for (const auto& g : node.groups())
            if (policy.allows(g.id))
                for (const auto& r : node.relays(g.id)) all.insert(r);
        addresses.assign(all.begin(), all.end());
    }
    if ((addresses.empty() || policy.mailbox_keys(node).empty()) && !policy.excluded.empty())
        refuse_tor_only(policy);
    warn_excluded(policy);
    if (addresses.empty())
        throw CommandError(
            Exit::usage, _("no peer or relay known: give an address (kolokol://HOST:PORT/KEY), or "
                           "add a relay with `kolokol group relay add`"));
    auto replica = node.replica();
    auto local = node.transport_key();
    transport::SyncReport total;
    int failures = 0;
    std::string last_error;
    for (const auto& address : addresses) {
        // A rotation received here may give us a new mailbox: sync again until none appears.
        std::size_t known = 0;
        Result<transport::SyncReport> r = fail(transport::SyncErrc::stopped);
        for (int round = 0; round < 8; ++round) {
            auto keys = policy.mailbox_keys(node);
            if (round > 0 && keys.size() == known) break;
            known = keys.size();
            Progress bar(subst(_("Syncing {}"), transport_host_of(address)), 0);
            transport::SyncOptions options;
            policy.apply(options.connect);
            options.progress = [&bar](const transport::SyncReport& so_far) {
                bar.update(so_far.sent + so_far.peer_rejected + so_far.received + so_far.rejected,
                           so_far.to_send + so_far.to_receive);
            };
            auto one =
                transport::sync_with(address, local, std::move(keys), *replica, std::move(options));
            bar.finish(one.has_value());
            if (!one) {
                r = std::move(one);
                break;
            }
            if (round == 0 || !r)
                r = std::move(one);
            else {
                r->sent += one->sent;
                r->received += one->received;
                r->rejected += one->rejected;
                r->peer_rejected += one->peer_rejected;
                r->bytes_sent += one->bytes_sent;
                r->bytes_received += one->bytes_received;
                r->round_trips += one->round_trips;
                r->refused.insert(r->refused.end(), one->refused.begin(), one->refused.end());
            }
        }
        if (!r) {
            ++failures;
            last_error = address + ": " + translated(r.error());
            std::cerr << "kolokol: " << last_error << "\n";
            continue;
        }
        total.sent += r->sent;
        total.received += r->received;
        total.rejected += r->rejected + r->peer_rejected;
        total.bytes_sent += r->bytes_sent;
        total.bytes_received += r->bytes_received;
        total.round_trips += r->round_trips;
        for (const auto& refusal : r->refused) {
            std::cerr << "kolokol: "
                      << subst(_("{} refused a mailbox: {}"), transport_host_of(address),
                               refusal.reason)
                      << "\n";
            total.refused.push_back(refusal);
        }
    }
    auto done = value_or_raise(node.maintain());
    if (a.json) {
        std::cout << nlohmann::json{{"peers", addresses.size()},
                                    {"failed", failures},
                                    {"sent", total.sent},
                                    {"received", total.received},
                                    {"rejected", total.rejected},
                                    {"bytes_sent", total.bytes_sent},
                                    {"bytes_received", total.bytes_received},
                                    {"round_trips", total.round_trips},
                                    {"refused", total.refused.size()}}
                         .dump()
                  << "\n";
    } else {
        std::cout << subst(_("Synced with {} of {}: sent {}, received {}, rejected {}, {} bytes, "
                             "{} round trips.\n"),
                           addresses.size() - static_cast<std::size_t>(failures), addresses.size(),
                           total.sent, total.received, total.rejected,
                           total.bytes_sent + total.bytes_received, total.round_trips);
    }
    for (const auto& line : done) std::cerr << line << "\n";
    // Anything done locally (a rotation) goes out on the next sync; do it now if we can.
    if (!done.empty())
        for (const auto& address : addresses) {
            transport::SyncOptions options;
            policy.apply(options.connect);
            (void)transport::sync_with(address, local, policy.mailbox_keys(node), *replica,
                                       std::move(options));
        }
    if (failures == static_cast<int>(addresses.size()))
        throw CommandError(Exit::network, last_error);
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
    sync->add_flag("--json", a.json, _("Machine-readable summary"));
    add_proxy_option(sync);
    sync->footer(_(
        "Examples:\n  kolokol sync\n  kolokol sync kolokol://203.0.113.5:7000/mfrgg…\n  kolokol "
        "sync --to-file "
        "/media/usb/kolokol.sync\n  kolokol sync --from-file /media/usb/kolokol.sync\n\nEverything "
        "is encrypted: "
        "a relay or a file holds envelopes only members can open."));
    sync->callback([] {
        auto& a = args();
        if (!a.to_file.empty() && !a.from_file.empty())
            throw CommandError(Exit::usage, _("give at most one of --to-file and --from-file"));
        auto node = open_node();
        if (!a.to_file.empty() || !a.from_file.empty()) {
            file_sync(*node);
            for (const auto& line : value_or_raise(node->maintain())) std::cerr << line << "\n";
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
        asio::io_context io;
        auto inner = node->replica();
        // Live sessions (a member's chat) hear at once of what another session brought, and
        // within a second of what this member wrote with another command meanwhile.
        std::mutex node_mutex;  // everything runs on this thread; the replica takes it anyway
        LiveReplica replica(*inner, node_mutex);
        asio::steady_timer poll(io);
        std::function<void()> watch_store = [&] {
            poll.expires_after(std::chrono::seconds(1));
            poll.async_wait([&](const asio::error_code& ec) {
                if (ec) return;
                {
                    std::lock_guard lock(node_mutex);
                    replica.notify_written();
                }
                watch_store();
            });
        };
        watch_store();
        transport::ServeOptions serve_options;
        // Mailboxes learnt while serving (a rotation synced in) are served too.
        serve_options.admit = held_mailboxes(*node);
        transport::SyncServer server(io.get_executor(), node->transport_key(), replica,
                                     transport::ServerOptions{}, serve_options);
        if (auto ok = server.listen(*endpoint); !ok)
            throw CommandError(Exit::network, translated(ok.error()));
        server.start();
        std::cout << server.address().to_string() << std::endl;
        std::shared_ptr<LanRunner> lan;
        if (lan_requested()) lan = start_lan(io, *node, replica, server.local_endpoint().port());
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const asio::error_code&, int) {
            stop_lan(lan);
            poll.cancel();
            server.stop();
            io.stop();
        });
        io.run();
    });
}

}  // namespace kolokol::cli
