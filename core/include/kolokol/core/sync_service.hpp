#pragma once
// The live sync of one member (DESIGN §5): every session this member keeps with the relays
// and peers its groups list, with members found on the LAN, and the sessions others open to its
// listener — on one network thread with one io_context, which is also the one place the Node
// is used while the service runs.
//
// Sessions. Each relay or peer a group lists gets, for each group listing it, one live session
// (transport::async_sync_with in live mode, a Noise static key made for that session alone)
// carrying that group's mailboxes only, so a relay two groups list cannot link them by session,
// key or circuit. A session that ends or fails is dialled again after a pause that grows from
// `backoff_min` to `backoff_max` (a clean end resets it); one whose groups' mailboxes changed
// (a rotation, a relay added) is restarted. With listen(), other members' sessions are
// accepted and served live; with LAN discovery, each member whose beacon is recognised gets a
// live session carrying the group the beacon named (the side with the smaller transport key
// dials, the other accepts). Every envelope stored — arrived on one session, or written
// locally (written()) — is pushed at once to every other live session carrying its mailbox.
//
// Threading: the service's own thread runs every session, the listener, LAN discovery and
// every Node call the service makes. Other threads reach the Node only through with_node(),
// which runs a function on that thread and waits for it. The observer is called on that thread.
// Every public call is thread-safe unless it says otherwise.
//
// Failure: no coroutine is spawned without a completion handler; a session whose coroutine
// throws is reported (SyncEvent::crashed), cleaned up and dialled again after the usual pause.

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "kolokol/core/node.hpp"
#include "kolokol/transport/lan_beacon.hpp"
#include "kolokol/transport/server.hpp"
#include "kolokol/transport/session_connect.hpp"
#include "kolokol/transport/sync.hpp"

namespace kolokol::core {

// Something the service did or saw, for the CLI and the chat to render.
struct SyncEvent {
    enum class Kind {
        connected,     // a session with `peer` is live (it has carried its first frame)
        unreachable,   // dialling or the session failed with `error`; dialled again in `retry_in`
        lan_ended,     // a LAN member ended its session; dialled again on its next beacon
        lan_gone,      // a LAN member's session failed with `error`; the same
        crashed,       // a session's coroutine threw (`text`); cleaned up, dialled again
        tor_only,      // group `text` is Tor only and no proxy is set: its relays are not dialled
        route_failed,  // the route could not be decided (`error`, e.g. a malformed proxy)
        lan_started,   // LAN discovery runs: `interfaces`, `groups`
        lan_stopped,   // LAN discovery ended: `lan_stats`
        maintained,    // a line from Node::maintain(): `text`
        lan_synced,    // one-shot LAN sync with `peer` done: `sent`, `received`
        lan_sync_failed,  // one-shot LAN sync with `peer` failed with `error`
        ended,            // without redial: the session with `peer` ended cleanly
    };
    Kind kind = Kind::connected;
    std::string peer;  // HOST:PORT of the session, when it is about one
    bool lan = false;  // the session is with a member found on the LAN
    std::optional<Error> error;
    std::chrono::seconds retry_in{0};
    std::string text;
    std::vector<std::string> interfaces;
    std::size_t groups = 0;
    transport::lan::DiscoveryStats lan_stats;
    std::uint64_t lan_syncs = 0;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
};

// Receives the service's events. Called on the service's thread, one call at a time: keep it
// quick, and do not call with_node() or the other waiting calls from it (they would wait for
// the thread that is running it). An exception escaping on_event ends the session it is about
// (reported as crashed, then dialled again).
class SyncObserver {
public:
    virtual ~SyncObserver() = default;
    virtual void on_event(const SyncEvent& event) = 0;
    // Envelopes arrived and were stored (a screen refreshes).
    virtual void on_arrived() {}
};

// How one group's sessions go out. Called on the service's thread before each dial, with the
// Node. Returns false when the group may not go out now (Tor only and no proxy); may set
// `options.dialer` (a SOCKS5 proxy with credentials for this address and group). An error
// (e.g. a malformed proxy setting) is reported as route_failed and the group is not dialled.
using SyncRoute =
    std::function<Result<bool>(Node& node, const GroupId& group, std::string_view address,
                               transport::ConnectOptions& options)>;

struct SyncServiceOptions {
    SyncServiceOptions() = default;
    // Empty: direct connections, and Tor-only groups never go out.
    SyncRoute route;
    std::chrono::seconds backoff_min{1};
    std::chrono::seconds backoff_max{30};
    // A LAN member whose session ended is not dialled again for this long (its beacons go on).
    std::chrono::milliseconds lan_retry_pause = std::chrono::seconds(5);
    // Sessions with members found on the LAN at once (a chat's live links, or `serve --lan`'s
    // one-shot syncs): a member who makes up beacons with other ports or keys must not start
    // more. At most `max_lan_per_host` of them with one address, so one host that makes up
    // members cannot take them all.
    std::size_t max_lan_sessions = 32;
    std::size_t max_lan_per_host = 4;
    // Non-zero: this often, tell the live sessions of envelopes another process stored (a
    // `kolokol post` beside a `kolokol serve`).
    std::chrono::milliseconds store_poll{0};
    // Run Node::maintain() once after sessions stored envelopes (the lines go out as
    // `maintained` events).
    bool maintain_after_arrivals = false;
    // Session timeouts and limits of outgoing sessions (tests shorten them).
    transport::SyncOptions sync;
    // Non-empty: only these groups' relays and peers are dialled (`kolokol read --follow`).
    std::set<GroupId> only_groups;
    // Non-zero: of each group's listed relays, only the first this many (in the group's
    // order); relays only held while a change that dropped them settles are left out.
    std::size_t relays_per_group = 0;
    // false: an outgoing session that ends is not dialled again. It is reported — `ended` when
    // it ended cleanly, `unreachable` with retry_in 0 when it failed — and dropped, until the
    // next update() or reconnect() dials it anew.
    bool redial = true;
};

struct ListenOptions {
    ListenOptions() { server.evict_authorized = true; }
    asio::ip::tcp::endpoint endpoint;
    // A member's screen, not a relay: a few sessions are plenty. Every member and removed member
    // holds keys it admits, so a session that opened a mailbox is no proof of good faith: the
    // caps evict authorized sessions too (transport/session_slots.hpp).
    transport::ServerOptions server;
    // Announce the groups on the local network and keep a live session with every member whose
    // beacon is recognised. Tor-only groups are never announced.
    bool lan = false;
    transport::lan::DiscoveryOptions discovery;
    // true: a live session with each member found (a chat). false: one-shot syncs (`kolokol
    // serve --lan`), in the group of the beacon only, repeated while a round brings new mailbox
    // keys or fewer refusals (at most 8 rounds), then Node::maintain(); a member just synced is
    // left alone for six beacon intervals (at least 5 s).
    bool lan_live = true;
};

// A session this member dials, as /peers shows it.
struct SyncSessionState {
    std::string peer;  // HOST:PORT
    bool connected = false;
    bool lan = false;
    std::set<GroupId> groups;       // the groups it carries
    std::optional<SyncEvent> last;  // its last event, if any
};

class SyncService {
public:
    // Starts the network thread. `node` must outlive the service; while the service runs, use
    // it only through with_node(). `observer` (may be null) must outlive the service.
    SyncService(Node& node, SyncObserver* observer, SyncServiceOptions options = {});
    ~SyncService();  // stop()
    SyncService(const SyncService&) = delete;
    SyncService& operator=(const SyncService&) = delete;

