#pragma once

#include "kolokol/storage/database.hpp"

namespace kolokol::core {

// Brings the store's schema up to date: the envelope store's component, then the core's.
Status migrate_schema(storage::Database& db);

}  // namespace kolokol::core
