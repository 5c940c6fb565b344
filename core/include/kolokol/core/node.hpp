#pragma once
// Node: the facade a front end drives. One Node owns one unlocked store (a home directory):
// the member's identity, their groups and epoch keys, every envelope they hold, and the records
// opened from them. Not thread-safe: use a Node from one thread at a time.
//
// Home layout: <home>/ (0700) holding store.key (the two-slot key file) and store.db (SQLCipher,
// with its -wal/-shm files). Nothing else is written there.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "kolokol/core/errors.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/core/objects.hpp"
#include "kolokol/core/sync_parts.hpp"
#include "kolokol/core/types.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/storage/keyfile.hpp"

namespace kolokol::transport {
class Replica;
struct MailboxKey;
}  // namespace kolokol::transport

namespace kolokol::core {

enum class KdfProfile {
    tuned,  // both slot derivations take about a second on this machine (the default)
    fast,   // the smallest Argon2id cost: tests and very weak devices only
};

struct InitOptions {
    std::string display_name;
    ByteView passphrase;
    std::optional<ByteView> duress_passphrase;
    KdfProfile kdf = KdfProfile::tuned;
    // Milliseconds since the Unix epoch; empty: the system clock. Dates the card and identity.
    std::function<std::int64_t()> clock;
};

struct GroupSummary {
    GroupId id{};
    std::string name;
    std::size_t members = 0;
    bool admin = false;
    bool member = true;           // false once this member was removed (the group stays listed)
    std::string rotation_needed;  // non-empty: an admin should rotate (and `maintain` will)
    // Non-empty: the welcome token this member joined with still waits for the add record it
    // names (they cannot write until a sync brings it), or was refused — and why.
    std::string admission;
};

// What a welcome token says about the group it admits to (Node::join).
struct JoinedGroup {
    std::string name;     // the group's name when the token was made; empty if it has none
    std::string inviter;  // the display name of the admin who made the token
};

struct MemberView {
    MemberKey key{};
    std::string name;
    bool admin = false;
    bool verified = false;  // the safety number was confirmed with `verify --confirm`
    bool me = false;
};

// A membership change or quorum change waiting for admins' approvals (docs/design.md §5.10).
struct ProposalView {
    enum class Kind { add, remove, set_role, quorum };
    RecordId id{};
    Kind kind = Kind::add;
    MemberKey target{};                  // add, remove, set_role
    bool admin = false;                  // add and set_role: the role it gives
    std::uint32_t quorum = 0;            // quorum: the quorum it sets
    bool compromised = false;            // remove: a burn notice (§5.11)
    std::int64_t compromised_at_ms = 0;  // burn notice: the detention time given, 0 when none
    MemberKey proposer{};
    std::vector<MemberKey> approvers;  // the proposer first
    std::uint32_t needed = 1;          // distinct admins it needs, the proposer included
};

// What `Node::burn_member` wrote: the burn notice, and whether it took effect at once (the
// member removed, the key rotated, an alert posted) or waits for approvals (§5.11).
struct BurnNotice {
    RecordId notice{};
    bool effective = false;
    std::uint32_t needed = 1;     // distinct admins it needs, the proposer included
    std::uint32_t approvers = 1;  // how many it has (the proposer)
};

struct MessageView {
    RecordId id{};
    MemberKey author{};
    std::string author_name;
    bool author_verified = false;
    std::string text;
    std::uint64_t lamport = 0;
    std::int64_t wall_ms = 0;  // the author's clock: untrusted, for display only
    std::uint64_t seq = 0;     // in the author's own chain of records in this group
    // When the author's chain forked before this message — the same identity wrote from two
    // devices at once (a restore from a backup on a second machine, both in use; or a copy of
    // the identity in other hands) — how many branches it has and which one this message is on
    // (1..devices, by the first record of each branch; 0 when that cannot be told). Both 0 for
    // a chain without a fork, and for messages written before it.
    std::uint32_t device = 0;
    std::uint32_t devices = 0;
};

// One control record as `group audit` shows it (docs/design.md §5.12).
struct ControlEntry {
    enum class Kind { add, remove, set_role, rotation, settings, approval, key_update };
    // valid: in effect (or a proposal whose approvals are complete); waiting: a valid proposal
    // still waiting for approvals; invalid: refused at its position; dropped: void under strong
    // remove or a burn notice.
    enum class Status { valid, waiting, invalid, dropped };
    RecordId id{};
    Kind kind = Kind::settings;
    Status status = Status::valid;
    MemberKey author{};
    std::uint64_t lamport = 0;
    std::int64_t wall_ms = 0;  // the author's clock: untrusted, for display only
    // add, remove, set_role: whom it is about, and the role given (add, set_role).
    MemberKey target{};
    bool admin = false;
    bool compromised = false;            // remove: a burn notice (§5.11)
    std::int64_t compromised_at_ms = 0;  // burn notice: the detention time given, 0 when none
    RecordId proposal{};                 // approval: the proposal it approves
    bool withdraw = false;               // approval: the proposer took the proposal back
    // settings: what it sets (each only when the record sets it).
    std::optional<std::string> name;
    std::optional<std::vector<std::string>> relays;
    std::optional<std::uint64_t> retention_seconds;
    std::optional<bool> tor_only;
    std::optional<std::uint32_t> quorum;
    std::optional<std::uint64_t> rekey_interval_seconds;
};

// A control record that records held here name in their control_heads but that this member
// has not received (§5.12): a peer holds it, and the records naming it wait in pending.
struct MissingControl {
    RecordId id{};
    std::vector<MemberKey> referrers;  // authors of the records waiting for it, sorted
    std::int64_t since_ms = 0;         // when the first record waiting for it arrived here
};

// The group as this member sees it: its control records, their digest, what is missing.
struct GroupAudit {
    std::vector<ControlEntry> records;  // every applied control record, in (Lamport, id) order
    std::size_t valid = 0;              // how many are valid (the digest's count)
    ByteArray<32> digest{};             // control_digest over the valid ones
    std::vector<MissingControl> missing;
};

// A comparison of views with another member in a direct session (§5.12): the latest per
// group and peer member.
struct ViewCheck {
    GroupId group{};
    MemberKey peer{};
    std::int64_t at_ms = 0;
    bool same = false;  // the same digest and count, after the session exchanged everything
    std::uint64_t peer_count = 0;
    ByteArray<32> peer_digest{};
    std::uint64_t own_count = 0;
    ByteArray<32> own_digest{};
};

// The digest of a group's control records (§5.12): BLAKE2b-256 under kControlDigestDomain
// over the group id, the count and the ids sorted ascending. The same set in any order gives
// the same digest.
ByteArray<32> control_digest(const GroupId& group, std::span<const RecordId> valid_ids);
// The digest as read aloud: its first 60 bits as 15 decimal digits in groups of 5 (the count
// is shown beside it).
std::string control_digest_text(const ByteArray<32>& digest);

struct IngestReport {
    std::size_t received = 0;
    std::size_t added = 0;      // new records applied
    std::size_t duplicate = 0;  // already held (applied, pending or rejected before)
    std::size_t pending = 0;    // held until their references arrive
    // Not openable here: for a mailbox we hold no key for, or content of an epoch we hold only
    // the control key of. Kept unopened (a key may come later; other members may fetch them
    // from us) unless the unverified quota is full.
    std::size_t unreadable = 0;
    // Refused because the unverified quota was full (see unverified_usage()): unreadable ones,
    // and records by non-members that would have waited for their references. Not stored and
    // not noted as rejected, so a carrier may bring them again.
    std::size_t over_quota = 0;
    // Rows of records refused for their author's removal (kept to be judged again, §5.4)
    // forgotten to make room in a group whose rows were full: the latest of the author who
    // held the most.
    std::size_t evicted = 0;
    std::size_t rejected = 0;
    std::size_t foreign_chunks = 0;  // sync-file chunks under a key we do not hold
    // Sync-file envelopes for another mailbox than the one whose file key sealed their chunk:
    // no member writes those, and nothing is kept of them.
    std::size_t dropped = 0;
    void merge(const IngestReport& o);
};

// What the store holds that it cannot verify, against its quota (bytes of envelopes).
struct UnverifiedUsage {
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    std::uint64_t quota = 0;
};

struct RejectionView {
    RecordId id{};
    RejectReason reason{};
    std::string detail;
    std::int64_t at_ms = 0;
};

// Backup, restore and health checks (node_backup.cpp).
struct BackupSummary {
    std::size_t groups = 0;
    std::size_t epochs = 0;        // with their secret
    std::size_t control_only = 0;  // epochs held for control records only
    std::size_t envelopes = 0;     // the member's own records, or with history all
    std::uint64_t bytes = 0;       // of the age file
};
struct RestoreOptions {
    ByteView backup_passphrase;  // opens the age file
    ByteView store_passphrase;   // for the new store; may differ from the backup's
    KdfProfile kdf = KdfProfile::tuned;
    std::function<std::int64_t()> clock;  // empty: the system clock
};
struct RestoreReport {
    std::size_t groups = 0;
    std::size_t epochs = 0;
    std::size_t control_only = 0;
    std::size_t envelopes = 0;
    IngestReport ingest;
};
struct ClockReport {
    std::size_t samples = 0;    // recent records of other members that were looked at
    std::int64_t ahead_ms = 0;  // the most any of them was stamped after it arrived here (≥ 0)
};

class Node {
public:
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // Creates a store and an identity in `home`. Refuses (exists) if one is there.
    static Status init(const std::filesystem::path& home, const InitOptions& options);
    // Unlocks the store. A duress passphrase crypto-erases the store (both key slots are
    // overwritten in place with unopenable ones of the same shape; the database is left as it
    // is, noise without its key) and then fails exactly as a wrong passphrase does: the home
    // keeps every inode, size and modification time (storage/keyfile.hpp).
    // `clock` is the Node's clock from the start (retention runs on open by it).
    static Result<std::unique_ptr<Node>> open(const std::filesystem::path& home,
                                              ByteView passphrase,
                                              std::function<std::int64_t()> clock = {});
    // The two halves of open(): unlock() runs the key file's derivations (a duress passphrase
    // erases and gives wrong_passphrase, as above) and returns what the unlock yields, which the
    // unlock agent holds; open() with it opens the database, from this process's unlock or the
    // agent's. A key that does not open the database gives corrupt_store.
    static Result<storage::Unlocked> unlock(const std::filesystem::path& home, ByteView passphrase);
    static Result<std::unique_ptr<Node>> open(const std::filesystem::path& home,
                                              const storage::Unlocked& unlocked,
                                              std::function<std::int64_t()> clock = {});
    static std::filesystem::path key_file_path(const std::filesystem::path& home);
    static std::filesystem::path database_path(const std::filesystem::path& home);
    // Destroys the key file first (the database is noise without it), then the database.
    static Status panic(const std::filesystem::path& home);
    static Status change_passphrase(const std::filesystem::path& home, ByteView old_passphrase,
                                    ByteView new_passphrase);
    static bool exists(const std::filesystem::path& home);

