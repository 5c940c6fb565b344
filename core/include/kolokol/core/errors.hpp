#pragma once
// Errors of the core library. Each has a stable meaning that the CLI maps to an exit code.

#include <system_error>

#include "kolokol/crypto/error.hpp"

namespace kolokol::core {

enum class CoreErrc {
    bad_input = 1,     // a card, token, file or argument that does not parse or verify
    not_found,         // no such group / member / record
    not_permitted,     // not an admin, not a member
    no_store,          // the home holds no store
    wrong_passphrase,  // the store did not unlock
    corrupt_store,     // the key file or database is damaged
    exists,            // already initialised / already a member
    no_epoch,          // no usable epoch to write in (waiting for a rotation)
    io,                // reading or writing a file failed
    // A welcome token, key grant or backup that contradicts what the store holds: another key
    // for an epoch already held, a token for a group the member belongs to, a token whose add
    // record does not admit the member. Nothing was changed.
    conflict,
    store_gone,  // the store was erased (duress, panic) while the call ran
};
KOLOKOL_ERROR_ENUM(CoreErrc)

}  // namespace kolokol::core

KOLOKOL_ERROR_ENUM_TRAITS(kolokol::core, CoreErrc)
