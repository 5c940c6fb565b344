#pragma once
// Loose comparison of what a person typed with names and words they meant: group names (exactly
// first, then ignoring case and spaces, and on a miss the closest to suggest), and the word that
// confirms a destructive command ("yes", "да").

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kolokol::core {

// `text` folded for a loose comparison: lower case (Unicode simple case mapping, whatever the
// process's locale, so "ШТАБ" and "штаб" fold alike), without any whitespace ("Legal  support",
// "legalsupport"). Bytes that are not valid UTF-8 are kept as they are.
std::string fold_loosely(std::string_view text);

// Among `names`, the one a mistyped `typed` most likely meant: the nearest by edit distance over
// the folded names when the distance is at most a third of the longer (and at least 1), else one
// whose folded form starts with or contains the folded `typed` (of 3 or more letters). nullopt
// when none is close or when two are equally close.
std::optional<std::string> closest_name(std::string_view typed,
                                        const std::vector<std::string>& names);

}  // namespace kolokol::core
