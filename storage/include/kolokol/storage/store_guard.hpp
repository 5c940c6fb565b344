#pragma once
// StoreGuard: tells a process, within milliseconds, that the store it has open is gone from
// under it — its key file destroyed (`kolokol panic`), erased in place (a duress passphrase
// typed in another process), or its database removed — so that it can wipe its keys and end
// rather than go on working from a deleted database with the keys in memory.
//
// A thread of its own watches the store's directory and key file with inotify (when inotify is
// refused, e.g. out of watches, it looks every kPollInterval instead) and after any event judges
// the store against the key file this process unlocked (KeyFileSeen). The store is gone when:
//  - the key file or the database is missing or not a regular file;
//  - the key file is the same inode with other bytes: nothing but an erase (KeyFile::wipe_keys,
//    an unlock with OnDuress::erase, KeyFile::destroy's overwrite) writes a key file in place;
//  - the key file is another inode that does not parse as a key file, or that keeps neither
//    slot of the one compared (an erase replaces both slots);
//  - the database is another inode than the one open here.
// A passphrase change renames a new key file into place: another inode that parses and keeps
// the slot it did not rewrap byte for byte, which then becomes the one compared. So an erase
// that follows a passphrase change before the guard has looked is still an erase. (Two
// passphrase changes before it looks can bring the first file's inode number back with other
// bytes, which reads as an erase: the process ends — the safe side.) The guard reads the key file
// with O_NOATIME, so its looks leave no trace on it.
//
// Who can set it off: only whoever can change files in the store's directory — its owner (the
// directory is 0700) or root; inotify needs read access to the directory, so nobody else can
// even watch it. Nothing is written: no pid file, lock file or socket says that a store is open.
//
// Thread-safety: start() and the destructor from one thread. `on_gone` runs once, on the guard's
// thread, while the process's other threads go on; the CLI's ends the process.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include "kolokol/crypto/error.hpp"
#include "kolokol/storage/keyfile.hpp"

namespace kolokol::storage {

class StoreGuard {
public:
    static constexpr std::chrono::milliseconds kPollInterval{250};

    struct Paths {
        std::filesystem::path directory;
        std::filesystem::path key_file;
        std::filesystem::path database;
    };

    // The store as this process has it open: the key file it unlocked and the database's inode.
    struct Held {
        KeyFileSeen key_file;
        std::uint64_t database_device = 0;
        std::uint64_t database_inode = 0;
    };

    // Takes the database's inode from the file at paths.database now (call it once the
    // database is open); the thread then watches and judges the store at once: a change
    // between the unlock and now is caught too (on_gone may run before start() returns). Each
    // judgement comes after the watch on the key file it reads, so no write escapes both. Errors:
    // io when the thread or the database's stat fails.
    static Result<std::unique_ptr<StoreGuard>> start(Paths paths, KeyFileSeen key_file,
                                                     std::function<void()> on_gone);

    // Stops watching and joins the thread (on_gone does not run afterwards).
    ~StoreGuard();
    StoreGuard(const StoreGuard&) = delete;
    StoreGuard& operator=(const StoreGuard&) = delete;

    // Judges the store once, as the thread does after each event: true when it is gone. A
    // renamed-in key file that parses becomes `held`'s (a passphrase change). Stateless
    // otherwise; reads the key file (bounded) and stats the database.
    static bool gone(const Paths& paths, Held& held);

private:
    struct Impl;
    explicit StoreGuard(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace kolokol::storage
