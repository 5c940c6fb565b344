#pragma once
// Node's private state and helpers, shared by the node_*.cpp files.

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "domains.hpp"
#include "epoch_keys.hpp"
#include "group_state.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/objects/object_set.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/envelope_store.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "kolokol/storage/store_guard.hpp"
#include "record_store.hpp"
#include "records.hpp"
#include "worker_pool.hpp"

namespace kolokol::core {

RecordKind kind_of(const pb::RecordBody& body);

// Checks a manifest written by a Node (node_attachments.cpp): nullopt when it is consistent,
// else why not.
std::optional<Error> check_manifest(const pb::AttachmentManifest& manifest);
inline constexpr std::uint64_t kMaxFileBytes = std::uint64_t{4} << 30;  // 4 GiB

// Binds an epoch's row for "INSERT … INTO epochs(epoch_id, group_id, mailbox, secret,
// control_key, mailbox_seed, file_key, added_ms)": parameters 1-7, the keys sealed
// (storage::Database::seal_secret); the caller binds added_ms.
Status bind_epoch_keys(storage::Database& db, storage::Statement& st, const EpochKeys& keys);

// Brings the network component's tables up to date (node_network.cpp); not inside a
// transaction.
Status ensure_network_schema(storage::Database& db);
// When this store received the relay-list change `id` (§5.8, §16): the earlier of its own
// time and the one a backup it was restored from carried (the time the change was held before
// the backup, counted back from the restore) (node_network.cpp).
std::optional<std::int64_t> relay_change_received_ms(Node::Impl& m, const RecordId& id);
// Keeps that time for `id` (the earlier one, if a time is held already); the table is made by
// ensure_network_schema, which runs outside a transaction.
Status carry_relay_received(storage::Database& db, const RecordId& id, std::int64_t received_ms);

// What keeping an unverified envelope counts against the quota: its bytes plus what its rows
// cost, and for a waiting record what each reference it waits for costs (node_quota.cpp).
std::size_t unverified_charge(std::size_t envelope_bytes, std::size_t references);
// Runs `sql`, a statement with the one parameter ?1, once for each id.
Status delete_by_id(storage::Database& db, std::string_view sql, std::span<const RecordId> ids);
// Makes every record written while it is open part of one transaction, so that an object and
// its attachments are stored all or nothing: a full disk, a file that cannot be read or a
// refused record half-way leave the store as it was. Scopes nest (an inner one is part of the
// outer one). Rolled back by the destructor unless commit() succeeded; a rollback also gives
// the write-ahead log's space back. Holds the store's write lock while open.
class WriteScope {
public:
    static Result<WriteScope> open(Node::Impl& impl);
    ~WriteScope();
    WriteScope(WriteScope&& other) noexcept;
    WriteScope& operator=(WriteScope&&) = delete;
    WriteScope(const WriteScope&) = delete;
    WriteScope& operator=(const WriteScope&) = delete;

