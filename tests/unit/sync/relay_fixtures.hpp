#pragma once
// A real Relay on loopback over a RelayStore in a temporary directory, and hand-made clients:
// shared by the relay's tests.

#include <doctest/doctest.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

#include "kolokol/relay/relay.hpp"
#include "kolokol/transport/session_connect.hpp"
#include "sync.pb.h"
#include "sync_fixtures.hpp"
#include "sync_frames.hpp"

namespace sync_test {

namespace fs = std::filesystem;

inline const Bytes kPass = to_bytes("relay passphrase");

struct TempDir {
    fs::path path;
    TempDir() {
        static std::atomic<int> n{0};
        path = fs::temp_directory_path() /
               ("kolokol-relay-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// A relay on 127.0.0.1 with two io threads.
class RunningRelay {
public:
    RunningRelay(RelayStore& store, RelayOptions options = {})
        : m_work(asio::make_work_guard(m_io)) {
        m_relay = std::make_unique<Relay>(m_io.get_executor(), store, options);
        REQUIRE(m_relay->listen({asio::ip::make_address("127.0.0.1"), 0}).has_value());
        m_relay->start();
        for (int i = 0; i < 2; ++i) m_threads.emplace_back([this] { m_io.run(); });
    }
    ~RunningRelay() {
        m_relay->stop();
        m_work.reset();
        for (auto& t : m_threads) t.join();
    }
    std::string address() const { return m_relay->address().to_string(); }
    Relay& relay() { return *m_relay; }

private:
    asio::io_context m_io;
    asio::executor_work_guard<asio::io_context::executor_type> m_work;
    std::unique_ptr<Relay> m_relay;
    std::vector<std::thread> m_threads;
};

inline std::unique_ptr<RelayStore> open_store(const fs::path& dir, RelayQuotas q = {},
                                              RelayStore::Clock clock = {}) {
    auto s = RelayStore::open(dir, kPass, RelayKdf::fast, q, std::move(clock));
    REQUIRE_MESSAGE(s.has_value(), s.error().what());
    return std::move(*s);
}

inline std::vector<MailboxKey> one_key(const MailboxKey& k) {
    std::vector<MailboxKey> v;
    v.push_back(copy_key(k));
    return v;
}

inline Result<SyncReport> sync_once(const std::string& address, Replica& replica,
                                    const MailboxKey& k) {
    return sync_with(address, crypto::box_keypair(), one_key(k), replica);
}

inline Bytes open_frame(const MailboxKey& k, ByteView hash, bool corrupt = false) {
    kolokol::pb::SyncFrame f;
    auto* o = f.mutable_open();
    o->set_mailbox(to_string(k.id));
    o->set_public_key(to_string(k.public_key));
    auto sig = sign_mailbox_open(k, hash);
    if (corrupt) sig[0] ^= 1;
    o->set_signature(to_string(sig));
    return frame_bytes(f);
}

// Runs `body` as a hand-made client on a fresh session to `address`.
inline void raw_client(const std::string& address,
                       const std::function<asio::awaitable<void>(Session&)>& body) {
    asio::io_context io;
    auto addr = Address::parse(address);
    REQUIRE(addr.has_value());
    auto local = crypto::box_keypair();
    bool ran = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            // Named options: g++ 12 destroys a defaulted argument of a co_await expression twice.
            ConnectOptions options;
            auto session = co_await connect(*addr, local, options);
            REQUIRE(session.has_value());
            co_await body(*session);
            ran = true;
        },
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    io.run();
    CHECK(ran);
}

}  // namespace sync_test
