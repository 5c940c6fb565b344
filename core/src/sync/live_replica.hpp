#pragma once
// The Node's Replica as the live sessions of a SyncService share it (DESIGN §5). Sessions that
// asked for live pushes (Replica::watch) hear of every envelope stored from then on: those that
// arrived on another session (so one member relays between a LAN peer and a relay, each session
// filtering its own echoes), and those this member or another process wrote, once
// notify_written() is called.
//
// Threading: every call, the callbacks and the subscriptions' destruction happen on the
// service's thread; nothing here locks.

#include <functional>
#include <memory>

#include "kolokol/transport/sync_types.hpp"

namespace kolokol::core::sync {

class LiveReplica final : public transport::Replica {
public:
    // `inner` (the Node's replica) must outlive this object and every session using it.
    // `arrived` runs after a put stored envelopes.
    LiveReplica(transport::Replica& inner, std::function<void()> arrived);
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
    bool offers_views() const override { return m_inner.offers_views(); }
    Result<std::optional<Bytes>> view(const transport::MailboxId& mailbox, ByteView hh,
                                      bool server) override {
        return m_inner.view(mailbox, hh, server);
    }
    Result<bool> peer_view(const transport::MailboxId& mailbox, ByteView hh, ByteView token,
                           bool server) override {
        return m_inner.peer_view(mailbox, hh, token, server);
    }

    // Tells the watching sessions about every envelope stored since they last heard.
    void notify_written();
    // The subscriptions held now.
    std::size_t watching() const;

    struct Watches;

private:
    transport::Replica& m_inner;
    std::function<void()> m_arrived;
    std::shared_ptr<Watches> m_watches;
};

}  // namespace kolokol::core::sync
