#include "schema.hpp"

#include <array>

#include "kolokol/storage/envelope_store.hpp"

namespace kolokol::core {

namespace {
// Append new steps; never edit a step that has shipped.
constexpr std::array<std::string_view, 5> kCoreSteps = {
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
};
}  // namespace

Status migrate_schema(storage::Database& db) {
    if (auto ok = storage::EnvelopeStore::migrate(db); !ok) return ok;
    if (auto ok = db.migrate("core", kCoreSteps); !ok) return ok;
    return migrate_quota_schema(db);
}

}  // namespace kolokol::core
