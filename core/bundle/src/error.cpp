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
                return "success";
            case BundleErrc::bad_input:
                return "invalid bundle input";
            case BundleErrc::not_a_bundle:
                return "not a case bundle";
            case BundleErrc::unsafe_entry:
                return "unsafe entry in the bundle";
            case BundleErrc::too_large:
                return "bundle entry over the limits";
            case BundleErrc::hash_mismatch:
                return "bytes do not match their SHA-256";
            case BundleErrc::io:
                return "input/output error";
        }
        return "unknown bundle error";
    }
};

}  // namespace

const std::error_category& BundleErrc_category() {
    static const BundleCategory category;
    return category;
}

}  // namespace kolokol::bundle
