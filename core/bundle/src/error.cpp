#include "kolokol/bundle/error.hpp"

#include <string>

namespace kolokol::bundle {

namespace {

class BundleCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "bundle"; }
    std::string message(int value) const override {
        switch (static_cast<BundleErrc>(value)) {
            case BundleErrc::ok:
                return KOLOKOL_TEXT("success");
            case BundleErrc::bad_input:
                return KOLOKOL_TEXT("invalid bundle input");
            case BundleErrc::not_a_bundle:
                return KOLOKOL_TEXT("not a case bundle");
            case BundleErrc::unsafe_entry:
                return KOLOKOL_TEXT("unsafe entry in the bundle");
            case BundleErrc::too_large:
                return KOLOKOL_TEXT("bundle entry over the limits");
            case BundleErrc::hash_mismatch:
                return KOLOKOL_TEXT("bytes do not match their SHA-256");
            case BundleErrc::io:
                return KOLOKOL_TEXT("input/output error");
        }
        return KOLOKOL_TEXT("unknown bundle error");
    }
};

}  // namespace

const std::error_category& BundleErrc_category() {
    static const BundleCategory category;
    return category;
}

}  // namespace kolokol::bundle
