#include "app.hpp"

namespace kolokol::cli {

void register_sync_commands(CLI::App& /*app*/) {}

}  // namespace kolokol::cli
