// Network policy: "Tor only" groups, the SOCKS5 proxy setting, and the keys for LAN beacons.

#include <algorithm>
#include <array>
#include <set>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/socks5.hpp"
#include "node_impl.hpp"

namespace kolokol::core {

namespace {

// The network component's own schema steps (append only).
constexpr std::array<std::string_view, 3> kNetworkSteps = {
    R"sql(
CREATE TABLE network_settings(name TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql",
    // The address that worked last for each relay key (tried first next time).
    R"sql(
CREATE TABLE relay_worked(relay_key TEXT PRIMARY KEY, address TEXT NOT NULL, at_ms INTEGER NOT NULL);
)sql",
    // When the relay-list changes a restored store's backup held were received (§5.8), so that
    // a restore does not make settled changes unsettled again.
    R"sql(
CREATE TABLE relay_received(id BLOB PRIMARY KEY, received_ms INTEGER NOT NULL);
)sql",
};

constexpr std::string_view kProxySetting = "proxy";
constexpr std::size_t kNewestEpochsHeard = 3;
// network_settings names "freeze:ADDRESS": a freeze seen on connections to ADDRESS.
constexpr std::string_view kFreezePrefix = "freeze:";
constexpr std::uint64_t kMinFreezeLimit = 1 << 10;
constexpr std::uint64_t kMaxFreezeLimit = 64 << 20;

Status ensure_schema(storage::Database& db) {
    return db.migrate("network", kNetworkSteps);
}

}  // namespace

Status ensure_network_schema(storage::Database& db) {
    return ensure_schema(db);
}

std::optional<std::int64_t> relay_change_received_ms(Node::Impl& m, const RecordId& id) {
    auto received = m.records.received_ms(id);
    // Not migrated here (it may run inside a transaction): a store that never restored a
    // backup has no such table, and then no carried time.
    auto st = m.db.cached("SELECT received_ms FROM relay_received WHERE id = ?");
    if (!st) return received;
    (*st)->bind(1, ByteView(id));
    if (auto r = (*st)->step(); r && *r) {
        const auto carried = (*st)->column_int64(0);
        received = received ? std::min(*received, carried) : carried;
    }
    (*st)->reset();
    return received;
}

Status carry_relay_received(storage::Database& db, const RecordId& id, std::int64_t received_ms) {
    for (const char* sql :
         {"INSERT OR IGNORE INTO relay_received(id, received_ms) VALUES (?1, ?2)",
          "UPDATE relay_received SET received_ms = min(received_ms, ?2) WHERE id = ?1"}) {
        auto st = db.cached(sql);
        if (!st) return std::unexpected(st.error());
        (*st)->bind(1, ByteView(id)).bind(2, received_ms);
        auto r = (*st)->step();
        (*st)->reset();
        if (!r) return std::unexpected(r.error());
    }
    return {};
}

bool Node::tor_only(const GroupId& group) {
    if (!m_impl->genesis.contains(group)) return false;
    return m_impl->state(group).tor_only();
}

