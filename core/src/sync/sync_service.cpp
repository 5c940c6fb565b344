#include "kolokol/core/sync_service.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <condition_variable>
#include <mutex>

#include "kolokol/core/errors.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "sync/impl.hpp"

namespace kolokol::core {

namespace {

// How long stop() lets sessions finish their Close(normal) (a dial under way may take its
// connect timeout) before it ends the loop regardless.
constexpr auto kStopGrace = std::chrono::seconds(15);

std::string host_of(const transport::Address& a) {
    return a.host + ":" + std::to_string(a.port);
}

std::string host_of(const std::string& address) {
    auto parsed = transport::Address::parse(address);
    return parsed ? host_of(*parsed) : address;
}

Result<bool> default_route(Node& node, const GroupId& group, std::string_view,
                           transport::ConnectOptions&) {
    return !node.tor_only(group);
}

// One outgoing session after another, until the link is told to quit. Runs on the service's
// thread; `impl` and `link` are kept alive by the coroutine.
asio::awaitable<void> run_link(std::shared_ptr<SyncService::Impl> impl,
                               std::shared_ptr<SyncLink> link) {
    SyncService::Impl& s = *impl;
    SyncLink& w = *link;
    if (w.pause.count() == 0) w.pause = s.options.backoff_min;
    while (!w.quit) {
        const bool lan_only = w.lan_only();
        std::vector<transport::MailboxKey> keys;
        std::size_t mailboxes = 0;
        transport::SyncOptions options = s.options.sync;
        options.live = true;
        options.stop = transport::SyncStop();
        options.progress = {};
        bool allowed = true;
        for (const auto& g : w.listed) {
            auto ok = s.options.route(s.node, g, w.address, options.connect);
            // update() tells about refusals; a group that may need the proxy does not go out
            // without it.
            if (!ok || !*ok) {
                allowed = false;
                continue;
            }
            for (auto& k : s.node.mailbox_keys(&g)) keys.push_back(std::move(k));
            mailboxes += s.node.mailboxes(&g).size();
        }
        // LAN sessions are direct, and never carry a Tor-only group.
        for (const auto& g : w.lan) {
            if (w.listed.contains(g) || s.node.tor_only(g)) continue;
            for (auto& k : s.node.mailbox_keys(&g)) keys.push_back(std::move(k));
            mailboxes += s.node.mailboxes(&g).size();
        }
        if (keys.empty() && lan_only) co_return;  // link_done forgets it
        w.stop = options.stop;
        w.restart = false;
        w.mailboxes = mailboxes;
        if (keys.empty() || !allowed) {
            // Every group listing it is Tor only without a proxy: wait for a change.
            w.wake.expires_at(asio::steady_timer::time_point::max());
            co_await w.wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            continue;
        }
        options.progress = [&s, &w, lan_only](const transport::SyncReport&) {
            if (w.connected || w.fault) return;
            w.connected = true;
            w.failed_in_row = 0;
            if (lan_only) ++s.lan_syncs;
            // Tried first next time; a failure to note it costs only the order.
            if (w.addresses.size() > 1) (void)s.node.relay_worked(w.address);
            try {
                SyncEvent e;
                e.kind = SyncEvent::Kind::connected;
                e.peer = w.host;
                e.lan = lan_only;
                s.emit(std::move(e), &w);
            } catch (...) {
                // Not thrown through the session: the link's coroutine rethrows it.
                w.fault = std::current_exception();
                w.stop.request();
            }
        };
        // Not a conditional expression around co_await: g++ 12 destroys its temporaries twice.
        Result<transport::SyncReport> r = fail(transport::SyncErrc::stopped);
        auto parsed = transport::Address::parse(w.address);
        if (parsed)
            r = co_await transport::async_sync_with(*parsed, std::move(keys), *s.replica,
                                                    std::move(options));
        else
            r = std::unexpected(parsed.error());
        w.connected = false;
        if (w.fault) std::rethrow_exception(std::exchange(w.fault, nullptr));
        if (w.quit) co_return;
        if (w.restart) {
            w.pause = s.options.backoff_min;
            continue;
        }
        if (lan_only) {
            // Gone from the LAN (or it ended the session): its next beacon brings it back.
            s.lan_retry[w.address] = std::chrono::steady_clock::now() + s.options.lan_retry_pause;
            SyncEvent e;
            e.kind = r ? SyncEvent::Kind::lan_ended : SyncEvent::Kind::lan_gone;
            e.peer = w.host;
            e.lan = true;
            if (!r) e.error = r.error();
            s.emit(std::move(e), &w);
            co_return;
        }
        std::string next;  // the address dialled after this failure, when not this one
        if (!r && w.addresses.size() > 1) {
            // The next address of the same relay; each once before pausing.
            auto it = std::find(w.addresses.begin(), w.addresses.end(), w.address);
            const bool last = it == w.addresses.end() || it + 1 == w.addresses.end();
            next = last ? w.addresses.front() : *(it + 1);
            if (++w.failed_in_row < w.addresses.size()) {
                // Without redial `unreachable` ends the link's watcher (read --follow): said
                // only when every address failed.
                if (s.options.redial) {
                    SyncEvent e;
                    e.kind = SyncEvent::Kind::unreachable;
                    e.peer = w.host;
                    e.error = r.error();
                    e.retry_in = std::chrono::seconds(0);
                    s.emit(std::move(e), &w);
                }
                w.address = next;
                w.host = host_of(next);
                continue;
            }
            w.failed_in_row = 0;
        }
        if (!s.options.redial) {
            SyncEvent e;
            e.kind = r ? SyncEvent::Kind::ended : SyncEvent::Kind::unreachable;
            e.peer = w.host;
            if (!r) e.error = r.error();
            s.emit(std::move(e), &w);
            co_return;  // link_done forgets it
        }
        if (r) {
            w.pause = s.options.backoff_min;
        } else {
            SyncEvent e;
            e.kind = SyncEvent::Kind::unreachable;
            e.peer = w.host;
            e.error = r.error();
            e.retry_in = w.pause;
            s.emit(std::move(e), &w);
        }
        w.wake.expires_after(w.pause);
        co_await w.wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        if (!r) w.pause = std::min(w.pause * 2, s.options.backoff_max);
        // update() may have moved the link meanwhile (an address retired): that one stands.
        if (!next.empty() &&
            std::find(w.addresses.begin(), w.addresses.end(), next) != w.addresses.end()) {
            w.address = next;
            w.host = host_of(next);
        }
    }
}

}  // namespace

SyncEvent crashed_event(std::string peer, bool lan, std::exception_ptr error) {
    SyncEvent e;
    e.kind = SyncEvent::Kind::crashed;
    e.peer = std::move(peer);
    e.lan = lan;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& x) {
        e.text = x.what();
    } catch (...) {
        e.text = "unknown exception";
    }
    return e;
}

