#pragma once
// SyncService's state (sync_service.hpp). Everything here lives on the service's thread:
// members are touched only by handlers and coroutines running there, so nothing locks.

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <future>
#include <map>
#include <thread>

#include "kolokol/core/sync_service.hpp"
#include "sync/live_replica.hpp"

namespace kolokol::core {

// One outgoing session, kept up by one coroutine (run_link) until quit.
struct SyncLink {
    SyncLink(asio::io_context& io) : wake(io) {}
    // "ADDRESS GROUP" for a listed relay or peer (its first listed address), ADDRESS on the LAN
    std::string key;
    std::string address;  // canonical kolokol://HOST:PORT/KEY: the one dialled next
    // A listed relay's addresses (same key), in the order to try them; empty on the LAN. After
    // a failed session the next one is dialled; one that worked is remembered (relay_worked).
    std::vector<std::string> addresses;
    std::size_t failed_in_row = 0;  // failed sessions since the last that connected
    std::string host;               // HOST:PORT
    std::string lan_ip;             // a LAN member's IP address (its HOST); empty for a listed one
    std::set<GroupId> listed;       // the one group whose relay list names it
    std::set<GroupId> lan;          // groups a LAN beacon from it named
    bool quit = false;              // no group lists it any more, or the service stops
    bool restart = false;           // its groups or their mailboxes changed: dial again now
    bool connected = false;
    std::size_t mailboxes = 0;  // of its groups, when the current session started
    transport::SyncStop stop;   // of the current session
    asio::steady_timer wake;    // the pause between sessions; cancelled to wake it
    std::chrono::seconds pause{0};
    std::optional<SyncEvent> last;
    // An exception thrown where the transport called us back (the progress hook): kept here
    // and rethrown in the link's own coroutine, never thrown through the session.
    std::exception_ptr fault;

    bool lan_only() const { return listed.empty(); }
    std::set<GroupId> groups() const {
        std::set<GroupId> all = listed;
        all.insert(lan.begin(), lan.end());
        return all;
    }
    void poke() {
        stop.request();
        wake.cancel();
    }
};

struct SyncLan;

// The `crashed` event for a coroutine of the session with `peer` that threw `error`.
SyncEvent crashed_event(std::string peer, bool lan, std::exception_ptr error);

struct SyncService::Impl : std::enable_shared_from_this<Impl> {
    Impl(Node& node, SyncObserver* observer, SyncServiceOptions options);

    // Declared first: destroyed last, after every socket and timer below.
    asio::io_context io{1};
    Node& node;
    SyncObserver* observer;
    SyncServiceOptions options;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
    std::future<void> ran;              // ready when the thread's run() returned
    std::atomic<bool> stopping{false};  // stop() was called
    std::atomic<bool> stopped{false};   // the thread has ended: callers use the Node directly
    std::uint64_t served_at_stop = 0;   // sessions the listener had served, kept by stop()

    std::unique_ptr<transport::Replica> inner;   // the Node's replica
    std::unique_ptr<sync::LiveReplica> replica;  // shared by every session
    crypto::BoxKeyPair local;                    // the transport key: listener and tie-break
    std::map<std::string, std::shared_ptr<SyncLink>> links;
    std::map<std::string, std::chrono::steady_clock::time_point> lan_retry;
    std::set<GroupId> tor_only_told;
    std::unique_ptr<transport::SyncServer> server;
    std::shared_ptr<SyncLan> lan;
    asio::steady_timer poll{io};
    asio::steady_timer maintain_timer{io};
    bool maintain_pending = false;
    std::uint64_t lan_syncs = 0;  // LAN sessions that went live, or one-shot syncs done
    bool lan_live = true;
    std::chrono::milliseconds lan_cooldown{5000};
    // One-shot syncs under way: "ADDRESS GROUP" → the member's IP address.
    std::map<std::string, std::string> lan_busy;
    std::map<std::string, std::chrono::steady_clock::time_point> lan_last;
    bool closing = false;

    // Sends `event` to the observer (and keeps it as the link's last). May throw what the
    // observer throws.
    void emit(SyncEvent event, SyncLink* link = nullptr);
    // The same, for completion handlers: an observer's exception is dropped (nothing is left
    // to end), never thrown into the io_context.
    void emit_quietly(SyncEvent event, SyncLink* link = nullptr) noexcept;

    void update();
    void spawn(const std::shared_ptr<SyncLink>& link);
    void link_done(const std::shared_ptr<SyncLink>& link, std::exception_ptr error);
    void lan_member(const transport::Address& peer, const GroupId& group, bool heard_only);
    void arrived();
    void schedule_poll();
    void close();
    Result<std::string> listen(const ListenOptions& options);
};

// LAN discovery (sync_lan.cpp): beacons the groups that are not Tor only and hands every
// member it recognises to Impl::lan_member.
Result<std::shared_ptr<SyncLan>> start_lan(SyncService::Impl& impl,
                                           const transport::lan::DiscoveryOptions& options,
                                           std::uint16_t listen_port);
// One-shot LAN syncs with `peer` in `group` (ListenOptions::lan_live false), unless one runs
// or ran within the cooldown. The completion handler clears the busy mark whatever happens.
void start_lan_rounds(SyncService::Impl& impl, const transport::Address& peer,
                      const GroupId& group);
// Stops beaconing; returns the lan_stopped event.
SyncEvent stop_lan(SyncLan& lan, std::uint64_t syncs);

}  // namespace kolokol::core
