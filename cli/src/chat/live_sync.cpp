#include "chat/live_sync.hpp"

#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <future>

#include "kolokol/crypto/encoding.hpp"
#include "network.hpp"
#include "node_session.hpp"
// i18n.hpp after the other headers: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli::chat {

namespace {

using namespace std::chrono_literals;

// A LAN member whose session failed is not dialled again for this long (its beacons go on).
constexpr auto kLanRetryPause = 5s;
// Sessions with members found on the LAN at once: each is a thread, and a member who makes up
// beacons with other ports or keys must not start more.
constexpr std::size_t kMaxLanSessions = 32;

std::string host_of(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    if (!parsed) return address;
    return parsed->host + ":" + std::to_string(parsed->port);
}

std::string canonical(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    return parsed ? parsed->to_string() : address;
}

// A relay's worker is keyed by address and group (a space apart; LAN members by address alone).
std::string relay_worker_key(const std::string& address, const core::GroupId& group) {
    return address + " " + crypto::hex_encode(group);
}

}  // namespace

struct LiveSync::Worker {
    std::string address;             // canonical
    std::set<core::GroupId> listed;  // a relay's: the one group whose relay list names it
    std::set<core::GroupId> lan;     // groups a LAN beacon from it named
    std::thread thread;
    std::condition_variable wake;
    bool quit = false;
    bool reconnect = false;
    bool connected = false;
    bool finished = false;      // the thread has ended (a LAN member gone): join it
    std::size_t mailboxes = 0;  // of its groups, when the current session started
    transport::SyncStop stop;
    std::string status;
    bool status_error = false;

    std::set<core::GroupId> groups() const {
        std::set<core::GroupId> all = listed;
        all.insert(lan.begin(), lan.end());
        return all;
    }
};

LiveSync::LiveSync(core::Node& node, std::mutex& node_mutex, std::function<void()> arrived,
                   std::function<void(std::string, bool)> status)
    : m_node(node),
      m_node_mutex(node_mutex),
      m_arrived(std::move(arrived)),
      m_status(std::move(status)) {
    std::lock_guard lock(m_node_mutex);
    m_inner = m_node.replica();
    m_replica = std::make_unique<LiveReplica>(*m_inner, m_node_mutex, m_arrived);
}

LiveSync::~LiveSync() {
    stop();
}

std::string LiveSync::listen(const asio::ip::tcp::endpoint& endpoint, bool lan) {
    m_io = std::make_unique<asio::io_context>(1);
    transport::ServeOptions serve_options;
    // Only the mailboxes this member holds, looked up under the Node's mutex.
    serve_options.admit = [held = held_mailboxes(m_node),
                           &mutex = m_node_mutex](const core::MailboxId& mailbox) {
        std::lock_guard lock(mutex);
        return held(mailbox);
    };
    // A member's screen, not a relay: a few sessions are plenty.
    transport::ServerOptions server_options;
    server_options.max_sessions = 64;
    server_options.max_sessions_per_address = 8;
    crypto::BoxKeyPair key;
    {
        std::lock_guard lock(m_node_mutex);
        key = m_node.transport_key();
    }
    m_server = std::make_unique<transport::SyncServer>(m_io->get_executor(), std::move(key),
                                                       *m_replica, server_options, serve_options);
    if (auto ok = m_server->listen(endpoint); !ok) {
        m_server.reset();
        m_io.reset();
        throw CommandError(Exit::network, translated(ok.error()));
    }
    m_server->start();
    if (lan) {
        LanHooks hooks;
        hooks.node_mutex = &m_node_mutex;
        hooks.on_member = [this](const transport::Address& peer, const core::GroupId& group) {
            add_lan_peer(peer, group);
        };
        hooks.log = m_status;
        try {
            m_lan = start_lan(*m_io, m_node, *m_replica, m_server->local_endpoint().port(),
                              std::move(hooks));
        } catch (...) {
            m_server->stop();
            m_server.reset();
            m_io.reset();
            throw;
        }
    }
    m_io_thread = std::thread([io = m_io.get()] {
        auto guard = asio::make_work_guard(*io);
        io->run();
    });
    return m_server->address().to_string();
}

