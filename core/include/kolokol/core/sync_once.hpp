#pragma once
// One-shot network syncs (DESIGN §5): `kolokol sync` with the relays and peers the groups list
// or the command names, and the send-now after a write (`post`, `alert`, `report add`). Live
// sessions are the SyncService's (sync_service.hpp); this is the blocking call for a command
// that syncs and ends.
//
// Sessions. Every session carries one group's mailboxes only: a relay (or a peer) learns of a
// member's groups only those that list it, or that the member named, and cannot link two
// groups' sessions by key (each has its own static key), by circuit (each its own SOCKS5
// credentials, given by the route) or by what they open.
//
// Threading: sync_once() uses the Node on the calling thread and runs each session's
// io_context there; do not call it while a SyncService runs on the same Node. The observer is
// called on the calling thread, except on_progress and on_stored (the session's thread, which
// is the calling thread for these blocking sessions, but may not stay so).

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kolokol/core/node.hpp"
#include "kolokol/core/sync_service.hpp"
#include "kolokol/transport/sync.hpp"

namespace kolokol::core {

// Which groups go to which address, one session a group.
struct SyncPlan {
    struct Session {
        std::string address;          // canonical kolokol://HOST:PORT/KEY
        std::vector<GroupId> groups;  // in the order chosen, no duplicates
        // More addresses of the same relay (same key) the groups list, tried in this order
        // when a group's session with `address` fails; empty for a target given.
        std::vector<std::string> fallbacks;
        // Planned from the groups' relay lists (no target given): a group whose list no longer
        // names the relay when its turn comes — a change that brought it in was voided by what
        // an earlier session of the round brought — is not synced with it.
        bool listed = false;
    };
    // By first address and fallbacks, in the order first named. `address` is the one that
    // worked last for the relay's key (Node::relay_routes), so it is tried first.
    std::vector<Session> sessions;
    // A group asked for was left out because the route refused it (Tor only without a proxy).
    bool excluded = false;
    // Targets (canonical) that no chosen group lists, when no group was named: a command
    // refuses to ask them for anything.
    std::vector<std::string> unlisted;
};

// The plan for `groups` (empty: every group of the member) and `targets` (kolokol://
// addresses; empty: every relay the groups list). A target is asked for the groups that list
// it as a relay, or, when `groups` is not empty, for the groups named — never for all the
// member's groups. A group the route refuses (returns false) is left out and `excluded` set.
// Fails with the address's parse error (TransportErrc::invalid_address) for a malformed
// target, or with the route's error. `route` empty: direct, and Tor-only groups are refused.
Result<SyncPlan> plan_sync(Node& node, std::span<const GroupId> groups,
                           std::span<const std::string> targets, const SyncRoute& route);

// What the sessions with one address did.
struct SyncAddressReport {
    std::string address;  // canonical
    // Summed over the sessions that succeeded (a group's rounds, each group).
    transport::SyncReport report;
    // One per group whose session failed with every address, in the plan's order: the error
    // of `address` itself.
    std::vector<Error> errors;
    std::size_t synced = 0;  // groups whose sessions all succeeded
    // The address a group's sessions went to when it was not `address` (a fallback); and the
    // addresses of a relay with fallbacks that failed, in the order tried, with their errors.
    std::string used;
    std::vector<std::pair<std::string, Error>> passed_over;
};

struct SyncOnceReport {
    // One per address the plan lists, up to the one under way when stop was requested.
    std::vector<SyncAddressReport> addresses;
    // Stop was requested before every session had ended: maintain() and the push after it
    // did not run.
    bool stopped = false;
    // Node::maintain()'s lines, or its error (then nothing was pushed after it).
    std::vector<std::string> maintained;
    std::optional<Error> maintain_error;
    std::size_t stored = 0;  // envelopes this member's store took in, over every session
};

// Hears a sync_once() as it goes (a progress bar, the lines a command prints meanwhile).
class SyncOnceObserver {
public:
    virtual ~SyncOnceObserver() = default;
    // A session with `address` for `group` starts (each round of it).
    virtual void on_session(const std::string& /*address*/, const GroupId& /*group*/) {}
    // The report so far of the session under way (SyncOptions::progress). Keep it quick.
    virtual void on_progress(const transport::SyncReport& /*so_far*/) {}
    // The session started last ended.
    virtual void on_session_end(bool /*ok*/) {}
    // A group's sessions with `address` failed with `error` and `next`, another address of
    // the same relay, is tried instead.
    virtual void on_fallback(const std::string& /*address*/, const Error& /*error*/,
                             const std::string& /*next*/) {}
    // Every session with one address ended (or stop was requested during them).
    virtual void on_address(const SyncAddressReport& /*done*/) {}
    // After Node::maintain() succeeded, before what it wrote is pushed.
    virtual void on_maintained(const SyncOnceReport& /*so_far*/) {}
    // The store took in envelopes: `total` so far. Keep it quick.
    virtual void on_stored(std::size_t /*total*/) {}
    // A connection to `address` froze after `bytes` sync bytes (nothing arrived for the
    // progress timeout); the session is redialled, and with `budget` > 0 in short connections
    // of that many bytes.
    virtual void on_freeze(const std::string& /*address*/, std::uint64_t /*bytes*/,
                           std::uint64_t /*budget*/) {}
    // The hedge (DESIGN §9.14): a connection to `address` went quiet after `bytes` sync bytes
    // (a ping not acknowledged either); the sync goes on at once in short connections of
    // `budget` bytes while the progress timeout decides whether it froze (on_freeze then).
    virtual void on_hedge(const std::string& /*address*/, std::uint64_t /*bytes*/,
                          std::uint64_t /*budget*/) {}
    // Sessions with `address` start in short connections of `budget` bytes, for a freeze after
    // `limit` bytes remembered from an earlier sync.
    virtual void on_short_connections(const std::string& /*address*/, std::uint64_t /*limit*/,
                                      std::uint64_t /*budget*/) {}
    // A group's sync with `address` in short connections ended after `connections` of them,
    // which brought `bytes` sync bytes; `fetches` of them resumed a mailbox's fetch where the
    // last one stopped (DESIGN §9.14).
    virtual void on_connections(const std::string& /*address*/, int /*connections*/,
                                std::uint64_t /*bytes*/, std::uint64_t /*fetches*/) {}
    // A connection to `address` failed with `error` (the network's: a refused or reset
    // connection, a handshake that timed out) after this sync had carried something over the
    // address: it is tried again after `wait`, the `attempt`-th time in a row.
    virtual void on_retry(const std::string& /*address*/, const Error& /*error*/, int /*attempt*/,
                          std::chrono::milliseconds /*wait*/) {}
};

struct SyncOnceOptions {
    SyncOnceOptions() = default;
    // How each session goes out (a proxy, its credentials). Empty: direct, and Tor-only groups
    // are refused (reported as the group's error).
    SyncRoute route;
    // Requested: the session under way ends at its next frame and no other starts.
    transport::SyncStop stop;
    SyncOnceObserver* observer = nullptr;  // may be null; must outlive the call
    // One group with one address is synced again while a round changes what the group offers
    // (a rotation brought a new mailbox, a record waits for a capped mailbox's larger
    // envelopes), at most this many rounds. 1: once.
    int max_rounds = 8;
    // After the sessions, unless stopped: Node::maintain(), and when it did anything (a
    // rotation), every session of the plan once more to push what it wrote (results dropped).
    bool maintain = true;
    // Session timeouts and limits (tests shorten them); its stop, progress and connect are
    // set per session, and its byte budget from the freeze remembered for the address.
    transport::SyncOptions sync = freeze_tolerant();
    // A session that froze or spent its byte budget is redialled while the one before stored
    // something; after this many in a row that stored nothing, the group's sync with that
    // address fails with the last session's error.
    int max_fruitless_redials = 3;
    // In short connections (a freeze remembered for the address), how many run at once while
    // envelopes wait for their parts: one fetches and reconciles, the others fetch parts of
    // other envelopes (DESIGN §9.14). 1: one at a time.
    int short_connections_at_once = 3;
    // A connection that fails for a network reason (refused, reset, a handshake timing out)
    // after some session of the sync with the address carried something is tried again after
    // 250 ms, doubled each time up to 4 s, at most this many times in a row (DESIGN §9.14); a
    // relay restarting, or a filter that drops a flow's first packets for a while, does not end
    // the sync. 0: never.
    int max_connect_retries = 5;

    // The default sync options of a one-shot sync: a progress timeout that takes a frozen
    // connection for what it is within seconds.
    static transport::SyncOptions freeze_tolerant();
};

// Runs `plan`: for each address in order, each group's session (in rounds), then maintain()
// and the push after it. Blocking. A group whose session fails is tried with the session's
// fallbacks in turn; the address that works is remembered (Node::relay_worked). A group that
// fails with every address is reported in its address's errors and the rest go on.
SyncOnceReport sync_once(Node& node, const SyncPlan& plan, const SyncOnceOptions& options);

}  // namespace kolokol::core
