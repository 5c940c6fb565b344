#pragma once
// A server-wide budget of bytes for what grows with its clients: reconciliation sets
// (reconcile_sets.hpp) and each session's received frames and protocol state (sync.hpp,
// ServeOptions::budget). Holders take bytes before they build something big and give them back
// when it is gone; when the budget is spent, new work waits for bytes to come back instead of
// allocating, so the process's memory has a ceiling whatever its clients do.
//
// The count is of bytes the holders say they hold, not of the allocator's pages: holders keep
// their estimates conservative (reconcile.hpp, SyncEngine::memory_estimate).
//
// Thread-safe. Leases and the budget's copies share one state: a lease may outlive the
// MemoryBudget it came from.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace kolokol::transport {

class MemoryBudget {
public:
    struct State;

    // Bytes held against the budget, given back on destruction (or by resize(0)). Move-only.
    class Lease {
    public:
        Lease() = default;
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&& other) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();

        std::size_t bytes() const { return m_bytes; }
        // Grows or shrinks to `bytes`. Growing past the budget fails (false, nothing changes)
        // unless `force`, which always succeeds and may leave the budget overdrawn: for memory
        // already allocated, so that new work waits until the overdraft is repaid. A lease that
        // came from no budget (default-constructed) only counts.
        bool resize(std::size_t bytes, bool force = false);

    private:
        friend class MemoryBudget;
        void release();
        std::shared_ptr<State> m_state;
        std::size_t m_bytes = 0;
        std::uint64_t m_reclaim_id = 0;  // 0: not reclaimable
    };

    // `limit_bytes` ≥ 1.
    explicit MemoryBudget(std::size_t limit_bytes);

    // An empty lease on this budget, to grow with resize().
    Lease lease() const;
    // An empty lease the budget may take back: whenever a forced resize (of any lease) leaves
    // the budget overdrawn, the reclaimable lease holding the most is chosen and its `reclaim`
    // called — once per lease, from the thread that overdrew, outside the budget's lock — and
    // its holder is expected to let go soon (a server aborts that session). So what one holder
    // piles up is paid by the biggest holder, not by whoever asks next.
    Lease reclaimable_lease(std::function<void()> reclaim) const;
    // `bytes` if they fit under the limit now. If not, and `wake` is given, it is called once —
    // from whichever thread gives bytes back, never from inside this call — when at least
    // `bytes` are free again (or the limit is smaller than `bytes` and everything came back);
    // registering and checking are atomic, so no release is missed. Keep `wake` quick: post.
    std::optional<Lease> try_take(std::size_t bytes, std::function<void()> wake = {});
    // Calls `wake` once when `bytes` are free, as try_take() would, without taking them; at once
    // (on this thread) if they are free now.
    void when_free(std::size_t bytes, std::function<void()> wake);

    std::size_t limit() const;
    std::size_t used() const;
    std::size_t peak() const;
    bool exhausted() const { return used() >= limit(); }
    // try_take() calls that did not fit; leases reclaimed.
    std::uint64_t refusals() const;
    std::uint64_t reclaims() const;

private:
    std::shared_ptr<State> m_state;
};

}  // namespace kolokol::transport
