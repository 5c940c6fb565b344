#pragma once

#include <cstdint>

#include "kolokol/storage/database.hpp"

namespace kolokol::core {

// Brings the store's schema up to date: the envelope store's component, then the core's, then
// seals the secret columns of a store written before they were sealed (component
// "core-secrets": version 1 = every secret column sealed), in one transaction. The unverified
// quota's schema: migrate_quota_schema (node_quota.cpp).
Status migrate_schema(storage::Database& db);
// Up to `through` steps (all by default), on a store not yet there. The first two come before the
// envelope store's rewrite of `envelopes`, the third puts the quota's trigger back after it.
constexpr std::size_t kQuotaStepsBeforeRewrite = 2;
Status migrate_quota_schema(storage::Database& db, std::size_t through = SIZE_MAX);

// Where a secret column's value lives, for storage::Database::seal_secret(): "table.column",
// then the row's key (the epoch id for epochs; nothing for the one identity row).
Bytes secret_place(std::string_view column, ByteView row = {});

}  // namespace kolokol::core
