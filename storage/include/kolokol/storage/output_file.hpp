#pragma once
// Where files the user names are written first: a sibling temporary file, moved into place
// once complete (sync files, backups, attachment exports, bundles, age output). Its name is
// predictable, so whoever can write in that folder could plant a symlink or a hard link there
// to make us write through it into another file; these calls never follow or reuse what they
// find at the temporary name.

#include <filesystem>

#include "kolokol/crypto/error.hpp"

namespace kolokol::storage {

// Creates `temp` empty for writing (mode 0600 whatever the umask, O_EXCL | O_NOFOLLOW) and
// returns its descriptor, which the caller closes. When something is already there, a regular
// file of this user with a single link (a leftover of an interrupted write) is unlinked and the
// create tried once more; anything else — a symlink, a hard link, another user's file, a
// folder — is left untouched and the call fails with StorageErrc::exists, its message naming
// the path. Other failures: StorageErrc::io with the OS's reason.
Result<int> create_output_temp(const std::filesystem::path& temp);

}  // namespace kolokol::storage
