#pragma once
// The one wall clock of the programs: milliseconds since the Unix epoch, from the system clock.
// Components that must be testable take a clock function (Node, RelayStore) and default to it.

#include <cstdint>

namespace kolokol::storage {

std::int64_t wall_clock_ms();

}  // namespace kolokol::storage
