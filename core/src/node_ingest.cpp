// The one ingest path every carrier uses (DESIGN §4, §5): open, verify, check the author's
// membership at the record's causal position, hold records whose references are missing, and
// apply the rest — all in one transaction per batch.

#include <algorithm>
#include <limits>
#include <thread>

#include "kolokol/crypto/x25519.hpp"
#include "node_impl.hpp"

namespace kolokol::core {

namespace {

bool is_membership_rejection(RejectReason reason) {
    return reason == RejectReason::not_member || reason == RejectReason::removed_author;
}
constexpr std::size_t kParallelThreshold = 64;
constexpr std::int64_t kMaxRejectedRows = 10000;

// What an opened record held in memory costs, roughly: its envelope, its plaintext and the
// parsed body (about the plaintext's size again).
std::size_t held_cost(const OpenedRecord& r) {
    return r.envelope.size() + 2 * r.signed_record.size() + 128;
}

}  // namespace

Result<IngestReport> Node::ingest(std::span<const Bytes> envelopes) {
    return m_impl->ingest(envelopes);
}

Result<IngestReport> Node::Impl::ingest(std::span<const Bytes> envelopes) {
    refused.clear();
    unverified_empty = false;
    // Counted again in each batch: another process may have changed the rows meanwhile.
    records.discard_dropped_counts();
    records.forget_key_numbers();
    auto r = ingest_batch(envelopes);
    unverified_empty = false;
    // A failed batch was rolled back (or its scope will be): forget what was remembered from it.
    if (!r) forget_uncommitted();
    return r;
}

void Node::Impl::forget_uncommitted() {
    recent_rows.clear();
    records.discard_heads();
    records.discard_dropped_counts();
    records.forget_key_numbers();
    forget_held();
    forget_waits();
    object_sets.clear();
    states.clear();
    refetch_rows = -1;
    redact_later.clear();
    redactions_to_recheck.clear();
    // Keys a rolled-back batch added or dropped (a welcome token's) are as the store has them.
    (void)load_epochs();
}

Result<WriteScope> WriteScope::open(Node::Impl& impl) {
    if (impl.scope_tx) return WriteScope(&impl, false);
    auto tx = impl.db.begin();
    if (!tx) return std::unexpected(tx.error());
    impl.scope_tx = std::move(*tx);
    impl.scope_failed = false;
    return WriteScope(&impl, true);
}

WriteScope::WriteScope(WriteScope&& other) noexcept
    : m_impl(std::exchange(other.m_impl, nullptr)), m_outer(other.m_outer), m_done(other.m_done) {}

Status WriteScope::commit(bool large) {
    m_done = true;
    if (!m_outer || !m_impl || !m_impl->scope_tx) return {};
    auto tx = std::move(*m_impl->scope_tx);
    m_impl->scope_tx.reset();
    if (m_impl->scope_failed) {
        // A part of the scope failed and its caller carried on: nothing of it may stay.
        tx.rollback();
        m_impl->forget_uncommitted();
        return fail(CoreErrc::io, "a part of the change failed; nothing was saved");
    }
    if (auto ok = tx.commit(); !ok) {
        tx.rollback();
        m_impl->forget_uncommitted();
        return ok;
    }
    // The log held the whole scope; once copied into the database its space goes back. A
    // reader in another process may hold it: then it is reused later instead.
    if (large) (void)m_impl->db.checkpoint_truncate();
    return {};
}

WriteScope::~WriteScope() {
    if (!m_impl) return;
    if (!m_outer) {
        if (!m_done) m_impl->scope_failed = true;
        return;
    }
    if (m_impl->scope_tx) {
        m_impl->scope_tx->rollback();
        m_impl->scope_tx.reset();
        m_impl->forget_uncommitted();
        // A scope that failed for want of space leaves a log as large as what it wrote: give
        // that space back, so the disk is as full as before the attempt and no fuller.
        (void)m_impl->db.checkpoint_truncate();
    }
}

Status Node::Impl::take_grant(const RecordId& rotation, const GroupId& group,
                              const pb::Rotation& body, std::vector<RecordId>& retry) {
    auto my_tag = ByteView(identity.sign.public_key).first(8);
    for (const auto& grant : body.grants()) {
        if (!crypto::equal_ct(as_bytes(grant.member_tag()), my_tag)) continue;
        // Sealed to the key the fold gave us at the rotation's position: one of our key
        // updates' (newest first), else our card's (§5.13).
        auto held_keys = held_box_keys(&group);
        if (!held_keys) return std::unexpected(held_keys.error());
        const HeldBoxKey* opened_with = nullptr;
        std::optional<crypto::SecretBytes> secret;
        for (const auto& k : *held_keys) {
            secret = crypto::box_seal_open(k.pair, as_bytes(grant.sealed_secret()));
            if (secret) {
                opened_with = &k;
                break;
            }
        }
        if (!secret) secret = crypto::box_seal_open(identity.box, as_bytes(grant.sealed_secret()));
        if (!secret || secret->size() != 32) return {};
        auto granted = [&] { return EpochKeys::from_secret(group, rotation, secret->view()); };
        auto new_keys = granted();
        auto mailbox = new_keys.mailbox;
        if (auto ok = add_epoch(std::move(new_keys)); !ok) {
            if (ok.error().code != CoreErrc::conflict) return ok;
            const auto* held = keys_for_epoch(rotation);
            const bool token_lied = held != nullptr && held->source != KeySource::group;
            // The rotation stands (it is the group's); only its grant to us is in question.
            auto st = db.cached(
                "INSERT OR IGNORE INTO rejected(id, reason, detail, at_ms) VALUES (?, ?, ?, ?)");
            if (!st) return std::unexpected(st.error());
            (*st)
                ->bind(1, ByteView(rotation))
                .bind(2, static_cast<std::int64_t>(RejectReason::key_conflict))
                .bind(3, "its grant to you: " + ok.error().message +
                             (token_lied ? "; the welcome token that gave the other was refused"
                                         : "; kept the held key"))
                .bind(4, now());
            if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
            if (!token_lied) return {};
            // Only a welcome token vouched for the held key, and the group's own rotation, sealed
            // to us by an admin, says otherwise: the token lied, whoever signed it, and every key
            // it gave goes. Until this moment the key was not written with: a member writes in
            // an epoch only once they hold the rotation that made it.
            if (auto r = refuse_token(group,
                                      "it gave another key for epoch " + short_key(rotation) +
                                          " than the group's rotation grants you: it is forged",
                                      true, retry);
                !r)
                return r;
            if (auto again = add_epoch(granted()); !again) return again;
        }
        // A grant sealed to a key update's key is taken: the keys made before it are needed by
        // no later rotation, and go (a concurrent rotation sealed to one of them is lost: a new
        // rotation or a welcome token brings its key, §5.13).
        if (opened_with)
            if (auto ok = erase_box_keys_before(group, opened_with->order); !ok) return ok;
        // Envelopes that arrived before we could open them.
        auto held = envelopes->ids(mailbox);
        if (!held) return std::unexpected(held.error());
        for (const auto& h : *held)
            if (!records.contains(h) && !records.held(h)) retry.push_back(h);
        return {};
    }
    return {};
}

Status Node::Impl::take_control_grant(const RecordId& rotation, const GroupId& group,
                                      const pb::Rotation& body, std::vector<RecordId>& retry) {
    if (body.control_grants().empty()) return {};
    auto my_tag = ByteView(identity.sign.public_key).first(8);
    for (const auto& grant : body.control_grants()) {
        if (!crypto::equal_ct(as_bytes(grant.member_tag()), my_tag)) continue;
        // Only a newcomer whose add still waits needs it: a member gets the secret of the
        // epochs written for them, and a refused token takes no more keys of the group.
        auto adm = admission(group);
        if (!adm) return std::unexpected(adm.error());
        if (!*adm || (*adm)->state != AdmissionState::waiting) return {};
        // Sealed to the box key of our card: the add's (a newcomer writes no key update).
        auto plain = crypto::box_seal_open(identity.box, as_bytes(grant.sealed_keys()));
        if (!plain || plain->size() != kControlGrantKeyBytes) return {};
        auto keys =
            EpochKeys::control_only(group, rotation, plain->view().first(32),
                                    plain->view().subspan(32, 32), plain->view().subspan(64, 32));
        // Worth what the waiting token is worth: dropped with it if the add never admits us.
        keys.source = KeySource::waiting_token;
        auto mailbox = keys.mailbox;
        if (auto ok = add_epoch(std::move(keys)); !ok) {
            if (ok.error().code != CoreErrc::conflict) return ok;
            auto st = db.cached(
                "INSERT OR IGNORE INTO rejected(id, reason, detail, at_ms) VALUES (?, ?, ?, ?)");
            if (!st) return std::unexpected(st.error());
            (*st)
                ->bind(1, ByteView(rotation))
                .bind(2, static_cast<std::int64_t>(RejectReason::key_conflict))
                .bind(3, "its control grant to you: " + ok.error().message + "; kept the held key")
                .bind(4, now());
            if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
            return {};
        }
        // Envelopes that arrived before we could open them.
        auto held = envelopes->ids(mailbox);
        if (!held) return std::unexpected(held.error());
        for (const auto& h : *held)
            if (!records.contains(h) && !records.held(h)) retry.push_back(h);
        return {};
    }
    return {};
}

Status Node::Impl::load_waits() {
    if (waits.loaded) return {};
    Waits loaded;
    auto ok = records.each_wait([&](const RecordId& ref, const RecordId& id) {
        loaded.by_ref[std::string(as_chars(ByteView(ref)))].push_back(id);
        ++loaded.count[std::string(as_chars(ByteView(id)))];
    });
    if (!ok) return ok;
    loaded.loaded = true;
    waits = std::move(loaded);
    return {};
}

Status Node::Impl::hold_for(const RecordId& id, std::span<const RecordId> refs) {
    if (auto ok = load_waits(); !ok) return ok;
    for (const auto& ref : refs) {
        auto added = records.add_wait(ref, id);
        if (!added) return std::unexpected(added.error());
        if (!*added) continue;  // already noted (a ref named twice)
        waits.by_ref[std::string(as_chars(ref))].push_back(id);
        ++waits.count[std::string(as_chars(id))];
    }
    return {};
}

std::size_t Node::Impl::pending_count() {
    return records.held_count();
}

bool Node::Impl::rejected_for_membership(const RecordId& id) {
    // Kept to be judged again (its note in `rejected` may have been pushed out by a flood): as
    // refused, until it stands.
    if (records.dropped_held(id)) return true;
    auto st = db.cached("SELECT reason FROM rejected WHERE id = ?");
    if (!st) return false;
    (*st)->bind(1, ByteView(id));
    auto r = (*st)->step();
    const bool out =
        r && *r && is_membership_rejection(static_cast<RejectReason>((*st)->column_int64(0)));
    (*st)->reset();
    return out;
}

Status Node::Impl::reject(const RecordId& id, RejectReason reason, std::string_view detail,
                          IngestReport& report) {
    ++report.rejected;
    auto st =
        db.cached("INSERT OR IGNORE INTO rejected(id, reason, detail, at_ms) VALUES (?, ?, ?, ?)");
    if (!st) return std::unexpected(st.error());
    (*st)
        ->bind(1, ByteView(id))
        .bind(2, static_cast<std::int64_t>(reason))
        .bind(3, detail)
        .bind(4, now());
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    return {};
}

Status Node::Impl::store_envelope(const RecordId& id, const MailboxId& mailbox, ByteView envelope,
                                  std::optional<std::int64_t>* seq) {
    storage::StoredEnvelope e{id, mailbox, envelope, now(), 0};
    std::vector<std::int64_t> seqs;
    auto r = envelopes->put(std::span<const storage::StoredEnvelope>(&e, 1), seq ? &seqs : nullptr);
    if (!r) return std::unexpected(r.error());
    if (seq) {
        seq->reset();
        if ((*r)[0]) *seq = seqs[0];
    }
    return {};
}

Result<IngestReport> Node::Impl::ingest_batch(std::span<const Bytes> input) {
    IngestReport report;
    report.received = input.size();

    // Open ahead of time on every core (AEAD, parse, limits: it needs only the epoch keys,
    // which nothing modifies before the records are applied below). What is opened tells the
    // records' Lamport clocks, and with them the order to apply them in.
    struct Opening {
        std::optional<std::expected<UncheckedRecord, Rejection>> unchecked;
        GroupId group{};
        EpochId epoch{};
    };
    std::vector<Opening> opening(input.size());
    auto open_range = [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            auto view = storage::parse_envelope(input[i]);
            if (!view) continue;
            auto k = epochs.find(view->mailbox);
            if (k == epochs.end()) continue;
            opening[i].group = k->second.group_id;
            opening[i].epoch = k->second.epoch_id;
            opening[i].unchecked = open_unchecked(input[i], k->second);
        }
    };
    const unsigned threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
    const bool parallel = input.size() >= kParallelThreshold && threads > 1;
    if (!parallel) {
        open_range(0, input.size());
    } else {
        // The caller works too: threads - 1 workers, started with the first large batch.
        if (!open_pool) open_pool = std::make_unique<WorkerPool>(threads - 1);
        open_pool->for_each(input.size(), open_range);
    }

