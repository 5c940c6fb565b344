// What the network carriers need from a Node: a Replica over its store, the mailbox keys, the
// transport key, and the group's relays.

#include <algorithm>
#include <map>
#include <set>

#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/sync_types.hpp"
#include "node_impl.hpp"
#include "schema.hpp"

namespace kolokol::core {

namespace {
constexpr std::size_t kSortForSendingFrom = 256;
// The largest envelope a member asks for from an epoch it holds only the control key of
// (DESIGN §6.2). Control records fit under it (a rotation of 500 grants is about 47 KB) and
// every attachment chunk but an attachment's last is larger (49,152 bytes of data alone), so a
// late joiner takes the epoch's control records and small content, never its files. A
// control record over it leaves records waiting, and then the epoch is fetched whole.
constexpr std::uint32_t kControlOnlyEnvelopeBytes = 49'152;

// The member's side of a sync. Everything received goes through the one ingest path; an
// envelope counts as held once its batch committed — also when it was refused as invalid, so
// the sender does not offer it again (the refusal is recorded and listed by `kolokol
// rejected`). One refused for the unverified quota is not held: the session reports it as
// declined, and it may come again once there is room.
class NodeReplica final : public transport::Replica {
public:
    NodeReplica(Node& node, Node::Impl& impl, storage::EnvelopeStore& envelopes)
        : m_node(node), m_impl(impl), m_envelopes(envelopes) {}
    Result<std::vector<RecordId>> ids(const MailboxId& mailbox) override {
        return m_node.envelope_ids(mailbox);
    }
    // The order this member stored them in, which is causal order (ingest applies a batch in
    // Lamport order, and holds back what lacks a parent).
    Result<StoredIds> ids_in_stored_order(const MailboxId& mailbox, std::uint64_t from,
                                          std::size_t limit) override {
        return transport::stored_ids_page(m_envelopes, mailbox, from, limit);
    }
    Status order_for_sending(const MailboxId& mailbox, std::vector<RecordId>& ids) override {
        // A scan of the mailbox is worth it only for a bulk push.
        if (ids.size() < kSortForSendingFrom) return {};
        return transport::sort_by_stored_order(m_envelopes, mailbox, ids);
    }
    Result<std::optional<Bytes>> get(const RecordId& id) override { return m_node.envelope(id); }
    Result<std::vector<bool>> put(const MailboxId&, std::span<const Bytes> envelopes) override {
        auto r = m_impl.ingest(envelopes);
        if (!r) return std::unexpected(r.error());
        std::vector<bool> held(envelopes.size(), true);
        if (!m_impl.refused.empty()) {
            std::set<RecordId> refused(m_impl.refused.begin(), m_impl.refused.end());
            for (std::size_t i = 0; i < envelopes.size(); ++i)
                if (refused.contains(storage::record_id_of(envelopes[i]))) held[i] = false;
        }
        return held;
    }
    // One transaction for the envelopes and what the sync writes with them (a fetch's cursor,
    // DESIGN §9.14): a kill before the commit loses both, and the next sync fetches the same
    // envelopes again from the same cursor.
    Result<std::vector<bool>> put_then(const MailboxId& mailbox, std::span<const Bytes> envelopes,
                                       const std::function<void()>& also) override {
        auto scope = WriteScope::open(m_impl);
        if (!scope) return std::unexpected(scope.error());
        auto held = put(mailbox, envelopes);
        if (!held) return held;
        if (also) also();
        if (auto ok = scope->commit(); !ok) return std::unexpected(ok.error());
        return held;
    }
    // Views (§5.12): what this member holds of the group, compared with the peer's.
    bool offers_views() const override { return true; }
    Result<std::optional<Bytes>> view(const MailboxId& mailbox, ByteView hh, bool server) override {
        return m_impl.view_token(mailbox, hh, server);
    }
    Result<bool> peer_view(const MailboxId& mailbox, ByteView hh, ByteView token,
                           bool server) override {
        return m_impl.take_peer_view(mailbox, hh, token, server);
    }

private:
    Node& m_node;
    Node::Impl& m_impl;
    storage::EnvelopeStore& m_envelopes;
};
}  // namespace

std::unique_ptr<transport::Replica> Node::replica() {
    return std::make_unique<NodeReplica>(*this, *m_impl, *m_impl->envelopes);
}

std::vector<transport::MailboxKey> Node::mailbox_keys(const GroupId* group) const {
    // Groups with a record waiting for a reference: it may be a control record of a
    // control-only epoch larger than the cap, so those epochs are fetched whole (DESIGN §6.2).
    // Only a record by a member counts: one by anyone else (a removed member still holds old
    // keys) is unverified, and would otherwise lift the cap for every newcomer for good.
    std::set<GroupId> waiting;
    if (auto mailboxes = m_impl->records.held_verified_mailboxes()) {
        for (const auto& mailbox : *mailboxes)
            if (auto it = m_impl->epochs.find(mailbox); it != m_impl->epochs.end())
                waiting.insert(it->second.group_id);
    } else {
        // Not knowing, take everything: a cap could starve a waiting record for good.
        for (const auto& [mailbox, keys] : m_impl->epochs) waiting.insert(keys.group_id);
    }
    std::vector<transport::MailboxKey> out;
    for (const auto& [mailbox, keys] : m_impl->epochs) {
        if (group && keys.group_id != *group) continue;
        auto key = transport::MailboxKey::from_seed(keys.mailbox_seed.view());
        if (!keys.secret && !waiting.contains(keys.group_id))
            key.max_envelope_bytes = kControlOnlyEnvelopeBytes;
        out.push_back(std::move(key));
    }
    return out;
}

crypto::BoxKeyPair Node::transport_key() {
    auto st = m_impl->db.cached("SELECT transport_secret FROM identity WHERE id = 1");
    crypto::BoxKeyPair kp;
    if (!st) return kp;
    if (auto r = (*st)->step(); r && *r) {
        if (auto secret = m_impl->db.open_secret((*st)->column_blob(0),
                                                 secret_place("identity.transport_secret"))) {
            kp.secret_key = std::move(*secret);
            kp.public_key = crypto::x25519_base(kp.secret_key.view());
        }
    }
    (*st)->reset();
    return kp;
}

std::vector<std::string> Node::relays(const GroupId& group) {
    std::vector<std::string> out;
    if (!m_impl->genesis.contains(group)) return out;
    out = m_impl->state(group).relays();
    auto st = m_impl->db.cached("SELECT address FROM welcome_relays WHERE group_id = ?");
    if (!st) return out;
    (*st)->bind(1, ByteView(group));
    while (true) {
        auto r = (*st)->step();
        if (!r || !*r) break;
        auto a = (*st)->column_text(0);
        // Once the group's own settings set the relay list, it is the list, also when it is
        // empty: a relay removed, or every address of it retired, is not dialled again
        // because a welcome token once named it.
        if (!m_impl->state(group).relays_set() && std::find(out.begin(), out.end(), a) == out.end())
            out.push_back(a);
    }
    (*st)->reset();
    return out;
}

std::vector<std::string> Node::held_relays(const GroupId& group, std::set<std::string>* brought) {
    // A relay-list change written by someone else is not settled until it has been held here
    // for a day (§5.8, the settle period of a shortened retention, §13.8): its author may be an
    // admin removed meanwhile, writing from a copy of his home made before the removal, and the
    // removal that voids the change reaches this member only through the relays the group used
    // before. So while any change is not settled, the addresses of the settled list — that of the
    // last settled change in the fold's order — that the list dropped are still dialled, whether
    // or not the change brought in a relay: one that only drops relays (all of them, or all but
    // the removed admin's own, long settled) or gives a relay only dead addresses of its key
    // would otherwise cut the member off as surely as one that moves the group elsewhere. The
    // cost is that an honest removal or retirement is dialled for a day more too (row 68). A
    // change this member wrote is settled, and so is one that the add admitting this member
    // follows (the admin who added it had seen it; the welcome token named its list). How long
    // a change has been held counts the time a backup carried (relay_change_received_ms).
    std::vector<std::string> out;
    if (!m_impl->genesis.contains(group)) return out;
    const auto& g = m_impl->state(group);
    const auto* admitted = g.admitting_add(me());
    const auto now = m_impl->now();
    const auto settled = [&](const GroupState::RelayChange& c) {
        if (c.author == me() || crypto::is_zero(c.id)) return true;
        if (admitted && g.precedes(c.id, admitted->id)) return true;
        // A restored store's record was received again at the restore: the time its backup
        // carried (received then, counting the time it was held before the backup) is earlier.
        const auto received = relay_change_received_ms(*m_impl, c.id);
        return received && *received <= now - Impl::kRetentionSettleMs;
    };
    const GroupState::RelayChange* base = nullptr;  // the last settled change
    std::set<std::string> retired;                  // addresses a settled change retired
    bool unsettled = false;
    for (const auto& c : g.relay_changes()) {
        if (!settled(c)) {
            unsettled = true;
            continue;
        }
        base = &c;
        for (const auto& a : c.retired)
            if (auto parsed = transport::Address::parse(a)) retired.insert(parsed->to_string());
    }
    if (!unsettled || !base) return out;
    std::set<std::string> keys;
    std::vector<std::string> settled_list;
    for (const auto& a : base->addresses)
        if (auto parsed = transport::Address::parse(a)) {
            keys.insert(transport::key_to_text(parsed->key));
            settled_list.push_back(parsed->to_string());
        }
    std::set<std::string> listed;
    for (auto& route : relay_routes_as_listed(group)) {
        if (brought && !keys.contains(route.key)) brought->insert(route.key);
        listed.insert(route.addresses.begin(), route.addresses.end());
    }
    for (auto& a : settled_list)
        if (!retired.contains(a) && !listed.contains(a) &&
            std::find(out.begin(), out.end(), a) == out.end())
            out.push_back(std::move(a));
    return out;
}

std::vector<std::string> Node::relay_addresses(const GroupId& group) {
    std::vector<std::string> out;
    for (auto& route : relay_routes_as_listed(group))
        for (auto& a : route.addresses) out.push_back(std::move(a));
    return out;
}

std::vector<Node::RelayRoute> Node::relay_routes_as_listed(const GroupId& group) {
    std::vector<RelayRoute> out;
    std::set<std::string> seen;
    for (const auto& r : relays(group)) {
        auto parsed = transport::Address::parse(r);
        if (!parsed || !seen.insert(parsed->to_string()).second) continue;
        out.push_back(
            {parsed->to_string(), transport::key_to_text(parsed->key), {parsed->to_string()}});
    }
    if (!m_impl->genesis.contains(group)) return out;
    // An added address belongs to the first relay listed with its key (ingest checked that
    // there is one); it is never a relay of its own.
    for (const auto& r : m_impl->state(group).relay_alternates()) {
        auto parsed = transport::Address::parse(r);
        if (!parsed || !seen.insert(parsed->to_string()).second) continue;
        const auto key = transport::key_to_text(parsed->key);
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& x) { return x.key == key; });
        if (it != out.end()) it->addresses.push_back(parsed->to_string());
    }
    return out;
}