    // Commits (an inner scope: leaves that to the outer one). `large` gives the write-ahead
    // log's space back after the commit.
    Status commit(bool large = false);

private:
    WriteScope(Node::Impl* impl, bool outer) : m_impl(impl), m_outer(outer) {}
    Node::Impl* m_impl = nullptr;
    bool m_outer = false;
    bool m_done = false;
};

// Where an author's own chain of records forks (node_chains.cpp): the first sequence number
// held twice, how many records carry it (the branches), and the branch of each of the author's
// records from there on (1..branches; 0 when its previous record is not held).
struct ChainFork {
    std::uint64_t seq = 0;
    std::uint32_t branches = 0;
    std::map<RecordId, std::uint32_t> branch;
};

struct Node::Impl {
    std::filesystem::path home;
    storage::KeyFileSeen key_file;  // as the unlock read it, for guard_store()
    storage::Database db;
    // The records, heads and pending tables of `db`; bodies stored once are opened with the
    // epoch keys held.
    RecordStore records{db, [this](const EpochId& epoch, ByteView envelope) {
                            const auto* keys = keys_for_epoch(epoch);
                            return keys ? open_stored_body(envelope, *keys) : std::nullopt;
                        }};
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
    void invalidate(const GroupId& group) {
        states.erase(group);
        control_changed.insert(group);
        redactions_to_recheck.insert(group);
    }
    // Groups whose control records changed since their dropped_held records were judged last.
    std::set<GroupId> control_changed;
    std::optional<RecordRow> record_row(const RecordId& id);
    // Refuses a plain removal or demotion of `member` that would leave fewer admins than the
    // quorum (§5.10).
    Status keeps_quorum_admins(const GroupId& group, const MemberKey& member);
    // The cutoff of a burn notice with a detention time (node_groups.cpp): `member`'s last record
    // on the chain of their latest one that comes before the first record of that chain stamped
    // after `at_ms` or with a record so stamped in its causal past. nullopt when none does.
    Result<std::optional<RecordRow>> burn_cutoff(const GroupId& group, const MemberKey& member,
                                                 std::int64_t at_ms);
    // What every change of a member by an admin checks first: the group is held and `member`
    // is a member (else not_found); then whether this member is an admin there.
    Result<bool> admin_over(const GroupId& group, const MemberKey& member);
    // Sets `op`'s cutoff to `row` (a removal's or demotion's, §5.4), when there is one.
    static void set_cutoff(pb::MembershipOp& op, const std::optional<RecordRow>& row);
    // Posts the alert of a burn notice that has just taken effect (in the writer epoch).
    // `name`: the member's display name (they are no member any more when it is posted).
    Status post_burn_alert(const GroupId& group, const std::string& name, std::string_view text);
    bool record_exists(const RecordId& id);

    // Reads every epoch's keys from the store into `epochs` and `epoch_mailbox`, afresh: after a
    // transaction that added keys was rolled back.
    Status load_epochs();
    // Stores the keys of an epoch (inside the caller's transaction) and remembers them. Held
    // keys are never replaced: a grant that disagrees with them (another secret or control key
    // for the epoch, the epoch under another group, or keys that another epoch holds) fails
    // with CoreErrc::conflict and changes nothing. One that agrees may add the secret to
    // control-only access (not to an epoch retention retired), and a better source vouches for
    // the held keys (a rotation's grant for a token's). `added_ms` defaults to now.
    Status add_epoch(EpochKeys keys, std::optional<std::int64_t> added_ms = std::nullopt);
    // This member's grant in an applied rotation record, if it has one: its key is stored, and
    // envelopes that waited for it are queued in `retry`. A grant that disagrees with the key
    // held is noted (RejectReason::key_conflict under the rotation's id). If only a welcome
    // token vouched for that key, the token lied: it is refused (refuse_token) and the grant
    // taken; otherwise the held key is kept.
    Status take_grant(const RecordId& rotation, const GroupId& group, const pb::Rotation& body,
                      std::vector<RecordId>& retry);
    // This member's control grant in an applied rotation record, taken only while its
    // admission to the group waits (§5.10): control access to the new epoch, stored as a
    // waiting token's key (dropped with the token if the add never admits this member), and
    // envelopes that waited for it queued in `retry`. A grant that does not open is ignored;
    // one that disagrees with a key held is noted (key_conflict) and the held key kept.
    Status take_control_grant(const RecordId& rotation, const GroupId& group,
                              const pb::Rotation& body, std::vector<RecordId>& retry);

    // ---- Key updates (node_key_updates.cpp, §5.13) ----
    struct HeldBoxKey {
        crypto::BoxKeyPair pair;
        std::int64_t order = 0;  // its box_keys rowid: the order keys were made in
    };
    // The box secrets of this member's key updates still kept (of `group`, or of every
    // group), newest first.
    Result<std::vector<HeldBoxKey>> held_box_keys(const GroupId* group);
    // Visits the opened body of every record of `group` held for missing references
    // (node_audit.cpp).
    Status each_held_body(const GroupId& group,
                          const std::function<void(const RecordId&, const pb::RecordBody&)>& visit);
    // Erases the group's box secrets made before the one of rowid `order`.
    Status erase_box_keys_before(const GroupId& group, std::int64_t order);
    // The groups whose rekey interval has passed since this device's last key update there
    // (or since it joined).
    Result<std::vector<GroupId>> rekey_due();