    // Inside a write scope the scope's transaction takes these records, all or nothing.
    std::optional<storage::Database::Transaction> tx;
    if (!scope_tx) {
        auto begun = db.begin();
        if (!begun) return std::unexpected(begun.error());
        tx = std::move(*begun);
    }
    auto pending_before = pending_count();
    // Inside the batch's transaction: nothing else adds rows until it ends.
    if (auto u = unverified_usage(); u && u->count == 0) unverified_empty = true;
    std::vector<RecordId> retry;
    // Lamport order first: a record's references all have lower clocks, so what a batch holds
    // of a chain is applied in one pass instead of being held and woken one by one.
    std::vector<std::size_t> order(input.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto clock_of = [&](std::size_t i) {
        const auto& u = opening[i].unchecked;
        return u && *u ? (*u)->record.body.lamport() : std::numeric_limits<std::uint64_t>::max();
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return clock_of(a) < clock_of(b); });
    // Signatures are checked on the workers in that order while this thread applies each record
    // as soon as its check is done: the checks overlap the writes instead of preceding them.
    // The checks use only what was copied above, never the epoch keys applying may change.
    std::vector<std::optional<std::expected<OpenedRecord, Rejection>>> opened(input.size());
    auto check_one = [&](std::size_t k) {
        const auto i = order[k];
        auto& u = opening[i].unchecked;
        if (!u) return;
        if (*u)
            opened[i] =
                check_unchecked(std::move(**u), input[i], opening[i].group, opening[i].epoch);
        else
            opened[i] = std::unexpected(std::move(u->error()));
        u.reset();
    };
    Status applied;
    auto apply_one = [&](std::size_t k) {
        const auto i = order[k];
        auto* pre = opened[i] ? &*opened[i] : nullptr;
        applied = process(input[i], pre, false, report, retry);
        opened[i].reset();
        return applied.has_value();
    };
    if (!parallel) {
        for (std::size_t k = 0; k < order.size(); ++k) {
            check_one(k);
            if (!apply_one(k)) break;
        }
    } else {
        open_pool->pipeline(order.size(), check_one, apply_one);
    }
    if (!applied) return std::unexpected(applied.error());
    auto drain = [&]() -> Status {
        while (!retry.empty()) {
            auto id = retry.back();
            retry.pop_back();
            const auto rejected_before = report.rejected;
            if (auto held = held_opened.find(std::string(as_chars(id)));
                held != held_opened.end()) {
                std::expected<OpenedRecord, Rejection> pre = std::move(held->second);
                held_opened.erase(held);
                held_opened_bytes -= held_cost(*pre);
                // A copy: the record may be held again (when it still waits for something).
                const Bytes envelope = pre->envelope;
                if (auto ok = process(envelope, &pre, true, report, retry); !ok) return ok;
            } else {
                auto bytes = envelopes->get(id);
                if (!bytes) return std::unexpected(bytes.error());
                if (!*bytes) continue;
                if (auto ok = process(**bytes, nullptr, true, report, retry); !ok) return ok;
            }
            // A held record that turned out invalid: nothing needs its envelope any more (and
            // it would otherwise stay, counted nowhere, for good).
            if (report.rejected != rejected_before && !records.dropped_held(id)) {
                const RecordId gone[] = {id};
                if (auto r = envelopes->remove(gone); !r) return std::unexpected(r.error());
            }
        }
        return {};
    };
    for (bool settled = false; !settled;) {
        if (auto ok = drain(); !ok) return std::unexpected(ok.error());
        // A control record may have confirmed or refused a welcome token; a refusal can give
        // back grants held rotations made, and so more records to apply.
        if (auto ok = settle_admissions(retry); !ok) return std::unexpected(ok.error());
        // A changed control record may have voided a removal: what it dropped stands again.
        if (retry.empty())
            if (auto ok = rejudge_dropped(report, retry); !ok) return std::unexpected(ok.error());
        settled = retry.empty();
    }
    // Redactions take effect once the batch is in, judged against the group state it leaves,
    // and those its control records voided are undone.
    if (auto ok = settle_redactions(); !ok) return std::unexpected(ok.error());
    if (report.rejected > 0) {
        // Bounded: a flood of bad records cannot fill the disk with rejection notes.
        (void)db.exec(
            "DELETE FROM rejected WHERE rowid IN (SELECT rowid FROM rejected ORDER BY at_ms "
            "DESC LIMIT -1 OFFSET " +
            std::to_string(kMaxRejectedRows) + ")");
    }
    if (auto ok = records.flush_heads(); !ok) return std::unexpected(ok.error());
    if (tx)
        if (auto ok = tx->commit(); !ok) return std::unexpected(ok.error());
    // Pending counts what still waits at the end, not what waited on the way.
    const auto pending_after = pending_count();
    report.pending =
        std::min(report.pending, pending_after - std::min(pending_after, pending_before));
    return report;
}

