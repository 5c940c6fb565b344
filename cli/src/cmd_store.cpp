#include "app.hpp"

namespace kolokol::cli {

void register_store_commands(CLI::App& /*app*/) {}

}  // namespace kolokol::cli
