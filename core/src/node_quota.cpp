// The unverified quota: envelopes the store keeps without being able to check them — ones it
// cannot open, and records by non-members waiting for their references — take at most a
// configurable number of bytes, so nobody who can reach this member's ingest (a relay, a peer,
// a sync file, a removed member with an old key) can fill its disk.

#include <array>

#include "node_impl.hpp"
#include "schema.hpp"

namespace kolokol::core {

namespace {

// The quota component's own schema steps (append only). `unverified` lists what counts; the
// triggers keep the one-row total exact whatever deletes envelopes (retention, redaction,
// damage); applying a record that was held unopened (a key came later) forgets its row in code.
constexpr std::array<std::string_view, 3> kQuotaSteps = {
    R"sql(
CREATE TABLE unverified(id BLOB PRIMARY KEY NOT NULL, bytes INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE unverified_usage(
  id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT INTO unverified_usage(id, count, bytes) VALUES (1, 0, 0);
CREATE TRIGGER unverified_added AFTER INSERT ON unverified BEGIN
  UPDATE unverified_usage SET count = count + 1, bytes = bytes + NEW.bytes WHERE id = 1;
END;
CREATE TRIGGER unverified_removed AFTER DELETE ON unverified BEGIN
  UPDATE unverified_usage SET count = count - 1, bytes = bytes - OLD.bytes WHERE id = 1;
END;
CREATE TRIGGER unverified_envelope_gone AFTER DELETE ON envelopes BEGIN
  DELETE FROM unverified WHERE id = OLD.id;
END;
CREATE TRIGGER unverified_applied AFTER INSERT ON records BEGIN
  DELETE FROM unverified WHERE id = NEW.id;
END;
CREATE TABLE store_settings(name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
INSERT INTO unverified(id, bytes)
  SELECT e.id, e.size + e.size / 16 + 320 FROM envelopes e
  WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = e.id)
    AND NOT EXISTS (SELECT 1 FROM pending p WHERE p.id = e.id);
)sql",
    // Applying a record forgets its unverified row in code (forget_unverified): the trigger
    // made every record insert a statement with a statement journal, and SQLCipher encrypts
    // each page saved there.
    R"sql(
DROP TRIGGER unverified_applied;
)sql",
    // The envelope store's fourth step rewrites `envelopes` (its id index holds a prefix of the
    // id), which drops the trigger the first step put on it: the same trigger again.
    R"sql(
CREATE TRIGGER IF NOT EXISTS unverified_envelope_gone AFTER DELETE ON envelopes BEGIN
  DELETE FROM unverified WHERE id = OLD.id;
END;
)sql",
};

constexpr std::string_view kQuotaSetting = "unverified_quota";

// What keeping an envelope costs on disk beyond its bytes — its rows and index entries in
// envelopes, mailbox_usage, unverified and pending, and for a waiting record each reference it
// waits for (a pending_refs row), plus a sixteenth for pages (SQLCipher's reserve per page,
// overflow page headers, B-tree slack) — is charged too, so the store's file grows by no more
// than the quota whatever the junk is made of: measured at 360 bytes a 73-byte envelope, 2.6%
// over the bytes of 60 KiB ones, 3.8% over those of waiting 16 KiB records.
constexpr std::size_t kPerEnvelopeBytes = 320;
constexpr std::size_t kPerReferenceBytes = 96;

}  // namespace

std::size_t unverified_charge(std::size_t envelope_bytes, std::size_t references) {
    return envelope_bytes + envelope_bytes / 16 + kPerEnvelopeBytes +
           references * kPerReferenceBytes;
}

Status migrate_quota_schema(storage::Database& db, std::size_t through) {
    if (through >= kQuotaSteps.size()) return db.migrate("quota", kQuotaSteps);
    auto version = db.schema_version("quota");
    if (!version) return std::unexpected(version.error());
    if (*version >= static_cast<std::int64_t>(through)) return {};
    return db.migrate("quota", std::span(kQuotaSteps).first(through));
}

std::uint64_t Node::Impl::unverified_quota() {
    if (quota_cache) return *quota_cache;
    std::uint64_t quota = Node::kDefaultUnverifiedQuota;
    if (auto st = db.cached("SELECT value FROM store_settings WHERE name = ?")) {
        (*st)->bind(1, kQuotaSetting);
        if (auto r = (*st)->step(); r && *r) {
            const auto text = (*st)->column_text(0);
            // Written by set_unverified_quota only; anything else is read as the default.
            try {
                std::size_t used = 0;
                auto v = std::stoull(text, &used);
                if (used == text.size() && v <= Node::kMaxUnverifiedQuota) quota = v;
            } catch (const std::exception&) {
            }
        }
        (*st)->reset();
    }
    quota_cache = quota;
    return quota;
}