    // Watches the home (storage::StoreGuard) and calls `on_gone` once, on the guard's thread,
    // when the store is destroyed (panic), erased in place (a duress passphrase typed in another
    // process) or its database removed or replaced — possibly before this returns. The guard
    // stops when the Node is destroyed. Errors: io.
    Status guard_store(std::function<void()> on_gone);

    // Identity
    const Card& card() const;
    const MemberKey& me() const;
    std::string display_name_of(const MemberKey& key) const;
    Status mark_verified(const MemberKey& key);
    bool is_verified(const MemberKey& key);

    // Groups
    Result<GroupId> create_group(std::string_view name);
    // Accepts a group's name, or a prefix (≥ 4 hex digits) of its id.
    Result<GroupId> resolve_group(std::string_view name_or_id);
    std::vector<GroupSummary> groups();
    // Posts the add op (and, without history, a rotation) and returns the welcome token.
    Result<std::string> add_member(const GroupId& group, std::string_view card_text, bool admin,
                                   bool with_history);
    // Admins only: the welcome token of a member already in the group, again (they lost it).
    // It names the add record that admitted them and grants what they were given: every secret
    // if they were added with history, else those of the epochs granted to them, and control
    // access to the rest. Posts nothing. not_found when they are not a member (or are the
    // creator, whom no add record admits), not_permitted for a non-admin.
    Result<std::string> welcome_again(const GroupId& group, const MemberKey& member);
    // Joins with a welcome token. The token's keys are provisional until the add record it names
    // arrives (a sync) and admits this member — a valid add of them, signed into the token by
    // its author or by an admin: until then nothing can be written in the group, and when the
    // record does not admit them the token's keys are dropped (groups() says why). A later token
    // replaces one still waiting. Refused with `conflict`, changing nothing, for a group this
    // member already belongs to, for a token that gives another key for an epoch held, and for
    // one whose add record is held already and does not admit them. bad_input for a token that
    // does not open, verify or parse, is for someone else, or has expired. When `joined` is
    // given it receives the group's name and the inviter's as the token states them (a token
    // from before names were carried leaves the group's name empty): the group's own records
    // bring it on the first sync.
    Result<GroupId> join(std::string_view welcome_token, JoinedGroup* joined = nullptr);
    Result<std::vector<MemberView>> members(const GroupId& group);
    // Accepts a display name or a prefix (≥ 4 hex digits) of the member's key.
    Result<MemberKey> resolve_member(const GroupId& group, std::string_view name_or_key);
    // With a quorum above 1 (docs/design.md §5.10) an add or removal only proposes: it takes
    // effect once enough admins approved it, and the rotation comes then (`approve`, or
    // `maintain` on any admin's device). The welcome token of a proposed add admits the
    // newcomer only then.
    Status remove_member(const GroupId& group, const MemberKey& member);
    // Admins only: makes a member an admin (`admin`) or a member who is no admin. not_found for
    // a non-member, exists when they have that role already, not_permitted for a non-admin and
    // for demoting the last admin. A demotion carries a cutoff as a removal does (§5.4): the
    // demoted admin's control records concurrent with it are void. No rotation: a demoted admin
    // stays a member. Under a quorum above 1 it only proposes, as `remove_member` does.
    Status set_role(const GroupId& group, const MemberKey& member, bool admin);

