#include "schema.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/envelope_store.hpp"
#include "kolokol/storage/error.hpp"

namespace kolokol::core {

namespace {
// Append new steps; never edit a step that has shipped.
constexpr std::array<std::string_view, 12> kCoreSteps = {
    R"sql(
CREATE TABLE identity(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sign_secret BLOB NOT NULL, box_secret BLOB NOT NULL, display_name TEXT NOT NULL,
  card BLOB NOT NULL, transport_secret BLOB NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE groups(
  group_id BLOB PRIMARY KEY, genesis BLOB NOT NULL, joined_ms INTEGER NOT NULL);
CREATE TABLE epochs(
  epoch_id BLOB PRIMARY KEY, group_id BLOB NOT NULL, mailbox BLOB NOT NULL UNIQUE,
  secret BLOB, control_key BLOB NOT NULL, mailbox_seed BLOB NOT NULL, file_key BLOB NOT NULL,
  added_ms INTEGER NOT NULL);
CREATE TABLE records(
  id BLOB PRIMARY KEY, group_id BLOB NOT NULL, epoch_id BLOB NOT NULL, author BLOB NOT NULL,
  seq INTEGER NOT NULL, prev BLOB, lamport INTEGER NOT NULL, kind INTEGER NOT NULL,
  heads BLOB NOT NULL, signed BLOB NOT NULL, wall_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL);
CREATE INDEX records_by_kind ON records(group_id, kind, lamport, id);
CREATE INDEX records_by_author ON records(group_id, author, seq);
CREATE TABLE heads(
  group_id BLOB NOT NULL, id BLOB NOT NULL, epoch_id BLOB NOT NULL, lamport INTEGER NOT NULL,
  PRIMARY KEY (group_id, id));
CREATE TABLE pending(id BLOB PRIMARY KEY, received_ms INTEGER NOT NULL);
CREATE TABLE pending_refs(ref BLOB NOT NULL, id BLOB NOT NULL, PRIMARY KEY (ref, id));
CREATE TABLE rejected(
  id BLOB PRIMARY KEY, reason INTEGER NOT NULL, detail TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE TABLE verified(sign_key BLOB PRIMARY KEY, at_ms INTEGER NOT NULL);
)sql",
    R"sql(
CREATE TABLE welcome_relays(group_id BLOB NOT NULL, address TEXT NOT NULL, PRIMARY KEY (group_id, address));
)sql",
    R"sql(
CREATE TABLE attachment_chunks(
  attachment_id BLOB NOT NULL, author BLOB NOT NULL, idx INTEGER NOT NULL, id BLOB NOT NULL,
  group_id BLOB NOT NULL, PRIMARY KEY (attachment_id, author, idx, id));
CREATE INDEX attachment_chunks_by_id ON attachment_chunks(id);
CREATE TABLE redactions(
  target BLOB NOT NULL, redaction BLOB NOT NULL, group_id BLOB NOT NULL,
  PRIMARY KEY (target, redaction));
CREATE INDEX redactions_by_redaction ON redactions(redaction);
CREATE TABLE refetch(id BLOB PRIMARY KEY);
CREATE TABLE retired_epochs(epoch_id BLOB PRIMARY KEY, group_id BLOB NOT NULL);
)sql",
    // Waking a held record asks whether it still waits for anything: by id, not by ref.
    R"sql(
CREATE INDEX pending_refs_by_id ON pending_refs(id);
)sql",
    // Welcome tokens are checked against the group's records: the add record a token names, who
    // signed it, and whether it admitted this member (state 0 waiting, 1 confirmed, 2 refused).
    // epochs.source says where a key came from (KeySource in epoch_keys.hpp): the group's own
    // records, a token still waiting (never written with), or a token that was admitted.
    R"sql(
ALTER TABLE epochs ADD COLUMN source INTEGER NOT NULL DEFAULT 0;
CREATE TABLE admissions(
  group_id BLOB PRIMARY KEY, add_record BLOB NOT NULL, inviter BLOB NOT NULL,
  inviter_name TEXT NOT NULL, state INTEGER NOT NULL, detail TEXT NOT NULL,
  at_ms INTEGER NOT NULL);
)sql",
    // Per-group box keys of this member's key updates (§5.13): the secret sealed (place
    // "box_keys.secret" || public_key), NULL once erased; the row stays so that a key update
    // with this key is known as this device's own.
    R"sql(
CREATE TABLE box_keys(
  public_key BLOB PRIMARY KEY, group_id BLOB NOT NULL, secret BLOB, made_ms INTEGER NOT NULL);
