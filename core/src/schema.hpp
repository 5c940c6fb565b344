#pragma once

#include "kolokol/storage/database.hpp"

namespace kolokol::core {

// Brings the store's schema up to date: the envelope store's component, the core's, then the
// unverified quota's (node_quota.cpp).
Status migrate_schema(storage::Database& db);
Status migrate_quota_schema(storage::Database& db);

}  // namespace kolokol::core