SyncService::Impl::Impl(Node& n, SyncObserver* o, SyncServiceOptions opts)
    : node(n), observer(o), options(std::move(opts)) {
    if (!options.route) options.route = &default_route;
    if (options.backoff_min.count() <= 0) options.backoff_min = std::chrono::seconds(1);
    options.backoff_max = std::max(options.backoff_max, options.backoff_min);
    options.max_lan_per_host = std::max<std::size_t>(options.max_lan_per_host, 1);
}

void SyncService::Impl::emit(SyncEvent event, SyncLink* link) {
    if (link) link->last = event;
    if (observer) observer->on_event(event);
}

void SyncService::Impl::emit_quietly(SyncEvent event, SyncLink* link) noexcept {
    try {
        emit(std::move(event), link);
    } catch (...) {
    }
}

void SyncService::Impl::spawn(const std::shared_ptr<SyncLink>& link) {
    asio::co_spawn(io, run_link(shared_from_this(), link),
                   [self = shared_from_this(), link](std::exception_ptr error) {
                       self->link_done(link, error);
                   });
}

// Every link's coroutine ends here, by return or by exception: the link is reported, taken
// out of the table or dialled again — never left half-registered.
void SyncService::Impl::link_done(const std::shared_ptr<SyncLink>& link, std::exception_ptr error) {
    link->connected = false;
    auto it = links.find(link->key);
    const bool current = it != links.end() && it->second == link;
    if (error) {
        auto e = crashed_event(link->host, link->lan_only(), error);
        e.retry_in = link->pause;
        emit_quietly(std::move(e), link.get());
    }
    if (!current) return;
    // A link's coroutine returns only when it is told to quit or, for a LAN member, when the
    // session ended (it noted the retry pause itself): either way the link is done.
    if (!error || link->quit || closing) {
        links.erase(it);
        return;
    }
    if (link->lan_only()) {
        // A LAN member's session is not redialled: its next beacon brings it back.
        lan_retry[link->address] = std::chrono::steady_clock::now() + options.lan_retry_pause;
        links.erase(it);
        return;
    }
    // Crashed: a fresh link in its place after the usual pause.
    auto next = std::make_shared<SyncLink>(io);
    next->key = link->key;
    next->address = link->address;
    next->addresses = link->addresses;
    next->host = link->host;
    next->lan_ip = link->lan_ip;
    next->listed = link->listed;
    next->lan = link->lan;
    next->pause = std::min(std::max(link->pause, options.backoff_min) * 2, options.backoff_max);
    it->second = next;
    auto self = shared_from_this();
    next->wake.expires_after(link->pause.count() > 0 ? link->pause : options.backoff_min);
    next->wake.async_wait([self, next](const asio::error_code&) {
        if (!next->quit && !self->closing) self->spawn(next);
    });
}

