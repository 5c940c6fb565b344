#include "kolokol/core/errors.hpp"

#include <string>

namespace kolokol::core {

namespace {
struct CoreCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.core"; }
    std::string message(int c) const override {
        switch (static_cast<CoreErrc>(c)) {
            case CoreErrc::bad_input:
                return "bad input";
            case CoreErrc::not_found:
                return "not found";
            case CoreErrc::not_permitted:
                return "not permitted";
            case CoreErrc::no_store:
                return "no store here";
            case CoreErrc::wrong_passphrase:
                return "wrong passphrase";
            case CoreErrc::corrupt_store:
                return "the store is damaged";
            case CoreErrc::exists:
                return "already exists";
            case CoreErrc::no_epoch:
                return "no epoch to write in";
            case CoreErrc::io:
                return "input/output error";
            case CoreErrc::conflict:
                return "contradicts what the store holds";
        }
        return "unknown error";
    }
};
}  // namespace

const std::error_category& CoreErrc_category() {
    static CoreCategory category;
    return category;
}

}  // namespace kolokol::core