CREATE INDEX box_keys_by_group ON box_keys(group_id, made_ms);
)sql",
    // Content records refused as written concurrently with their author's removal (§5.4), kept
    // (the envelope in `envelopes`, counted unverified) to be judged again when the group's
    // control records change: a removal that goes void brings them back.
    R"sql(
CREATE TABLE dropped_held(
  id BLOB PRIMARY KEY, group_id BLOB NOT NULL, author BLOB NOT NULL, seq INTEGER NOT NULL,
  heads BLOB NOT NULL);
CREATE INDEX dropped_held_by_group ON dropped_held(group_id);
)sql",
    // A record row is keyed by its envelope's row (records.n = envelopes.seq), and found by id
    // through the envelopes' id index: one B-tree keyed by a random id per record instead of two,
    // and rows appended in arrival order. Groups, epochs and authors are small numbers
    // (record_keys), so rows and their two indexes shrink from some 430 bytes to a few dozen.
    // A record whose envelope goes while it stays (a tombstone, a damaged chunk) is found through
    // record_ids, which the trigger fills; one whose envelope was gone before this step gets a
    // negative n there (envelope seqs are positive and never reused).
    R"sql(
CREATE TABLE record_keys(n INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE);
INSERT INTO record_keys(key)
  SELECT group_id FROM records UNION SELECT epoch_id FROM records UNION SELECT author FROM records;
CREATE TABLE records_by_n(
  n INTEGER PRIMARY KEY, id BLOB NOT NULL, group_n INTEGER NOT NULL, epoch_n INTEGER NOT NULL,
  author_n INTEGER NOT NULL, seq INTEGER NOT NULL, prev BLOB, lamport INTEGER NOT NULL,
  kind INTEGER NOT NULL, heads BLOB NOT NULL, signed BLOB NOT NULL, wall_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL);
INSERT INTO records_by_n(n, id, group_n, epoch_n, author_n, seq, prev, lamport, kind, heads,
                         signed, wall_ms, received_ms)
  SELECT coalesce((SELECT e.seq FROM envelopes e WHERE e.id = r.id), -r.rowid), r.id,
         (SELECT n FROM record_keys WHERE key = r.group_id),
         (SELECT n FROM record_keys WHERE key = r.epoch_id),
         (SELECT n FROM record_keys WHERE key = r.author), r.seq, r.prev, r.lamport, r.kind,
         r.heads, r.signed, r.wall_ms, r.received_ms
  FROM records r ORDER BY 1;
CREATE TABLE record_ids(n INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE);
INSERT INTO record_ids(n, id) SELECT n, id FROM records_by_n WHERE n < 0;
DROP TABLE records;
ALTER TABLE records_by_n RENAME TO records;
CREATE INDEX records_by_kind ON records(group_n, kind, lamport);
CREATE INDEX records_by_author ON records(group_n, author_n, seq);
CREATE TRIGGER records_envelope_gone AFTER DELETE ON envelopes
  WHEN EXISTS (SELECT 1 FROM records WHERE n = OLD.seq) BEGIN
  INSERT OR IGNORE INTO record_ids(n, id) VALUES (OLD.seq, OLD.id);
END;
)sql",
    // The envelope store's fourth step rewrites `envelopes` (its id index holds a prefix of the
    // id), which drops the trigger step 8 put on it: the same trigger again. migrate_schema runs
    // this step after that one.
    R"sql(
CREATE TRIGGER IF NOT EXISTS records_envelope_gone AFTER DELETE ON envelopes
  WHEN EXISTS (SELECT 1 FROM records WHERE n = OLD.seq) BEGIN
  INSERT OR IGNORE INTO record_ids(n, id) VALUES (OLD.seq, OLD.id);
END;
)sql",
    // A row's id is its envelope's (envelopes.id where seq = n), or record_ids' when it has no
    // envelope: the row stops holding it, some 33 bytes a record. A row whose envelope is not
    // the one of its id (none in a store this program wrote) has its id put in record_ids first.
    R"sql(
DROP TRIGGER IF EXISTS records_envelope_gone;
INSERT OR IGNORE INTO record_ids(n, id)
  SELECT r.n, r.id FROM records r
  WHERE NOT EXISTS (SELECT 1 FROM envelopes e WHERE e.seq = r.n AND e.id = r.id);