    // Admins only: the burn notice (docs/design.md §5.11) — `member`'s device is in other
    // hands. A removal that drops every record of theirs the notice has not seen, whatever time
    // it claims; with `at_ms` (when the device was taken, > 0), also theirs stamped after it.
    // When it takes effect here (at once with a quorum of 1; else at the approval that
    // completes it, `approve`) the key is rotated and an alert posted in the new epoch,
    // `alert_text` when given (else an English one), all in one transaction. bad_input for a
    // time in the future.
    Result<BurnNotice> burn_member(const GroupId& group, const MemberKey& member,
                                   std::int64_t at_ms = 0, std::string_view alert_text = {});
    // Admins only: how many distinct admins must sign a membership change or a quorum change
    // (1–100; 1 = the proposer alone). Itself a proposal while the quorum is above 1.
    Status set_quorum(const GroupId& group, std::uint32_t quorum);
    // The highest quorum an admin set while the group had fewer admins than that: such a
    // setting is void (docs/design.md §5.10); 0 if none.
    Result<std::uint32_t> void_quorum(const GroupId& group);
    // Admins only: approves a pending proposal (not_found when none such waits, exists when
    // this admin proposed or approved it already). When it completes the proposal, performs
    // the rotation that is then owed, and for a burn notice posts the group alert
    // (`burn_alert`, or a text in English when empty) in the new epoch.
    Status approve(const GroupId& group, const RecordId& proposal,
                   std::string_view burn_alert = {});
    // The proposer takes back a proposal of theirs that still waits (not_found when none such
    // waits, not_permitted when another admin proposed it): it never takes effect at any
    // member, whatever approvals come after or concurrently (docs/design.md §5.10).
    Status withdraw(const GroupId& group, const RecordId& proposal);
    // The proposals waiting for approvals, in (Lamport, id) order.
    Result<std::vector<ProposalView>> pending(const GroupId& group);
    // The waiting proposal whose id starts with `prefix` (≥ 4 hex digits). bad_input for a
    // shorter or non-hex prefix or one that matches several waiting proposals; exists when the
    // only proposal it names has taken effect already; not_found otherwise (none such, or one
    // that no longer waits because it was refused or voided).
    Result<RecordId> resolve_proposal(const GroupId& group, std::string_view prefix);
    // The group's membership and settings history as this member sees it, with the digest of
    // its valid control records and the control records other members' records name that this
    // member has not received (§5.12). not_found for an unknown group.
    Result<GroupAudit> audit(const GroupId& group);
    // Only the missing part of audit(): cheap when nothing waits (no pending records).
    Result<std::vector<MissingControl>> missing_control(const GroupId& group);
    // Comparisons of this member's view with other members' in direct sessions (§5.12): the
    // latest for each group and peer, newest first; of `group` only when given, and only those
    // made at or after `since_ms`.
    Result<std::vector<ViewCheck>> view_checks(const GroupId* group = nullptr,
                                               std::int64_t since_ms = 0);
    // The group's quorum: distinct admins a membership change needs (1 until a settings record
    // sets it, §5.10).
    Result<std::uint32_t> quorum(const GroupId& group);
    Status rotate(const GroupId& group);
    // Performs the rotations this admin owes (a removal it had not seen, a member without the
    // current key, a member who replaced their key) and the key updates the groups' rekey
    // intervals call for. Returns one line per action taken.
    Result<std::vector<std::string>> maintain();

