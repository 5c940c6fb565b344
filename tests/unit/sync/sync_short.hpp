#pragma once
// Engines for short connections (DESIGN §9.14), shared by test_sync_parts.cpp and
// test_sync_resume.cpp: a server, and a client whose connections carry only so many bytes.

#include <cstdint>
#include <memory>

#include "sync_fixtures.hpp"

namespace sync_test {

inline constexpr std::uint64_t kLimit = 16 << 10;  // what one connection carries towards the client

inline SyncEngine::Config server_config() {
    SyncEngine::Config c;
    c.side = SyncEngine::Side::server;
    c.handshake_hash = fixed_hash(0xaa);
    return c;
}

inline SyncEngine::Config short_client(std::shared_ptr<PartialEnvelopes> partials,
                                       std::uint64_t byte_budget) {
    SyncEngine::Config c;
    c.side = SyncEngine::Side::client;
    c.handshake_hash = fixed_hash(0xaa);
    c.frame_budget = kLimit / 8;
    c.part_bytes = kLimit / 2;
    c.byte_budget = byte_budget;
    c.partials = std::move(partials);
    c.parts_first = true;
    return c;
}

}  // namespace sync_test