Status Node::Impl::process(ByteView envelope, std::expected<OpenedRecord, Rejection>* pre,
                           bool from_pending, IngestReport& report, std::vector<RecordId>& retry) {
    auto checked = check(envelope, pre, from_pending, report, retry);
    if (!checked) return std::unexpected(checked.error());
    if (!*checked) return {};
    auto& c = **checked;
    if (!c.missing.empty()) return hold(c, envelope, from_pending, report);
    auto standing = judge(c);
    if (!standing) {
        const auto reason = standing.error().reason;
        if (reason == RejectReason::removed_author)
            if (auto ok = hold_dropped(c, envelope, from_pending, report); !ok) return ok;
        if (auto ok = reject(c.id, reason, standing.error().detail, report); !ok) return ok;
        // Records naming one whose author was no member there are not left waiting for it:
        // another member may have applied it before learning of the removal, and named it.
        if (is_membership_rejection(reason)) return wake_waiting(c.id, retry);
        return {};
    }
    return apply(c, *standing, envelope, from_pending, report, retry);
}

Result<std::optional<Node::Impl::Candidate>> Node::Impl::check(
    ByteView envelope, std::expected<OpenedRecord, Rejection>* pre, bool from_pending,
    IngestReport& report, std::vector<RecordId>& retry) {
    using Out = std::optional<Candidate>;
    auto done = [](Status s) -> Result<Out> {
        if (!s) return std::unexpected(s.error());
        return Out{};
    };
    auto id = storage::record_id_of(envelope);
    auto view = storage::parse_envelope(envelope);
    if (!view)
        return done(reject(id, RejectReason::malformed_envelope, "bad size or version", report));
    if (from_pending) {
        // It may have been applied meanwhile (a copy of it came later in the same batch).
        if (records.contains(id)) return Out{};
    } else {
        if (refetch_rows != 0) {
            auto again = refetched(id, view->mailbox, envelope);
            if (!again) return std::unexpected(again.error());
            if (*again) {
                ++report.duplicate;
                return Out{};
            }
        }
        if (recent_rows.contains(std::string(as_chars(id))) || records.seen(id)) {
            ++report.duplicate;
            return Out{};
        }
    }
    auto k = epochs.find(view->mailbox);
    if (k != epochs.end() && epoch_retired(k->second.epoch_id)) {
        // Retention deleted this epoch's records and secret: a peer's old copy stays out.
        ++report.duplicate;
        return Out{};
    }
    if (k == epochs.end()) {
        // Not ours to open (yet): a rotation applied later may give us its key. Kept within the
        // quota, since anyone can make such envelopes.
        return done(keep_unreadable(id, view->mailbox, envelope, from_pending, report));
    }
    auto local = pre ? std::move(*pre) : open_record(envelope, k->second);
    if (!local && local.error().reason == RejectReason::undecryptable && !k->second.secret) {
        // A content record of an epoch we may only see the control records of (no history):
        // kept for members who can read it, within the quota — it cannot be checked here.
        return done(keep_unreadable(id, view->mailbox, envelope, from_pending, report));
    }
    if (!local) return done(reject(id, local.error().reason, local.error().detail, report));
    Candidate c{id, view->mailbox, std::move(*local), &k->second, {}, {}};
    const auto& body = c.rec.body;
    const auto& keys = *c.keys;
    if (expired(keys.group_id, body)) {
        // Past the group's retention period: deleted here already, or never to be kept.
        ++report.duplicate;
        return Out{};
    }
    if (body.has_redaction())
        if (auto ok = note_redaction(id, keys.group_id, body, retry); !ok)
            return std::unexpected(ok.error());
    // With a retention period, parents may have expired before this member received them;
    // a redacted record's envelope may never come. Neither is waited for.
    const bool parents_may_go = state(keys.group_id).retention_seconds() > 0;

    // Causal delivery: wait for every control head, and for parents and the author's previous
    // record when they lie in an epoch we can read (beyond that is a late joiner's horizon).
    // A parent or previous record refused because its author was no member there is cut, not
    // waited for: a member who applied it before learning of the author's removal (it is void
    // for him from then on) may name it, and what he writes must not wait for it for good.
    auto need = [&](const RecordId& ref, bool blocking) {
        if (auto row = record_row(ref)) {
            c.ref_lamports.push_back(row->lamport);
            return;
        }
        if (blocking && !redaction_noted(ref) && !rejected_for_membership(ref))
            c.missing.push_back(ref);
    };
    // Control records cannot be redacted, so a redaction naming one proves nothing: its note
    // (made even for a redaction still waiting, by anyone holding the epoch's key) must not let
    // a record skip the control records it stands on.
    for (const auto& h : body.control_heads()) {
        const auto ref = to_array<32>(as_bytes(h));
        if (auto row = record_row(ref))
            c.ref_lamports.push_back(row->lamport);
        else
            c.missing.push_back(ref);
    }
    auto readable = [&](const pb::RecordRef& r) {
        const auto* ek = keys_for_epoch(to_array<32>(as_bytes(r.epoch_id())));
        return ek != nullptr && ek->secret.has_value();
    };
    for (const auto& p : body.parents()) need(ref_id(p), readable(p) && !parents_may_go);
    if (body.has_prev()) need(ref_id(body.prev()), readable(body.prev()) && !parents_may_go);
    return Out{std::move(c)};
}

