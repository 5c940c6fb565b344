#include "sqlite_error.hpp"

#include <sqlite3.h>

#include <string>

namespace kolokol::storage::detail {

StorageErrc errc_of(int sqlite_rc) {
    switch (sqlite_rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return StorageErrc::busy;
        case SQLITE_CONSTRAINT:
            return StorageErrc::constraint;
        case SQLITE_CORRUPT:
            return StorageErrc::corrupt;
        case SQLITE_NOTADB:
            return StorageErrc::not_a_database;
        case SQLITE_FULL:
            return StorageErrc::full;
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_NOLFS:
            return StorageErrc::io;
        case SQLITE_MISUSE:
        case SQLITE_RANGE:
        case SQLITE_MISMATCH:
            return StorageErrc::invalid_argument;
        default:
            return StorageErrc::sqlite;
    }
}

Error sqlite_error(sqlite3* db, int sqlite_rc, std::string_view what) {
    std::string message(what);
    message += ": ";
    // sqlite3_errmsg describes the most recent failure on this connection, which is the one we
    // are reporting; without a connection fall back to the generic text of the code.
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(sqlite_rc);
    return Error{make_error_code(errc_of(sqlite_rc)), std::move(message)};
}

}  // namespace kolokol::storage::detail