    // ---- Key updates (docs/design.md §5.13) ----
    // Makes a new X25519 key for `group`, keeps its secret (sealed) and writes a key update:
    // the group's next rotation seals this member's grant to it. Returns the record's id.
    Result<RecordId> rekey(const GroupId& group);
    // Admins only: how often members write a key update (0 = only when they ask), as a
    // settings record.
    Status set_rekey_interval(const GroupId& group, std::uint64_t seconds);
    std::uint64_t rekey_interval(const GroupId& group);
    // Key updates signed with this member's key that this device did not make: another device
    // holds the signing key (a copied store). Its key update redirects this member's future
    // grants to the copy's holder; only a burn notice and a new identity end that (§5.13).
    struct ForeignKeyUpdate {
        GroupId group{};
        std::string group_name;
        RecordId record{};
        std::int64_t wall_ms = 0;  // the time it claims
        bool current = false;      // the fold seals this member's grants to its key now
        // Not held here: `record` is a rotation whose grant to this member is sealed to a key
        // this device never made (the key update that set it was withheld from it).
        bool withheld = false;
    };
    Result<std::vector<ForeignKeyUpdate>> foreign_key_updates();
    // Box secrets this device keeps for `group` (kept for grants not yet opened, §5.13), and
    // how many it has erased.
    struct BoxKeyCount {
        std::size_t held = 0;
        std::size_t erased = 0;
    };
    Result<BoxKeyCount> box_keys(const GroupId& group);

