#include "kolokol/transport/memory_budget.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace kolokol::transport {

struct MemoryBudget::State {
    explicit State(std::size_t l) : limit(std::max<std::size_t>(l, 1)) {}

    const std::size_t limit;
    mutable std::mutex mutex;
    std::size_t used = 0;
    std::size_t peak = 0;
    std::uint64_t refusals = 0;
    std::uint64_t reclaims = 0;
    struct Reclaimable {
        std::size_t bytes = 0;
        std::function<void()> reclaim;  // empty once called
    };
    std::map<std::uint64_t, Reclaimable> reclaimable;
    std::uint64_t next_reclaim_id = 1;
    struct Waiter {
        std::size_t bytes;
        std::function<void()> wake;
    };
    std::vector<Waiter> waiters;

    bool fits(std::size_t bytes) const { return used + bytes <= limit || (used == 0); }
    void add(std::size_t bytes) {
        used += bytes;
        peak = std::max(peak, used);
    }
    // Under the lock: the reclaim of the biggest reclaimable lease not yet reclaimed (empty if
    // none), marked as called.
    std::function<void()> take_biggest() {
        Reclaimable* biggest = nullptr;
        for (auto& [id, r] : reclaimable)
            if (r.reclaim && (!biggest || r.bytes > biggest->bytes)) biggest = &r;
        if (!biggest) return {};
        ++reclaims;
        return std::exchange(biggest->reclaim, nullptr);
    }
    // Gives `bytes` back (lease `id` now holds `now`) and wakes, outside the lock, the waiters
    // that now fit.
    void give_back(std::size_t bytes, std::uint64_t id = 0, std::size_t now = 0) {
        std::vector<std::function<void()>> ready;
        {
            std::lock_guard lock(mutex);
            if (id != 0) reclaimable[id].bytes = now;
            used -= std::min(used, bytes);
            for (auto it = waiters.begin(); it != waiters.end();) {
                if (fits(it->bytes)) {
                    ready.push_back(std::move(it->wake));
                    it = waiters.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (auto& wake : ready) wake();
    }
};

MemoryBudget::Lease::Lease(Lease&& other) noexcept
    : m_state(std::move(other.m_state)),
      m_bytes(std::exchange(other.m_bytes, 0)),
      m_reclaim_id(std::exchange(other.m_reclaim_id, 0)) {}

MemoryBudget::Lease& MemoryBudget::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        m_state = std::move(other.m_state);
        m_bytes = std::exchange(other.m_bytes, 0);
        m_reclaim_id = std::exchange(other.m_reclaim_id, 0);
    }
    return *this;
}

MemoryBudget::Lease::~Lease() {
    release();
}

void MemoryBudget::Lease::release() {
    resize(0);
    if (m_state && m_reclaim_id != 0) {
        std::lock_guard lock(m_state->mutex);
        m_state->reclaimable.erase(m_reclaim_id);
    }
    m_reclaim_id = 0;
}

bool MemoryBudget::Lease::resize(std::size_t bytes, bool force) {
    if (!m_state) {
        m_bytes = bytes;
        return true;
    }
    if (bytes < m_bytes) {
        m_state->give_back(m_bytes - bytes, m_reclaim_id, bytes);
        m_bytes = bytes;
        return true;
    }
    if (bytes == m_bytes) return true;
    std::function<void()> reclaim;
    {
        std::lock_guard lock(m_state->mutex);
        const std::size_t more = bytes - m_bytes;
        if (!force && m_state->used + more > m_state->limit) return false;
        m_state->add(more);
        m_bytes = bytes;
        if (m_reclaim_id != 0) m_state->reclaimable[m_reclaim_id].bytes = bytes;
        if (m_state->used > m_state->limit) reclaim = m_state->take_biggest();
    }
    if (reclaim) reclaim();
    return true;
}

MemoryBudget::MemoryBudget(std::size_t limit_bytes)
    : m_state(std::make_shared<State>(limit_bytes)) {}

MemoryBudget::Lease MemoryBudget::lease() const {
    Lease l;
    l.m_state = m_state;
    return l;
}

MemoryBudget::Lease MemoryBudget::reclaimable_lease(std::function<void()> reclaim) const {
    Lease l;
    l.m_state = m_state;
    std::lock_guard lock(m_state->mutex);
    l.m_reclaim_id = m_state->next_reclaim_id++;
    m_state->reclaimable[l.m_reclaim_id] = {0, std::move(reclaim)};
    return l;
}

std::optional<MemoryBudget::Lease> MemoryBudget::try_take(std::size_t bytes,
                                                          std::function<void()> wake) {
    std::lock_guard lock(m_state->mutex);
    // Something bigger than the whole budget still goes through when nothing else is held, so
    // one oversized request waits for an idle moment rather than for ever.
    if (!m_state->fits(bytes)) {
        ++m_state->refusals;
        if (wake) m_state->waiters.push_back({bytes, std::move(wake)});
        return std::nullopt;
    }
    m_state->add(bytes);
    Lease l;
    l.m_state = m_state;
    l.m_bytes = bytes;
    return l;
}

void MemoryBudget::when_free(std::size_t bytes, std::function<void()> wake) {
    {
        std::lock_guard lock(m_state->mutex);
        if (!m_state->fits(bytes)) {
            m_state->waiters.push_back({bytes, std::move(wake)});
            return;
        }
    }
    wake();
}

std::size_t MemoryBudget::limit() const {
    return m_state->limit;
}
std::size_t MemoryBudget::used() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->used;
}
std::size_t MemoryBudget::peak() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->peak;
}
std::uint64_t MemoryBudget::refusals() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->refusals;
}
std::uint64_t MemoryBudget::reclaims() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->reclaims;
}

}  // namespace kolokol::transport