Status Node::Impl::hold(Candidate& c, ByteView envelope, bool from_pending, IngestReport& report) {
    const auto& body = c.rec.body;
    // Whoever holds the epoch's key can make records that wait forever for references that do
    // not exist (a removed member still holds old keys). Those by someone who is not a member
    // in our view count against the unverified quota; a member's come from someone the group
    // admitted.
    const bool vouched = state(c.keys->group_id).is_member(author_of(body));
    const auto charge = unverified_charge(envelope.size(), c.missing.size());
    if (!vouched && !from_pending) {
        auto fits = unverified_fits(charge);
        if (!fits) return std::unexpected(fits.error());
        if (!*fits) {
            // Its redaction note, if it made one, goes with it.
            if (body.has_redaction()) {
                auto st = db.cached("DELETE FROM redactions WHERE redaction = ?");
                if (!st) return std::unexpected(st.error());
                (*st)->bind(1, ByteView(c.id));
                if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
            }
            refuse_over_quota(c.id, report);
            return {};
        }
    }
    ++report.pending;
    // A held record's envelope is in the store already.
    if (!from_pending)
        if (auto ok = store_envelope(c.id, c.mailbox, envelope); !ok) return ok;
    if (auto ok = records.hold(c.id, now()); !ok) return ok;
    if (auto ok = hold_for(c.id, c.missing); !ok) return ok;
    if (auto ok = vouched ? forget_unverified(c.id) : note_unverified(c.id, charge); !ok) return ok;
    const auto cost = held_cost(c.rec);
    if (held_opened_bytes + cost <= kHeldOpenedBytes &&
        held_opened.emplace(std::string(as_chars(c.id)), std::move(c.rec)).second)
        held_opened_bytes += cost;
    return {};
}

