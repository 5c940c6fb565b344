#pragma once
// Membership changes waiting for admins' approvals (docs/design.md §5.10) as the CLI and the
// chat show them: one line per proposal, and the proposal a command just wrote.

#include <cstdint>
#include <optional>
#include <string>

#include "kolokol/core/node.hpp"

namespace kolokol::cli {

// The id as shown and typed: its first 4 bytes in hex ("3fa9c2d1").
std::string proposal_id_text(const core::RecordId& id);
// A burn notice's detention time: "2001-01-01 00:00 UTC".
std::string proposal_time_text(std::int64_t ms);
// What it changes, translated: "add Zoya Orlova as an admin", "set the quorum to 3".
std::string proposal_change(core::Node& node, const core::ProposalView& p);
// The group alert a burn notice posts where it takes effect, translated: `at` is the detention
// time as shown (empty when not known).
std::string burn_alert_text(const std::string& name, const std::string& at);
// The alert for `p` when it is a burn notice (empty otherwise), for Node::approve.
std::string proposal_alert(core::Node& node, const core::ProposalView& p);
// "3fa9c2d1  add Zoya Orlova  proposed by Anna Petrova  1 of 2 approvals" (and "you approved"
// when this member is among its approvers).
std::string proposal_line(core::Node& node, const core::ProposalView& p);
// The newest waiting proposal of this member of `kind` about `target` (a zero target for a
// quorum change), or nullopt when the change took effect at once.
std::optional<core::ProposalView> own_waiting(core::Node& node, const core::GroupId& group,
                                              core::ProposalView::Kind kind,
                                              const core::MemberKey& target);

}  // namespace kolokol::cli
