#pragma once
// A case as the Node holds it, turned into what a bundle carries: every field with who set it
// and when, the timeline, the ledger with its totals, the full history of changes, and the
// attachments streamed out of the store with bounded memory.

#include "kolokol/bundle/bundle.hpp"
#include "kolokol/core/node.hpp"

namespace kolokol::bundle {

// Reads the case `case_id` of `group`. The returned readers refer to `node`, which must
// outlive them. Fails with the Node's errors (not_found when it is not a case of the group),
// or bad_input naming an attachment whose chunks are not all here ("sync first").
Result<CaseExport> case_export(core::Node& node, const core::GroupId& group,
                               const core::RecordId& case_id);

// The Node's identity as a bundle signer (its card and Node::sign_bundle). `node` must outlive
// the returned signer.
Signer node_signer(core::Node& node);

}  // namespace kolokol::bundle