void SyncService::Impl::update() {
    if (closing) return;
    // One session per relay and group (keyed "ADDRESS GROUP"), so a relay sees no more of this
    // member than one group's mailboxes on any session.
    std::map<std::string, std::pair<std::vector<std::string>, GroupId>> wanted;
    std::map<GroupId, std::size_t> mailboxes;
    std::vector<std::string> tor_only;
    const auto own = local.public_key;
    for (const auto& g : node.groups()) {
        if (!options.only_groups.empty() && !options.only_groups.contains(g.id)) continue;
        mailboxes[g.id] = node.mailboxes(&g.id).size();
        auto relays = node.relay_routes(g.id);
        if (options.relays_per_group > 0) {
            // A follow reads from the first relay the group lists: not from one only held
            // while a change that dropped it settles (§5.8), which may be gone for good after
            // an honest removal; `sync` still dials those.
            std::erase_if(relays, [](const Node::RelayRoute& r) { return r.held; });
            if (relays.size() > options.relays_per_group) relays.resize(options.relays_per_group);
        }
        for (const auto& relay : relays) {
            // This member's own listener, listed for the others: not a peer of its own.
            if (relay.key == transport::key_to_text(own)) continue;
            const auto& address = relay.addresses.front();
            transport::ConnectOptions probe;
            auto ok = options.route(node, g.id, address, probe);
            if (!ok) {
                SyncEvent e;
                e.kind = SyncEvent::Kind::route_failed;
                e.error = ok.error();
                emit(std::move(e));
                return;
            }
            if (!*ok) {
                if (tor_only_told.insert(g.id).second) tor_only.push_back(g.name);
                break;
            }
            wanted[relay.first + " " + crypto::hex_encode(g.id)] = {relay.addresses, g.id};
        }
    }
    for (auto it = links.begin(); it != links.end();) {
        SyncLink& w = *it->second;
        auto found = wanted.find(it->first);
        std::set<GroupId> listed;
        bool moved = false;
        if (found != wanted.end()) {
            listed.insert(found->second.second);
            auto& addresses = found->second.first;
            // A retired address is not dialled again; an added one joins the turn.
            if (w.addresses != addresses) {
                if (std::find(addresses.begin(), addresses.end(), w.address) == addresses.end()) {
                    w.address = addresses.front();
                    w.host = host_of(w.address);
                    moved = true;
                }
                w.addresses = std::move(addresses);
            }
            wanted.erase(found);
        }
        if (listed.empty() && w.lan.empty()) {
            // No group lists it any more.
            w.quit = true;
            w.poke();
            it = links.erase(it);
            continue;
        }
        const bool changed = listed != w.listed;
        w.listed = std::move(listed);
        std::size_t total = 0;
        for (const auto& g : w.groups()) total += mailboxes[g];
        if (changed || moved || (w.connected && w.mailboxes != total)) {
            w.restart = true;
            w.poke();
        }
        ++it;
    }
    for (auto& [key, relay] : wanted) {
        auto link = std::make_shared<SyncLink>(io);
        link->key = key;
        link->address = relay.first.front();
        link->host = host_of(link->address);
        link->addresses = relay.first;
        link->listed = {relay.second};
        links.emplace(key, link);
        spawn(link);
    }
    for (const auto& name : tor_only) {
        SyncEvent e;
        e.kind = SyncEvent::Kind::tor_only;
        e.text = name;
        emit(std::move(e));
    }
}