Status Node::set_relays(const GroupId& group, std::vector<std::string> relays,
                        std::vector<std::string> alternates, std::vector<std::string> retired) {
    if (relays.size() > static_cast<std::size_t>(kMaxRelays))
        return fail(CoreErrc::bad_input, "a group lists at most 16 relays");
    if (alternates.size() > static_cast<std::size_t>(kMaxRelayAlternates))
        return fail(CoreErrc::bad_input, "a group lists at most 32 more addresses of its relays");
    // Every address is parsed whole and kept in its canonical form: a truncated or mistyped
    // one would be accepted here, learnt by every member, and fail only at their next sync.
    std::set<std::string> seen;
    std::map<transport::StaticPublicKey, int> per_key;
    for (auto* list : {&relays, &alternates})
        for (auto& r : *list) {
            auto parsed = transport::Address::parse(r);
            if (!parsed) return fail(CoreErrc::bad_input, "{}: {}", r, parsed.error());
            r = parsed->to_string();
            if (r.size() > kMaxRelayAddressChars)
                return fail(CoreErrc::bad_input, "not a relay address: {}", r);
            if (!seen.insert(r).second)
                return fail(CoreErrc::bad_input, "the list names a relay twice: {}", r);
            if (list == &alternates && !per_key.contains(parsed->key))
                return fail(CoreErrc::bad_input, "the group lists no relay with the key of {}", r);
            if (++per_key[parsed->key] > kMaxRelayAddresses)
                return fail(CoreErrc::bad_input, "a relay has at most 8 addresses");
        }
    if (retired.size() > static_cast<std::size_t>(kMaxRelayRetired))
        return fail(CoreErrc::bad_input, "a change retires at most 16 relay addresses");
    for (auto& r : retired) {
        auto parsed = transport::Address::parse(r);
        if (!parsed) return fail(CoreErrc::bad_input, "{}: {}", r, parsed.error());
        r = parsed->to_string();
        if (r.size() > kMaxRelayAddressChars || seen.contains(r))
            return fail(CoreErrc::bad_input, "a retired address cannot be listed: {}", r);
    }
    if (!m_impl->genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    if (!m_impl->state(group).is_admin(me()))
        return fail(CoreErrc::not_permitted, "only an admin can change the group's relays");
    pb::RecordBody body;
    auto* settings = body.mutable_settings();
    settings->set_set_relays(true);
    for (auto& r : relays) settings->add_relays(std::move(r));
    for (auto& r : alternates) settings->add_relay_alternates(std::move(r));
    for (auto& r : retired) settings->add_relay_retired(std::move(r));
    if (auto r = m_impl->write(group, std::move(body)); !r) return std::unexpected(r.error());
    return {};
}

}  // namespace kolokol::core