Status Node::set_tor_only(const GroupId& group, bool on) {
    if (!m_impl->genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    if (!m_impl->state(group).is_admin(me()))
        return fail(CoreErrc::not_permitted,
                    "only an admin can change whether a group is Tor only");
    pb::RecordBody body;
    body.mutable_settings()->set_set_tor_only(true);
    body.mutable_settings()->set_tor_only(on);
    if (auto r = m_impl->write(group, std::move(body)); !r) return std::unexpected(r.error());
    return {};
}

std::optional<std::string> Node::proxy() {
    if (!ensure_schema(m_impl->db)) return std::nullopt;
    auto st = m_impl->db.cached("SELECT value FROM network_settings WHERE name = ?");
    if (!st) return std::nullopt;
    (*st)->bind(1, kProxySetting);
    std::optional<std::string> out;
    if (auto r = (*st)->step(); r && *r) out = (*st)->column_text(0);
    (*st)->reset();
    return out;
}

Status Node::set_proxy(std::optional<std::string> url) {
    if (url) {
        auto parsed = transport::ProxyAddress::parse(*url);
        if (!parsed) return reclassify(CoreErrc::bad_input, parsed.error());
        url = parsed->to_string();
    }
    if (auto ok = ensure_schema(m_impl->db); !ok) return ok;
    auto st = url ? m_impl->db.cached(
                        "INSERT OR REPLACE INTO network_settings(name, value) VALUES (?, ?)")
                  : m_impl->db.cached("DELETE FROM network_settings WHERE name = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, kProxySetting);
    if (url) (*st)->bind(2, *url);
    auto r = (*st)->step();
    (*st)->reset();
    if (!r) return std::unexpected(r.error());
    return {};
}

std::vector<Node::RelayRoute> Node::relay_routes(const GroupId& group) {
    // A change that dropped every relay lists none, and still holds what it dropped.
    auto routes = relay_routes_as_listed(group);
    auto st = ensure_schema(m_impl->db)
                  ? m_impl->db.cached("SELECT address FROM relay_worked WHERE relay_key = ?")
                  : Result<storage::Statement*>(nullptr);
    for (auto& route : routes) {
        if (!st || !*st) break;
        (*st)->bind(1, std::string_view(route.key));
        std::optional<std::string> worked;
        if (auto r = (*st)->step(); r && *r) worked = (*st)->column_text(0);
        (*st)->reset();
        // Only an address the group still lists: a retired one stays retired.
        auto it = worked ? std::find(route.addresses.begin(), route.addresses.end(), *worked)
                         : route.addresses.end();
        if (it != route.addresses.end()) std::rotate(route.addresses.begin(), it, it + 1);
    }
    // Addresses held while a change that dropped them is not settled (held_relays): after a
    // listed relay's own addresses when they have its key, so they are tried only when those
    // fail; a relay of their own otherwise. A round syncs with the group's earlier relays (and
    // hears of a removal voiding the change) before it writes to one the change brought in.
    std::vector<RelayRoute> held;
    std::set<std::string> brought;
    for (const auto& a : held_relays(group, &brought)) {
        auto parsed = transport::Address::parse(a);
        if (!parsed) continue;
        const auto key = transport::key_to_text(parsed->key);
        auto same = [&](const RelayRoute& r) { return r.key == key; };
        if (auto r = std::find_if(routes.begin(), routes.end(), same); r != routes.end())
            r->addresses.push_back(a);
        else if (auto h = std::find_if(held.begin(), held.end(), same); h != held.end())
            h->addresses.push_back(a);
        else
            held.push_back({a, key, {a}, true});
    }
    routes.insert(routes.begin(), held.begin(), held.end());
    // A relay the unsettled change brought in comes after those the settled list has.
    std::stable_partition(routes.begin(), routes.end(),
                          [&](const RelayRoute& r) { return !brought.contains(r.key); });
    return routes;
}

Status Node::relay_worked(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    if (!parsed) return reclassify(CoreErrc::bad_input, parsed.error());
    if (auto ok = ensure_schema(m_impl->db); !ok) return ok;
    auto st = m_impl->db.cached(
        "INSERT OR REPLACE INTO relay_worked(relay_key, address, at_ms) VALUES (?, ?, ?)");
    if (!st) return std::unexpected(st.error());
    const auto key = transport::key_to_text(parsed->key);
    const auto canonical = parsed->to_string();
    (*st)
        ->bind(1, std::string_view(key))
        .bind(2, std::string_view(canonical))
        .bind(3, m_impl->now());
    auto r = (*st)->step();
    (*st)->reset();
    if (!r) return std::unexpected(r.error());
    return {};
}

std::optional<std::uint64_t> Node::freeze_limit(const std::string& address) {
    for (const auto& [a, bytes] : freeze_limits())
        if (a == address) return bytes;
    return std::nullopt;
}

Status Node::set_freeze_limit(const std::string& address, std::uint64_t bytes) {
    // A smaller figure is a measurement error or noise, a larger one no freeze worth avoiding.
    if (bytes < kMinFreezeLimit || bytes > kMaxFreezeLimit)
        return fail(CoreErrc::bad_input, "a freeze limit out of range");
    if (auto ok = ensure_schema(m_impl->db); !ok) return ok;
    auto st =
        m_impl->db.cached("INSERT OR REPLACE INTO network_settings(name, value) VALUES (?, ?)");
    if (!st) return std::unexpected(st.error());
    const std::string name = std::string(kFreezePrefix) + address;
    const std::string value = std::to_string(bytes);
    (*st)->bind(1, name);
    (*st)->bind(2, value);
    auto r = (*st)->step();
    (*st)->reset();
    if (!r) return std::unexpected(r.error());
    return {};
}

std::vector<std::pair<std::string, std::uint64_t>> Node::freeze_limits() {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    if (!ensure_schema(m_impl->db)) return out;
    auto st = m_impl->db.cached(
        "SELECT name, value FROM network_settings WHERE substr(name, 1, 7) = 'freeze:'");
    if (!st) return out;
    for (;;) {
        auto r = (*st)->step();
        if (!r || !*r) break;
        const std::string name = (*st)->column_text(0);
        const std::string value = (*st)->column_text(1);
        std::uint64_t bytes = 0;
        // Our own rows, but read back as any input: digits only, within range.
        if (value.empty() || value.size() > 12 ||
            value.find_first_not_of("0123456789") != std::string::npos)
            continue;
        bytes = std::stoull(value);
        if (bytes < kMinFreezeLimit || bytes > kMaxFreezeLimit) continue;
        out.emplace_back(name.substr(kFreezePrefix.size()), bytes);
    }
    (*st)->reset();
    return out;
}

namespace {
// network_settings names "cursor:KEY:MAILBOX" (MAILBOX in hex): a fetch cursor (DESIGN §9.14).
constexpr std::string_view kCursorPrefix = "cursor:";

std::string cursor_name(const std::string& relay_key, const MailboxId& mailbox) {
    return std::string(kCursorPrefix) + relay_key + ":" + crypto::hex_encode(mailbox);
}
}  // namespace

std::optional<std::uint64_t> Node::fetch_cursor(const std::string& relay_key,
                                                const MailboxId& mailbox) {
    if (!ensure_schema(m_impl->db)) return std::nullopt;
    auto st = m_impl->db.cached("SELECT value FROM network_settings WHERE name = ?");
    if (!st) return std::nullopt;
    (*st)->bind(1, cursor_name(relay_key, mailbox));
    auto r = (*st)->step();
    std::optional<std::uint64_t> out;
    if (r && *r) {
        const std::string value = (*st)->column_text(0);
        // Our own row, but read back as any input: digits only.
        if (!value.empty() && value.size() <= 19 &&
            value.find_first_not_of("0123456789") == std::string::npos)
            out = std::stoull(value);
    }
    (*st)->reset();
    return out;
}

Status Node::set_fetch_cursor(const std::string& relay_key, const MailboxId& mailbox,
                              std::uint64_t position) {
    // Inside the transaction of the envelopes it covers (Replica::put_then) the schema check
    // cannot run (it takes a write transaction of its own); the cursor was read before it is
    // saved, which made the table, and without it the write fails (a fetch done again).
    if (!m_impl->db.in_transaction())
        if (auto ok = ensure_schema(m_impl->db); !ok) return ok;
    auto st =
        m_impl->db.cached("INSERT OR REPLACE INTO network_settings(name, value) VALUES (?, ?)");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, cursor_name(relay_key, mailbox));
    (*st)->bind(2, std::to_string(position));
    auto r = (*st)->step();
    (*st)->reset();
    if (!r) return std::unexpected(r.error());
    return {};
}

Status Node::defer_durability() {
    return m_impl->db.defer_durability();
}

Status Node::end_deferred_durability() {
    return m_impl->db.make_durable();
}

std::size_t Node::fetch_cursor_count() {
    if (!ensure_schema(m_impl->db)) return 0;
    auto st = m_impl->db.cached(
        "SELECT count(*) FROM network_settings WHERE substr(name, 1, 7) = 'cursor:'");
    if (!st) return 0;
    auto r = (*st)->step();
    std::size_t n = r && *r ? static_cast<std::size_t>((*st)->column_int64(0)) : 0;
    (*st)->reset();
    return n;
}

std::vector<Node::BeaconKey> Node::beacon_keys() {
    auto& m = *m_impl;
    std::vector<BeaconKey> out;
    for (const auto& [group, genesis] : m.genesis) {
        (void)genesis;
        const auto& g = m.state(group);
        if (g.tor_only()) continue;
        std::vector<EpochId> heard;  // in order of preference, no duplicates
        auto add = [&](const EpochId& e) {
            const auto* keys = m.keys_for_epoch(e);
            if (!keys || !keys->secret) return;
            // A tainted epoch is held by someone who is no longer a member: beaconing under it
            // would tell them we are here, and listening on it would have us recognise and dial
            // them. An epoch the group's records do not show yet (a newcomer's before its first
            // sync) cannot be judged and is kept.
            if (g.epoch(e) && g.tainted(e)) return;
            if (std::find(heard.begin(), heard.end(), e) == heard.end()) heard.push_back(e);
        };
        if (auto w = g.writer_epoch(me())) add(*w);
        for (const auto* e : g.frontier()) add(e->id);
        auto st = m.db.cached(
            "SELECT epoch_id FROM epochs WHERE group_id = ? AND secret IS NOT NULL "
            "ORDER BY added_ms DESC, epoch_id LIMIT 3");
        if (st) {
            (*st)->bind(1, ByteView(group));
            std::vector<EpochId> newest;
            while (newest.size() < kNewestEpochsHeard) {
                auto r = (*st)->step();
                if (!r || !*r) break;
                auto blob = (*st)->column_blob(0);
                if (blob.size() == 32) newest.push_back(to_array<32>(blob));
            }
            (*st)->reset();
            // Without a writer epoch (e.g. admission not synced yet) the newest one that may
            // be used is sent.
            for (const auto& e : newest) add(e);
        }
        for (std::size_t i = 0; i < heard.size(); ++i) {
            BeaconKey k;
            k.group = group;
            k.epoch = heard[i];
            k.key = m.keys_for_epoch(heard[i])->beacon_key();
            k.send = i == 0;
            out.push_back(std::move(k));
        }
    }
    return out;
}

}  // namespace kolokol::core