void SyncService::Impl::lan_member(const transport::Address& peer, const GroupId& group,
                                   bool heard_only) {
    if (closing) return;
    // Both sides hear each other: the one with the smaller transport key dials, unless the
    // beacon came under a key this side does not send (the other side's epoch is ahead or
    // behind), when it may not recognise ours.
    if (!heard_only && !(local.public_key < peer.key)) return;
    if (!lan_live) {
        start_lan_rounds(*this, peer, group);
        return;
    }
    const std::string address = peer.to_string();
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(lan_retry, [&](const auto& r) { return r.second <= now; });
    std::size_t lan_sessions = 0, from_host = 0;
    for (const auto& [key, l] : links) {
        if (!l->lan_only()) continue;
        ++lan_sessions;
        if (l->lan_ip == peer.host) ++from_host;
    }
    if (auto it = links.find(address); it != links.end()) {
        SyncLink& w = *it->second;
        if (w.lan.insert(group).second && !w.listed.contains(group)) {
            w.restart = true;
            w.poke();
        }
        return;
    }
    // A member who makes up beacons (keys and ports of its own choosing, from its address)
    // gets no more than the caps.
    if (lan_retry.contains(address) || lan_sessions >= options.max_lan_sessions ||
        from_host >= options.max_lan_per_host)
        return;
    auto link = std::make_shared<SyncLink>(io);
    link->key = address;
    link->address = address;
    link->host = host_of(peer);
    link->lan_ip = peer.host;
    link->lan.insert(group);
    links.emplace(address, link);
    spawn(link);
}

void SyncService::Impl::arrived() {
    // Called inside a session's put: the observer hears of it from a handler of its own, so
    // that nothing it does runs inside the session's frame handling.
    asio::post(io, [self = shared_from_this()] {
        if (self->observer) try {
                self->observer->on_arrived();
            } catch (...) {
                // Documented: on_arrived must not throw; a screen that fails to refresh here
                // refreshes on its own next tick.
            }
    });
    if (!options.maintain_after_arrivals || maintain_pending) return;
    maintain_pending = true;
    maintain_timer.expires_after(std::chrono::milliseconds(200));
    maintain_timer.async_wait([self = shared_from_this()](const asio::error_code& ec) {
        self->maintain_pending = false;
        if (ec || self->closing) return;
        auto done = self->node.maintain();
        if (!done) return;
        // maintain() may have written (a rotation): the live sessions carry it.
        self->replica->notify_written();
        for (auto& line : *done) {
            SyncEvent e;
            e.kind = SyncEvent::Kind::maintained;
            e.text = std::move(line);
            self->emit_quietly(std::move(e));
        }
    });
}

