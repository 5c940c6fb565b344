#include "exit_codes.hpp"

#include <cerrno>
#include <optional>
#include <system_error>

#include "kolokol/age/error.hpp"
#include "kolokol/bundle/error.hpp"
#include "kolokol/core/errors.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/storage/error.hpp"
#include "kolokol/transport/session_error.hpp"
#include "kolokol/transport/sync_types.hpp"

namespace kolokol::cli {

namespace {

// One code's exit, or (without a code) the exit of every other code of its category.
struct Row {
    const std::error_category* category;
    std::optional<int> value;
    Exit exit;
};

template <class Errc>
Row row(Errc code, Exit exit) {
    const std::error_code ec = make_error_code(code);
    return {&ec.category(), ec.value(), exit};
}
Row otherwise(const std::error_category& category, Exit exit) {
    return {&category, std::nullopt, exit};
}

const std::vector<Row>& table() {
    using core::CoreErrc;
    using transport::TransportErrc;
    static const std::vector<Row> rows = {
        row(CoreErrc::bad_input, Exit::bad_input),
        row(CoreErrc::not_found, Exit::not_found),
        row(CoreErrc::not_permitted, Exit::not_permitted),
        row(CoreErrc::no_store, Exit::no_store),
        row(CoreErrc::wrong_passphrase, Exit::wrong_passphrase),
        row(CoreErrc::corrupt_store, Exit::corrupt_store),
        row(CoreErrc::exists, Exit::exists),
        row(CoreErrc::no_epoch, Exit::not_permitted),
        row(CoreErrc::io, Exit::failure),
        row(CoreErrc::conflict, Exit::conflict),
        row(CoreErrc::store_gone, Exit::store_gone),

        // The store under a relay (and under age and bundle output files).
        row(storage::StorageErrc::wrong_passphrase, Exit::wrong_passphrase),
        row(storage::StorageErrc::keyfile_corrupt, Exit::corrupt_store),
        row(storage::StorageErrc::not_a_database, Exit::corrupt_store),
        row(storage::StorageErrc::corrupt, Exit::corrupt_store),
        row(storage::StorageErrc::schema_too_new, Exit::corrupt_store),
        row(storage::StorageErrc::invalid_argument, Exit::usage),
        row(storage::StorageErrc::exists, Exit::exists),  // OUT.partial is in the way
        row(storage::StorageErrc::erased, Exit::store_gone),

        // A peer or relay: a malformed address is bad input, a key that is not the pinned one a
        // failed verification (someone else answered: a changed relay or an interception), the
        // rest a network failure.
        row(TransportErrc::invalid_address, Exit::bad_input),
        row(TransportErrc::remote_key_mismatch, Exit::verify_failed),
        otherwise(transport::TransportErrc_category(), Exit::network),
        otherwise(transport::SyncErrc_category(), Exit::network),

        row(objects::ObjectErrc::chunk_missing, Exit::not_found),
        row(objects::ObjectErrc::chunk_corrupt, Exit::verify_failed),
        row(objects::ObjectErrc::hash_mismatch, Exit::verify_failed),
        otherwise(objects::ObjectErrc_category(), Exit::bad_input),

        // age: a file for someone else (cmd_age says wrong_passphrase when it asked for one).
        row(age::AgeErrc::no_match, Exit::not_found),
        row(age::AgeErrc::hmac_failure, Exit::verify_failed),
        row(age::AgeErrc::payload_failure, Exit::verify_failed),
        row(age::AgeErrc::header_failure, Exit::bad_input),
        row(age::AgeErrc::armor_unsupported, Exit::bad_input),
        row(age::AgeErrc::invalid_key, Exit::bad_input),
        row(age::AgeErrc::invalid_argument, Exit::usage),

        row(bundle::BundleErrc::hash_mismatch, Exit::verify_failed),
        row(bundle::BundleErrc::bad_input, Exit::bad_input),
        row(bundle::BundleErrc::not_a_bundle, Exit::bad_input),
        row(bundle::BundleErrc::unsafe_entry, Exit::bad_input),
        row(bundle::BundleErrc::too_large, Exit::bad_input),

        row(std::errc::file_exists, Exit::exists),
    };
    return rows;
}

}  // namespace

Exit exit_for(const Error& error) {
    std::optional<Exit> fallback;
    for (const auto& r : table()) {
        if (*r.category != error.code.category()) continue;
        if (r.value == error.code.value()) return r.exit;
        if (!r.value) fallback = r.exit;
    }
    return fallback.value_or(Exit::failure);
}

}  // namespace kolokol::cli
