#pragma once
// summary.txt of a case bundle: the cases written out for a lawyer to read — fields, the
// timeline in the order things happened, the ledger with totals, the charges, the people, the
// files — in the exporter's language and local time zone.

#include <span>
#include <string>
#include <utility>

#include "kolokol/bundle/bundle.hpp"
#include "kolokol/core/node.hpp"

namespace kolokol::cli {

// The summary of `cases` (group, case id) as the exporter's store holds them; `now_ms` is the
// export time. Throws CommandError as the object commands do.
bundle::Summary case_summary(core::Node& node,
                             std::span<const std::pair<core::GroupId, core::RecordId>> cases,
                             std::int64_t now_ms);

}  // namespace kolokol::cli