CREATE TABLE records_without_id(
  n INTEGER PRIMARY KEY, group_n INTEGER NOT NULL, epoch_n INTEGER NOT NULL,
  author_n INTEGER NOT NULL, seq INTEGER NOT NULL, prev BLOB, lamport INTEGER NOT NULL,
  kind INTEGER NOT NULL, heads BLOB NOT NULL, signed BLOB NOT NULL, wall_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL);
INSERT INTO records_without_id(n, group_n, epoch_n, author_n, seq, prev, lamport, kind, heads,
                               signed, wall_ms, received_ms)
  SELECT n, group_n, epoch_n, author_n, seq, prev, lamport, kind, heads, signed, wall_ms,
         received_ms
  FROM records ORDER BY n;
DROP TABLE records;
ALTER TABLE records_without_id RENAME TO records;
CREATE INDEX records_by_kind ON records(group_n, kind, lamport);
CREATE INDEX records_by_author ON records(group_n, author_n, seq);
CREATE TRIGGER records_envelope_gone AFTER DELETE ON envelopes
  WHEN EXISTS (SELECT 1 FROM records WHERE n = OLD.seq) BEGIN
  INSERT OR IGNORE INTO record_ids(n, id) VALUES (OLD.seq, OLD.id);
END;
)sql",
    // A row's `prev` is the row number of the author's previous record when that record is held
    // (the one before on the same chain), some 30 bytes a record less; else its id, as before.
    // Readers take either (an integer is a row number, a blob an id).
    R"sql(
UPDATE records SET prev = coalesce(
  (SELECT p.n FROM records p
   WHERE p.n = coalesce((SELECT n FROM record_ids WHERE id = records.prev),
                        (SELECT seq FROM envelopes
                         WHERE substr(id, 1, 8) = substr(records.prev, 1, 8) AND id = records.prev))
     AND p.group_n = records.group_n AND p.author_n = records.author_n
     AND p.seq = records.seq - 1),
  prev)
WHERE typeof(prev) = 'blob';
)sql",
    // A row with one control head held in its group names it by row number, as `prev` (step 11).
    R"sql(
UPDATE records SET heads = coalesce(
  (SELECT h.n FROM records h
   WHERE h.n = coalesce((SELECT n FROM record_ids WHERE id = records.heads),
                        (SELECT seq FROM envelopes
                         WHERE substr(id, 1, 8) = substr(records.heads, 1, 8) AND id = records.heads))
     AND h.group_n = records.group_n),
  heads)
WHERE typeof(heads) = 'blob' AND length(heads) = 32;
)sql",
};

// The steps of `component` up to `count`, on a store not yet there.
Status migrate_through(storage::Database& db, std::string_view component,
                       std::span<const std::string_view> steps, std::size_t count) {
    auto version = db.schema_version(component);
    if (!version) return std::unexpected(version.error());
    if (*version >= static_cast<std::int64_t>(count)) return {};
    return db.migrate(component, steps.first(count));
}

constexpr std::string_view kSecretsComponent = "core-secrets";
constexpr std::int64_t kSecretsVersion = 1;

struct EpochRow {
    Bytes epoch_id;
    std::optional<crypto::SecretBytes> secret;
    crypto::SecretBytes control_key, mailbox_seed, file_key;
};

// Reads a column written before sealing: its bytes go straight to locked memory.
crypto::SecretBytes plain_column(storage::Statement& st, int column) {
    return crypto::SecretBytes::copy_of(st.column_blob(column));
}

Status bind_sealed(storage::Database& db, storage::Statement& st, int index,
                   const crypto::SecretBytes& secret, std::string_view column, ByteView row) {
    auto sealed = db.seal_secret(secret.view(), secret_place(column, row));
    if (!sealed) return std::unexpected(sealed.error());
    st.bind(index, *sealed);
    return {};
}

