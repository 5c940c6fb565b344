#include "sync/live_replica.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace kolokol::core::sync {

// The sessions' live subscriptions, with the ids each one has already been told about.
struct LiveReplica::Watches {
    struct Entry {
        transport::MailboxId mailbox{};
        transport::LiveCallback callback;
        std::set<transport::RecordId> known;
    };
    std::map<std::uint64_t, Entry> entries;
    std::uint64_t next = 1;
};

namespace {

class Subscription final : public transport::LiveSubscription {
public:
    Subscription(std::shared_ptr<LiveReplica::Watches> watches, std::uint64_t token)
        : m_watches(std::move(watches)), m_token(token) {}
    ~Subscription() override { m_watches->entries.erase(m_token); }

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

// Tells each entry (of `only`, when given) what it has not heard of. A callback may end a
// subscription (its session closing): the entries are walked by token, not by iterator.
void notify(transport::Replica& inner, LiveReplica::Watches& watches,
            const transport::MailboxId* only) {
    std::map<transport::MailboxId, std::set<transport::RecordId>> now;
    std::vector<std::uint64_t> tokens;
    for (const auto& [token, entry] : watches.entries)
        if (!only || entry.mailbox == *only) tokens.push_back(token);
    for (auto token : tokens) {
        auto e = watches.entries.find(token);
        if (e == watches.entries.end()) continue;
        auto& entry = e->second;
        auto it = now.find(entry.mailbox);
        if (it == now.end()) it = now.emplace(entry.mailbox, id_set(inner, entry.mailbox)).first;
        std::vector<transport::RecordId> fresh;
        std::set_difference(it->second.begin(), it->second.end(), entry.known.begin(),
                            entry.known.end(), std::back_inserter(fresh));
        if (fresh.empty()) continue;
        entry.known = it->second;
        auto callback = entry.callback;
        callback(entry.mailbox, std::move(fresh));
    }
}

}  // namespace

LiveReplica::LiveReplica(transport::Replica& inner, std::function<void()> arrived)
    : m_inner(inner), m_arrived(std::move(arrived)), m_watches(std::make_shared<Watches>()) {}

LiveReplica::~LiveReplica() = default;

Result<std::vector<transport::RecordId>> LiveReplica::ids(const transport::MailboxId& m) {
    return m_inner.ids(m);
}

Result<transport::Replica::StoredIds> LiveReplica::ids_in_stored_order(
    const transport::MailboxId& m, std::uint64_t from, std::size_t limit) {
    return m_inner.ids_in_stored_order(m, from, limit);
}

Status LiveReplica::order_for_sending(const transport::MailboxId& m,
                                      std::vector<transport::RecordId>& ids) {
    return m_inner.order_for_sending(m, ids);
}

Result<std::optional<Bytes>> LiveReplica::get(const transport::RecordId& id) {
    return m_inner.get(id);
}

Result<std::vector<bool>> LiveReplica::put(const transport::MailboxId& m,
                                           std::span<const Bytes> envelopes) {
    auto r = m_inner.put(m, envelopes);
    if (!r) return r;
    // The other live sessions get what arrived here; the session it came from filters it.
    notify(m_inner, *m_watches, &m);
    if (m_arrived) m_arrived();
    return r;
}

std::unique_ptr<transport::LiveSubscription> LiveReplica::watch(
    const transport::MailboxId& mailbox, transport::LiveCallback on_written) {
    const std::uint64_t token = m_watches->next++;
    m_watches->entries[token] = {mailbox, std::move(on_written), id_set(m_inner, mailbox)};
    return std::make_unique<Subscription>(m_watches, token);
}

void LiveReplica::notify_written() {
    notify(m_inner, *m_watches, nullptr);
}

std::size_t LiveReplica::watching() const {
    return m_watches->entries.size();
}

}  // namespace kolokol::core::sync
