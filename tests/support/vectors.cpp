#include "vectors.hpp"

#include <cstdlib>
#include <stdexcept>

namespace kolokol::test {

std::filesystem::path vectors_dir() {
    std::filesystem::path dir = KOLOKOL_VECTORS_DIR;
    if (const char* env = std::getenv("KOLOKOL_TESTDATA"); env && *env) dir = env;
    if (!std::filesystem::is_directory(dir))
        throw std::runtime_error("test vectors not found at " + dir.string() +
                                 " (KOLOKOL_TESTDATA overrides the source tree's tests/vectors)");
    return dir;
}

}  // namespace kolokol::test