Status Node::Impl::hold_dropped(const Candidate& c, ByteView envelope, bool from_pending,
                                IngestReport& report) {
    const auto& body = c.rec.body;
    RecordStore::DroppedHeld row;
    row.id = c.id;
    row.author = author_of(body);
    row.seq = body.seq();
    for (const auto& h : body.control_heads()) row.heads.push_back(to_array<32>(as_bytes(h)));
    const auto& group = c.keys->group_id;
    // Anyone who held the author's keys can write such records without end, and anyone holding
    // a file key of the group can fill the unverified quota with junk first: the envelope is
    // kept within the quota, and beyond it the row alone (some 100 bytes, up to a cap per
    // author and per group), so the record is fetched again if it stands later (§5.4).
    const auto charge = unverified_charge(envelope.size(), 0);
    if (!from_pending) {
        if (records.dropped_held(c.id)) return {};  // its row is kept already
        // The caps hold whether or not the quota has room: kept with its envelope or without,
        // one author's rows never pass the author's cap, so one removed member cannot take
        // the group's rows from the others.
        auto of_author = records.dropped_count(group, &row.author);
        if (!of_author) return std::unexpected(of_author.error());
        auto of_group = records.dropped_count(group);
        if (!of_group) return std::unexpected(of_group.error());
        if (*of_author >= dropped_rows_per_author) {
            ++report.over_quota;  // refused for good: nothing of it is kept to judge again
            return {};
        }
        if (*of_group >= dropped_rows_per_group) {
            // The group's rows are full: the author who holds the most gives up his latest
            // rows while he holds more than this one would, so a few removed members' copies
            // (each within the author's cap) cannot take the rows an honest author's record
            // needs to stand again (§5.4). Evicted in batches, since finding them reads the
            // group's rows.
            auto evicted = records.evict_dropped(group, *of_author + 1, kDroppedEvictBatch);
            if (!evicted) return std::unexpected(evicted.error());
            if (evicted->empty()) {
                ++report.over_quota;
                return {};
            }
            if (auto r = envelopes->remove(*evicted); !r) return std::unexpected(r.error());
            // Their notes go too, as for a record refused over the quota: nothing says they
            // were seen, so a later sync brings them again to be judged again.
            if (auto ok = delete_by_id(db, "DELETE FROM rejected WHERE id = ?", *evicted); !ok)
                return ok;
            report.evicted += evicted->size();
        }
        auto fits = unverified_fits(charge);
        if (!fits) return std::unexpected(fits.error());
        if (!*fits) return records.hold_dropped(group, row);
        if (auto ok = store_envelope(c.id, c.mailbox, envelope); !ok) return ok;
    }
    if (auto ok = note_unverified(c.id, charge); !ok) return ok;
    return records.hold_dropped(group, row);
}

