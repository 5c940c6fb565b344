#pragma once
// Small text outputs (a card, a welcome token) written to a file only once the command has
// succeeded, so a failure never leaves an empty or half-written file under the real name — as
// the shell's `> FILE` does, which creates the file before the command even starts.

#include <string>
#include <string_view>

namespace kolokol::cli {

// Writes `text` to `path` (mode 0600): first to PATH.partial, synced, then moved to PATH.
// Refuses an existing PATH with CommandError(exists) unless `force`. Throws CommandError
// (failure) when the file cannot be written; PATH is then untouched.
void write_output_file(const std::string& path, std::string_view text, bool force);

}  // namespace kolokol::cli