    // ---- Welcome tokens and admissions (node_welcome.cpp) ----
    enum class AdmissionState : int { waiting = 0, confirmed = 1, refused = 2 };
    struct Admission {
        RecordId add_record{};
        MemberKey inviter{};
        std::string inviter_name;
        AdmissionState state = AdmissionState::waiting;
        std::string detail;  // why it was refused
    };
    Result<std::optional<Admission>> admission(const GroupId& group);
    // Judges the group's waiting admission, if any, against the control records held (inside
    // the caller's transaction): confirmed, its keys become KeySource::token; refused, they are
    // dropped and this member's grants in the rotations held are taken again (what waited for
    // them is queued in `retry`). Returns the state afterwards (nullopt: none).
    Result<std::optional<AdmissionState>> settle_admission(const GroupId& group,
                                                           std::vector<RecordId>& retry);
    // settle_admission() for every group with a waiting admission (ingest, before it commits).
    Status settle_admissions(std::vector<RecordId>& retry);
    // Marks the group's admission refused with `why`, deletes the keys tokens gave (only a
    // waiting token's unless `admitted_too`) and the relays tokens named, and takes this
    // member's grants in the rotations held again.
    Status refuse_token(const GroupId& group, const std::string& why, bool admitted_too,
                        std::vector<RecordId>& retry);
    // Deletes the group's keys that a waiting token gave (and, with `admitted_too`, that an
    // admitted one gave), in the store and in memory.
    Status drop_token_keys(const GroupId& group, bool admitted_too);
    // Builds a welcome token for `invitee` naming `add` (written in `add_epoch`): every epoch of
    // the group this admin holds, with its secret where `full(epoch)` says, else control access.
    Result<std::string> welcome_token(const GroupId& group, const MemberKey& invitee,
                                      const crypto::BoxPublicKey& invitee_box, const RecordId& add,
                                      const EpochId& add_epoch,
                                      const std::function<bool(const EpochKeys&)>& full);

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
    // Adds to `rotation` a control grant of the new epoch's `keys` (control key, mailbox seed,
    // file key; never the secret) for each newcomer whose add waits for approvals in `g`,
    // sealed to the add's box key, in the order the adds were proposed, as many as fit
    // (§5.10): the approval and the rotation that admits them are written in that epoch.
    void add_control_grants(const GroupState& g, const EpochKeys& keys, pb::Rotation& rotation);
    // Writes a carried copy (DESIGN §13.9) of each object an admin marked as carried into the
    // writer epoch: after the rotation that adds a member without history.
    Status write_carried(const GroupId& group);
    std::optional<EpochId> rotation_epoch(const GroupId& group);