Status Node::Impl::rejudge_dropped(IngestReport& report, std::vector<RecordId>& retry) {
    auto groups = std::exchange(control_changed, {});
    for (const auto& group : groups) {
        auto rows = records.dropped_of(group);
        if (!rows) return std::unexpected(rows.error());
        if (rows->empty()) continue;
        std::vector<RecordId> again;
        {
            const auto& g = state(group);
            for (const auto& r : *rows)
                if (!g.dropped(r.author, r.id, r.seq, r.heads)) again.push_back(r.id);
        }
        for (const auto& id : again) {
            if (auto ok = records.release_dropped(id); !ok) return ok;
            auto st = db.cached("DELETE FROM rejected WHERE id = ?");
            if (!st) return std::unexpected(st.error());
            (*st)->bind(1, ByteView(id));
            if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
            auto bytes = envelopes->get(id);
            if (!bytes) return std::unexpected(bytes.error());
            // Kept without its envelope (the quota was full), or the envelope went meanwhile
            // (retention): with its row and its note in `rejected` gone, nothing says it was
            // seen, and the next sync fetches it again (reconciliation offers every id this
            // store lacks) and ingests it as any other.
            if (!*bytes) continue;
            IngestReport again_report;
            if (auto ok = process(**bytes, nullptr, true, again_report, retry); !ok) return ok;
            report.added += again_report.added;
            // Refused now for another reason: nothing needs its envelope any more.
            if (!records.contains(id) && !records.held(id) && !records.dropped_held(id)) {
                const RecordId gone[] = {id};
                if (auto r = envelopes->remove(gone); !r) return std::unexpected(r.error());
            }
        }
    }
    return {};
}

