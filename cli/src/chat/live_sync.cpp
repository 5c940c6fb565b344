#include "chat/live_sync.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "network.hpp"
// i18n.hpp after the other headers: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli::chat {

// The sessions' live subscriptions, with the ids each one has already been told about.
struct LiveSync::Watches {
    struct Entry {
        core::MailboxId mailbox{};
        transport::LiveCallback callback;
        std::set<core::RecordId> known;
    };
    std::mutex mutex;  // taken after node_mutex, never before it
    std::map<std::uint64_t, Entry> entries;
    std::uint64_t next = 1;
};

namespace {

class Subscription final : public transport::LiveSubscription {
public:
    Subscription(std::shared_ptr<LiveSync::Watches> watches, std::uint64_t token)
        : m_watches(std::move(watches)), m_token(token) {}
    ~Subscription() override {
        std::lock_guard lock(m_watches->mutex);
        m_watches->entries.erase(m_token);
    }

private:
    std::shared_ptr<LiveSync::Watches> m_watches;
    std::uint64_t m_token;
};

std::set<core::RecordId> id_set(transport::Replica& inner, const core::MailboxId& mailbox) {
    std::set<core::RecordId> out;
    if (auto ids = inner.ids(mailbox)) out.insert(ids->begin(), ids->end());
    return out;
}

// The Node's replica for one sync thread: every call holds the Node's mutex, and live
// subscriptions learn of this member's own writes through LiveSync::wrote_locally().
class SharedReplica final : public transport::Replica {
public:
    SharedReplica(transport::Replica& inner, std::mutex& node_mutex,
                  std::shared_ptr<LiveSync::Watches> watches, std::function<void()> arrived)
        : m_inner(inner),
          m_node_mutex(node_mutex),
          m_watches(std::move(watches)),
          m_arrived(std::move(arrived)) {}

    Result<std::vector<core::RecordId>> ids(const core::MailboxId& m) override {
        std::lock_guard lock(m_node_mutex);
        return m_inner.ids(m);
    }
    Result<std::optional<Bytes>> get(const core::RecordId& id) override {
        std::lock_guard lock(m_node_mutex);
        return m_inner.get(id);
    }
    Result<std::vector<bool>> put(const core::MailboxId& m,
                                  std::span<const Bytes> envelopes) override {
        Result<std::vector<bool>> r;
        {
            std::lock_guard lock(m_node_mutex);
            r = m_inner.put(m, envelopes);
            // What arrived from a peer is not news for the other sessions to push back.
            std::lock_guard wlock(m_watches->mutex);
            for (auto& [token, entry] : m_watches->entries)
                if (entry.mailbox == m) entry.known = id_set(m_inner, m);
        }
        if (r) m_arrived();
        return r;
    }
    std::unique_ptr<transport::LiveSubscription> watch(
        const core::MailboxId& mailbox, transport::LiveCallback on_written) override {
        std::lock_guard lock(m_node_mutex);
        std::lock_guard wlock(m_watches->mutex);
        const std::uint64_t token = m_watches->next++;
        m_watches->entries[token] = {mailbox, std::move(on_written), id_set(m_inner, mailbox)};
        return std::make_unique<Subscription>(m_watches, token);
    }

private:
    transport::Replica& m_inner;
    std::mutex& m_node_mutex;
    std::shared_ptr<LiveSync::Watches> m_watches;
    std::function<void()> m_arrived;
};

std::string host_of(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    if (!parsed) return address;
    return parsed->host + ":" + std::to_string(parsed->port);
}

}  // namespace

struct LiveSync::Worker {
    core::GroupId group{};
    std::thread thread;
    std::condition_variable wake;
    bool quit = false;
    bool reconnect = false;
    bool connected = false;
    std::size_t mailboxes = 0;  // when the current session started
    std::string address;
    transport::SyncStop stop;
};

LiveSync::LiveSync(core::Node& node, std::mutex& node_mutex, std::function<void()> arrived,
                   std::function<void(std::string, bool)> status)
    : m_node(node),
      m_node_mutex(node_mutex),
      m_arrived(std::move(arrived)),
      m_status(std::move(status)),
      m_watches(std::make_shared<Watches>()) {
    std::lock_guard lock(m_node_mutex);
    m_inner = m_node.replica();
}

LiveSync::~LiveSync() {
    stop();
}