void SyncService::Impl::schedule_poll() {
    if (options.store_poll.count() <= 0 || closing) return;
    poll.expires_after(options.store_poll);
    poll.async_wait([self = shared_from_this()](const asio::error_code& ec) {
        if (ec || self->closing) return;
        self->replica->notify_written();
        self->schedule_poll();
    });
}

Result<std::string> SyncService::Impl::listen(const ListenOptions& o) {
    if (server) return fail(CoreErrc::exists, "already listening");
    transport::ServeOptions serve_options;
    // Only the mailboxes this member holds at the time of asking, so one learnt while serving
    // (a rotation synced in) is served too.
    serve_options.admit = [this](const MailboxId& mailbox) -> std::optional<std::string> {
        for (const auto& m : node.mailboxes())
            if (m == mailbox) return std::nullopt;
        return std::string("not served here");
    };
    server = std::make_unique<transport::SyncServer>(io.get_executor(), node.transport_key(),
                                                     *replica, o.server, serve_options);
    if (auto ok = server->listen(o.endpoint); !ok) {
        server.reset();
        return std::unexpected(ok.error());
    }
    server->start();
    // Also without discovery: lan_member_heard() then acts as `serve --lan` or a chat would.
    lan_live = o.lan_live;
    lan_cooldown =
        std::max<std::chrono::milliseconds>(o.discovery.interval * 6, std::chrono::seconds(5));
    if (o.lan) {
        auto started = start_lan(*this, o.discovery, server->local_endpoint().port());
        if (!started) {
            server->stop();
            server.reset();
            return std::unexpected(started.error());
        }
        lan = std::move(*started);
    }
    return server->address().to_string();
}

void SyncService::Impl::close() {
    if (closing) return;
    closing = true;
    if (lan) emit_quietly(stop_lan(*lan, lan_syncs));
    if (server) server->stop();
    poll.cancel();
    maintain_timer.cancel();
    for (auto& [key, w] : links) {
        w->quit = true;
        w->poke();
    }
    work.reset();
}

// ---- SyncService ------------------------------------------------------------------------

SyncService::SyncService(Node& node, SyncObserver* observer, SyncServiceOptions options)
    : m_node(node), m_impl(std::make_shared<Impl>(node, observer, std::move(options))) {
    auto& s = *m_impl;
    s.inner = node.replica();
    s.replica = std::make_unique<sync::LiveReplica>(*s.inner, [&s] { s.arrived(); });
    s.local = node.transport_key();
    s.schedule_poll();
    s.work.emplace(s.io.get_executor());
    std::promise<void> ran;
    s.ran = ran.get_future();
    s.thread = std::thread([&s, ran = std::move(ran)]() mutable {
        // A handler that throws is a bug; it must not take the member's sessions down with it.
        while (true) {
            try {
                s.io.run();
                break;
            } catch (...) {
            }
        }
        ran.set_value();
    });
}

SyncService::~SyncService() {
    stop();
}

bool SyncService::on_service_thread() const {
    return std::this_thread::get_id() == m_impl->thread.get_id();
}

void SyncService::run_on_thread(std::function<void()> fn) {
    if (m_impl->stopped) {
        // The thread has ended: the caller is now the only user of the Node.
        fn();
        return;
    }
    std::promise<void> done;
    asio::post(m_impl->io, [&] {
        fn();
        done.set_value();
    });
    done.get_future().wait();
}

struct SyncService::NodeHold::State {
    std::mutex mutex;
    std::condition_variable changed;
    bool parked = false;
    bool released = false;
};

SyncService::NodeHold::~NodeHold() {
    if (!m_state) return;
    {
        std::lock_guard lock(m_state->mutex);
        m_state->released = true;
    }
    m_state->changed.notify_all();
}

