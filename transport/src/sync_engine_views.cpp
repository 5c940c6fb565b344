// Views (DESIGN §5.12): once a session exchanged everything, the client sends what its store
// says of each group it synced (Replica::view) and the server answers with its own; each store
// compares the peer's with its own (Replica::peer_view). Only between peers whose Hellos both
// offered them: an older peer, or a relay, is never sent one.

#include "sync.pb.h"
#include "sync_engine_impl.hpp"
#include "sync_wire.hpp"

namespace kolokol::transport {
using namespace detail;

Result<bool> SyncEngine::Impl::take_peer_view(const MailboxId& mailbox, ByteView token) {
    if (token.empty()) return false;  // the peer has no view of this group to give
    auto heard =
        m_replica.peer_view(mailbox, m_config.handshake_hash, token, m_config.side == Side::server);
    if (!heard) {
        (void)fail_with(CloseReason::internal, SyncErrc::replica_failed, heard.error());
        return std::unexpected(heard.error());
    }
    if (*heard) ++m_report.views;
    return *heard;
}

Status SyncEngine::Impl::on_view(const pb::SyncFrame& f) {
    if (!m_offers_views || !m_peer_views)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a view in a session that did not offer views"));
    const auto& v = f.view();
    auto mailbox = parse_id(v.mailbox());
    if (!mailbox)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a view with fields of the wrong size"));
    auto it = m_mailboxes.find(*mailbox);
    if (it == m_mailboxes.end() || it->second.state != Mailbox::State::open)
        return fail_with(CloseReason::unopened_mailbox, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a view of a mailbox that is not open"));
    auto& mb = it->second;
    const ByteView token = as_bytes(v.token());
    if (m_config.side == Side::server) {
        if (mb.view_answered)
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("a second view of one mailbox"));
        mb.view_answered = true;
        // The client's first: a view says what this member holds, so it goes only to a peer
        // whose own view proved it a current member (a removed member still holding an old
        // epoch's keys, or anyone else, gets an empty answer). The client sends its view only
        // once everything of both sides is stored, so ours is taken as it stands now.
        auto heard = take_peer_view(*mailbox, token);
        if (!heard) return std::unexpected(heard.error());
        std::optional<Bytes> own;
        if (*heard) {
            auto mine = m_replica.view(*mailbox, m_config.handshake_hash, true);
            if (!mine)
                return fail_with(CloseReason::internal, SyncErrc::replica_failed, mine.error());
            own = std::move(*mine);
        }
        pb::SyncFrame reply;
        reply.mutable_view()->set_mailbox(v.mailbox());
        if (own && own->size() <= kSyncMaxViewBytes)
            reply.mutable_view()->set_token(to_string(*own));
        emit(reply);
        return {};
    }
    if (!mb.view_pending)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a view that was not asked for"));
    mb.view_pending = false;
    --m_views_awaited;
    if (auto heard = take_peer_view(*mailbox, token); !heard) return std::unexpected(heard.error());
    check_finished();
    return {};
}

}  // namespace kolokol::transport
