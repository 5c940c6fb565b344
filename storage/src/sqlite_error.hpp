#pragma once
// Maps SQLite result codes onto StorageErrc with SQLite's own message as detail.

#include <string_view>

#include "kolokol/crypto/error.hpp"
#include "kolokol/storage/error.hpp"

struct sqlite3;

namespace kolokol::storage::detail {

StorageErrc errc_of(int sqlite_rc);
// `what` names the operation ("open", "step", ...); `db` may be null.
Error sqlite_error(sqlite3* db, int sqlite_rc, std::string_view what);

}  // namespace kolokol::storage::detail
