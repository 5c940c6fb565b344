#pragma once
// Where the test vectors from outside the project (tests/vectors/) are read from.

#include <filesystem>

namespace kolokol::test {

// $KOLOKOL_TESTDATA when it is set and not empty, else the source tree's tests/vectors (CMake
// compiles that path in). Throws std::runtime_error when the folder does not exist, so a test
// that needs the vectors fails loudly instead of passing over nothing.
std::filesystem::path vectors_dir();

}  // namespace kolokol::test
