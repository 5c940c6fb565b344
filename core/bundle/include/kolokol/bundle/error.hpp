#pragma once
// Errors of the case-bundle layer. Age errors (wrong key, altered header, damaged payload) keep
// their own AgeErrc codes; these name what is wrong with the bundle inside.

#include <system_error>

#include "kolokol/crypto/error.hpp"

namespace kolokol::bundle {

enum class BundleErrc {
    ok = 0,
    bad_input = 1,      // unusable arguments: no cases, duplicate ids, a bad signer card
    not_a_bundle = 2,   // the payload is not a tar, or a metadata file is missing or malformed
    unsafe_entry = 3,   // a path with "..", an absolute path, a link, a device, a duplicate
    too_large = 4,      // an entry or the number of entries over the reader's limits
    hash_mismatch = 5,  // bytes that do not match their declared size or SHA-256
    io = 6,             // a source, sink or extract target failed without a code of its own
};
KOLOKOL_ERROR_ENUM(BundleErrc)

}  // namespace kolokol::bundle

KOLOKOL_ERROR_ENUM_TRAITS(kolokol::bundle, BundleErrc)
