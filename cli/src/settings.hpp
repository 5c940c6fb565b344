#pragma once
// Sizes as users write and read them (cmd_settings.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kolokol::cli {

// "64MiB", "64M", "1GiB", "512K", "0", "1048576" (binary units; a space before the unit is
// allowed). nullopt when it is none of these or above 1 PiB.
std::optional<std::uint64_t> parse_size(std::string_view text);
// "64 MiB", "1.5 MiB", "812 B".
std::string format_size(std::uint64_t bytes);

}  // namespace kolokol::cli
