#pragma once
// Node's private state and helpers, shared by the node_*.cpp files.

#include <map>
#include <memory>
#include <unordered_map>

#include "epoch_keys.hpp"
#include "group_state.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/objects/object_set.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/envelope_store.hpp"
#include "records.hpp"

namespace kolokol::core {

enum class RecordKind : int {
    message = 1,
    membership = 2,
    rotation = 3,
    settings = 4,
    redaction = 5,
    object = 6,
    chunk = 7,
    manifest = 8,
    // A tombstone: the body kept its header (ids, references) but no content.
    redacted = 9,
};
RecordKind kind_of(const pb::RecordBody& body);

// Checks a manifest written by a Node (node_attachments.cpp): nullopt when it is consistent,
// else why not.
std::optional<Error> check_manifest(const pb::AttachmentManifest& manifest);
inline constexpr std::string_view kChunksHashDomain = "kolokol/attachment-chunks/v1";
inline constexpr std::uint64_t kMaxFileBytes = std::uint64_t{4} << 30;  // 4 GiB

struct RecordRow {
    RecordId id{};
    GroupId group{};
    EpochId epoch{};
    MemberKey author{};
    std::uint64_t seq = 0;
    std::optional<RecordId> prev;
    std::uint64_t lamport = 0;
    std::vector<RecordId> heads;
    std::int64_t wall_ms = 0;
};

Bytes join_ids(std::span<const RecordId> ids);
std::vector<RecordId> split_ids(ByteView blob);

struct Node::Impl {
    std::filesystem::path home;
    storage::Database db;
    std::unique_ptr<storage::EnvelopeStore> envelopes;
    Identity identity;
    Card card;
    std::function<std::int64_t()> clock;
    crypto::Random* random = &crypto::system_random();

    std::map<MailboxId, EpochKeys> epochs;  // by mailbox
    std::map<EpochId, MailboxId> epoch_mailbox;
    std::map<GroupId, GenesisInfo> genesis;
    std::map<GroupId, std::unique_ptr<GroupState>> states;
    // Rows applied recently (records never change once applied), to spare lookups at ingest.
    // Anything that deletes records must clear it.
    std::unordered_map<std::string, RecordRow> recent_rows;
    // Records held as pending by this process, kept opened so that waking one does not fetch,
    // decrypt and verify it again (records arriving in id order rather than causal order make
    // this the common case of a first sync). Bounded by kHeldOpenedBytes; a record missing here
    // is simply opened again from the store. Cleared with recent_rows.
    static constexpr std::size_t kHeldOpenedBytes = 96u << 20;
    std::unordered_map<std::string, OpenedRecord> held_opened;
    std::size_t held_opened_bytes = 0;
    void forget_held() {
        held_opened.clear();
        held_opened_bytes = 0;
    }
    // The pending_refs table as maps, read on first use, so that waking held records costs no
    // lookups: who waits for a record, and for how many records each held one still waits.
    // Whatever changes pending_refs other than hold_for() and wake_waiting() must call
    // forget_waits().
    struct Waits {
        bool loaded = false;
        std::unordered_map<std::string, std::vector<RecordId>> by_ref;
        std::unordered_map<std::string, std::size_t> count;
    };
    Waits waits;
    Status load_waits();
    void forget_waits() { waits = {}; }
    // Notes that held record `id` waits for `refs` (in pending_refs and in `waits`).
    Status hold_for(const RecordId& id, std::span<const RecordId> refs);

    std::int64_t now() const { return clock(); }

    Status load();
    const EpochKeys* keys_for_epoch(const EpochId& epoch) const;
    const GroupState& state(const GroupId& group);
    void invalidate(const GroupId& group) { states.erase(group); }
    std::optional<RecordRow> record_row(const RecordId& id);
    bool record_exists(const RecordId& id);

    // Stores the keys of an epoch (inside the caller's transaction) and remembers them.
    Status add_epoch(EpochKeys keys);

