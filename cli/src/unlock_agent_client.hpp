#pragma once
// A command's side of the unlock agent (kolokol agent; storage/unlock_agent.hpp): asking it for
// the store's key instead of the passphrase, and telling it to lock.
//
// The agent is trusted only when its socket's peer is a process of this user (SO_PEERCRED uid
// equal to our effective uid), and only as far as its reply is exactly a key reply; anything
// else — no socket, another user's process, a malformed or late reply — counts as no agent.
// Every wait has a deadline (kAgentReplyDeadline, connect included) and every read a cap.
// The socket is reached through an open descriptor of the home (/proc/self/fd/N/agent/socket),
// so however long the home's path is spelled, the same agent answers.

#include <chrono>
#include <filesystem>
#include <optional>

#include "kolokol/storage/keyfile.hpp"

namespace kolokol::cli {

inline constexpr std::chrono::milliseconds kAgentReplyDeadline{5000};

// The key of the store in `home` from its agent, or nullopt (ask for the passphrase).
std::optional<storage::Unlocked> key_from_agent(const std::filesystem::path& home);

enum class AgentLock {
    none,         // no agent listens for this home (no socket, or one nobody listens on)
    locked,       // an agent listened, and its socket is gone: it wiped its key and ended
    unreachable,  // a socket someone listens on is still there: another user's, stopped, or busy
};

// Tells the agent of the store in `home`, if one runs, to wipe its key and end, and returns once
// it has (its socket is gone), or at kAgentReplyDeadline.
AgentLock lock_agent(const std::filesystem::path& home);

// Before any unlock with a passphrase: ends the agent of `home` and waits until it has gone.
// Throws CommandError (Exit::agent_running) when an agent is there that could not be locked —
// before any key derivation, so that a wrong and a duress passphrase are refused alike.
void end_agent_before_unlock(const std::filesystem::path& home);

}  // namespace kolokol::cli
