#pragma once
// The warning about key updates signed with this member's key that this device did not make
// (docs/design.md §5.13): `sync` and `doctor` show it.

#include <string>
#include <vector>

#include "kolokol/core/node.hpp"

namespace kolokol::cli {

// One line per such key update, translated; empty when there is none.
std::vector<std::string> foreign_key_update_warnings(core::Node& node);

}  // namespace kolokol::cli
