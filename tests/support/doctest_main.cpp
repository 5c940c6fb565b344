#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "kolokol/crypto/init.hpp"

int main(int argc, char** argv) {
    kolokol::crypto::init();
    doctest::Context context;
    context.applyCommandLine(argc, argv);
    return context.run();
}