    // Messages
    Result<RecordId> post(const GroupId& group, std::string_view text);
    // The newest `limit` messages, oldest first, ordered by (Lamport, id), with the device
    // marks of authors whose chain forked (MessageView::device).
    Result<std::vector<MessageView>> messages(const GroupId& group, std::size_t limit);

    // Carriers. Every carrier hands envelopes to ingest(); it runs in batched transactions.
    Result<IngestReport> ingest(std::span<const Bytes> envelopes);
    // Sync files (sneakernet): envelopes of the given groups (all when empty) wrapped with each
    // epoch's file key. Returns the number of envelopes written.
    Result<std::size_t> write_sync_file(const std::filesystem::path& path,
                                        std::span<const GroupId> groups);
    Result<IngestReport> read_sync_file(const std::filesystem::path& path);
    // The same sync file cut into parts (sync_parts.hpp): written to `path` as one armored
    // part, or to path.partNN[.txt]. Returns the envelopes written and the part files.
    Result<std::size_t> write_sync_parts(const std::filesystem::path& path,
                                         std::span<const GroupId> groups,
                                         const PartOptions& options, PartsWritten* written);
    // One whole sync file, or the parts of one set (files, or folders holding them) in any
    // order: nothing is read into the store until every part is there and checked (see
    // collect_parts for the failures), then the file they make is read as read_sync_file
    // reads one. `parts`, when given, is filled for a set of parts.
    Result<IngestReport> read_sync_files(std::span<const std::filesystem::path> paths,
                                         PartSet* parts = nullptr);
    std::vector<RejectionView> rejections(std::size_t limit);

    // Envelopes as the carriers see them: the mailboxes this member can reach (of one group, or
    // of all when `group` is null), the ids held in a mailbox (ascending), one envelope's bytes.
    std::vector<MailboxId> mailboxes(const GroupId* group = nullptr) const;
    Result<std::vector<RecordId>> envelope_ids(const MailboxId& mailbox);
    Result<std::optional<Bytes>> envelope(const RecordId& id);
    std::size_t rejection_count();

    // Network carriers. The member's side of a sync: what arrives goes through ingest(). The
    // Replica refers to this Node and must not outlive it; use it from one thread.
    std::unique_ptr<transport::Replica> replica();
    // The capabilities to open this member's mailboxes (of one group, or all). A mailbox of an
    // epoch held with control access only asks for envelopes of at most 49,152 bytes (no
    // attachment chunks), unless the group has a record waiting for a reference.
    std::vector<transport::MailboxKey> mailbox_keys(const GroupId* group = nullptr) const;
    // This installation's transport (Noise static) key; not the identity key.
    crypto::BoxKeyPair transport_key();
    // The group's relays (kolokol://host:port/KEY), one address each, as its settings record
    // says, plus any the welcome token named before the first sync.
    std::vector<std::string> relays(const GroupId& group);
    // Addresses the group no longer lists that are still dialled: while a relay-list change by
    // someone else is not settled (held here for less than a day, a restored backup's time
    // counted), the settled list's addresses the list dropped, whether or not the change
    // brought in a relay (docs/design.md §5.8). A removed admin's old copy that moves the group
    // to his relay, or drops every relay but his own, thus does not cut the member off from the
    // relays that bring the removal. Canonical, in the settled list's order.
    // `brought`, if given, receives the keys of the listed relays the settled list lacks while a
    // change is unsettled (synced after the others, relay_routes).
    std::vector<std::string> held_relays(const GroupId& group,
                                         std::set<std::string>* brought = nullptr);
    // Every address the group lists, canonical: each relay's addresses together, its first one
    // first, in the settings' order (what `group relay list` shows).
    std::vector<std::string> relay_addresses(const GroupId& group);
    // One relay (an entry of relays()) and the addresses to try for it, in order: the one that
    // worked last (per relay key, relay_worked) first while the group still lists it, then the
    // others as listed.
    struct RelayRoute {
        std::string first;                   // the relay's entry in relays(), canonical
        std::string key;                     // its transport key, as in addresses
        std::vector<std::string> addresses;  // canonical, non-empty, all with that key
        // Dropped by someone else's change not yet settled, and dialled until it is
        // (held_relays): a relay the group no longer lists.
        bool held = false;
    };
    std::vector<RelayRoute> relay_routes(const GroupId& group);
    // The same, every relay's addresses in the listed order.
    std::vector<RelayRoute> relay_routes_as_listed(const GroupId& group);
    // Remembers that `address` worked for its relay key: the next sync tries it first. Kept in
    // the store (network component), one address per key. A malformed address is bad_input.
    Status relay_worked(const std::string& address);
    // Admins only: replaces the group's relay list (a control record every member learns):
    // `relays`, one address a relay (at most 16), and `alternates`, more addresses of them, each
    // with the key of a relay listed (the first such), tried after it in this order (at most 32,
    // 8 addresses a relay key in all). At most 256 characters an address. bad_input otherwise.
    // `retired`: addresses this change retires (at most 16, none of them listed): a concurrent
    // change by another admin that has not seen this one cannot list them again.
    Status set_relays(const GroupId& group, std::vector<std::string> relays,
                      std::vector<std::string> alternates = {},
                      std::vector<std::string> retired = {});

