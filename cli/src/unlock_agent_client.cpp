#include "unlock_agent_client.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "app.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/unlock_agent.hpp"
#include "unlock_agent_socket.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

using Clock = std::chrono::steady_clock;

// The socket's name inside the home (storage::agent_socket_path without the home).
constexpr const char* kSocketInHome = "agent/socket";

UnixFd open_home(const std::filesystem::path& home) {
    return UnixFd(::open(home.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

bool socket_present(int home_fd) {
    struct stat st {};
    return ::fstatat(home_fd, kSocketInHome, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode);
}

struct Reached {
    AgentLock state = AgentLock::none;  // none, or unreachable, or `locked` meaning "ours"
    UnixFd fd;
};

// Connects to the socket in the home open as `home_fd`. A socket nobody listens on (left by a
// killed agent) is no agent; one that does not take the connection by the deadline, or whose
// peer is another user's process, is an agent this process cannot talk to.
Reached reach(int home_fd, Deadline deadline) {
    if (!socket_present(home_fd)) return {};
    UnixFd fd = connect_unix(path_via_fd(home_fd, kSocketInHome), deadline);
    if (!fd.ok()) {
        if (errno == ECONNREFUSED || errno == ENOENT) return {};
        return {AgentLock::unreachable, {}};
    }
    // A socket in our home answered by another user's process is not our agent.
    if (peer_uid(fd.get()) != ::geteuid()) return {AgentLock::unreachable, {}};
    return {AgentLock::locked, std::move(fd)};
}

// Sends `op` on `fd` and reads the reply (at most `max` bytes, one more to tell an overlong
// reply) into locked memory. Empty when it did not answer by the deadline.
std::optional<crypto::SecretBytes> ask(int fd, storage::AgentOp op, std::size_t max,
                                       Deadline deadline) {
    const auto request = storage::encode_agent_request(op);
    if (!write_all_until(fd, request, deadline)) return std::nullopt;
    ::shutdown(fd, SHUT_WR);
    crypto::SecretBytes reply(max + 1);
    auto got = read_until_eof(fd, reply.mutable_view(), deadline);
    if (!got || *got > max) return std::nullopt;
    return crypto::SecretBytes::copy_of(reply.view().first(*got));
}

}  // namespace

std::optional<storage::Unlocked> key_from_agent(const std::filesystem::path& home) {
    UnixFd home_fd = open_home(home);
    if (!home_fd.ok()) return std::nullopt;
    const auto deadline = Clock::now() + kAgentReplyDeadline;
    Reached r = reach(home_fd.get(), deadline);
    if (r.state != AgentLock::locked) return std::nullopt;
    auto reply = ask(r.fd.get(), storage::AgentOp::key, storage::kAgentKeyReplyBytes, deadline);
    if (!reply) return std::nullopt;
    auto unlocked = storage::decode_agent_key_reply(reply->view());
    if (!unlocked) return std::nullopt;
    return std::move(*unlocked);
}

AgentLock lock_agent(const std::filesystem::path& home) {
    UnixFd home_fd = open_home(home);
    if (!home_fd.ok()) return AgentLock::none;
    const auto deadline = Clock::now() + kAgentReplyDeadline;
    Reached r = reach(home_fd.get(), deadline);
    if (r.state != AgentLock::locked) return r.state;
    (void)ask(r.fd.get(), storage::AgentOp::lock, storage::kAgentLockReplyBytes, deadline);
    // Its reply is not what counts: it has gone when its socket has (it unlinks it before it
    // answers; a stalled one answers nothing and keeps it).
    while (socket_present(home_fd.get())) {
        if (Clock::now() >= deadline) return AgentLock::unreachable;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return AgentLock::locked;
}

void end_agent_before_unlock(const std::filesystem::path& home) {
    if (lock_agent(home) == AgentLock::unreachable)
        throw CommandError(Exit::agent_running,
                           subst(_("an agent for {} did not lock (stopped, busy, or another "
                                   "user's): nothing was unlocked — end it, then try again"),
                                 home.string()));
}

}  // namespace kolokol::cli