    // One transaction (or a part of the open write scope's); on failure it is rolled back and
    // what was remembered from it forgotten.
    Result<IngestReport> ingest(std::span<const Bytes> envelopes);
    // The transaction of the open WriteScope, if any: ingest writes into it instead of its own.
    std::optional<storage::Database::Transaction> scope_tx;
    bool scope_failed = false;  // an inner scope ended without committing: the outer one fails
    // Forgets everything remembered from rows that a rollback took back.
    void forget_uncommitted();
    Result<IngestReport> ingest_batch(std::span<const Bytes> envelopes);
    // One envelope inside ingest's transaction: check(), then hold() when references are
    // missing, else judge() and apply(). `opened` is the result of opening it ahead of time on
    // a worker thread, if that was possible; `retry` collects ids to process again.
    Status process(ByteView envelope, std::expected<OpenedRecord, Rejection>* opened,
                   bool from_pending, IngestReport& report, std::vector<RecordId>& retry);
    // An opened record that passed check(): its epoch's keys (owned by `epochs`), and which of
    // its references are held (their clocks) or missing.
    struct Candidate {
        RecordId id{};
        MailboxId mailbox{};
        OpenedRecord rec;
        const EpochKeys* keys = nullptr;
        std::vector<RecordId> missing;
        std::vector<std::uint64_t> ref_lamports;
    };
    // The envelope's own checks: malformed, seen before, retired, unreadable (kept within the
    // quota), failing to open or verify (rejected), expired. nullopt when one of those dealt
    // with it; else the record and its references.
    Result<std::optional<Candidate>> check(ByteView envelope,
                                           std::expected<OpenedRecord, Rejection>* opened,
                                           bool from_pending, IngestReport& report,
                                           std::vector<RecordId>& retry);
    // Keeps a record whose references are missing (pending) until they arrive, within the
    // unverified quota for non-members.
    Status hold(Candidate& c, ByteView envelope, bool from_pending, IngestReport& report);
    // The record at its causal position: clocks above its references, its author's chain, a
    // member (an admin for control records) writing in a current epoch, a valid payload. The
    // author's admin flag, or why it is refused.
    std::expected<bool, Rejection> judge(const Candidate& c);
    // Stores a judged record, updates the heads and wakes what waited for it.
    Status apply(Candidate& c, bool author_admin, ByteView envelope, bool from_pending,
                 IngestReport& report, std::vector<RecordId>& retry);
    Status reject(const RecordId& id, RejectReason reason, std::string_view detail,
                  IngestReport& report);
    // Keeps a content record refused as `removed_author` so that it stands again if that removal
    // goes void (§5.4): its row, and its envelope within the unverified quota. Beyond the quota
    // the row alone, up to these many rows of one author and of one group (then over_quota).
    Status hold_dropped(const Candidate& c, ByteView envelope, bool from_pending,
                        IngestReport& report);
    static constexpr std::int64_t kDroppedRowsPerAuthor = 20'000;
    static constexpr std::int64_t kDroppedRowsPerGroup = 100'000;
    std::int64_t dropped_rows_per_author = kDroppedRowsPerAuthor;  // tests lower them
    std::int64_t dropped_rows_per_group = kDroppedRowsPerGroup;
    // Rows forgotten at once when the group's rows are full (RecordStore::evict_dropped).
    static constexpr std::int64_t kDroppedEvictBatch = 1'024;
    // Judges again the kept `removed_author` records of the groups in `control_changed`; those
    // no longer dropped go through ingest again (applied, or held for references).
    Status rejudge_dropped(IngestReport& report, std::vector<RecordId>& retry);
    std::size_t pending_count();
    // Stores an envelope (kept when already held); with `seq`, the seq it was stored at when new,
    // else nullopt.
    Status store_envelope(const RecordId& id, const MailboxId& mailbox, ByteView envelope,
                          std::optional<std::int64_t>* seq = nullptr);