    // ---- Network policy: Tor only, the proxy, LAN beacon keys (node_network.cpp) -------------
    // A "Tor only" group: members connect to its peers and relays only through a proxy, and
    // never announce it on the LAN. false for an unknown group.
    bool tor_only(const GroupId& group);
    // Admins only (not_permitted otherwise): a settings record every member learns.
    Status set_tor_only(const GroupId& group, bool on);
    // The SOCKS5 proxy for every outgoing connection ("socks5://IP:PORT"), kept in the
    // encrypted store (table network_settings), never in a plain file. nullopt: none set.
    std::optional<std::string> proxy();
    // Validates (bad_input with the reason) and stores it; nullopt clears it.
    Status set_proxy(std::optional<std::string> url);
    // Freezes seen per relay address (canonical kolokol://…): the sync bytes a connection to
    // it carried before it stopped carrying data (a filter that freezes flows after so many
    // bytes). Later syncs with that address use short connections sized under it. Kept in
    // network_settings; nullopt: none seen. Limits outside 1 KiB … 64 MiB are not stored.
    std::optional<std::uint64_t> freeze_limit(const std::string& address);
    Status set_freeze_limit(const std::string& address, std::uint64_t bytes);
    std::vector<std::pair<std::string, std::uint64_t>> freeze_limits();
    // Resumable fetches in short connections (DESIGN §9.14): per relay transport key (as in
    // addresses) and mailbox, the position in that relay's stored order before which every
    // envelope of the mailbox was fetched and stored. Kept in network_settings; nullopt: none.
    std::optional<std::uint64_t> fetch_cursor(const std::string& relay_key,
                                              const MailboxId& mailbox);
    Status set_fetch_cursor(const std::string& relay_key, const MailboxId& mailbox,
                            std::uint64_t position);
    // How many mailboxes have a fetch cursor (for doctor).
    std::size_t fetch_cursor_count();
    // While a sync receives (DESIGN §9.14, §12.7): commits stop being flushed to disk one by
    // one (storage::Database::defer_durability) — what a sync stores can be fetched again, and
    // a power loss keeps a prefix of the commits. end_deferred_durability() makes everything
    // committed so far durable and flushes each later commit again. Nothing written between the
    // two may be relied on beyond this device: no record of the member's own may be written in
    // between.
    Status defer_durability();
    Status end_deferred_durability();
    // Keys for LAN beacons (DESIGN §5): for each group that is not Tor only, the epoch this
    // member writes in (send = true; else the newest epoch it holds) and, to recognise members
    // who are an epoch behind or ahead, the other frontier epochs and the three newest epochs
    // it holds a secret for (send = false). Never a tainted epoch — one a removed member still
    // holds — so a removed member's beacons are not recognised and ours are not theirs to
    // recognise; an epoch the group's records do not show yet is kept (a newcomer's before its
    // first sync). A group whose every epoch held is tainted has no key until an admin rotates.
    // Each key is 32 bytes (epoch KDF subkey 3).
    struct BeaconKey {
        GroupId group{};
        EpochId epoch{};
        crypto::SecretBytes key;
        bool send = false;
    };
    std::vector<BeaconKey> beacon_keys();

    // ---- Coordination objects, attachments, redaction, retention (DESIGN §6) ----------------
    // Every change is a signed record written through the same path as a message, and every
    // received one goes through ingest(); what these return is a fold of the records held, so
    // two members holding the same records see the same objects. Objects by authors who were
    // not members at that point, or were removed concurrently, are left out.