    // Builds, seals and ingests one of our own records. `epoch` overrides the writer epoch (a
    // rotation is written in a frontier epoch even when that epoch is tainted).
    Result<RecordId> write(const GroupId& group, pb::RecordBody body,
                           std::optional<EpochId> epoch = std::nullopt);
    // The two halves of write(): fill in the header fields of `body` (group, epoch, author,
    // sequence, references, clocks) and return the epoch to seal it in; then seal.
    Result<EpochId> prepare(const GroupId& group, pb::RecordBody& body,
                            std::optional<EpochId> epoch);
    Bytes seal(const pb::RecordBody& body, const EpochId& epoch);
    Result<RecordId> rotate(const GroupId& group);
    std::optional<EpochId> rotation_epoch(const GroupId& group);

    // One transaction; on failure it is rolled back and what was remembered from it forgotten.
    Result<IngestReport> ingest(std::span<const Bytes> envelopes);
    Result<IngestReport> ingest_batch(std::span<const Bytes> envelopes);
    // One envelope inside ingest's transaction. `opened` is the result of opening it ahead of
    // time on a worker thread, if that was possible; `retry` collects ids to process again.
    Status process(ByteView envelope, std::expected<OpenedRecord, Rejection>* opened,
                   bool from_pending, IngestReport& report, std::vector<RecordId>& retry);
    Status reject(const RecordId& id, RejectReason reason, std::string_view detail,
                  IngestReport& report);
    std::size_t pending_count();
    Status store_envelope(const RecordId& id, const MailboxId& mailbox, ByteView envelope);
    std::vector<RecordId> group_heads(const GroupId& group, std::uint64_t* max_lamport);
    bool record_valid_now(const RecordRow& row);

    // ---- Coordination objects, attachments, redaction, retention (node_objects.cpp,
    // node_attachments.cpp, node_retention.cpp) ----
    // The fold of each group's object records, built on demand; object records applied later
    // fold into it, and it is dropped (to be rebuilt) when a redaction or control record is.
    std::map<GroupId, std::unique_ptr<objects::ObjectSet>> object_sets;
    // Rows in `refetch` (chunk envelopes dropped as damaged); -1 until first counted.
    std::int64_t refetch_rows = -1;
    bool secure_delete_on = false;

    Result<const objects::ObjectSet*> object_set(const GroupId& group);
    // Checks the payload of an object, chunk, manifest or redaction record before it is applied
    // (nullopt when fine, else the reason it is refused) and, for a redaction, who may issue it.
    std::optional<Rejection> check_payload(const RecordId& id, const pb::RecordBody& body,
                                           bool author_admin);
    // What the body to store for a record is: chunk data is not kept twice (it is read from the
    // envelope), everything else as signed.
    void strip_stored(const pb::RecordBody& body, Bytes& signed_record);
    // Inside ingest's transaction, after the record's row is written.
    Status on_applied(const RecordId& id, const GroupId& group, const pb::RecordBody& body,
                      bool author_admin, std::vector<RecordId>& retry);
    // A redaction was seen (even one still waiting for its references): its target no longer
    // blocks records that refer to it, since its envelope may never arrive.
    Status note_redaction(const RecordId& redaction, const GroupId& group,
                          const pb::RecordBody& body, std::vector<RecordId>& retry);
    bool redaction_noted(const RecordId& target);
    // A record whose envelope was dropped as damaged arrived again: store it, true if it did.
    Result<bool> refetched(const RecordId& id, const MailboxId& mailbox, ByteView envelope);
    // Marks a held record whose envelope is gone (dropped as damaged, or lost) so that ingest
    // stores its envelope again when a peer offers it.
    Status want_again(const RecordId& id);
    bool epoch_retired(const EpochId& epoch);
    // Content records older than the group's retention period (by the author's clock).
    bool expired(const GroupId& group, const pb::RecordBody& body);
    // Replaces a record's stored body with a tombstone and drops its envelope (and, for a
    // manifest, its chunks').
    Status tombstone(const RecordId& id);
    Status wake_waiting(const RecordId& ref, std::vector<RecordId>& retry);
    Status enable_secure_delete();
};

}  // namespace kolokol::core
