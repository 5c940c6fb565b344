#include "kolokol/crypto/init.hpp"

#include <sodium.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

namespace kolokol::crypto {

void init() {
    if (sodium_init() < 0) {
        std::fputs("kolokol: cannot initialise libsodium\n", stderr);
        std::abort();
    }
}

void harden_process() {
    struct rlimit none {};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace kolokol::crypto
