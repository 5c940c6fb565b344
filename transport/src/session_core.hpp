#pragma once
// The shared state behind a Session handle, its writer coroutine and its idle watchdog.
// Everything here runs on the socket's executor (see session.hpp).

#include <asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "kolokol/transport/session.hpp"

namespace kolokol::transport::detail {

using Clock = std::chrono::steady_clock;

struct SessionCore : std::enable_shared_from_this<SessionCore> {
    SessionCore(asio::ip::tcp::socket s, SessionOptions o);

    asio::ip::tcp::socket socket;
    SessionOptions options;
    asio::ip::tcp::endpoint remote;

    // Set by the handshake.
    noise::CipherState send_cipher;
    noise::CipherState receive_cipher;
    StaticPublicKey remote_static{};
    noise::HandshakeHash hash{};
    std::uint16_t version = 0;
    std::chrono::microseconds handshake_round_trip{0};  // the initiator's: message 1 to 2

    // Encrypted frames (with their length prefix) waiting for the writer.
    std::deque<Bytes> queue;
    std::size_t in_flight = 0;  // frames taken by the writer and not yet written
    // Timers used as condition variables: expiry "never", cancel() wakes every waiter, which
    // then re-checks the state. writer_wake wakes the writer; changed wakes send()/close().
    asio::steady_timer writer_wake;
    asio::steady_timer changed;
    asio::steady_timer idle_timer;
    Clock::time_point last_received;  // the idle deadline counts from here
    // Set by the Server that accepted the session: tells it the session is authorized
    // (Session::mark_authorized). Called at most once, on the session's executor.
    std::function<void()> on_authorized;
    bool authorized = false;

    bool established = false;    // handshake done, background coroutines started
    bool aborted = false;        // socket closed; nothing more will happen
    bool close_queued = false;   // our close frame is in the queue (no more sends)
    bool close_written = false;  // ... and written; our direction is shut down
    bool peer_closed = false;    // the peer's close frame arrived
    bool receiving = false;
    std::uint64_t bytes_received = 0;  // read from the socket after the handshake
    std::uint64_t bytes_written = 0;   // written to the socket after the handshake
    std::optional<Error> failure;      // why the session ended, when it did not end cleanly

    // Closes the socket and wakes everything. The first recorded reason wins.
    void abort(std::optional<Error> why);
    void touch() { last_received = Clock::now(); }
    // Starts the writer and the watchdog (after the handshake).
    void start();
    // The error a send/close reports once the session can no longer send.
    Error send_error() const;
};

// Completion handler body for co_spawn'ed transport coroutines: they use error codes
// throughout, so anything that still escapes (allocation failure) is logged to `sink` as
// "transport: WHERE: WHAT" instead of escaping into the io_context.
void log_escaped(const LogSink& sink, std::string_view where, std::exception_ptr e);

// Wraps an established core in a handle (for the Server, which runs the handshake itself so it
// can abort connections on stop()).
struct SessionAccess {
    static Session make(std::shared_ptr<SessionCore> core) { return Session(std::move(core)); }
};

// The handshakes, run on a fresh core. On failure the core is aborted and the error returned.
asio::awaitable<Status> run_responder(std::shared_ptr<SessionCore> core,
                                      const crypto::BoxKeyPair& local_static);
asio::awaitable<Status> run_initiator(std::shared_ptr<SessionCore> core,
                                      const crypto::BoxKeyPair& local_static,
                                      std::optional<StaticPublicKey> expected_remote);

}  // namespace kolokol::transport::detail
