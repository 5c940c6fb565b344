#pragma once
// A hostile sync client for the relay-resource attacks (relay_flood.cpp): a real Noise session
// (transport's own code) dialled from a chosen loopback source address, over which sync frames
// are written by hand, so it can send what an honest client never would — or nothing at all.
//
// Threading: everything runs on the io_context of the coroutine that calls it (one thread).

#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/session.hpp"
#include "kolokol/transport/session_connect.hpp"
#include "kolokol/transport/sync_types.hpp"
#include "sync.pb.h"

namespace kolokol::adversary {

// A dialer that binds the socket to `source` (port 0) before connecting, so one process can
// speak from many addresses of 127/8.
transport::Dialer bound_dialer(asio::ip::address source);

// "A,B,C" → addresses; throws a usage error on a bad one.
std::vector<asio::ip::address> parse_sources(const std::string& list);

// A mailbox key derived from any text, as anyone can make one: a mailbox is opened by proof of
// its key, so an attacker needs no group to own mailboxes.
transport::MailboxKey mailbox_key_from(const std::string& text);

// A syntactically valid envelope of `size` bytes (≥ kEnvelopeMinBytes) for `mailbox`.
Bytes random_envelope(const transport::MailboxId& mailbox, std::size_t size, crypto::Random& rng);

class RawSync {
public:
    // Dials `address` from `source` (any when nullopt) and runs the handshake. The tool's own
    // idle timeout is an hour: only the relay decides when a session ends.
    static asio::awaitable<Result<RawSync>> connect(const transport::Address& address,
                                                    const crypto::BoxKeyPair& local,
                                                    std::optional<asio::ip::address> source);

    asio::awaitable<Status> send(const pb::SyncFrame& frame);
    // The next frame; fails when the session ends or the bytes do not parse.
    asio::awaitable<Result<pb::SyncFrame>> receive();
    transport::Session& session() { return m_session; }

    // Frames an honest client would also send.
    static pb::SyncFrame hello(std::uint64_t window_bytes);
    pb::SyncFrame open(const transport::MailboxKey& key) const;

private:
    explicit RawSync(transport::Session s) : m_session(std::move(s)) {}
    transport::Session m_session;
};

// Hello and Open, then frames until the OpenResult (the relay's Hello on the way gives its
// window). Fails when the relay refuses the mailbox or ends the session.
struct Opened {
    std::uint64_t window_bytes = 0;
};
asio::awaitable<Result<Opened>> hello_and_open(RawSync& sync, const transport::MailboxKey& key);

// Pushes `envelopes` to the open mailbox under the relay's window and reads every Ack: which of
// them the relay acknowledged as stored (true) or declined (false). Nothing is resent.
asio::awaitable<Result<std::vector<bool>>> push_envelopes(RawSync& sync,
                                                          const transport::MailboxKey& key,
                                                          std::uint64_t window_bytes,
                                                          const std::vector<Bytes>& envelopes);

// FetchAll of the open mailbox: the ids of everything the relay sends, acknowledged as an
// honest client would.
asio::awaitable<Result<std::vector<transport::RecordId>>> fetch_all(
    RawSync& sync, const transport::MailboxKey& key);

// A reconciliation message chosen to make a responder work as hard as one message can: about
// 2,900 ranges that tile the id space by two-byte prefixes, each with a fingerprint that
// matches nothing, so the responder splits every range until its reply is full.
Bytes costly_reconcile_message(crypto::Random& rng);

}  // namespace kolokol::adversary
