#pragma once
// Encrypted sessions over TCP: Noise_XX_25519_ChaChaPoly_BLAKE2b with the prologue "kolokol/1",
// length-prefixed frames and an explicit close frame (wire format in frame.hpp).
//
// Threading: a Session and its background work (a writer coroutine and an idle watchdog) run on
// the executor of the socket it was built from. Call send(), receive() and close() only from
// coroutines running on that executor — automatic with a single-threaded io_context; with
// several threads give each socket a strand (the Server does). Not otherwise thread-safe.
//
// Lifetime: Session is a move-only handle. `co_await close()` ends the stream cleanly (the
// peer's receive() then reports closed_cleanly). Destroying the handle without close() aborts
// the connection at once (the peer sees truncated). The background coroutines keep the shared
// state alive until they notice, so no callback ever touches freed memory.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/frame.hpp"
#include "kolokol/transport/log.hpp"
#include "kolokol/transport/noise.hpp"
#include "kolokol/transport/session_error.hpp"

namespace kolokol::transport {

inline constexpr std::string_view kNoiseProtocol = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
inline constexpr std::string_view kPrologue = "kolokol/1";
inline constexpr std::uint16_t kProtocolVersion = 1;

struct SessionOptions {
    // A declared constructor keeps this from being an aggregate: g++ 12 destroys an
    // aggregate-initialized temporary twice when it appears in a co_await expression
    // (`co_await connect(..., {})`, or a `= {}` default argument).
    SessionOptions() = default;

    // The whole handshake (three messages) must finish within this, counted from the start of
    // accept()/initiate(); a silent or slow peer is disconnected with handshake_timeout.
    std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
    // The session is aborted with idle_timeout when no complete frame has been received for
    // this long. Only what the peer sends counts: our own frames (pings) keep nothing alive, and
    // neither do partial frames, so trickling bytes does not either.
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(120);
    // How long send() waits for room in a full send queue; after that the peer is taken to be
    // stuck, the session is aborted and send() fails with send_timeout.
    std::chrono::milliseconds send_timeout = std::chrono::seconds(30);
    // Frames queued for the writer (each ≤ max_frame_bytes + 2): with the receive buffer (one
    // frame) this bounds a session's memory, about 1.1 MiB with the defaults.
    std::size_t send_queue_frames = 16;
    // The largest frame this side accepts and sends, in [kMinFrameLimit, kMaxFrameBytes]. A
    // peer's frame over the limit aborts the session with frame_too_large before its body is
    // read; send() refuses messages over max_message_bytes().
    std::size_t max_frame_bytes = kMaxFrameBytes;
    // Protocol versions this side speaks: 1..16, non-zero, strictly increasing. (Not a braced
    // list: g++ 12 refuses to compile a co_await expression that default-constructs these
    // options when an initializer_list's backing array would be one of its temporaries.)
    std::vector<std::uint16_t> versions = std::vector<std::uint16_t>(1, kProtocolVersion);
    // Where this session's log lines go (log.hpp); a Server's sessions and its own lines use
    // ServerOptions::session's. Empty: stderr.
    LogSink log;

    std::size_t max_message_bytes() const { return max_frame_bytes - kFrameOverheadBytes; }
    // bad_config when a value is out of range (zero timeouts, empty queue, bad versions…).
    Status validate() const;
};

namespace detail {
struct SessionCore;
struct SessionAccess;
}  // namespace detail

class Session {
public:
    // Runs the responder side of the handshake on an accepted socket. `local_static` is this
    // installation's transport key; it must stay valid until the returned awaitable completes.
    // Fails with handshake_timeout, truncated (the peer hung up), frame_too_large /
    // malformed_frame / malformed_message / decrypt_failed / invalid_dh (bad bytes),
    // version_mismatch (after telling the peer which versions we speak), io_error. On failure
    // the socket is closed.
    static asio::awaitable<Result<Session>> accept(asio::ip::tcp::socket socket,
                                                   const crypto::BoxKeyPair& local_static,
                                                   SessionOptions options = {});
    // Runs the initiator side on a connected socket. With `expected_remote`, a responder whose
    // static key differs fails with remote_key_mismatch and the message "the relay's key does
    // not match the address (expected …, got …)", before our own static key is sent.
    static asio::awaitable<Result<Session>> initiate(asio::ip::tcp::socket socket,
                                                     const crypto::BoxKeyPair& local_static,
                                                     std::optional<StaticPublicKey> expected_remote,
                                                     SessionOptions options = {});

