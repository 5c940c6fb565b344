#include "kolokol/transport/reconcile_sets.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

namespace kolokol::transport {

namespace {
struct Holder;
}

struct ReconcileSets::State {
    explicit State(MemoryBudget b) : budget(std::move(b)) {}

    MemoryBudget budget;
    mutable std::mutex mutex;
    struct Entry {
        std::uint64_t stamp = 0;
        std::weak_ptr<const Holder> set;
        bool building = false;
    };
    // Mailboxes with a set alive or being built; an entry goes with its set.
    std::map<MailboxId, Entry> entries;
    // Callers waiting for a set another caller is building.
    std::vector<std::function<void()>> waiting_for_build;
    std::uint64_t built = 0, shared = 0, waits = 0;
    std::atomic<std::size_t> held{0};

    // The build of `mailbox` under `stamp` ended (with a set or without): wake who waited.
    void build_ended(const MailboxId& mailbox, std::uint64_t stamp,
                     const std::shared_ptr<const Holder>& set);
};

namespace {

// One set with the bytes it is charged; the last reconciliation to let go gives them back.
struct Holder {
    Holder(std::shared_ptr<ReconcileSets::State> o, MailboxId m, std::vector<RecordId> ids,
           MemoryBudget::Lease l)
        : owner(std::move(o)), mailbox(m), set(std::move(ids)), lease(std::move(l)) {
        ++owner->held;
    }
    ~Holder() {
        --owner->held;
        std::lock_guard lock(owner->mutex);
        auto it = owner->entries.find(mailbox);
        if (it != owner->entries.end() && !it->second.building && it->second.set.expired())
            owner->entries.erase(it);
    }
    std::shared_ptr<ReconcileSets::State> owner;
    MailboxId mailbox;
    ReconcileSet set;
    MemoryBudget::Lease lease;  // destroyed before `owner`: wakes the budget's waiters
};

std::shared_ptr<const ReconcileSet> view_of(std::shared_ptr<const Holder> h) {
    const ReconcileSet* set = &h->set;
    return std::shared_ptr<const ReconcileSet>(std::move(h), set);
}

}  // namespace

void ReconcileSets::State::build_ended(const MailboxId& mailbox, std::uint64_t stamp,
                                       const std::shared_ptr<const Holder>& set) {
    std::vector<std::function<void()>> wake;
    {
        std::lock_guard lock(mutex);
        auto it = entries.find(mailbox);
        if (it != entries.end() && it->second.building && it->second.stamp == stamp) {
            it->second.building = false;
            it->second.set = set;
            if (!set) entries.erase(it);
        }
        wake.swap(waiting_for_build);
    }
    for (auto& w : wake) w();
}

ReconcileSets::ReconcileSets(MemoryBudget budget)
    : m_state(std::make_shared<State>(std::move(budget))) {}

Result<std::shared_ptr<const ReconcileSet>> ReconcileSets::acquire(const MailboxId& mailbox,
                                                                   Replica& replica,
                                                                   std::function<void()> wake) {
    auto& s = *m_state;
    const auto stamp = replica.change_stamp(mailbox);
    if (stamp) {
        std::lock_guard lock(s.mutex);
        auto it = s.entries.find(mailbox);
        if (it != s.entries.end() && it->second.stamp == *stamp) {
            if (auto held = it->second.set.lock()) {
                ++s.shared;
                return view_of(std::move(held));
            }
            if (it->second.building) {
                // Loading the same ids twice would cost the time and memory sharing saves.
                ++s.waits;
                if (wake) s.waiting_for_build.push_back(std::move(wake));
                return std::shared_ptr<const ReconcileSet>{};
            }
        }
        // A set of an older stamp may still be held by others; this one replaces its entry.
        s.entries[mailbox] = State::Entry{*stamp, {}, true};
    }
    auto fail_build = [&](std::unexpected<Error> e) -> Result<std::shared_ptr<const ReconcileSet>> {
        if (stamp) s.build_ended(mailbox, *stamp, nullptr);
        return e;
    };

    // Reserve before loading: the count is cheap, the ids are not.
    auto count = replica.ids_in_stored_order(mailbox, 0, 0);
    if (!count) return fail_build(std::unexpected(count.error()));
    auto lease = s.budget.try_take(ReconcileSet::build_bytes_for(count->total), std::move(wake));
    if (!lease) {
        {
            std::lock_guard lock(s.mutex);
            ++s.waits;
        }
        if (stamp) s.build_ended(mailbox, *stamp, nullptr);
        return std::shared_ptr<const ReconcileSet>{};
    }
    auto ids = replica.ids(mailbox);
    if (!ids) return fail_build(std::unexpected(ids.error()));
    auto built = std::make_shared<Holder>(m_state, mailbox, std::move(*ids), std::move(*lease));
    // The set is smaller than what its build needed; the mailbox may also have grown since it
    // was counted. Charge what it holds (forced: it is allocated already).
    built->lease.resize(built->set.memory_bytes(), true);
    std::shared_ptr<const Holder> holder = std::move(built);
    {
        std::lock_guard lock(s.mutex);
        ++s.built;
    }
    if (stamp) s.build_ended(mailbox, *stamp, holder);
    return view_of(std::move(holder));
}

ReconcileSets::Stats ReconcileSets::stats() const {
    std::lock_guard lock(m_state->mutex);
    return {m_state->built, m_state->shared, m_state->waits, m_state->held.load()};
}

}  // namespace kolokol::transport
