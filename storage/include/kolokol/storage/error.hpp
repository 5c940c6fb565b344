#pragma once
// Errors of the storage module. Each value has one stable meaning that core maps onto its own
// errors (and the CLI onto exit codes); Error::message carries SQLite's or the OS's detail.

#include <system_error>

#include "kolokol/crypto/error.hpp"

namespace kolokol::storage {

enum class StorageErrc {
    io = 1,            // the OS or SQLite failed to read/write/open a file (permissions, EIO)
    not_a_database,    // wrong key, or the file is not a database at all (garbage, truncated)
    corrupt,           // the database opened but its pages are inconsistent
    busy,              // another connection holds the lock past the busy timeout
    constraint,        // a UNIQUE / FOREIGN KEY / CHECK constraint refused a write
    schema_too_new,    // the store was written by a newer Kolokol: refuse rather than guess
    keyfile_missing,   // there is no key file at the given path
    keyfile_corrupt,   // the key file has the wrong size or impossible parameters
    wrong_passphrase,  // no slot of the key file opens with this passphrase
    locked_out,        // reserved for callers that rate-limit unlock attempts
    not_found,         // the database file does not exist and `create` was false
    exists,            // refusing to overwrite an existing file
    full,              // the disk (or SQLite's size limit) is full
    invalid_argument,  // a caller passed a wrong-sized key, a bad envelope, misuse of the API
    kdf_failed,        // Argon2id could not run (out of memory for its memlimit)
    sqlite,            // any other SQLite failure; the message says which
    erased,            // the store was erased (duress, panic) while the operation ran
};
KOLOKOL_ERROR_ENUM(StorageErrc)

}  // namespace kolokol::storage

KOLOKOL_ERROR_ENUM_TRAITS(kolokol::storage, StorageErrc)
