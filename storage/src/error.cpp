#include "kolokol/storage/error.hpp"

#include <string>

namespace kolokol::storage {

namespace {
struct StorageCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.storage"; }
    std::string message(int c) const override {
        switch (static_cast<StorageErrc>(c)) {
            case StorageErrc::io:
                return KOLOKOL_TEXT("input/output error");
            case StorageErrc::not_a_database:
                return KOLOKOL_TEXT("wrong key or not a database");
            case StorageErrc::corrupt:
                return KOLOKOL_TEXT("the database is damaged");
            case StorageErrc::busy:
                return KOLOKOL_TEXT("the database is busy");
            case StorageErrc::constraint:
                return KOLOKOL_TEXT("constraint violated");
            case StorageErrc::schema_too_new:
                return KOLOKOL_TEXT("the store was written by a newer version");
            case StorageErrc::keyfile_missing:
                return KOLOKOL_TEXT("key file missing");
            case StorageErrc::keyfile_corrupt:
                return KOLOKOL_TEXT("key file damaged");
            case StorageErrc::wrong_passphrase:
                return KOLOKOL_TEXT("wrong passphrase");
            case StorageErrc::locked_out:
                return KOLOKOL_TEXT("too many attempts");
            case StorageErrc::not_found:
                return KOLOKOL_TEXT("no database at this path");
            case StorageErrc::exists:
                return KOLOKOL_TEXT("file already exists");
            case StorageErrc::full:
                return KOLOKOL_TEXT("disk full");
            case StorageErrc::invalid_argument:
                return KOLOKOL_TEXT("invalid argument");
            case StorageErrc::kdf_failed:
                return KOLOKOL_TEXT("key derivation failed");
            case StorageErrc::sqlite:
                return KOLOKOL_TEXT("database error");
            case StorageErrc::erased:
                return KOLOKOL_TEXT("the store was erased");
        }
        return KOLOKOL_TEXT("unknown storage error");
    }
};
}  // namespace

const std::error_category& StorageErrc_category() {
    static StorageCategory category;
    return category;
}

}  // namespace kolokol::storage
