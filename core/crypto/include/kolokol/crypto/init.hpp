#pragma once

namespace kolokol::crypto {

// Initialises libsodium. Safe to call many times and from many threads; aborts if the library
// cannot be initialised (there is nothing safe to do without a working RNG).
void init();

// Hardens the process: no core dumps (RLIMIT_CORE = 0, PR_SET_DUMPABLE = 0). Called by the CLI
// before any secret is loaded.
void harden_process();

}  // namespace kolokol::crypto
