#pragma once
// Background live sync for the chat: for each group with a relay, a thread stays connected to
// the group's first relay (transport::sync_with in live mode), pushes what this member writes
// and hands what arrives to the Node. Reconnects after failures with a growing pause (1 s to
// 30 s) and after rotations change the group's mailboxes.
//
// Threading: the Node is shared with the screen through one mutex (`node_mutex`); every Node
// call — from the screen or from a sync thread — holds it. Callbacks run on sync threads.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "kolokol/core/node.hpp"
#include "kolokol/transport/sync.hpp"

namespace kolokol::cli::chat {

class LiveSync {
public:
    // `arrived`: new envelopes were stored (refresh the screen). `status`: one line about a
    // relay (connected, failed: reason), error true for failures. Both must be thread-safe.
    // `node` and `node_mutex` must outlive this object.
    LiveSync(core::Node& node, std::mutex& node_mutex, std::function<void()> arrived,
             std::function<void(std::string, bool)> status);
    ~LiveSync();  // stop()
    LiveSync(const LiveSync&) = delete;
    LiveSync& operator=(const LiveSync&) = delete;

    // Starts a sync thread for every group with a relay that has none, and reconnects those
    // whose mailboxes or relay changed. Call without holding node_mutex.
    void update();
    // Reconnects every sync now (/sync). Call without holding node_mutex.
    void reconnect();
    // Tells the live sessions about envelopes this member just wrote. Call WITH node_mutex
    // held, in the same critical section as the write, so nothing is missed or sent twice.
    void wrote_locally();
    // Ends every session (Close(normal)) and joins the threads. Idempotent.
    void stop();

    // Whether any sync is connected now (for the title).
    std::size_t connected() const;

    struct Watches;  // the live subscriptions of the sessions (live_sync.cpp)

private:
    struct Worker;
    void run(Worker& worker);

    core::Node& m_node;
    std::mutex& m_node_mutex;
    std::function<void()> m_arrived;
    std::function<void(std::string, bool)> m_status;
    std::shared_ptr<Watches> m_watches;
    std::unique_ptr<transport::Replica> m_inner;  // the Node's replica, used under node_mutex
    std::map<core::GroupId, std::unique_ptr<Worker>> m_workers;
    mutable std::mutex m_mutex;  // m_workers and each worker's state
};

}  // namespace kolokol::cli::chat
