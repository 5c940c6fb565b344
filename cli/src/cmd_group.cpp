#include "app.hpp"

namespace kolokol::cli {

void register_group_commands(CLI::App& /*app*/) {}

}  // namespace kolokol::cli