std::vector<std::unique_ptr<LiveSync::Worker>> LiveSync::take_finished() {
    std::vector<std::unique_ptr<Worker>> out;
    for (auto it = m_workers.begin(); it != m_workers.end();) {
        if (it->second->finished) {
            out.push_back(std::move(it->second));
            it = m_workers.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

void LiveSync::update() {
    // One session per relay and group (keyed "ADDRESS GROUP"), so a relay sees no more of this
    // member than one group's mailboxes on any session; mailboxes per group.
    std::map<std::string, std::pair<std::string, core::GroupId>> wanted;
    std::map<core::GroupId, std::size_t> mailboxes;
    std::vector<std::pair<core::GroupId, std::string>> tor_only;
    {
        std::lock_guard lock(m_node_mutex);
        NetworkPolicy policy;
        try {
            policy = network_policy(m_node);
        } catch (const CommandError& e) {
            m_status(e.what(), true);
            return;
        }
        const auto own = m_node.transport_key().public_key;
        for (const auto& g : m_node.groups()) {
            mailboxes[g.id] = m_node.mailboxes(&g.id).size();
            auto relays = m_node.relays(g.id);
            if (relays.empty()) continue;
            if (!policy.allows(g.id)) {
                tor_only.emplace_back(g.id, g.name);
                continue;
            }
            for (const auto& address : relays) {
                // This member's own listener, listed for the others: not a peer of its own.
                if (auto parsed = transport::Address::parse(address); parsed && parsed->key == own)
                    continue;
                const auto c = canonical(address);
                wanted[relay_worker_key(c, g.id)] = {c, g.id};
            }
        }
    }
    std::vector<std::unique_ptr<Worker>> ended;
    std::vector<std::string> told;
    {
        std::lock_guard lock(m_mutex);
        for (auto& [group, name] : tor_only)
            if (m_tor_only_told.insert(group).second) told.push_back(name);
        ended = take_finished();
        for (auto it = m_workers.begin(); it != m_workers.end();) {
            Worker& w = *it->second;
            auto found = wanted.find(it->first);
            std::set<core::GroupId> listed;
            if (found != wanted.end()) {
                listed.insert(found->second.second);
                wanted.erase(found);
            }
            if (listed.empty() && w.lan.empty()) {
                // No group lists it any more.
                w.quit = true;
                w.stop.request();
                w.wake.notify_all();
                ended.push_back(std::move(it->second));
                it = m_workers.erase(it);
                continue;
            }
            const bool changed = listed != w.listed;
            w.listed = std::move(listed);
            std::size_t total = 0;
            for (const auto& g : w.groups()) total += mailboxes[g];
            if (changed || (w.connected && w.mailboxes != total)) {
                w.reconnect = true;
                w.stop.request();
                w.wake.notify_all();
            }
            ++it;
        }
        for (auto& [key, relay] : wanted) {
            auto worker = std::make_unique<Worker>();
            worker->address = relay.first;
            worker->listed = {relay.second};
            Worker* w = worker.get();
            m_workers.emplace(key, std::move(worker));
            w->thread = std::thread([this, w] { run(*w); });
        }
    }
    for (const auto& name : told)
        m_status(subst(_("{} is Tor only and no proxy is set: not connecting (see `kolokol proxy "
                         "set`)"),
                       name),
                 true);
    for (auto& w : ended)
        if (w->thread.joinable()) w->thread.join();
}

void LiveSync::add_lan_peer(const transport::Address& peer, const core::GroupId& group) {
    std::vector<std::unique_ptr<Worker>> ended;
    {
        std::lock_guard lock(m_mutex);
        ended = take_finished();
        const std::string address = peer.to_string();
        const auto now = std::chrono::steady_clock::now();
        std::erase_if(m_lan_retry, [&](const auto& r) { return r.second <= now; });
        const auto lan_sessions =
            std::count_if(m_workers.begin(), m_workers.end(),
                          [](const auto& w) { return w.second->listed.empty(); });
        if (auto it = m_workers.find(address); it != m_workers.end()) {
            Worker& w = *it->second;
            if (w.lan.insert(group).second && !w.listed.contains(group)) {
                w.reconnect = true;
                w.stop.request();
                w.wake.notify_all();
            }
        } else if (!m_lan_retry.contains(address) &&
                   static_cast<std::size_t>(lan_sessions) < kMaxLanSessions) {
            auto worker = std::make_unique<Worker>();
            worker->address = address;
            worker->lan.insert(group);
            Worker* w = worker.get();
            m_workers.emplace(address, std::move(worker));
            w->thread = std::thread([this, w] { run(*w); });
        }
    }
    for (auto& w : ended)
        if (w->thread.joinable()) w->thread.join();
}

void LiveSync::reconnect() {
    std::lock_guard lock(m_mutex);
    for (auto& [address, w] : m_workers) {
        w->reconnect = true;
        w->stop.request();
        w->wake.notify_all();
    }
}

void LiveSync::wrote_locally() {
    m_replica->notify_written();
}

void LiveSync::stop() {
    if (m_io) {
        // LAN discovery stops on its own thread; the listener aborts its sessions.
        std::promise<void> stopped;
        asio::post(*m_io, [this, &stopped] {
            stop_lan(m_lan);
            m_server->stop();
            stopped.set_value();
        });
        stopped.get_future().wait();
        m_io->stop();
        if (m_io_thread.joinable()) m_io_thread.join();
        // Sockets must not outlive their io_context.
        m_lan.reset();
        m_server.reset();
        m_io.reset();
    }
    std::map<std::string, std::unique_ptr<Worker>> workers;
    {
        std::lock_guard lock(m_mutex);
        for (auto& [address, w] : m_workers) {
            w->quit = true;
            w->stop.request();
            w->wake.notify_all();
        }
        workers = std::move(m_workers);
        m_workers.clear();
    }
    for (auto& [address, w] : workers)
        if (w->thread.joinable()) w->thread.join();
}

std::size_t LiveSync::incoming() const {
    return m_server ? static_cast<std::size_t>(m_server->stats().transport.active) : 0;
}

std::size_t LiveSync::connected() const {
    std::size_t n = incoming();
    std::lock_guard lock(m_mutex);
    return n + static_cast<std::size_t>(std::count_if(
                   m_workers.begin(), m_workers.end(),
                   [](const auto& w) { return w.second->connected && !w.second->finished; }));
}

std::vector<LiveSync::SessionState> LiveSync::sessions() const {
    std::vector<SessionState> out;
    std::lock_guard lock(m_mutex);
    for (const auto& [address, w] : m_workers)
        if (!w->finished)
            out.push_back(
                {host_of(address), w->status, w->connected, w->status_error, w->groups()});
    return out;
}

void LiveSync::set_status(Worker& w, std::string text, bool error) {
    {
        std::lock_guard lock(m_mutex);
        w.status = text;
        w.status_error = error;
    }
    m_status(std::move(text), error);
}

void LiveSync::run(Worker& w) {
    auto pause = 1s;
    const std::string host = host_of(w.address);
    while (true) {
        std::set<core::GroupId> listed, lan;
        {
            std::lock_guard lock(m_mutex);
            if (w.quit) return;
            listed = w.listed;
            lan = w.lan;
        }
        const bool lan_only = listed.empty();
        std::vector<transport::MailboxKey> keys;
        std::size_t mailboxes = 0;
        transport::SyncOptions options;
        options.live = true;
        {
            std::lock_guard lock(m_node_mutex);
            NetworkPolicy policy;
            try {
                policy = network_policy(m_node);
            } catch (const CommandError&) {
                // update() tells; a group that may need the proxy does not go out without it.
                policy.excluded = listed;
            }
            for (const auto& g : listed) {
                if (!policy.allows(g)) continue;
                for (auto& k : m_node.mailbox_keys(&g)) keys.push_back(std::move(k));
                mailboxes += m_node.mailboxes(&g).size();
            }
            // LAN sessions are direct, and never carry a Tor-only group.
            for (const auto& g : lan) {
                if (listed.contains(g) || m_node.tor_only(g)) continue;
                for (auto& k : m_node.mailbox_keys(&g)) keys.push_back(std::move(k));
                mailboxes += m_node.mailboxes(&g).size();
            }
            // Through the proxy when one is set, for the addresses groups list (a relay's
            // worker carries exactly one group).
            if (!lan_only) policy.apply(options.connect, w.address, &*listed.begin());
        }
        {
            std::lock_guard lock(m_mutex);
            if (w.quit) return;
            if (keys.empty()) {
                w.finished = lan_only;
                if (lan_only) return;
            }
            w.stop = options.stop;
            w.reconnect = false;
            w.mailboxes = mailboxes;
        }
        if (keys.empty()) {
            // Every group listing it is Tor only without a proxy: wait for a change.
            std::unique_lock lock(m_mutex);
            w.wake.wait(lock, [&] { return w.quit || w.reconnect; });
            if (w.quit) return;
            continue;
        }
        bool announced = false;
        options.progress = [&](const transport::SyncReport&) {
            if (announced) return;
            announced = true;
            {
                std::lock_guard lock(m_mutex);
                w.connected = true;
            }
            set_status(w, subst(lan_only ? _("Live with {} (LAN)") : _("Live with {}"), host),
                       false);
        };
        auto r = transport::sync_with(w.address, std::move(keys), *m_replica, std::move(options));
        std::unique_lock lock(m_mutex);
        w.connected = false;
        if (w.quit) return;
        if (w.reconnect) {
            pause = 1s;
            continue;
        }
        if (lan_only) {
            // Gone from the LAN (or it ended the session): its next beacon brings it back.
            m_lan_retry[w.address] = std::chrono::steady_clock::now() + kLanRetryPause;
            lock.unlock();
            if (r)
                set_status(w, subst(_("{} ended the LAN session"), host), false);
            else
                set_status(w, subst(_("LAN member {} is gone ({})"), host, translated(r.error())),
                           true);
            lock.lock();
            w.finished = true;
            return;
        }
        if (r) {
            pause = 1s;
        } else {
            lock.unlock();
            set_status(w,
                       subst(_("{} unreachable ({}); retrying in {} s"), host,
                             translated(r.error()), static_cast<int>(pause.count())),
                       true);
            lock.lock();
        }
        w.wake.wait_for(lock, pause, [&] { return w.quit || w.reconnect; });
        if (w.quit) return;
        if (!r) pause = std::min(pause * 2, std::chrono::seconds(30));
    }
}

}  // namespace kolokol::cli::chat
