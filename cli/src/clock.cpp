// Compiled twice: into `kolokol` as is, and into `kolokol-testhooks` with KOLOKOL_TEST_HOOKS.
#include "clock.hpp"

#include <cstdlib>

#include "kolokol/storage/wall_clock.hpp"

namespace kolokol::cli {

std::int64_t now_ms() {
#ifdef KOLOKOL_TEST_HOOKS
    if (const char* fake = std::getenv("KOLOKOL_FAKE_NOW_MS"); fake && *fake)
        return std::strtoll(fake, nullptr, 10);
#endif
    return storage::wall_clock_ms();
}

std::function<std::int64_t()> node_clock() {
    return now_ms;
}

}  // namespace kolokol::cli
