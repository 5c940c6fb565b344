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
//
// The temporary file is also noted for remove_output_temps(), until it is renamed or removed.
Result<int> create_output_temp(const std::filesystem::path& temp);

// Unlinks every temporary file create_output_temp() made in this process that is still under
// its temporary name (the same file: a duplicate of its descriptor is kept, so its inode cannot
// be reused by a file made there later), so that a process ended
// because its store is gone (a panic, a duress erase) leaves nothing of what it was writing —
// an attachment's plaintext, a backup. For that exit path: no allocation and no lock, only
// lstat() and unlink(); safe to call while other threads still write to those files.
// Up to 64 files are noted at once (a slot, and its descriptor, is freed when its file has left
// its temporary name); beyond that, create_output_temp() fails with StorageErrc::io rather than
// write a file this could not remove.
void remove_output_temps() noexcept;

}  // namespace kolokol::storage