SyncService::NodeHold SyncService::hold() {
    NodeHold h;
    if (m_impl->stopped || on_service_thread()) return h;
    auto state = std::make_shared<NodeHold::State>();
    asio::post(m_impl->io, [state] {
        std::unique_lock lock(state->mutex);
        state->parked = true;
        state->changed.notify_all();
        state->changed.wait(lock, [&] { return state->released; });
    });
    std::unique_lock lock(state->mutex);
    state->changed.wait(lock, [&] { return state->parked; });
    h.m_state = std::move(state);
    return h;
}

Result<std::string> SyncService::listen(const ListenOptions& options) {
    Result<std::string> r = fail(CoreErrc::not_found, "the service has stopped");
    if (m_impl->stopped) return r;
    run_on_thread([&] { r = m_impl->listen(options); });
    return r;
}

void SyncService::update() {
    asio::post(m_impl->io, [s = m_impl] {
        try {
            s->update();
        } catch (...) {
            // An observer that throws on a notice: the table is as update() left it.
        }
    });
}

void SyncService::reconnect() {
    asio::post(m_impl->io, [s = m_impl] {
        for (auto& [key, w] : s->links) {
            w->restart = true;
            w->poke();
        }
    });
}

void SyncService::written() {
    asio::post(m_impl->io, [s = m_impl] {
        if (!s->closing) s->replica->notify_written();
    });
}

void SyncService::lan_member_heard(const transport::Address& peer, const GroupId& group,
                                   bool heard_only) {
    asio::post(m_impl->io,
               [s = m_impl, peer, group, heard_only] { s->lan_member(peer, group, heard_only); });
}

void SyncService::stop() {
    if (m_impl->stopping.exchange(true)) return;
    // Every session is asked to end with Close(normal), the listener and LAN discovery stop,
    // and the work guard goes: run() returns once the last session has closed.
    asio::post(m_impl->io, [s = m_impl] { s->close(); });
    if (m_impl->ran.wait_for(kStopGrace) == std::future_status::timeout) m_impl->io.stop();
    if (m_impl->thread.joinable()) m_impl->thread.join();
    m_impl->stopped = true;
    if (m_impl->server)
        m_impl->served_at_stop = m_impl->server->stats().transport.sessions_established;
    // Sockets must not outlive their io_context.
    m_impl->lan.reset();
    m_impl->server.reset();
    m_impl->links.clear();
}

std::vector<SyncSessionState> SyncService::sessions() {
    std::vector<SyncSessionState> out;
    run_on_thread([&] {
        for (const auto& [key, w] : m_impl->links)
            out.push_back({w->host, w->connected, w->lan_only(), w->groups(), w->last});
    });
    return out;
}

std::size_t SyncService::incoming() {
    std::size_t n = 0;
    run_on_thread([&] {
        if (m_impl->server) n = static_cast<std::size_t>(m_impl->server->stats().transport.active);
    });
    return n;
}

std::uint64_t SyncService::served() {
    if (m_impl->stopped) return m_impl->served_at_stop;
    std::uint64_t n = 0;
    run_on_thread([&] {
        if (m_impl->server) n = m_impl->server->stats().transport.sessions_established;
    });
    return n;
}

std::size_t SyncService::connected() {
    std::size_t n = 0;
    run_on_thread([&] {
        for (const auto& [key, w] : m_impl->links) n += w->connected ? 1 : 0;
        if (m_impl->server) n += static_cast<std::size_t>(m_impl->server->stats().transport.active);
    });
    return n;
}

bool SyncService::listening() {
    bool yes = false;
    run_on_thread([&] { yes = m_impl->server != nullptr; });
    return yes;
}

bool SyncService::lan() {
    bool yes = false;
    run_on_thread([&] { yes = m_impl->lan != nullptr; });
    return yes;
}

std::size_t SyncService::watching() {
    std::size_t n = 0;
    run_on_thread([&] { n = m_impl->replica->watching(); });
    return n;
}

}  // namespace kolokol::core
