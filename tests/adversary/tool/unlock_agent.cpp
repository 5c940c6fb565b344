// The unlock agent's socket from the other side: `agent-send` connects to an agent's socket as
// whoever runs it (another user under setpriv, or the owner) and sends a request — a real one,
// raw bytes, an oversized flood, or nothing at all for a while — then reports how many bytes
// came back. The agent must answer only its own user's well-formed requests.
#include "kolokol/storage/unlock_agent.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

#include "command.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/random.hpp"

namespace kolokol::adversary {
namespace {

// The bytes a KIND names: key, lock, hex:HEX, junk:N (N random bytes), stall:SECONDS (nothing,
// held open that long before closing).
Bytes request_bytes(const std::string& kind, int& stall_seconds) {
    if (kind == "key") {
        auto r = storage::encode_agent_request(storage::AgentOp::key);
        return {r.begin(), r.end()};
    }
    if (kind == "lock") {
        auto r = storage::encode_agent_request(storage::AgentOp::lock);
        return {r.begin(), r.end()};
    }
    if (kind.starts_with("hex:")) {
        auto b = crypto::hex_decode(kind.substr(4));
        if (!b) usage_error("hex: expects hex digits");
        return *b;
    }
    if (kind.starts_with("junk:")) {
        Bytes out(std::stoull(kind.substr(5)));
        crypto::system_random().fill(out);
        return out;
    }
    if (kind.starts_with("stall:")) {
        stall_seconds = std::stoi(kind.substr(6));
        return {};
    }
    usage_error("KIND is key, lock, hex:HEX, junk:N or stall:SECONDS");
}

int agent_send(std::span<const std::string> args) {
    if (args.size() != 2) usage_error("expects SOCKET KIND");
    int stall_seconds = 0;
    const Bytes request = request_bytes(args[1], stall_seconds);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (args[0].size() >= sizeof addr.sun_path) usage_error("the socket's path is too long");
    std::memcpy(addr.sun_path, args[0].c_str(), args[0].size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        std::cout << "connect-refused " << std::strerror(errno) << "\n";
        return 1;
    }
    std::cout << "connected\n";
    // Sent whole, ignoring the agent closing part-way through (a flood is cut off).
    std::size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    if (stall_seconds > 0) std::this_thread::sleep_for(std::chrono::seconds(stall_seconds));
    ::shutdown(fd, SHUT_WR);
    // Bounded: at most 64 KiB and 5 s.
    Bytes reply;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::uint8_t buf[4096];
    while (reply.size() < (64u << 10)) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        reply.insert(reply.end(), buf, buf + n);
    }
    ::close(fd);
    std::cout << "sent " << sent << "\n";
    std::cout << "reply " << reply.size() << "\n";
    if (auto unlocked = storage::decode_agent_key_reply(reply))
        std::cout << "key " << crypto::hex_encode(unlocked->db_key.view()) << "\n";
    return 0;
}

const Registration reg_agent_send{
    {"agent-send",
     "SOCKET KIND — connects to an unlock agent's socket and sends KIND: key, lock, hex:HEX, "
     "junk:N (N random bytes) or stall:SECONDS (nothing for that long); prints \"connected\", "
     "the bytes sent, \"reply N\" (bytes that came back) and \"key HEX\" for a key reply",
     agent_send}};

}  // namespace
}  // namespace kolokol::adversary