std::expected<bool, Rejection> Node::Impl::judge(const Candidate& c) {
    const auto& body = c.rec.body;
    auto no = [](RejectReason reason, const char* detail) {
        return std::unexpected(Rejection{reason, detail});
    };
    // References are all here: check them, then the author's standing at this position.
    for (auto l : c.ref_lamports)
        if (l >= body.lamport())
            return no(RejectReason::bad_references, "Lamport clock not above its references");
    if (body.has_prev()) {
        if (auto prev = record_row(ref_id(body.prev()))) {
            if (prev->author != author_of(body) || prev->seq + 1 != body.seq())
                return no(RejectReason::bad_references, "previous record is not the author's");
        }
    }
    const auto& g = state(c.keys->group_id);
    std::vector<RecordId> heads;
    for (const auto& h : body.control_heads()) heads.push_back(to_array<32>(as_bytes(h)));
    const auto* pos = g.at(heads);
    if (!pos) return no(RejectReason::bad_references, "control heads are not control records");
    auto author = pos->members.find(author_of(body));
    if (author == pos->members.end())
        return no(RejectReason::not_member, "author not a member at this point");
    // A key update is the one control-class record a member writes, for itself (§5.13).
    if (c.rec.control && !author->second.admin && !body.has_key_update())
        return no(RejectReason::not_admin, "control record by a non-admin");
    if (!pos->frontier.contains(c.keys->epoch_id))
        return no(RejectReason::wrong_epoch, "written in a superseded epoch");
    // A content record concurrent with its author's removal is refused (removals and their
    // approvals are exempt, as in GroupState; a burn notice spares only a removal concurrent
    // with it). A control record is not: it is kept and the fold drops it (§5.4), so every member
    // holds the same control records and computes the same drops from them — one dropped here
    // would leave what names it as a control head waiting for good, and what it had dropped
    // void at the members who got it before the record that voids it.
    if (!c.rec.control && g.dropped(author_of(body), c.id, body.seq(), heads, &body))
        return no(RejectReason::removed_author, "written concurrently with the author's removal");
    const bool author_admin = author->second.admin;
    if (auto why = check_payload(c.id, body, author_admin)) return std::unexpected(*why);
    return author_admin;
}

