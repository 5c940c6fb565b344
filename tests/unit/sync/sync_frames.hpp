#pragma once
// Building and reading raw sync frames, for tests that play one side of the protocol by hand.

#include <doctest/doctest.h>

#include "kolokol/transport/sync_engine.hpp"
#include "sync.pb.h"

namespace sync_test {

using namespace kolokol;
using namespace kolokol::transport;

inline Bytes frame_bytes(const kolokol::pb::SyncFrame& f) {
    Bytes out(f.ByteSizeLong());
    f.SerializeToArray(out.data(), static_cast<int>(out.size()));
    return out;
}

inline kolokol::pb::SyncFrame parse_frame(const Bytes& b) {
    kolokol::pb::SyncFrame f;
    REQUIRE(f.ParseFromArray(b.data(), static_cast<int>(b.size())));
    return f;
}

inline Bytes hello_frame(std::uint32_t version = kSyncVersion, std::uint64_t window = 1 << 20) {
    kolokol::pb::SyncFrame f;
    f.mutable_hello()->set_version(version);
    f.mutable_hello()->set_window_bytes(window);
    f.mutable_hello()->set_max_reconciliations(8);
    f.mutable_hello()->set_max_wants(8192);
    return frame_bytes(f);
}

// Hands `frame` to `engine` and checks that it fails with `code` and closes the session.
inline void expect_closed(SyncEngine& engine, const Bytes& frame, SyncErrc code) {
    auto st = engine.handle(frame);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code == code);
    CHECK(engine.closed());
}

}  // namespace sync_test
