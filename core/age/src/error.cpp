#include "kolokol/age/error.hpp"

#include <string>

namespace kolokol::age {

namespace {

class AgeCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "age"; }
    std::string message(int value) const override {
        switch (static_cast<AgeErrc>(value)) {
            case AgeErrc::ok:
                return KOLOKOL_TEXT("success");
            case AgeErrc::no_match:
                return KOLOKOL_TEXT("no identity matched any of the recipients");
            case AgeErrc::hmac_failure:
                return KOLOKOL_TEXT("bad header MAC");
            case AgeErrc::header_failure:
                return KOLOKOL_TEXT("invalid age header");
            case AgeErrc::payload_failure:
                return KOLOKOL_TEXT("failed to decrypt and authenticate payload");
            case AgeErrc::armor_unsupported:
                return KOLOKOL_TEXT("ASCII-armored age files are not supported");
            case AgeErrc::io:
                return KOLOKOL_TEXT("input/output error");
            case AgeErrc::invalid_key:
                return KOLOKOL_TEXT("invalid age key");
            case AgeErrc::invalid_argument:
                return KOLOKOL_TEXT("invalid argument");
        }
        return KOLOKOL_TEXT("unknown age error");
    }
};

}  // namespace

const std::error_category& age_category() {
    static const AgeCategory category;
    return category;
}

}  // namespace kolokol::age
