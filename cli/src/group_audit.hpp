#pragma once
// One view of the group (docs/design.md §5.12): `kolokol group audit`, and the warning `sync`
// gives when other members' records name control records that never reached this member.

#include <string>

#include "kolokol/core/node.hpp"

namespace kolokol::cli {

// What a control record did, translated: "add Dan Orlov", "set the retention to 30 days".
std::string control_change(core::Node& node, const core::ControlEntry& e);
// A retention period, translated: "delete records 30 days after they were written".
std::string retention_text(std::uint64_t seconds);
// One line per control record still missing in `group` (named `name`), for standard error:
// which record, who named it, since when. Empty when none is missing.
std::string missing_control_text(core::Node& node, const std::string& name,
                                 const std::vector<core::MissingControl>& missing);
// After a sync: warns on standard error, for every group this member belongs to, of control
// records other members' records name that are still missing. Returns how many there are.
std::size_t warn_missing_control(core::Node& node);
// After a sync: warns on standard error of each comparison with another member in a direct
// session made since `since_ms` that found different views (§5.12). Returns how many.
std::size_t warn_view_differences(core::Node& node, std::int64_t since_ms);
// A quorum set above the number of admins is void (docs/design.md §5.10): the warning for
// `group` ("" when there is none), and every group's on stderr, counted.
std::string void_quorum_text(core::Node& node, const core::GroupId& group, const std::string& name);
std::size_t warn_void_quorums(core::Node& node);

}  // namespace kolokol::cli
