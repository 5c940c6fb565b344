// LAN discovery for the SyncService (sync_service.hpp, DESIGN §5): beacons every group that is
// not Tor only and hands each member it recognises to the service, with the group the beacon
// named.

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>

#include "kolokol/core/errors.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "sync/impl.hpp"

namespace kolokol::core {

struct SyncLan {
    std::vector<GroupId> listen_groups;  // the group of each listen key, by index
    std::size_t send_count = 0;          // listen keys below this index are also sent
    std::unique_ptr<transport::lan::Discovery> discovery;
};

namespace {

constexpr int kMaxLanRounds = 8;

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A rotation received here may give us a new mailbox, and one we sent may give the peer one it
// refused a moment ago: sync again while either makes progress.
asio::awaitable<void> lan_rounds(std::shared_ptr<SyncService::Impl> impl, transport::Address peer,
                                 GroupId group) {
    auto& s = *impl;
    SyncEvent done;
    done.peer = peer.host + ":" + std::to_string(peer.port);
    done.lan = true;
    Result<transport::SyncReport> r = fail(transport::SyncErrc::stopped);
    std::size_t known = 0;
    std::optional<std::size_t> refused_before;  // refusals of the round before the last
    for (int round = 0; round < kMaxLanRounds; ++round) {
        // LAN syncs are direct: a Tor-only group is never offered on them.
        std::vector<transport::MailboxKey> keys;
        if (!s.node.tor_only(group)) keys = s.node.mailbox_keys(&group);
        if (round > 0) {
            const bool more_keys = keys.size() > known;
            const auto refused_now = r->refused.size();
            const bool progress =
                refused_now > 0 && (!refused_before || refused_now < *refused_before);
            if (!more_keys && !progress) break;
            refused_before = refused_now;
        }
        known = keys.size();
        if (keys.empty()) {
            r = fail(transport::SyncErrc::stopped, "the group is no longer announced here");
            break;
        }
        transport::SyncOptions options = s.options.sync;
        options.live = false;
        options.views = true;  // a member met on the LAN (§5.12)
        options.progress = {};
        r = co_await transport::async_sync_with(peer, std::move(keys), *s.replica,
                                                std::move(options));
        if (!r) break;
        done.sent += r->sent;
        done.received += r->received;
        if (s.closing) break;
    }
    if (!r) {
        done.kind = SyncEvent::Kind::lan_sync_failed;
        done.error = r.error();
        s.emit(std::move(done));
        co_return;
    }
    ++s.lan_syncs;
    done.kind = SyncEvent::Kind::lan_synced;
    s.emit(std::move(done));
    auto lines = s.node.maintain();
    if (!lines) co_return;
    s.replica->notify_written();
    for (auto& line : *lines) {
        SyncEvent e;
        e.kind = SyncEvent::Kind::maintained;
        e.text = std::move(line);
        s.emit(std::move(e));
    }
}

}  // namespace

void start_lan_rounds(SyncService::Impl& impl, const transport::Address& peer,
                      const GroupId& group) {
    if (impl.closing) return;
    // One sync per member and group: the member is offered only the mailboxes of the group
    // whose beacon it sent, never this member's other groups.
    auto id = peer.to_string() + " " + crypto::hex_encode(group);
    const auto now = std::chrono::steady_clock::now();
    if (impl.lan_busy.contains(id)) return;
    // Only the members synced within the cooldown are remembered: a member who makes up
    // beacons under fresh keys does not grow the table.
    std::erase_if(impl.lan_last,
                  [&](const auto& e) { return now - e.second >= impl.lan_cooldown; });
    if (impl.lan_last.contains(id)) return;
    // Made-up members (keys and ports of one's own choosing, from one's own address) each hold
    // a sync for as long as they keep it alive: they get no more than the caps.
    const auto from_host = static_cast<std::size_t>(
        std::count_if(impl.lan_busy.begin(), impl.lan_busy.end(),
                      [&](const auto& b) { return b.second == peer.host; }));
    if (impl.lan_busy.size() >= impl.options.max_lan_sessions ||
        from_host >= impl.options.max_lan_per_host)
        return;
    impl.lan_busy.emplace(id, peer.host);
    auto self = impl.shared_from_this();
    asio::co_spawn(
        impl.io, lan_rounds(self, peer, group),
        [self, id, host = peer.host + ":" + std::to_string(peer.port)](std::exception_ptr error) {
            // Whatever ended the sync, the member is free to be synced again.
            self->lan_busy.erase(id);
            self->lan_last[id] = std::chrono::steady_clock::now();
            if (error) self->emit_quietly(crashed_event(host, true, error));
        });
}

Result<std::shared_ptr<SyncLan>> start_lan(SyncService::Impl& impl,
                                           const transport::lan::DiscoveryOptions& options,
                                           std::uint16_t listen_port) {
    auto lan = std::make_shared<SyncLan>();
    std::vector<crypto::SecretBytes> send, listen;
    std::set<GroupId> groups;
    auto keys = impl.node.beacon_keys();
    for (const auto& k : keys) {
        groups.insert(k.group);
        if (k.send) send.push_back(k.key.clone());
    }
    // Listen keys: the send keys first (index < send.size()), then the others; the group of
    // each, by index.
    for (const auto& k : keys)
        if (k.send) lan->listen_groups.push_back(k.group);
    for (const auto& k : send) listen.push_back(k.clone());
    for (auto& k : keys)
        if (!k.send) {
            lan->listen_groups.push_back(k.group);
            listen.push_back(std::move(k.key));
        }
    lan->send_count = send.size();
    if (send.empty())
        return fail(CoreErrc::not_found,
                    "no group to announce on the LAN (Tor-only groups never are)");
    transport::lan::BeaconInfo self;
    self.port = listen_port;
    self.key = impl.local.public_key;
    std::weak_ptr<SyncService::Impl> weak = impl.shared_from_this();
    std::weak_ptr<SyncLan> weak_lan = lan;
    lan->discovery = std::make_unique<transport::lan::Discovery>(
        impl.io.get_executor(), options, std::move(send), listen, self, &unix_ms,
        [weak, weak_lan](const asio::ip::address& from, const transport::lan::Recognition& what) {
            auto s = weak.lock();
            auto l = weak_lan.lock();
            if (!s || !l || what.key_index >= l->listen_groups.size()) return;
            transport::Address peer(from.to_string(), what.info.port, what.info.key);
            s->lan_member(peer, l->listen_groups[what.key_index], what.key_index >= l->send_count);
        });
    if (auto ok = lan->discovery->start(); !ok) return std::unexpected(ok.error());
    SyncEvent e;
    e.kind = SyncEvent::Kind::lan_started;
    e.interfaces = lan->discovery->interfaces();
    e.groups = groups.size();
    impl.emit_quietly(std::move(e));
    return lan;
}

SyncEvent stop_lan(SyncLan& lan, std::uint64_t syncs) {
    lan.discovery->stop();
    SyncEvent e;
    e.kind = SyncEvent::Kind::lan_stopped;
    e.lan_stats = lan.discovery->stats();
    e.lan_syncs = syncs;
    return e;
}

}  // namespace kolokol::core
