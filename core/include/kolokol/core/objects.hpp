#pragma once
// Coordination objects as the Node shows them (DESIGN §6): the edit a front end submits, and
// the views it gets back. The fold itself (ObjectView, HistoryEntry, ledger totals, RSVPs) is
// the pure library in core/objects; this header adds what needs the store: attachments as
// held, a case with its derived figures, and what retention removed.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kolokol/core/types.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/objects/attachment.hpp"
#include "kolokol/objects/builtin_types.hpp"
#include "kolokol/objects/object_set.hpp"
#include "kolokol/objects/views.hpp"

namespace kolokol::core {

using objects::HistoryEntry;
using objects::LedgerTotal;
using objects::ListItem;
using objects::ObjectView;
using objects::Rsvp;

// One change to submit: a create (no `object`), field writes, and/or one list append. Checked
// against the built-in types before anything is written (unknown type or field, oversized
// value, bad date/amount/enum all fail with bad_input and the reason).
struct ObjectEdit {
    std::string type;                           // "event", "task", "case", "contact", ...
    std::optional<RecordId> object;             // the object to change; nullopt creates one
    std::map<std::string, std::string> set;     // last-writer-wins writes; "" clears
    std::optional<objects::ListAppend> append;  // one item for timeline, ledger, rsvp, ...
    // Set: mark (true) or unmark (false) the object as carried to members added without
    // history (admins only; may be the whole change).
    std::optional<bool> carry;
};

// An attachment as this member holds it: what its signed manifest says, and which chunks are
// not (yet) here or did not check out. Plain data.
struct AttachmentInfo {
    RecordId manifest_id{};  // the manifest record: what `attachment get` takes
    objects::AttachmentId attachment_id{};
    std::string name;
    std::string media_type;
    std::uint64_t size = 0;
    crypto::Hash32 sha256{};  // of the whole file
    std::uint32_t chunk_count = 0;
    std::optional<RecordId> object;  // the case/report it belongs to
    MemberKey author{};
    std::int64_t wall_ms = 0;  // the author's clock: display only
    // Chunk indexes not held, or held but damaged (their envelopes are dropped so the next sync
    // fetches them again). Empty: the file can be read.
    std::vector<std::uint32_t> missing;

    bool complete() const { return missing.empty(); }
};

// A case with what `case show` and a case bundle need beyond its fields and lists.
struct CaseView {
    ObjectView object;                        // fields; lists "timeline", "ledger", "attachments"
    std::vector<LedgerTotal> totals;          // per (currency, direction), redacted entries skipped
    std::vector<AttachmentInfo> attachments;  // manifests naming this case, oldest first
};

// Called with (bytes done, bytes total) while a file is attached or read; may be empty.
using AttachProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;
// Receives a file's bytes in order, at most 48 KiB at a time; an error stops the read.
using AttachmentSink = std::function<Status(ByteView data)>;

struct AttachOptions {
    std::optional<RecordId> object;  // a case or report: also appended to its "attachments" list
    std::string name;                // shown and used on export; default: the file's name
    std::string media_type;          // optional, e.g. "image/jpeg"
    AttachProgress progress;
};

// A file to attach to an object as it is created or changed (Node::object_change_with_files).
struct FileToAttach {
    std::filesystem::path path;
    std::string name;        // default: the file's name
    std::string media_type;  // optional
};

// What object_change_with_files wrote: the change's record (for a create, the new object's
// id) and each file's manifest, in the order given.
struct ObjectWithFiles {
    RecordId change{};
    std::vector<AttachmentInfo> attachments;
};

// A group's retention period as set, and the one that deletes at this member now: a shorter
// period deletes only once its setting has been held here a day (DESIGN §13.8).
struct RetentionInForce {
    std::uint64_t set_seconds = 0;       // the period set (0 = keep forever)
    std::uint64_t deleting_seconds = 0;  // the period that deletes now (0 = nothing deletes)
    // When the period set starts deleting here, if not yet (0 = it already does).
    std::int64_t from_ms = 0;
};

struct RetentionReport {
    std::size_t records = 0;    // expired records deleted (rows and envelopes)
    std::size_t envelopes = 0;  // envelopes deleted, including unreadable ones past the period
    std::size_t epochs = 0;     // epoch secrets deleted
};

}  // namespace kolokol::core