    // Writes one object change; a create gets its type's defaults for the fields it leaves
    // unset (objects::TypeRegistry::fill_defaults). bad_input (with the field and the reason)
    // when the built-in types refuse it; not_found when `edit.object` is not an object of this
    // group or is of another type. Returns the record id (for a create: the new object's id).
    Result<RecordId> object_change(const GroupId& group, const ObjectEdit& edit);
    // Objects of `type` (all types when empty), ordered by creation (Lamport, id).
    Result<std::vector<ObjectView>> objects(const GroupId& group, std::string_view type = {});
    // not_found when the group holds no such object.
    Result<ObjectView> object(const GroupId& group, const RecordId& id);
    // An object by a prefix (≥ 4 hex digits) of its id, optionally of one type. not_found when
    // none matches, bad_input when the prefix is too short or matches several.
    Result<RecordId> resolve_object(const GroupId& group, std::string_view prefix,
                                    std::string_view type = {});
    // Every change to the object in fold order: who set what (old → new), who appended what.
    Result<std::vector<HistoryEntry>> object_history(const GroupId& group, const RecordId& id);
    // A case with its ledger totals and attachments.
    Result<CaseView> case_view(const GroupId& group, const RecordId& id);
    // Alerts not resolved (all with `include_resolved`), most urgent first (critical, urgent,
    // normal), then newest first.
    Result<std::vector<ObjectView>> alerts(const GroupId& group, bool include_resolved = false);
    // Events not cancelled whose start lies in [from_ms, until_ms), soonest first.
    Result<std::vector<ObjectView>> events_due(const GroupId& group, std::int64_t from_ms,
                                               std::int64_t until_ms);
    // Tasks whose status is not "done", oldest first.
    Result<std::vector<ObjectView>> open_tasks(const GroupId& group);

    // Splits a file into chunk records (≤ 48 KiB each) and writes a signed manifest (size,
    // SHA-256 of the whole file, chunk count, and a hash over the chunks in order); with
    // `options.object` also appends it to that case's or report's attachments. All or nothing:
    // the chunks, the manifest and the append are one transaction, so a full disk (storage
    // `full`), a file that shrinks while read (io) or a refused record leave the store as it
    // was, and the space the attempt took is given back. Memory stays bounded by one batch of
    // chunks whatever the size; at most 4 GiB. Returns the manifest's view.
    Result<AttachmentInfo> attach_file(const GroupId& group, const std::filesystem::path& path,
                                       const AttachOptions& options);
    // Writes one object change (a create, or a change to `edit.object`) and attaches `files` to
    // that object, all in one transaction: either the object and every file are stored, or
    // nothing is (errors as object_change and attach_file; every file is checked — exists, at
    // most 4 GiB, a valid name — before anything is written). `progress` gets the bytes of all
    // files together.
    Result<ObjectWithFiles> object_change_with_files(const GroupId& group, const ObjectEdit& edit,
                                                     std::span<const FileToAttach> files,
                                                     const AttachProgress& progress = {});
    // Manifests held in the group (of one object when given), oldest first, with their
    // missing chunks.
    Result<std::vector<AttachmentInfo>> attachments(const GroupId& group,
                                                    std::optional<RecordId> object = std::nullopt);
    // A manifest by a prefix (≥ 4 hex digits) of its record id or of its attachment id.
    Result<AttachmentInfo> resolve_attachment(const GroupId& group, std::string_view prefix);
    // Streams the file into `sink` chunk by chunk (bounded memory) and checks every chunk
    // against the manifest and the SHA-256 at the end. A missing chunk fails with
    // objects::ObjectErrc::chunk_missing, a damaged one with chunk_corrupt (its envelope is
    // dropped so the next sync fetches it again), both naming the index; a whole that does not
    // match the manifest with hash_mismatch. Bytes already given to `sink` must then be
    // discarded.
    Status read_attachment(const GroupId& group, const RecordId& manifest_id,
                           const AttachmentSink& sink);
    // read_attachment into a file: written to a temporary file beside `path`, renamed on success
    // only. Refuses (exists) to overwrite unless `overwrite`.
    Status export_attachment(const GroupId& group, const RecordId& manifest_id,
                             const std::filesystem::path& path, bool overwrite = false);

    // A record of this group by a prefix (≥ 4 hex digits) of its id.
    Result<RecordId> resolve_record(const GroupId& group, std::string_view prefix);
    // Redacts one of the group's records (a message, an object change, an attachment with all
    // its chunks): only its author or an admin may. The plaintext is removed here at once (the
    // stored body becomes a tombstone keeping ids and references, the envelope is dropped) and
    // every peer does the same when the redaction record reaches it.
    Result<RecordId> redact(const GroupId& group, const RecordId& record, std::string_view reason);
    // Admins only: the group's retention period (0 = keep forever), as a settings record.
    Status set_retention(const GroupId& group, std::uint64_t seconds);
    std::uint64_t retention(const GroupId& group);
    // The period set and the one deleting now: a shorter period (anyone's, this member's own
    // too) deletes only once its setting has been held here a day; a longer one at once.
    RetentionInForce retention_in_force(const GroupId& group);
    // Deletes every content record older than its group's retention period (by the author's
    // clock against this Node's clock), their envelopes and chunks, and epoch secrets no record
    // still needs; then secure-deletes, VACUUMs and truncates the WAL. Runs on open; cheap when
    // nothing expired.
    Result<RetentionReport> apply_retention();