void LiveSync::update() {
    std::vector<std::tuple<core::GroupId, std::string, std::size_t>> wanted;
    {
        std::lock_guard lock(m_node_mutex);
        for (const auto& g : m_node.groups()) {
            auto relays = m_node.relays(g.id);
            if (relays.empty()) continue;
            wanted.emplace_back(g.id, relays.front(), m_node.mailboxes(&g.id).size());
        }
    }
    std::lock_guard lock(m_mutex);
    for (auto& [group, address, mailboxes] : wanted) {
        auto it = m_workers.find(group);
        if (it == m_workers.end()) {
            auto worker = std::make_unique<Worker>();
            worker->group = group;
            Worker* w = worker.get();
            m_workers.emplace(group, std::move(worker));
            w->thread = std::thread([this, w] { run(*w); });
            continue;
        }
        Worker& w = *it->second;
        if (w.connected && (w.address != address || w.mailboxes != mailboxes)) {
            w.reconnect = true;
            w.stop.request();
            w.wake.notify_all();
        }
    }
}

void LiveSync::reconnect() {
    std::lock_guard lock(m_mutex);
    for (auto& [group, w] : m_workers) {
        w->reconnect = true;
        w->stop.request();
        w->wake.notify_all();
    }
}

void LiveSync::wrote_locally() {
    std::vector<
        std::pair<transport::LiveCallback, std::pair<core::MailboxId, std::vector<core::RecordId>>>>
        calls;
    {
        std::lock_guard wlock(m_watches->mutex);
        for (auto& [token, entry] : m_watches->entries) {
            auto now = id_set(*m_inner, entry.mailbox);
            std::vector<core::RecordId> fresh;
            std::set_difference(now.begin(), now.end(), entry.known.begin(), entry.known.end(),
                                std::back_inserter(fresh));
            entry.known = std::move(now);
            if (!fresh.empty())
                calls.push_back({entry.callback, {entry.mailbox, std::move(fresh)}});
        }
    }
    // The sessions' callbacks only post to their own executors: safe under node_mutex.
    for (auto& [callback, args] : calls) callback(args.first, std::move(args.second));
}

void LiveSync::stop() {
    std::map<core::GroupId, std::unique_ptr<Worker>> workers;
    {
        std::lock_guard lock(m_mutex);
        for (auto& [group, w] : m_workers) {
            w->quit = true;
            w->stop.request();
            w->wake.notify_all();
        }
        workers = std::move(m_workers);
        m_workers.clear();
    }
    for (auto& [group, w] : workers)
        if (w->thread.joinable()) w->thread.join();
}

std::size_t LiveSync::connected() const {
    std::lock_guard lock(m_mutex);
    return static_cast<std::size_t>(std::count_if(
        m_workers.begin(), m_workers.end(), [](const auto& w) { return w.second->connected; }));
}

void LiveSync::run(Worker& w) {
    using namespace std::chrono_literals;
    auto pause = 1s;
    SharedReplica replica(*m_inner, m_node_mutex, m_watches, m_arrived);
    while (true) {
        std::vector<transport::MailboxKey> keys;
        crypto::BoxKeyPair local;
        std::string address;
        std::size_t mailboxes = 0;
        NetworkPolicy policy;
        {
            std::lock_guard lock(m_node_mutex);
            policy = network_policy(m_node);
            auto relays = m_node.relays(w.group);
            if (!relays.empty()) address = relays.front();
            keys = m_node.mailbox_keys(&w.group);
            mailboxes = m_node.mailboxes(&w.group).size();
            local = m_node.transport_key();
        }
        // Through the proxy when one is set; a Tor-only group never goes out without one.
        if (!policy.allows(w.group)) {
            m_status(_("This group is Tor only and no proxy is set: not connecting (see `kolokol "
                       "proxy set`)"),
                     true);
            return;
        }
        transport::SyncOptions options;
        options.live = true;
        policy.apply(options.connect);
        {
            std::lock_guard lock(m_mutex);
            if (w.quit || address.empty()) return;
            w.stop = options.stop;
            w.reconnect = false;
            w.address = address;
            w.mailboxes = mailboxes;
        }
        const std::string host = host_of(address);
        bool announced = false;
        options.progress = [&](const transport::SyncReport&) {
            if (announced) return;
            announced = true;
            {
                std::lock_guard lock(m_mutex);
                w.connected = true;
            }
            m_status(subst(_("Live with relay {}"), host), false);
        };
        auto r = transport::sync_with(address, local, std::move(keys), replica, std::move(options));
        std::unique_lock lock(m_mutex);
        w.connected = false;
        if (w.quit) return;
        if (w.reconnect) {
            pause = 1s;
            continue;
        }
        if (r) {
            pause = 1s;
        } else {
            lock.unlock();
            m_status(subst(_("Relay {} unreachable ({}); retrying in {} s"), host, r.error().what(),
                           static_cast<int>(pause.count())),
                     true);
            lock.lock();
        }
        w.wake.wait_for(lock, pause, [&] { return w.quit || w.reconnect; });
        if (w.quit) return;
        if (!r) pause = std::min(pause * 2, std::chrono::seconds(30));
    }
}

}  // namespace kolokol::cli::chat
