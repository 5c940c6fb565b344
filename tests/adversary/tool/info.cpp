// `version`: the tool answers, so scripts can check it was built before they start an attack.
#include <cstdio>

#include "command.hpp"

namespace kolokol::adversary {
namespace {
const Registration reg{
    {"version", "prints the tool's name; exits 0", [](std::span<const std::string> args) {
         if (!args.empty()) usage_error("takes no arguments");
         std::printf("kolokol-adversary 1\n");
         return 0;
     }}};
}  // namespace
}  // namespace kolokol::adversary
