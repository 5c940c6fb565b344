#include "kolokol/objects/error.hpp"

namespace kolokol::objects {

namespace {
class ObjectCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "kolokol.objects"; }
    std::string message(int code) const override {
        switch (static_cast<ObjectErrc>(code)) {
            case ObjectErrc::ok:
                return "ok";
            case ObjectErrc::unknown_type:
                return "unknown object type";
            case ObjectErrc::unknown_field:
                return "unknown field";
            case ObjectErrc::oversized_field:
                return "field value too long";
            case ObjectErrc::bad_value:
                return "invalid field value";
            case ObjectErrc::list_not_allowed:
                return "list not allowed for this type";
            case ObjectErrc::too_many_fields:
                return "too many fields in one change";
            case ObjectErrc::missing_field:
                return "required field missing";
            case ObjectErrc::malformed_change:
                return "malformed change";
            case ObjectErrc::type_mismatch:
                return "change does not match the object's type";
            case ObjectErrc::bad_manifest:
                return "invalid attachment manifest";
            case ObjectErrc::chunk_missing:
                return "attachment chunk missing";
            case ObjectErrc::chunk_corrupt:
                return "attachment chunk corrupt";
            case ObjectErrc::hash_mismatch:
                return "attachment does not match its SHA-256";
            case ObjectErrc::too_large:
                return "attachment too large";
            case ObjectErrc::io_error:
                return "attachment input/output failed";
            case ObjectErrc::sink_failed:
                return "attachment chunk could not be stored";
            case ObjectErrc::malformed_payload:
                return "malformed object payload";
        }
        return "unknown objects error";
    }
};
}  // namespace

const std::error_category& ObjectErrc_category() {
    static const ObjectCategory category;
    return category;
}

}  // namespace kolokol::objects
