#pragma once
// Accepts connections, runs the responder handshake and hands each session to a handler
// coroutine. Caps the number of connections (handshaking or established) in all, per source
// address and per address prefix; when a cap is reached a newcomer takes the slot of a session
// that is not authorized (Session::mark_authorized) by the policy of session_slots.hpp, or is
// closed at once, before any handshake work, when there is none. Nothing a peer does can end
// the accept loop: failures are counted in stats() and the loop goes on.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/session.hpp"
#include "kolokol/transport/session_slots.hpp"

namespace kolokol::transport {

// The clients behind connections that a gateway in this process (ws_gateway.hpp) makes to a
// Server on loopback: each such connection's local endpoint, registered before it connects, and
// the address of the client it carries. The Server counts a connection whose remote endpoint is
// registered against that client's address in its caps, not against loopback's. Thread-safe.
class ClientOrigins {
public:
    void add(const asio::ip::tcp::endpoint& local, const asio::ip::address& client);
    void remove(const asio::ip::tcp::endpoint& local);
    std::optional<asio::ip::address> find(const asio::ip::tcp::endpoint& remote) const;
    std::size_t size() const;

private:
    mutable std::mutex m_mutex;
    std::map<asio::ip::tcp::endpoint, asio::ip::address> m_clients;
};

struct ServerOptions {
    ServerOptions() = default;  // not an aggregate: see SessionOptions

    std::size_t max_sessions = 1024;
    std::size_t max_sessions_per_address = 32;
    // Per /24 of IPv4, per /48 of IPv6.
    std::size_t max_sessions_per_prefix = 128;
    // A member's listener: authorized sessions may be evicted too (session_slots.hpp).
    bool evict_authorized = false;
    SessionOptions session;
    // Set: connections from a gateway are capped by the address of the client they carry.
    std::shared_ptr<const ClientOrigins> origins;
};

// Counters since construction. `active` is the number of connections holding a slot now,
// `unauthorized` how many of them are not authorized.
struct ServerStats {
    std::uint64_t accepted = 0;             // TCP connections accepted
    std::uint64_t refused_capacity = 0;     // closed at once: max_sessions reached
    std::uint64_t refused_per_address = 0;  // closed at once: that address at its cap
    std::uint64_t refused_per_prefix = 0;   // closed at once: that prefix at its cap
    std::uint64_t evicted = 0;              // unauthorized sessions aborted for a newcomer
    std::uint64_t handshakes_failed = 0;    // every failed handshake, timeouts included
    std::uint64_t handshake_timeouts = 0;
    std::uint64_t sessions_established = 0;
    std::uint64_t sessions_finished = 0;  // handler returned (or threw) and the session ended
    std::uint64_t handler_errors = 0;     // handlers that threw
    std::uint64_t accept_errors = 0;      // accept() failures (e.g. out of file descriptors)
    std::uint64_t active = 0;
    std::uint64_t unauthorized = 0;
};

// Runs once per established session, on that session's strand. When it returns (or throws —
// counted, logged, never propagated) the server closes the session cleanly if it is still
// open. With several threads on the io_context, handlers of different sessions run
// concurrently.
using SessionHandler = std::function<asio::awaitable<void>(Session& session)>;

class Server {
public:
    // `executor`: the io_context (or its executor) to run on; the acceptor gets a strand and
    // so does every connection. `static_key` is this installation's transport key.
    Server(asio::any_io_executor executor, crypto::BoxKeyPair static_key, ServerOptions options,
           SessionHandler handler);
    ~Server();  // stop()
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens (port 0 picks a free port). listen_failed with the OS's reason; bad_config
    // when the options are out of range (zero caps, invalid session options).
    Status listen(const asio::ip::tcp::endpoint& endpoint);
    // Starts the accept loop; call once, after a successful listen() (listen_failed otherwise).
    Status start();
    // Stops accepting and aborts every connection, handshaking or established. Idempotent;
    // safe from any thread (the work is dispatched to the server's and sessions' strands).
    void stop();

    asio::ip::tcp::endpoint local_endpoint() const;
    const StaticPublicKey& public_key() const;
    // Thread-safe snapshot.
    ServerStats stats() const;

    struct State;

private:
    std::shared_ptr<State> m_state;
};

// Parses a listen address "HOST:PORT": an IPv4 dotted quad or a bracketed IPv6 literal, and a
// port 0..65535 (0: any free port). invalid_address otherwise.
Result<asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);

}  // namespace kolokol::transport
