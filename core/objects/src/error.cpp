#include "kolokol/objects/error.hpp"

namespace kolokol::objects {

namespace {
class ObjectCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "kolokol.objects"; }
    std::string message(int code) const override {
        switch (static_cast<ObjectErrc>(code)) {
            case ObjectErrc::ok:
                return KOLOKOL_TEXT("ok");
            case ObjectErrc::unknown_type:
                return KOLOKOL_TEXT("unknown object type");
            case ObjectErrc::unknown_field:
                return KOLOKOL_TEXT("unknown field");
            case ObjectErrc::oversized_field:
                return KOLOKOL_TEXT("field value too long");
            case ObjectErrc::bad_value:
                return KOLOKOL_TEXT("invalid field value");
            case ObjectErrc::list_not_allowed:
                return KOLOKOL_TEXT("list not allowed for this type");
            case ObjectErrc::too_many_fields:
                return KOLOKOL_TEXT("too many fields in one change");
            case ObjectErrc::missing_field:
                return KOLOKOL_TEXT("required field missing");
            case ObjectErrc::malformed_change:
                return KOLOKOL_TEXT("malformed change");
            case ObjectErrc::type_mismatch:
                return KOLOKOL_TEXT("change does not match the object's type");
            case ObjectErrc::bad_manifest:
                return KOLOKOL_TEXT("invalid attachment manifest");
            case ObjectErrc::chunk_missing:
                return KOLOKOL_TEXT("attachment chunk missing");
            case ObjectErrc::chunk_corrupt:
                return KOLOKOL_TEXT("attachment chunk corrupt");
            case ObjectErrc::hash_mismatch:
                return KOLOKOL_TEXT("attachment does not match its SHA-256");
            case ObjectErrc::too_large:
                return KOLOKOL_TEXT("attachment too large");
            case ObjectErrc::io_error:
                return KOLOKOL_TEXT("attachment input/output failed");
            case ObjectErrc::sink_failed:
                return KOLOKOL_TEXT("attachment chunk could not be stored");
            case ObjectErrc::malformed_payload:
                return KOLOKOL_TEXT("malformed object payload");
        }
        return KOLOKOL_TEXT("unknown objects error");
    }
};
}  // namespace

const std::error_category& ObjectErrc_category() {
    static const ObjectCategory category;
    return category;
}

}  // namespace kolokol::objects
