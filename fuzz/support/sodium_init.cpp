// Linked into every fuzz target: libsodium is initialised before the first input, as main() does
// in the CLI, whether or not the target's own file remembers to.
#include "kolokol/crypto/init.hpp"

namespace {
const bool g_sodium_ready = (kolokol::crypto::init(), true);
}  // namespace
