// Retention (DESIGN §6): a group's settings may give a period after which its content records
// are deleted from every member's store — rows, envelopes, attachment chunks — along with the
// epoch secrets no remaining record needs (forward secrecy). Freed pages are zeroed
// (secure_delete), the file is rebuilt (VACUUM) and the WAL truncated, so nothing lingers.

#include <algorithm>
#include <set>

#include "node_impl.hpp"

namespace kolokol::core {

namespace {
constexpr std::uint64_t kMaxRetentionSeconds = 100ULL * 365 * 24 * 3600;
}  // namespace

Status delete_by_id(storage::Database& db, std::string_view sql, std::span<const RecordId> ids) {
    for (const auto& id : ids) {
        auto st = db.cached(sql);
        if (!st) return std::unexpected(st.error());
        (*st)->bind(1, ByteView(id));
        if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    }
    return {};
}

bool Node::Impl::epoch_retired(const EpochId& epoch) {
    auto st = db.cached("SELECT 1 FROM retired_epochs WHERE epoch_id = ?");
    if (!st) return false;
    (*st)->bind(1, ByteView(epoch));
    auto r = (*st)->step();
    (*st)->reset();
    return r && *r;
}

std::uint64_t Node::Impl::deleting_retention(const GroupId& group, std::int64_t at_ms) {
    // A setting written by a copy of a removed admin's home from before the removal is valid
    // here until the removal arrives, and void from then on (§5.4); what it deleted would stay
    // deleted. A copy of this member's own home, seized, signs with this member's key: the
    // key does not tell this device from the copy. So the settings are taken in order, and one
    // that shortens the period in force (off counting as endless) moves it only once it has
    // been held here for a day, whoever wrote it; one that lengthens it or turns it off, at
    // once. A shortening not yet settled is skipped, so the next one is measured against the
    // period before it too: the same setting written twice does not make the second a no-op
    // that applies at once.
    const auto& g = state(group);
    std::uint64_t in_force = 0;
    for (const auto& [id, written] : g.retention_settings()) {
        // At most 100 years, whatever a record says: `set_retention` writes no more, and a
        // period past it would wrap the cutoff's arithmetic into the future (deleting
        // everything at once as a "lengthening").
        const auto seconds = std::min(written, kMaxRetentionSeconds);
        const bool shortens = seconds != 0 && (in_force == 0 || seconds < in_force);
        if (!shortens || crypto::is_zero(id)) {
            in_force = seconds;
            continue;
        }
        auto received = records.received_ms(id);
        if (received && *received <= at_ms - kRetentionSettleMs) in_force = seconds;
    }
    return in_force;
}

std::uint64_t Node::Impl::deleting_retention(const GroupId& group) {
    return deleting_retention(group, now());
}

bool Node::Impl::expired(const GroupId& group, const pb::RecordBody& body) {
    if (is_control_payload(body) || !genesis.contains(group)) return false;
    auto seconds = deleting_retention(group);
    if (seconds == 0) return false;
    return body.wall_clock_ms() < now() - static_cast<std::int64_t>(seconds) * 1000;
}

Status Node::set_retention(const GroupId& group, std::uint64_t seconds) {
    auto& m = *m_impl;
    if (seconds > kMaxRetentionSeconds)
        return fail(CoreErrc::bad_input, "a retention period is at most 100 years");
    if (seconds != 0 && seconds < 60)
        return fail(CoreErrc::bad_input, "a retention period is at least one minute");
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    if (!m.state(group).is_admin(me()))
        return fail(CoreErrc::not_permitted, "only an admin can set the group's retention");
    pb::RecordBody body;
    body.mutable_settings()->set_set_retention(true);
    body.mutable_settings()->set_retention_seconds(seconds);
    auto id = m.write(group, std::move(body), m.rotation_epoch(group));
    if (!id) return std::unexpected(id.error());
    auto r = apply_retention();
    if (!r) return std::unexpected(r.error());
    return {};
}

std::uint64_t Node::retention(const GroupId& group) {
    if (!m_impl->genesis.contains(group)) return 0;
    return m_impl->state(group).retention_seconds();
}

RetentionInForce Node::retention_in_force(const GroupId& group) {
    auto& m = *m_impl;
    RetentionInForce out;
    if (!m.genesis.contains(group)) return out;
    out.set_seconds = std::min(m.state(group).retention_seconds(), kMaxRetentionSeconds);
    const auto now = m.now();
    out.deleting_seconds = m.deleting_retention(group, now);
    if (out.deleting_seconds == out.set_seconds) return out;
    // The period set deletes from the first moment a shortening settles after which the
    // settings taken in order end on it: try each settling time in turn.
    std::vector<std::int64_t> times;
    for (const auto& [id, seconds] : m.state(group).retention_settings())
        if (auto received = m.records.received_ms(id))
            if (*received + Impl::kRetentionSettleMs > now)
                times.push_back(*received + Impl::kRetentionSettleMs);
    std::sort(times.begin(), times.end());
    for (auto t : times)
        if (m.deleting_retention(group, t) == out.set_seconds) {
            out.from_ms = t;
            break;
        }
    return out;
}

Result<RetentionReport> Node::apply_retention() {
    auto& m = *m_impl;
    RetentionReport report;
    std::vector<GroupId> groups;
    for (const auto& [id, info] : m.genesis)
        if (m.deleting_retention(id) > 0) groups.push_back(id);
    if (groups.empty()) return report;
    if (auto ok = m.enable_secure_delete(); !ok) return std::unexpected(ok.error());

    auto tx = m.db.begin();
    if (!tx) return std::unexpected(tx.error());
    std::int64_t oldest_cutoff = m.now();
    for (const auto& group : groups) {
        auto seconds = m.deleting_retention(group);
        std::int64_t cutoff = m.now() - static_cast<std::int64_t>(seconds) * 1000;
        oldest_cutoff = std::min(oldest_cutoff, cutoff);
        auto ids = m.records.content_before(group, cutoff);
        if (!ids) return std::unexpected(ids.error());
        // Envelopes still waiting (pending) or unreadable, received before the cutoff: the
        // records they carry are at least that old.
        auto stale = m.records.unapplied_before(group, cutoff);
        if (!stale) return std::unexpected(stale.error());
        if (!ids->empty() || !stale->empty()) {
            if (auto ok = m.records.remove(*ids); !ok) return std::unexpected(ok.error());
            for (auto sql :
                 {"DELETE FROM attachment_chunks WHERE id = ?",
                  "DELETE FROM redactions WHERE target = ?",
                  "DELETE FROM redactions WHERE redaction = ?", "DELETE FROM refetch WHERE id = ?",
                  "DELETE FROM rejected WHERE id = ?"})
                if (auto ok = delete_by_id(m.db, sql, *ids); !ok)
                    return std::unexpected(ok.error());
            if (auto ok = m.records.drop_held(*stale); !ok) return std::unexpected(ok.error());
            if (auto ok = delete_by_id(m.db, "DELETE FROM refetch WHERE id = ?", *stale); !ok)
                return std::unexpected(ok.error());
            auto removed = m.envelopes->remove(*ids);
            if (!removed) return std::unexpected(removed.error());
            auto removed_stale = m.envelopes->remove(*stale);
            if (!removed_stale) return std::unexpected(removed_stale.error());
            report.records += ids->size();
            report.envelopes += *removed + *removed_stale;
        }
        // Rows of refused records kept without their envelope (§5.4) carry no time of their
        // own: in a group with a period they go at every pass, with their notes. One still
        // within the period is then fetched again by the next sync and judged again as if
        // never seen; none past it stays named in the database (row 30).
        auto bare = collect_ids(
            m.db,
            "SELECT d.id FROM dropped_held d WHERE d.group_id = ? AND NOT EXISTS (SELECT 1 FROM "
            "envelopes e WHERE substr(e.id, 1, 8) = substr(d.id, 1, 8) AND e.id = d.id)",
            [&](storage::Statement& st) { st.bind(1, ByteView(group)); });
        if (!bare) return std::unexpected(bare.error());
        if (!bare->empty()) {
            if (auto ok = m.records.drop_held(*bare); !ok) return std::unexpected(ok.error());
            if (auto ok = delete_by_id(m.db, "DELETE FROM rejected WHERE id = ?", *bare); !ok)
                return std::unexpected(ok.error());
            report.records += bare->size();
        }

        // Epoch secrets: one that is no longer current and that no remaining content record
        // was written in is needed by nothing; without it, old envelopes stay noise forever.
        std::set<EpochId> current;
        for (const auto* e : m.state(group).frontier()) current.insert(e->id);
        auto epochs =
            collect_ids(m.db,
                        "SELECT epoch_id FROM epochs WHERE group_id = ? AND secret IS NOT "
                        "NULL",
                        [&](storage::Statement& st) { st.bind(1, ByteView(group)); });
        if (!epochs) return std::unexpected(epochs.error());
        for (const auto& e : *epochs) {
            if (current.contains(e)) continue;
            auto used = m.records.epoch_has_content(e);
            if (!used) return std::unexpected(used.error());
            if (*used) continue;
            const auto* keys = m.keys_for_epoch(e);
            if (!keys) continue;
            auto retired =
                EpochKeys::control_only(group, e, keys->control_key.view(),
                                        keys->mailbox_seed.view(), keys->file_key.view());
            auto mailbox = keys->mailbox;
            auto up = m.db.cached("UPDATE epochs SET secret = NULL WHERE epoch_id = ?");
            if (!up) return std::unexpected(up.error());
            (*up)->bind(1, ByteView(e));
            if (auto u = (*up)->step(); !u) return std::unexpected(u.error());
            auto ins = m.db.cached(
                "INSERT OR IGNORE INTO retired_epochs(epoch_id, group_id) VALUES (?, ?)");
            if (!ins) return std::unexpected(ins.error());
            (*ins)->bind(1, ByteView(e)).bind(2, ByteView(group));
            if (auto u = (*ins)->step(); !u) return std::unexpected(u.error());
            m.epochs.insert_or_assign(mailbox, std::move(retired));
            ++report.epochs;
        }
    }
    // Notes about refused records name their ids: those past every period go too.
    if (report.records > 0 || report.envelopes > 0) {
        auto st = m.db.cached("DELETE FROM rejected WHERE at_ms < ?");
        if (!st) return std::unexpected(st.error());
        (*st)->bind(1, oldest_cutoff);
        if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    }
    if (auto ok = tx->commit(); !ok) return std::unexpected(ok.error());
    if (report.records == 0 && report.envelopes == 0 && report.epochs == 0) return report;

    m.recent_rows.clear();
    m.forget_held();
    m.forget_waits();
    m.object_sets.clear();
    m.refetch_rows = -1;
    // Freed pages were zeroed; VACUUM rebuilds the file without them and the WAL is emptied.
    if (auto ok = m.db.exec("VACUUM"); !ok) return std::unexpected(ok.error());
    if (auto ok = m.db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); !ok)
        return std::unexpected(ok.error());
    return report;
}

}  // namespace kolokol::core
