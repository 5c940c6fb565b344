#pragma once
// Background live sync for the chat (DESIGN §5). One live session per address and group:
// every relay or peer a group lists (`kolokol group relay add`; a member's `kolokol serve` or
// chat listener counts as a peer) gets, for each group listing it, one thread that stays
// connected (transport::sync_with in live mode, under a static key of its own) with that
// group's mailboxes only, pushes what this member writes and hands what arrives to the Node.
// So a relay two groups list cannot link them by session, key or circuit. Each reconnects on its
// own after failures with a growing pause (1 s to 30 s), and after rotations change its groups'
// mailboxes. With listen(), other members' sessions are accepted and kept live too; with LAN
// discovery, each member found by beacon gets a live session (the side with the smaller transport
// key connects, the other accepts).
//
// Threading: the Node is shared with the screen through one mutex (`node_mutex`); every Node
// call — from the screen, a sync thread, the listener or LAN discovery — holds it. Callbacks
// run on sync threads and the listener's thread.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kolokol/core/node.hpp"
#include "kolokol/transport/sync.hpp"
#include "live_replica.hpp"

namespace kolokol::cli {
class LanRunner;
}

namespace kolokol::cli::chat {

class LiveSync {
public:
    // `arrived`: new envelopes were stored (refresh the screen). `status`: one line about a
    // session (connected, failed: reason), error true for failures. Both must be thread-safe.
    // `node` and `node_mutex` must outlive this object.
    LiveSync(core::Node& node, std::mutex& node_mutex, std::function<void()> arrived,
             std::function<void(std::string, bool)> status);
    ~LiveSync();  // stop()
    LiveSync(const LiveSync&) = delete;
    LiveSync& operator=(const LiveSync&) = delete;

    // Accepts other members' sessions on `endpoint`; each may ask for live pushes, so what this
    // member writes reaches it at once. Only mailboxes this member holds are served. With
    // `lan`, also announces the groups on the local network (the options of `serve --lan`) and
    // keeps a live session with every member whose beacon it recognises. Returns the address
    // others give (kolokol://HOST:PORT/KEY). Call once, before the screen starts, without
    // holding node_mutex. Throws CommandError when the port cannot be bound or discovery
    // cannot start.
    std::string listen(const asio::ip::tcp::endpoint& endpoint, bool lan);

    // Starts a session for every address and group listing it that has none, reconnects those
    // whose mailboxes changed and ends those no group lists any more. Call without holding
    // node_mutex.
    void update();
    // Reconnects every session now (/sync). Call without holding node_mutex.
    void reconnect();
    // Tells the live sessions (outgoing and incoming) about envelopes stored since they last
    // heard: this member's own writes, or another process's. Call WITH node_mutex held, in the
    // same critical section as a write, so nothing is missed or sent twice.
    void wrote_locally();
    // Ends every session (Close(normal)), the listener and LAN discovery, and joins the
    // threads. Idempotent.
    void stop();

    // Outgoing sessions connected now, plus incoming sessions (for the title).
    std::size_t connected() const;
    // Whether listen() started a listener, and LAN discovery.
    bool listening() const { return m_server != nullptr; }
    bool lan() const { return m_lan != nullptr; }

    // One line per outgoing session and for the listener (/peers).
    struct SessionState {
        std::string host;  // HOST:PORT
        std::string text;  // the session's last status
        bool connected = false;
        bool error = false;
        std::set<core::GroupId>
            groups;  // the groups it carries: listing it, or named by its beacon
    };
    std::vector<SessionState> sessions() const;
    // Incoming sessions open now (0 without a listener).
    std::size_t incoming() const;

private:
    struct Worker;
    void run(Worker& worker);
    // A LAN member found by beacon: a live session for `group` with it (LAN discovery's
    // thread). Does nothing while one runs; waits a little after one failed.
    void add_lan_peer(const transport::Address& peer, const core::GroupId& group);
    // Workers whose thread ended, taken out of m_workers (call with m_mutex held; join them
    // after releasing it).
    std::vector<std::unique_ptr<Worker>> take_finished();
    void set_status(Worker& w, std::string text, bool error);

    core::Node& m_node;
    std::mutex& m_node_mutex;
    std::function<void()> m_arrived;
    std::function<void(std::string, bool)> m_status;
    std::unique_ptr<transport::Replica> m_inner;  // the Node's replica, used under node_mutex
    std::unique_ptr<LiveReplica> m_replica;       // shared by every session
    // Relays by "ADDRESS GROUP" (canonical address, group id in hex), LAN members by address.
    std::map<std::string, std::unique_ptr<Worker>> m_workers;
    std::map<std::string, std::chrono::steady_clock::time_point> m_lan_retry;
    std::set<core::GroupId> m_tor_only_told;
    mutable std::mutex m_mutex;  // m_workers, m_lan_retry, m_tor_only_told, each worker's state

    // The listener and LAN discovery, on their own thread (set up by listen()).
    std::unique_ptr<asio::io_context> m_io;
    std::unique_ptr<transport::SyncServer> m_server;
    std::shared_ptr<LanRunner> m_lan;
    std::thread m_io_thread;
};

}  // namespace kolokol::cli::chat
