#pragma once
// Whether a relay or peer answers and proves its key (`kolokol doctor`).

#include <chrono>

#include "kolokol/transport/address.hpp"
#include "kolokol/transport/session_connect.hpp"

namespace kolokol::transport {

// Connects to `address` (pinning its key) under a static key made for this probe alone, so the
// relay cannot tie it to syncs, completes the Noise handshake, closes, and returns the time
// from dialling to the end of the handshake. Blocking: runs an io_context of its own on the
// calling thread. Set `options.connect_timeout` and `options.session.handshake_timeout` for the
// deadline. Fails with connect()'s errors, or with io_error ("the probe failed: …") when
// something in it threw (a dialer's bug): never throws itself.
Result<std::chrono::milliseconds> probe(const Address& address, ConnectOptions options);

}  // namespace kolokol::transport
