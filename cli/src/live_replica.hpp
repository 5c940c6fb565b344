#pragma once
// A member's Replica shared by live sessions (DESIGN §5): the chat's outgoing syncs and its
// listener, and `kolokol serve`. Every call holds the Node's mutex. Sessions that asked for
// live pushes (Replica::watch) hear of every envelope stored from then on: those that arrived
// from another session (so one member relays between a LAN peer and a relay, each session
// filtering its own echoes), and those this member or another process wrote, once
// notify_written() is called.

#include <functional>
#include <memory>
#include <mutex>

#include "kolokol/transport/sync_types.hpp"

namespace kolokol::cli {

class LiveReplica final : public transport::Replica {
public:
    // `inner` (the Node's replica) and `node_mutex` must outlive this object and every
    // session using it. `arrived` runs after a put stored envelopes, without node_mutex held.
    LiveReplica(transport::Replica& inner, std::mutex& node_mutex,
                std::function<void()> arrived = {});
    ~LiveReplica() override;

    Result<std::vector<transport::RecordId>> ids(const transport::MailboxId& mailbox) override;
    Result<StoredIds> ids_in_stored_order(const transport::MailboxId& mailbox, std::uint64_t from,
                                          std::size_t limit) override;
    Status order_for_sending(const transport::MailboxId& mailbox,
                             std::vector<transport::RecordId>& ids) override;
    Result<std::optional<Bytes>> get(const transport::RecordId& id) override;
    Result<std::vector<bool>> put(const transport::MailboxId& mailbox,
                                  std::span<const Bytes> envelopes) override;
    std::unique_ptr<transport::LiveSubscription> watch(const transport::MailboxId& mailbox,
                                                       transport::LiveCallback on_written) override;

    // Tells the watching sessions about every envelope stored since they last heard (own
    // writes, or another process's). Call WITH node_mutex held — in the same critical section
    // as a write, so nothing is missed or pushed twice.
    void notify_written();
    // The sessions watching now.
    std::size_t watching() const;

    struct Watches;

private:
    transport::Replica& m_inner;
    std::mutex& m_node_mutex;
    std::function<void()> m_arrived;
    std::shared_ptr<Watches> m_watches;
};

}  // namespace kolokol::cli