    // ---- The unverified quota (node_quota.cpp) ----
    // Ids refused for the quota by the current ingest() call (carriers answer "not stored").
    std::vector<RecordId> refused;
    std::optional<std::uint64_t> quota_cache;
    std::uint64_t unverified_quota();
    Result<UnverifiedUsage> unverified_usage();
    // Whether `bytes` more fit under the quota.
    Result<bool> unverified_fits(std::size_t bytes);
    // Counts a stored envelope as unverified (inside ingest's transaction), or stops counting it.
    Status note_unverified(const RecordId& id, std::size_t bytes);
    Status forget_unverified(const RecordId& id);
    // True while `unverified` is known to be empty: read inside an ingest batch's transaction
    // (nobody else writes then), false again when a row is added or the batch ends, so that
    // applying a record asks nothing of the table when nothing counts against the quota.
    bool unverified_empty = false;
    void refuse_over_quota(const RecordId& id, IngestReport& report);
    // An envelope this member cannot open: kept unopened, counted against the quota, or refused
    // when it does not fit.
    Status keep_unreadable(const RecordId& id, const MailboxId& mailbox, ByteView envelope,
                           bool from_pending, IngestReport& report);
    // Inside a transaction: deletes unverified envelopes, newest first, until the rest fit in
    // `quota` (with their pending rows; forgets the cached waits and held records).
    Status drop_unverified_over(std::uint64_t quota);
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
    // Targets of redactions applied in the current batch, tombstoned at its end by
    // settle_redactions() if a redaction of theirs still stands then: one whose author's removal
    // comes later in the same batch (catching up in Lamport order) deletes nothing.
    std::vector<RecordId> redact_later;
    // Groups whose control records changed in the current batch: the targets of their redaction
    // notes are judged again by settle_redactions(), both ways (restored when no redaction of
    // them stands, tombstoned again when one stands again).
    std::set<GroupId> redactions_to_recheck;
    // Whether an applied redaction of `target` (whose row is given) stands now: valid at the
    // current group state (its author not dropped) and written by the target's author or by an
    // admin at its position.
    bool redaction_stands(const RecordId& target, const RecordRow& target_row);
    // At the end of an ingest batch: tombstones what redact_later holds if it is still redacted,
    // and, in the groups of redactions_to_recheck, undoes the tombstones no redaction stands for
    // any more and makes again those a redaction stands for again (§5.4, §13.7).
    Status settle_redactions();
    // Forgets a tombstoned record, and the chunks of a tombstoned manifest, so that the next sync
    // fetches their envelopes again and ingests them as new (their redaction is void).
    Status restore_redacted(const RecordId& target, const RecordRow& row);
    // Whether `id` was refused because its author was no member at its position (not_member,
    // removed_author): references to it are cut, not waited for.
    bool rejected_for_membership(const RecordId& id);
    // A record whose envelope was dropped as damaged arrived again: store it, true if it did.
    Result<bool> refetched(const RecordId& id, const MailboxId& mailbox, ByteView envelope);
    // Marks a held record whose envelope is gone (dropped as damaged, or lost) so that ingest
    // stores its envelope again when a peer offers it.
    Status want_again(const RecordId& id);
    bool epoch_retired(const EpochId& epoch);
    // Content records older than the group's retention period (by the author's clock).
    bool expired(const GroupId& group, const pb::RecordBody& body);
    // How long a retention setting that shortens the period is held here before it deletes
    // anything: time for its author's removal, if there is one, to arrive (§13.8).
    static constexpr std::int64_t kRetentionSettleMs = 24LL * 3600 * 1000;
    // The period that deletes in `group` now (or at `at_ms`): the group's settings taken in
    // order, each one that shortens the period in force skipped while it has been held here
    // for less than kRetentionSettleMs, whoever wrote it (this member's own key included: a
    // seized copy of the home signs with it too).
    std::uint64_t deleting_retention(const GroupId& group);
    std::uint64_t deleting_retention(const GroupId& group, std::int64_t at_ms);
    // Replaces a record's stored body with a tombstone and drops its envelope (and, for a
    // manifest, its chunks').
    Status tombstone(const RecordId& id);
    Status wake_waiting(const RecordId& ref, std::vector<RecordId>& retry);
    Status enable_secure_delete();

    // ---- Views compared in direct sessions (node_views.cpp, §5.12) ----
    // The digest and count of the group's valid control records.
    std::pair<ByteArray<32>, std::uint64_t> control_view(const GroupId& group);
    // The mailbox a client speaks for the group on: its writer epoch's, else the smallest of
    // the frontier epochs held.
    std::optional<MailboxId> view_mailbox(const GroupId& group);
    // This member's sealed, signed view for the group of `mailbox` (nullopt: not a member, or
    // a client asked for another mailbox than view_mailbox), and the peer's, compared and kept.
    Result<std::optional<Bytes>> view_token(const MailboxId& mailbox, ByteView handshake_hash,
                                            bool server);
    Result<bool> take_peer_view(const MailboxId& mailbox, ByteView handshake_hash, ByteView token,
                                bool server);

    // ---- Forked chains: one identity writing from two devices (node_chains.cpp) ----
    // nullopt when the author's chain in this group has no sequence number twice.
    Result<std::optional<ChainFork>> chain_fork(const GroupId& group, const MemberKey& author);
    // Sets device/devices on the messages written on a fork's branches.
    Status mark_forks(const GroupId& group, std::vector<MessageView>& messages);

    // Opens and verifies ingest's envelopes ahead of the sequential phase; started with the
    // first batch large enough to share, then kept as long as the node.
    std::unique_ptr<WorkerPool> open_pool;

    // Last, so that it stops first: its thread reads nothing of the above, but on_gone may.
    std::unique_ptr<storage::StoreGuard> guard;
};

}  // namespace kolokol::core
