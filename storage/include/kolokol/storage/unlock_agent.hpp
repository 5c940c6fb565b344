#pragma once
// The unlock agent's wire format and its suspend detector (DESIGN §4 "Unlock agent").
//
// `kolokol agent` unlocks the key file once and holds what the unlock yields (Unlocked: the
// database key and the key file it opened) for commands of the same user, who ask for it over a
// Unix socket instead of paying the two Argon2id derivations again. This header is the part of
// it without sockets: the messages, checked as strictly as any other input, and the clock test
// that tells a suspend.
//
// A connection carries one request and at most one reply; the client half-closes after its
// request. Every field has a fixed size, so both sides know the exact length before reading:
//
//   request   = magic || op                        16 bytes
//   key reply = magic || 0x00 || db_key (32) || device (8, BE) || inode (8, BE)
//               || key file (208)                  272 bytes
//   lock reply= magic || 0x00                      16 bytes
//   magic     = "kolokol-agent/1"                  15 bytes
//
// The agent answers a request it does not understand, or one from another user, by closing the
// connection without a byte: a client treats any reply that is not exactly one of the above as
// "no agent" and asks for the passphrase.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/error.hpp"
#include "kolokol/storage/keyfile.hpp"

namespace kolokol::storage {

inline constexpr std::size_t kAgentRequestBytes = 16;
// The agent reads at most this much of a request before it gives up on the connection: more
// than any valid request, so that an oversized one is told from a valid one and refused.
inline constexpr std::size_t kAgentMaxRequestBytes = 64;
inline constexpr std::size_t kAgentKeyReplyBytes = 16 + 32 + 8 + 8 + kKeyFileBytes;
inline constexpr std::size_t kAgentLockReplyBytes = 16;

enum class AgentOp : std::uint8_t {
    key = 1,   // send the database key and the key file it came from
    lock = 2,  // wipe the key and end
};

// The socket of the agent of the store in `home`: `home`/agent/socket (directory 0700, socket
// 0600, made by the agent and removed when it ends).
std::filesystem::path agent_socket_path(const std::filesystem::path& home);

ByteArray<kAgentRequestBytes> encode_agent_request(AgentOp op);
// Exactly kAgentRequestBytes with the magic and a known op; anything else is invalid_argument.
Result<AgentOp> decode_agent_request(ByteView bytes);

// The key reply, in locked memory. `unlocked` must be SlotKind::real with a 32-byte key.
crypto::SecretBytes encode_agent_key_reply(const Unlocked& unlocked);
// Exactly kAgentKeyReplyBytes, the magic, status 0, and a key file that parses
// (KeyFile::parameters); anything else is invalid_argument. The key is copied into locked memory.
Result<Unlocked> decode_agent_key_reply(ByteView bytes);

ByteArray<kAgentLockReplyBytes> encode_agent_lock_reply();
bool is_agent_lock_reply(ByteView bytes);

// Tells that the machine was suspended (or hibernated) since the watch began. CLOCK_BOOTTIME
// counts time asleep and CLOCK_MONOTONIC does not, so their difference grows only while the
// machine sleeps; load, NTP steps and a changed wall clock leave it alone. `asleep` returns that
// difference (injectable for tests; the default reads both clocks). Not thread-safe.
class SuspendWatch {
public:
    // Less than this is taken as the two clocks being read a moment apart.
    static constexpr std::chrono::milliseconds kThreshold{1000};
    using AsleepClock = std::function<std::chrono::nanoseconds()>;

    explicit SuspendWatch(AsleepClock asleep = {});
    // True once the time asleep has grown by more than kThreshold since construction.
    bool suspended() const;
    static std::chrono::nanoseconds system_asleep();

private:
    AsleepClock m_asleep;
    std::chrono::nanoseconds m_start;
};

}  // namespace kolokol::storage
