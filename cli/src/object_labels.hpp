#pragma once
// How the fields and the enumerated values of coordination objects read on screen, in the
// user's language ("status: charged" becomes "статус: обвинён"). Only for display: what is
// stored, typed on the command line (`case set G 3fa9 status=charged`) and printed with --json
// stays the English key.

#include <string>
#include <string_view>

namespace kolokol::cli {

// The label of a field or list of the built-in object types; an unknown one as it is.
std::string field_label(std::string_view field);

// The display of `value` of the enumerated `field` (status, answer, direction, role, urgency,
// verdict); any other field's value, or an unknown value, as it is.
std::string value_label(std::string_view field, std::string_view value);

}  // namespace kolokol::cli
