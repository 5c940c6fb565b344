#include "kolokol/storage/error.hpp"

#include <string>

namespace kolokol::storage {

namespace {
struct StorageCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.storage"; }
    std::string message(int c) const override {
        switch (static_cast<StorageErrc>(c)) {
            case StorageErrc::io:
                return "input/output error";
            case StorageErrc::not_a_database:
                return "wrong key or not a database";
            case StorageErrc::corrupt:
                return "the database is damaged";
            case StorageErrc::busy:
                return "the database is busy";
            case StorageErrc::constraint:
                return "constraint violated";
            case StorageErrc::schema_too_new:
                return "the store was written by a newer version";
            case StorageErrc::keyfile_missing:
                return "key file missing";
            case StorageErrc::keyfile_corrupt:
                return "key file damaged";
            case StorageErrc::wrong_passphrase:
                return "wrong passphrase";
            case StorageErrc::locked_out:
                return "too many attempts";
            case StorageErrc::not_found:
                return "no database at this path";
            case StorageErrc::exists:
                return "file already exists";
            case StorageErrc::full:
                return "disk full";
            case StorageErrc::invalid_argument:
                return "invalid argument";
            case StorageErrc::kdf_failed:
                return "key derivation failed";
            case StorageErrc::sqlite:
                return "database error";
        }
        return "unknown storage error";
    }
};
}  // namespace

const std::error_category& StorageErrc_category() {
    static StorageCategory category;
    return category;
}

}  // namespace kolokol::storage