// Seals, in place, the secret columns of a store written before they were sealed. One
// transaction: a crash leaves the store wholly as it was or wholly sealed.
Status seal_secret_columns(storage::Database& db) {
    auto version = db.schema_version(kSecretsComponent);
    if (!version) return std::unexpected(version.error());
    if (*version == kSecretsVersion) return {};
    auto tx = db.begin();
    if (!tx) return std::unexpected(tx.error());
    // Read again under the write lock: another process may have sealed meanwhile.
    version = db.schema_version(kSecretsComponent);
    if (!version) return std::unexpected(version.error());
    if (*version == kSecretsVersion) return {};
    if (*version != 0)
        return fail(storage::StorageErrc::schema_too_new,
                    "secret columns are version {}; this program knows up to {}", *version,
                    kSecretsVersion);

    auto id = db.prepare("SELECT sign_secret, box_secret, transport_secret FROM identity");
    if (!id) return std::unexpected(id.error());
    auto row = id->step();
    if (!row) return std::unexpected(row.error());
    if (*row) {
        auto sign = plain_column(*id, 0);
        auto box = plain_column(*id, 1);
        auto transport = plain_column(*id, 2);
        id->reset();
        auto up =
            db.prepare("UPDATE identity SET sign_secret = ?, box_secret = ?, transport_secret = ?");
        if (!up) return std::unexpected(up.error());
        for (auto s : {bind_sealed(db, *up, 1, sign, "identity.sign_secret", {}),
                       bind_sealed(db, *up, 2, box, "identity.box_secret", {}),
                       bind_sealed(db, *up, 3, transport, "identity.transport_secret", {})})
            if (!s) return s;
        if (auto r = up->step(); !r) return std::unexpected(r.error());
    }

    std::vector<EpochRow> epochs;
    auto es =
        db.prepare("SELECT epoch_id, secret, control_key, mailbox_seed, file_key FROM epochs");
    if (!es) return std::unexpected(es.error());
    for (;;) {
        auto r = es->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) break;
        EpochRow e;
        auto eid = es->column_blob(0);
        e.epoch_id.assign(eid.begin(), eid.end());
        if (!es->column_is_null(1)) e.secret = plain_column(*es, 1);
        e.control_key = plain_column(*es, 2);
        e.mailbox_seed = plain_column(*es, 3);
        e.file_key = plain_column(*es, 4);
        epochs.push_back(std::move(e));
    }
    for (const auto& e : epochs) {
        auto up = db.cached(
            "UPDATE epochs SET secret = ?, control_key = ?, mailbox_seed = ?, file_key = ? "
            "WHERE epoch_id = ?");
        if (!up) return std::unexpected(up.error());
        auto& st = **up;
        if (e.secret) {
            if (auto s = bind_sealed(db, st, 1, *e.secret, "epochs.secret", e.epoch_id); !s)
                return s;
        } else {
            st.bind_null(1);
        }
        for (auto s : {bind_sealed(db, st, 2, e.control_key, "epochs.control_key", e.epoch_id),
                       bind_sealed(db, st, 3, e.mailbox_seed, "epochs.mailbox_seed", e.epoch_id),
                       bind_sealed(db, st, 4, e.file_key, "epochs.file_key", e.epoch_id)})
            if (!s) return s;
        st.bind(5, ByteView(e.epoch_id));
        if (auto r = st.step(); !r) return std::unexpected(r.error());
    }
    auto bump =
        db.cached("INSERT OR REPLACE INTO schema_versions(component, version) VALUES(?, ?)");
    if (!bump) return std::unexpected(bump.error());
    (*bump)->bind(1, kSecretsComponent).bind(2, kSecretsVersion);
    if (auto r = (*bump)->step(); !r) return std::unexpected(r.error());
    return tx->commit();
}

}  // namespace

Bytes secret_place(std::string_view column, ByteView row) {
    Bytes out = to_bytes(column);
    out.push_back(0);
    append(out, row);
    return out;
}

Status migrate_schema(storage::Database& db) {
    // The envelope store's fourth step rewrites `envelopes` without its full-id index: core's
    // eighth step (and the quota's first) read envelopes by id with plain `id = ?`, so they run
    // before it, and the steps that put their triggers back on the table after it.
    if (auto ok = storage::EnvelopeStore::migrate_before_rewrite(db); !ok) return ok;
    // The quota's steps stand on core's first tables; its second drops a trigger on the records
    // table that core's eighth step replaces (dropping the trigger with it): on a store written
    // before, the quota goes first.
    auto core = db.schema_version("core");
    if (!core) return std::unexpected(core.error());
    if (*core >= 1)
        if (auto ok = migrate_quota_schema(db, kQuotaStepsBeforeRewrite); !ok) return ok;
    if (auto ok = migrate_through(db, "core", kCoreSteps, 8); !ok) return ok;
    if (auto ok = migrate_quota_schema(db, kQuotaStepsBeforeRewrite); !ok) return ok;
    if (auto ok = storage::EnvelopeStore::migrate(db); !ok) return ok;
    if (auto ok = migrate_quota_schema(db); !ok) return ok;
    if (auto ok = db.migrate("core", kCoreSteps); !ok) return ok;
    return seal_secret_columns(db);
}

}  // namespace kolokol::core
