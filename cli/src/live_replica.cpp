#include "live_replica.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace kolokol::cli {

// The sessions' live subscriptions, with the ids each one has already been told about.
struct LiveReplica::Watches {
    struct Entry {
        transport::MailboxId mailbox{};
        transport::LiveCallback callback;
        std::set<transport::RecordId> known;
    };
    // Taken after node_mutex, never before it. Callbacks are called under it: they only post to
    // their session's executor, and a subscription ending waits here until no call is under
    // way, so no callback runs after its session is gone.
    mutable std::mutex mutex;
    std::map<std::uint64_t, Entry> entries;
    std::uint64_t next = 1;
};

namespace {

class Subscription final : public transport::LiveSubscription {
public:
    Subscription(std::shared_ptr<LiveReplica::Watches> watches, std::uint64_t token)
        : m_watches(std::move(watches)), m_token(token) {}
    ~Subscription() override {
        std::lock_guard lock(m_watches->mutex);
        m_watches->entries.erase(m_token);
    }

private:
    std::shared_ptr<LiveReplica::Watches> m_watches;
    std::uint64_t m_token;
};

std::set<transport::RecordId> id_set(transport::Replica& inner,
                                     const transport::MailboxId& mailbox) {
    std::set<transport::RecordId> out;
    if (auto ids = inner.ids(mailbox)) out.insert(ids->begin(), ids->end());
    return out;
}

// Tells each entry (of `only`, when given) what it has not heard of. Holds watches->mutex.
void notify(transport::Replica& inner, LiveReplica::Watches& watches,
            const transport::MailboxId* only) {
    std::lock_guard lock(watches.mutex);
    std::map<transport::MailboxId, std::set<transport::RecordId>> now;
    for (auto& [token, entry] : watches.entries) {
        if (only && entry.mailbox != *only) continue;
        auto it = now.find(entry.mailbox);
        if (it == now.end()) it = now.emplace(entry.mailbox, id_set(inner, entry.mailbox)).first;
        std::vector<transport::RecordId> fresh;
        std::set_difference(it->second.begin(), it->second.end(), entry.known.begin(),
                            entry.known.end(), std::back_inserter(fresh));
        if (fresh.empty()) continue;
        entry.known = it->second;
        entry.callback(entry.mailbox, std::move(fresh));
    }
}

}  // namespace

LiveReplica::LiveReplica(transport::Replica& inner, std::mutex& node_mutex,
                         std::function<void()> arrived)
    : m_inner(inner),
      m_node_mutex(node_mutex),
      m_arrived(std::move(arrived)),
      m_watches(std::make_shared<Watches>()) {}

LiveReplica::~LiveReplica() = default;

Result<std::vector<transport::RecordId>> LiveReplica::ids(const transport::MailboxId& m) {
    std::lock_guard lock(m_node_mutex);
    return m_inner.ids(m);
}

Result<transport::Replica::StoredIds> LiveReplica::ids_in_stored_order(
    const transport::MailboxId& m, std::uint64_t from, std::size_t limit) {
    std::lock_guard lock(m_node_mutex);
    return m_inner.ids_in_stored_order(m, from, limit);
}

Status LiveReplica::order_for_sending(const transport::MailboxId& m,
                                      std::vector<transport::RecordId>& ids) {
    std::lock_guard lock(m_node_mutex);
    return m_inner.order_for_sending(m, ids);
}

Result<std::optional<Bytes>> LiveReplica::get(const transport::RecordId& id) {
    std::lock_guard lock(m_node_mutex);
    return m_inner.get(id);
}

Result<std::vector<bool>> LiveReplica::put(const transport::MailboxId& m,
                                           std::span<const Bytes> envelopes) {
    Result<std::vector<bool>> r;
    {
        std::lock_guard lock(m_node_mutex);
        r = m_inner.put(m, envelopes);
        // The other live sessions get what arrived here; the session it came from filters it.
        if (r) notify(m_inner, *m_watches, &m);
    }
    if (r && m_arrived) m_arrived();
    return r;
}

std::unique_ptr<transport::LiveSubscription> LiveReplica::watch(
    const transport::MailboxId& mailbox, transport::LiveCallback on_written) {
    std::lock_guard lock(m_node_mutex);
    std::lock_guard wlock(m_watches->mutex);
    const std::uint64_t token = m_watches->next++;
    m_watches->entries[token] = {mailbox, std::move(on_written), id_set(m_inner, mailbox)};
    return std::make_unique<Subscription>(m_watches, token);
}

void LiveReplica::notify_written() {
    notify(m_inner, *m_watches, nullptr);
}

std::size_t LiveReplica::watching() const {
    std::lock_guard lock(m_watches->mutex);
    return m_watches->entries.size();
}

}  // namespace kolokol::cli
