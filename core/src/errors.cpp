#include "kolokol/core/errors.hpp"

#include <string>

namespace kolokol::core {

namespace {
struct CoreCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.core"; }
    std::string message(int c) const override {
        switch (static_cast<CoreErrc>(c)) {
            case CoreErrc::bad_input:
                return KOLOKOL_TEXT("bad input");
            case CoreErrc::not_found:
                return KOLOKOL_TEXT("not found");
            case CoreErrc::not_permitted:
                return KOLOKOL_TEXT("not permitted");
            case CoreErrc::no_store:
                return KOLOKOL_TEXT("no store here");
            case CoreErrc::wrong_passphrase:
                return KOLOKOL_TEXT("wrong passphrase");
            case CoreErrc::corrupt_store:
                return KOLOKOL_TEXT("the store is damaged");
            case CoreErrc::exists:
                return KOLOKOL_TEXT("already exists");
            case CoreErrc::no_epoch:
                return KOLOKOL_TEXT("no epoch to write in");
            case CoreErrc::io:
                return KOLOKOL_TEXT("input/output error");
            case CoreErrc::conflict:
                return KOLOKOL_TEXT("contradicts what the store holds");
            case CoreErrc::store_gone:
                return KOLOKOL_TEXT("the store was erased");
        }
        return KOLOKOL_TEXT("unknown error");
    }
};
}  // namespace

const std::error_category& CoreErrc_category() {
    static CoreCategory category;
    return category;
}

}  // namespace kolokol::core
