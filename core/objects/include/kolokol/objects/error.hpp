#pragma once
// Errors of the coordination-object module: change validation, the fold, attachments and the
// codecs between these types and their protobuf payloads.

#include "kolokol/crypto/error.hpp"

namespace kolokol::objects {

enum class ObjectErrc {
    ok = 0,
    unknown_type,       // the change names a type the registry does not have
    unknown_field,      // a field (or list item field) the type does not have
    oversized_field,    // a text value over its byte limit
    bad_value,          // a value of the wrong shape: bad text, enum, date, amount, number, key
    list_not_allowed,   // an append to a list the type does not have
    too_many_fields,    // more field writes or item fields than one change may carry
    missing_field,      // a required list item field is absent or empty
    malformed_change,   // structurally wrong: empty change, create with an object id, bad ids
    type_mismatch,      // a change to an object of another type
    bad_manifest,       // an attachment manifest that is inconsistent or over a limit
    chunk_missing,      // a chunk the manifest names cannot be found
    chunk_corrupt,      // a chunk of the wrong attachment, index or size
    hash_mismatch,      // the reassembled file does not have the manifest's SHA-256
    too_large,          // an attachment beyond what one manifest can describe
    io_error,           // reading the input or writing the output failed
    sink_failed,        // the caller's chunk sink (sealing, storing) reported an error
    malformed_payload,  // a protobuf payload that does not parse or breaks a limit
};
KOLOKOL_ERROR_ENUM(ObjectErrc)

}  // namespace kolokol::objects

KOLOKOL_ERROR_ENUM_TRAITS(kolokol::objects, ObjectErrc)