    // Runs `fn(node)` on the service's thread and returns what it returns (an exception it
    // throws is rethrown here). From the service's thread itself (an observer), runs it at once.
    template <class F>
    auto with_node(F&& fn) -> std::invoke_result_t<F&, Node&> {
        using R = std::invoke_result_t<F&, Node&>;
        if (on_service_thread()) return fn(m_node);
        std::packaged_task<R()> task([&fn, this] { return fn(m_node); });
        auto done = task.get_future();
        run_on_thread([&task] { task(); });
        return done.get();
    }

    // Parks the service's thread until the returned hold is destroyed, so that the caller may
    // use the Node directly meanwhile (a screen's many small reads): sessions wait, exactly as
    // they wait while with_node() runs. From the service's thread, or once stopped, holds
    // nothing. Keep holds short, and do not call the service's waiting calls while holding one.
    class NodeHold {
    public:
        NodeHold() = default;
        NodeHold(NodeHold&&) noexcept = default;
        NodeHold& operator=(NodeHold&&) noexcept = default;
        ~NodeHold();
        struct State;

    private:
        friend class SyncService;
        std::shared_ptr<State> m_state;
    };
    [[nodiscard]] NodeHold hold();

    // Accepts other members' sessions on `options.endpoint`, serving live only the mailboxes
    // this member holds at the time of asking; with `options.lan`, LAN discovery too. Returns
    // the address others give (kolokol://HOST:PORT/KEY). Call at most once. Fails with the
    // listener's error (nothing left running), or with CoreErrc::not_found when LAN discovery
    // has no group to announce, or discovery's error.
    Result<std::string> listen(const ListenOptions& options);

    // Starts a session for every address and group listing it that has none, restarts those
    // whose mailboxes changed and ends those no group lists any more. Returns at once.
    void update();
    // Restarts every session now (a user's /sync). Returns at once.
    void reconnect();
    // Tells the live sessions of envelopes stored since they last heard (this member's own
    // writes, or another process's). Returns at once.
    void written();
    // A member recognised on the LAN: what LAN discovery reports, exposed for tests. Applies
    // the tie-break (the side with the smaller transport key dials, unless the beacon came
    // under a key this side does not send, `heard_only`) and the limits. Returns at once.
    void lan_member_heard(const transport::Address& peer, const GroupId& group, bool heard_only);

    // Ends every session (Close(normal)), the listener and LAN discovery, and joins the
    // thread. Idempotent. Not from the service's thread.
    void stop();

    // Snapshots (waiting calls).
    std::vector<SyncSessionState> sessions();
    std::size_t incoming();   // sessions others opened to the listener, open now
    std::uint64_t served();   // sessions others opened to the listener since listen()
    std::size_t connected();  // outgoing sessions live now, plus incoming()
    bool listening();
    bool lan();
    // How many live subscriptions (pushes) the sessions hold now: one per open mailbox.
    std::size_t watching();

    struct Impl;

private:
    bool on_service_thread() const;
    // Posts `fn` to the service's thread and waits for it.
    void run_on_thread(std::function<void()> fn);

    Node& m_node;
    std::shared_ptr<Impl> m_impl;
};

}  // namespace kolokol::core