    // For tests and tools: the clock (ms since the epoch). Defaults to the system clock; the
    // environment never changes it.
    void set_clock(std::function<std::int64_t()> clock);
    // That clock's time now (ms since the epoch): what "today" means for times typed without a
    // date.
    std::int64_t now_ms() const;

    // ---- The unverified quota (node_quota.cpp) -------------------------------------------
    // What the store keeps without being able to check it: envelopes it cannot open (see
    // IngestReport::unreadable) and records whose author is not a member in its view that wait
    // for their references (only someone holding an epoch key can make those: a member, or a
    // removed member with an old key). Together they take at most the quota, a setting of the
    // store (default kDefaultUnverifiedQuota); past it ingest refuses them (over_quota).
    // Lowering the quota below what is held drops unverified envelopes, newest first, until
    // the rest fit (0 drops them all); a member needs none of them, and any that matter come
    // again with a later sync.
    static constexpr std::uint64_t kDefaultUnverifiedQuota = std::uint64_t{64} << 20;
    static constexpr std::uint64_t kMaxUnverifiedQuota = std::uint64_t{1} << 40;
    UnverifiedUsage unverified_usage();
    // bad_input above kMaxUnverifiedQuota.
    Status set_unverified_quota(std::uint64_t bytes);

    // Backup and restore (node_backup.cpp; format in proto/backup.proto). A backup is an age
    // file encrypted with `passphrase` (scrypt) holding the identity and transport secrets, each
    // group's genesis, relays and the epoch keys this member holds now — an epoch whose secret
    // it lacks goes in as control access only, one it never received is absent — the verified
    // marks, the member's own records (so nothing written but never synced is lost) and, with
    // `history`, every envelope held. Written to PATH.tmp (0600), then renamed
    // over `path`. Fails with bad_input (empty passphrase) or io.
    Result<BackupSummary> write_backup(const std::filesystem::path& path, ByteView passphrase,
                                       bool history);
    // Creates a store in `home` (refused with `exists` if one is there) from a backup, bringing
    // the member back into every group; the first sync fetches what the backup did not hold.
    // The whole backup is decrypted and checked before anything is written; if a later step
    // fails the new store is removed again. Errors: wrong_passphrase (the backup did not open),
    // bad_input (damaged, tampered or not a backup; over kMaxBackupBytes), io.
    static Result<RestoreReport> restore_backup(const std::filesystem::path& home,
                                                const std::filesystem::path& backup,
                                                const RestoreOptions& options);
    // Whether `passphrase` opens the backup at `backup`, before anything else is asked or written:
    // reads only the age header (one scrypt). Errors as restore_backup's for the file and the
    // passphrase (not_found, wrong_passphrase, bad_input, io); the payload is not checked.
    static Status check_backup_passphrase(const std::filesystem::path& backup, ByteView passphrase);
    // Checks a decrypted backup's protobuf as restore does, writing nothing (tools, fuzzing).
    static Status check_backup(ByteView plaintext);
    static constexpr std::uint64_t kMaxBackupBytes = std::uint64_t{512} << 20;

    // Health (kolokol doctor). The database's own consistency check (PRAGMA quick_check):
    // corrupt_store with SQLite's first complaint when it fails.
    Status check_integrity();
    // Evidence of clock skew from what peers stamped on their records against when they arrived
    // here: a peer clock ahead of ours shows; one behind cannot be told from a slow carrier.
    ClockReport clock_report(std::size_t recent);

    // ---- Case bundles (node_bundle.cpp) ----------------------------------------------------
    // Signs a bundle's manifest or custody entry with this member's identity key (Ed25519 over
    // domain || 0 || message). Only domains under "kolokol/bundle/" are signed, so the key
    // cannot be made to sign records or cards here: bad_input otherwise.
    Result<crypto::Signature> sign_bundle(std::string_view domain, ByteView message);

    struct Impl;

private:
    friend struct NodeTestAccess;  // white-box tests (tests/unit/core) only
    explicit Node(std::unique_ptr<Impl> impl);
    // attach_file's work inside the caller's write scope.
    Result<AttachmentInfo> attach_in_scope(const GroupId& group, const std::filesystem::path& path,
                                           const AttachOptions& options);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace kolokol::core
