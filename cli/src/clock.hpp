#pragma once
// The clock of every command: milliseconds since the Unix epoch, from the system clock.
//
// Only the test build (the `kolokol-testhooks` binary, compiled with KOLOKOL_TEST_HOOKS; never
// installed) reads KOLOKOL_FAKE_NOW_MS instead when it is set, so integration tests can move
// time forward (retention, bundle dates, clock skew). The release binary ignores the variable:
// whoever can set a user's environment must not be able to make retention delete their records.

#include <cstdint>
#include <functional>

namespace kolokol::cli {

std::int64_t now_ms();
// now_ms as a Node's clock (Node::init, Node::open, restore).
std::function<std::int64_t()> node_clock();

}  // namespace kolokol::cli
