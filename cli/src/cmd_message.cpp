#include "app.hpp"

namespace kolokol::cli {

void register_message_commands(CLI::App& /*app*/) {}

}  // namespace kolokol::cli
