#pragma once
// A command's side of the unlock agent (kolokol agent; storage/unlock_agent.hpp): asking it for
// the store's key instead of the passphrase, and telling it to lock.
//
// The agent is trusted only when its socket's peer is a process of this user (SO_PEERCRED uid
// equal to our effective uid), and only as far as its reply is exactly a key reply; anything
// else — no socket, another user's process, a malformed or late reply — counts as no agent.
// Every wait has a deadline (kAgentReplyDeadline) and every read a cap.

#include <chrono>
#include <filesystem>
#include <optional>

#include "kolokol/storage/keyfile.hpp"

namespace kolokol::cli {

inline constexpr std::chrono::milliseconds kAgentReplyDeadline{5000};

// The key of the store in `home` from its agent, or nullopt (ask for the passphrase).
std::optional<storage::Unlocked> key_from_agent(const std::filesystem::path& home);

// Tells the agent of the store in `home`, if one runs, to wipe its key and end, and returns once
// it has (its socket is gone when it answers). True when an agent answered. Quietly does
// nothing when there is none.
bool lock_agent(const std::filesystem::path& home);

}  // namespace kolokol::cli
