#include "unlock_agent_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/unlock_agent.hpp"
#include "unlock_agent_socket.hpp"

namespace kolokol::cli {

namespace {

// Sends `op` to the agent of `home` and reads its reply (at most `max` bytes, one more to tell
// an overlong reply) into locked memory. Empty when there is no agent of this user or it did not
// answer in time.
std::optional<crypto::SecretBytes> ask(const std::filesystem::path& home, storage::AgentOp op,
                                       std::size_t max) {
    const auto path = storage::agent_socket_path(home);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::nullopt;
    UnixFd fd = connect_unix(path);
    if (!fd.ok()) return std::nullopt;
    // A socket in our home answered by another user's process is not our agent.
    if (peer_uid(fd.get()) != ::geteuid()) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + kAgentReplyDeadline;
    const auto request = storage::encode_agent_request(op);
    if (!write_all_until(fd.get(), request, deadline)) return std::nullopt;
    ::shutdown(fd.get(), SHUT_WR);
    crypto::SecretBytes reply(max + 1);
    auto got = read_until_eof(fd.get(), reply.mutable_view(), deadline);
    if (!got || *got > max) return std::nullopt;
    auto out = crypto::SecretBytes::copy_of(reply.view().first(*got));
    return out;
}

}  // namespace

std::optional<storage::Unlocked> key_from_agent(const std::filesystem::path& home) {
    auto reply = ask(home, storage::AgentOp::key, storage::kAgentKeyReplyBytes);
    if (!reply) return std::nullopt;
    auto unlocked = storage::decode_agent_key_reply(reply->view());
    if (!unlocked) return std::nullopt;
    return std::move(*unlocked);
}

bool lock_agent(const std::filesystem::path& home) {
    auto reply = ask(home, storage::AgentOp::lock, storage::kAgentLockReplyBytes);
    return reply && storage::is_agent_lock_reply(reply->view());
}

}  // namespace kolokol::cli