    Session(Session&&) noexcept;
    Session& operator=(Session&&) noexcept;
    ~Session();  // aborts the connection if still open

    // Encrypts `message` (≤ options.max_message_bytes()) and queues it. The peer's close frame
    // does not stop our sending (each direction ends with its own close frame). Waits while the
    // queue is full, up to send_timeout. Completes when the frame is queued, not when it is
    // written. Fails with message_too_large (nothing sent, the session stays open), send_timeout
    // (the session is aborted), session_closed (after close() or abort) or the error that ended the
    // session (io_error, idle_timeout, …).
    asio::awaitable<Status> send(Bytes message);

    // The next message from the peer. At the end of the stream fails with closed_cleanly (a
    // close frame arrived; repeated calls keep saying so) or truncated (the connection ended
    // without one). Fails with frame_too_large, malformed_frame or decrypt_failed for bad
    // frames (the session is then aborted), idle_timeout, io_error, busy when another
    // receive() is pending, session_closed after abort().
    asio::awaitable<Result<Bytes>> receive();

    // Queues a close frame behind everything already queued, waits (up to send_timeout) until
    // it is written, then shuts down our sending direction. receive() keeps working until the
    // peer closes too. Idempotent; never throws.
    asio::awaitable<void> close();

    // Closes the connection now, dropping anything queued. Pending and later operations fail
    // with session_closed. Idempotent.
    void abort();

    // The protocol above has checked that the peer may use this server (the sync layer: a
    // mailbox open was accepted). A Server never evicts an authorized session to make room for
    // a newcomer (session_slots.hpp). Idempotent; on a session no Server accepted it only
    // sets authorized().
    void mark_authorized();
    bool authorized() const;

    // True from the end of the handshake until abort, a fatal error, or both sides' close.
    bool is_open() const;
    // The accessors below need a session from accept()/initiate()/connect() that has not been
    // moved from; they stay valid after the session ends.
    // The peer's transport static key, authenticated by the handshake.
    const StaticPublicKey& remote_static() const;
    // The final Noise handshake hash h (64 bytes), identical on both sides: bind capabilities
    // to it (sign it), never to the chaining key.
    const noise::HandshakeHash& handshake_hash() const;
    // The negotiated protocol version.
    std::uint16_t version() const;
    const asio::ip::tcp::endpoint& remote_endpoint() const;
    const SessionOptions& options() const;
    // Bytes read from the connection since the handshake (frame headers and Noise tags
    // included), counted as they arrive, also inside a frame not yet complete.
    std::uint64_t bytes_received() const;
    // For telling a frozen connection from a slow peer (0 once the session ended): bytes that
    // arrived in the kernel but are not read yet; and of the bytes written since the
    // handshake, those the peer's side acknowledged (Linux: written less what the send queue
    // still holds, at most the true figure while a write is under way; 0 elsewhere).
    std::uint64_t bytes_readable() const;
    std::uint64_t bytes_acknowledged() const;
    // The initiator's side: the time from sending the handshake's first message to receiving
    // the second (one round trip, the responder's key agreement included). Zero on the
    // responder's side.
    std::chrono::microseconds handshake_round_trip() const;
    asio::any_io_executor get_executor() const;

private:
    friend struct detail::SessionAccess;
    explicit Session(std::shared_ptr<detail::SessionCore> core);
    std::shared_ptr<detail::SessionCore> m_core;
};

}  // namespace kolokol::transport
