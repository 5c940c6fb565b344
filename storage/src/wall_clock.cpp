#include "kolokol/storage/wall_clock.hpp"

#include <chrono>

namespace kolokol::storage {

std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace kolokol::storage
