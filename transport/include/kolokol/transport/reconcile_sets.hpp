#pragma once
// Reconciliation sets shared by a server's sessions and charged to its memory budget. The
// responder side of a reconciliation needs every id of the mailbox in memory (≈ 34 bytes an
// id); built per session, 256 sessions reconciling a 100,000-envelope mailbox would hold 256
// copies. Here every session that reconciles a mailbox unchanged since its set was built shares
// that set, and the sets held at once never pass the budget: when a new one does not fit, the
// caller is told to wait and woken when memory comes back.
//
// A set is kept only while some reconciliation holds it; its bytes go back to the budget with
// the last holder. Whether a mailbox is unchanged is the Replica's change_stamp(): a replica
// that gives none gets a set of its own for every reconciliation (still charged).
//
// Thread-safe; sets are immutable and may be read from any thread. The cache's state lives as
// long as any set it handed out.

#include <functional>
#include <memory>

#include "kolokol/crypto/error.hpp"
#include "kolokol/transport/memory_budget.hpp"
#include "kolokol/transport/reconcile.hpp"
#include "kolokol/transport/sync_types.hpp"

namespace kolokol::transport {

class ReconcileSets {
public:
    // Sets are charged to `budget`, which may be shared with other holders.
    explicit ReconcileSets(MemoryBudget budget);

    // The ids of `mailbox` as `replica` holds them now, as a set. nullptr (and no error) when
    // it cannot be had yet: the budget cannot hold a new set, or another session is building
    // this one; `wake` is then called once, from any thread, when it is worth asking again.
    // Errors: the replica's.
    Result<std::shared_ptr<const ReconcileSet>> acquire(const MailboxId& mailbox, Replica& replica,
                                                        std::function<void()> wake);

    struct Stats {
        std::uint64_t built = 0;   // sets loaded from the replica
        std::uint64_t shared = 0;  // acquisitions answered with a set already held
        std::uint64_t waits = 0;   // acquisitions told to wait
        std::size_t held = 0;      // sets alive now
    };
    Stats stats() const;

    struct State;

private:
    std::shared_ptr<State> m_state;
};

}  // namespace kolokol::transport
