#include "app.hpp"

namespace kolokol::cli {

void register_age_commands(CLI::App& /*app*/) {}

}  // namespace kolokol::cli