Result<UnverifiedUsage> Node::Impl::unverified_usage() {
    auto st = db.cached("SELECT count, bytes FROM unverified_usage WHERE id = 1");
    if (!st) return std::unexpected(st.error());
    UnverifiedUsage u;
    auto r = (*st)->step();
    if (!r) {
        (*st)->reset();
        return std::unexpected(r.error());
    }
    if (*r) {
        u.count = static_cast<std::uint64_t>(std::max<std::int64_t>(0, (*st)->column_int64(0)));
        u.bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(0, (*st)->column_int64(1)));
    }
    (*st)->reset();
    u.quota = unverified_quota();
    return u;
}

Result<bool> Node::Impl::unverified_fits(std::size_t bytes) {
    auto u = unverified_usage();
    if (!u) return std::unexpected(u.error());
    return u->bytes + bytes <= u->quota;
}

Status Node::Impl::note_unverified(const RecordId& id, std::size_t bytes) {
    unverified_empty = false;
    auto st = db.cached("INSERT OR IGNORE INTO unverified(id, bytes) VALUES (?, ?)");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(id)).bind(2, static_cast<std::int64_t>(bytes));
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    return {};
}

Status Node::Impl::forget_unverified(const RecordId& id) {
    if (unverified_empty) return {};
    auto st = db.cached("DELETE FROM unverified WHERE id = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(id));
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    return {};
}

void Node::Impl::refuse_over_quota(const RecordId& id, IngestReport& report) {
    ++report.over_quota;
    refused.push_back(id);
}

Status Node::Impl::keep_unreadable(const RecordId& id, const MailboxId& mailbox, ByteView envelope,
                                   bool from_pending, IngestReport& report) {
    ++report.unreadable;
    // Held already (and counted when it came): nothing to store or check.
    if (from_pending) return {};
    auto held = envelopes->contains(id);
    if (!held) return std::unexpected(held.error());
    if (*held) return {};
    const auto charge = unverified_charge(envelope.size(), 0);
    auto fits = unverified_fits(charge);
    if (!fits) return std::unexpected(fits.error());
    if (!*fits) {
        refuse_over_quota(id, report);
        return {};
    }
    if (auto ok = store_envelope(id, mailbox, envelope); !ok) return ok;
    return note_unverified(id, charge);
}

UnverifiedUsage Node::unverified_usage() {
    auto u = m_impl->unverified_usage();
    if (u) return *u;
    return UnverifiedUsage{0, 0, m_impl->unverified_quota()};
}

Status Node::Impl::drop_unverified_over(std::uint64_t quota) {
    auto usage = unverified_usage();
    if (!usage) return std::unexpected(usage.error());
    if (usage->bytes <= quota) return {};
    // Newest first: what filled the quota last is the likeliest junk, and anything a member
    // needs comes again with the next sync.
    std::vector<RecordId> drop;
    {
        auto st = db.prepare(
            "SELECT u.id, u.bytes FROM unverified u JOIN envelopes e ON substr(e.id, 1, 8) = "
            "substr(u.id, 1, 8) AND e.id = u.id ORDER BY e.seq DESC");
        if (!st) return std::unexpected(st.error());
        std::uint64_t left = usage->bytes;
        while (left > quota) {
            auto r = st->step();
            if (!r) return std::unexpected(r.error());
            if (!*r) break;
            drop.push_back(to_array<32>(st->column_blob(0)));
            left -= std::min<std::uint64_t>(left, static_cast<std::uint64_t>(st->column_int64(1)));
        }
    }
    // A record kept to be judged again (`dropped_held`) keeps its row without the envelope: it
    // is fetched again if it stands later.
    if (auto ok = records.drop_held(drop, true); !ok) return ok;
    if (auto r = envelopes->remove(drop); !r) return std::unexpected(r.error());
    forget_waits();
    forget_held();
    return {};
}

Status Node::set_unverified_quota(std::uint64_t bytes) {
    if (bytes > kMaxUnverifiedQuota)
        return fail(CoreErrc::bad_input, "the unverified quota is at most 1 TiB");
    auto& m = *m_impl;
    auto tx = m.db.begin();
    if (!tx) return std::unexpected(tx.error());
    auto st = m.db.cached("INSERT OR REPLACE INTO store_settings(name, value) VALUES (?, ?)");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, kQuotaSetting).bind(2, std::to_string(bytes));
    auto r = (*st)->step();
    (*st)->reset();
    if (!r) return std::unexpected(r.error());
    auto before = m.unverified_usage();
    if (!before) return std::unexpected(before.error());
    if (auto ok = m.drop_unverified_over(bytes); !ok) return ok;
    if (auto ok = tx->commit(); !ok) return ok;
    m.quota_cache = bytes;
    // What was dropped leaves the file too, as retention's deletions do.
    if (before->bytes > bytes) {
        if (auto ok = m.db.exec("VACUUM"); !ok) return std::unexpected(ok.error());
        if (auto ok = m.db.checkpoint_truncate(); !ok) return ok;
    }
    return {};
}

}  // namespace kolokol::core
