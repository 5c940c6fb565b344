#include "app.hpp"

namespace kolokol::cli {

void register_identity_commands(CLI::App& /*app*/) {}

}  // namespace kolokol::cli
