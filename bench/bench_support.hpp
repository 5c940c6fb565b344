#pragma once
// What several benchmarks share: a file descriptor that closes itself, elapsed seconds, and the
// child process that serves a relay on loopback for the load benchmarks.

#include <fcntl.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kolokol/relay/relay.hpp"

namespace kolokol::bench {

class Fd {
public:
    Fd(const std::filesystem::path& path, int flags)
        : m_fd(::open(path.c_str(), flags | O_CLOEXEC, 0600)) {
        if (m_fd < 0) throw std::runtime_error("cannot open " + path.string());
    }
    ~Fd() { ::close(m_fd); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// In a child process: serves `store` on a free loopback port with `threads` threads, writes
// "HOST:PORT KEY\n" (the relay's address) to `out_fd` and closes it, and runs until SIGTERM.
// Exits 3 when it cannot listen, 4 when it cannot write the address, 0 after SIGTERM.
[[noreturn]] inline void serve_relay_child(transport::RelayStore& store,
                                           const transport::RelayOptions& options, int out_fd,
                                           unsigned threads) {
    asio::io_context io;
    transport::Relay relay(io.get_executor(), store, options);
    if (!relay.listen({asio::ip::make_address("127.0.0.1"), 0})) _exit(3);
    asio::signal_set signals(io, SIGTERM);
    signals.async_wait([&](const std::error_code&, int) {
        relay.stop();
        io.stop();
    });
    relay.start();
    const std::string addr = relay.address().to_string() + "\n";
    if (::write(out_fd, addr.data(), addr.size()) != static_cast<ssize_t>(addr.size())) _exit(4);
    ::close(out_fd);
    std::vector<std::thread> extra;
    for (unsigned i = 1; i < threads; ++i) extra.emplace_back([&] { io.run(); });
    io.run();
    for (auto& t : extra) t.join();
    _exit(0);
}

}  // namespace kolokol::bench