Status Node::Impl::apply(Candidate& c, bool author_admin, ByteView envelope, bool from_pending,
                         IngestReport& report, std::vector<RecordId>& retry) {
    const auto& body = c.rec.body;
    const auto& keys = *c.keys;
    const auto& id = c.id;
    // Its row takes the envelope's seq: known here when the envelope is new.
    std::optional<std::int64_t> seq;
    if (!from_pending)
        if (auto ok = store_envelope(id, c.mailbox, envelope, &seq); !ok) return ok;
    strip_stored(body, c.rec.signed_record);
    RecordRow row;
    row.id = id;
    row.group = keys.group_id;
    row.epoch = keys.epoch_id;
    row.author = author_of(body);
    row.seq = body.seq();
    if (body.has_prev()) row.prev = ref_id(body.prev());
    row.lamport = body.lamport();
    for (const auto& h : body.control_heads()) row.heads.push_back(to_array<32>(as_bytes(h)));
    row.wall_ms = body.wall_clock_ms();
    // Its parents and previous record stop being heads of the group.
    std::vector<RecordId> replaces;
    for (const auto& p : body.parents()) replaces.push_back(ref_id(p));
    if (row.prev) replaces.push_back(*row.prev);
    // Messages, objects, manifests and redactions store their body once, in their envelope: its
    // epoch's keys stay while any content record of the epoch does (§13.8), and a welcome token's
    // keys that go write the bodies they opened into the table first (drop_token_keys). A chunk's
    // body differs from its envelope's (stripped above); control records, which the group state
    // is computed from again and again, keep theirs (DESIGN §12.6).
    const auto kind = kind_of(body);
    const bool once = kind == RecordKind::message || kind == RecordKind::object ||
                      kind == RecordKind::manifest || kind == RecordKind::redaction;
    if (auto ok = records.insert(row, kind, once ? ByteView{} : ByteView(c.rec.signed_record),
                                 now(), replaces, seq);
        !ok)
        return ok;
    // Applied, it stops counting against the unverified quota (it may have been kept unread
    // until a key came, or held as a non-member's).
    if (auto ok = forget_unverified(id); !ok) return ok;
    ++report.added;
    // Children usually follow their parents closely: remember the row for their checks.
    if (recent_rows.size() > 50000) recent_rows.clear();
    recent_rows.emplace(std::string(as_chars(id)), std::move(row));

    if (c.rec.control) invalidate(keys.group_id);
    if (auto ok = on_applied(id, keys.group_id, body, author_admin, retry); !ok) return ok;
    if (body.has_rotation()) {
        // A copy: taking the grant may drop the keys `keys` refers to (a token found lying).
        const GroupId group = keys.group_id;
        if (auto ok = take_grant(id, group, body.rotation(), retry); !ok) return ok;
        if (auto ok = take_control_grant(id, group, body.rotation(), retry); !ok) return ok;
    }

    // Wake records that were waiting for this one.
    return wake_waiting(id, retry);
}

}  // namespace kolokol::core
