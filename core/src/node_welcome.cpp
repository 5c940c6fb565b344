// Welcome tokens: issuing them (`group add`, `group token`), joining with them, and judging
// them against the group's records. A token is only as good as the add record it names: its
// keys stay provisional (never written with) until that record arrives and admits the member,
// and it never changes a key the member already holds.

#include <cctype>
#include <cstring>

#include "group.pb.h"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/address.hpp"
#include "node_impl.hpp"
#include "wire_out.hpp"

namespace kolokol::core {

namespace {
constexpr std::string_view kWelcomePrefix = "kolokol-welcome:";
constexpr std::size_t kMaxWelcomeText = 256 * 1024;
constexpr std::int64_t kWelcomeLifetimeMs = 7LL * 24 * 3600 * 1000;
constexpr int kMaxWelcomeEpochs = 10000;

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

// One grant of a token as read from it: its ids in `grant` (protobuf: no key), its keys in
// locked memory.
struct ReadGrant {
    pb::EpochGrant grant;
    crypto::SecretBytes secret, control_key, mailbox_seed, file_key;
};

// The keys one grant of a token gives, or nullopt when the grant is damaged.
std::optional<EpochKeys> keys_of(const GroupId& group, const ReadGrant& e) {
    auto epoch = to_array<32>(as_bytes(e.grant.epoch_id()));
    if (e.secret.size() == 32) return EpochKeys::from_secret(group, epoch, e.secret.view());
    if (e.control_key.size() == 32 && e.mailbox_seed.size() == 32 && e.file_key.size() == 32)
        return EpochKeys::control_only(group, epoch, e.control_key.view(), e.mailbox_seed.view(),
                                       e.file_key.view());
    return std::nullopt;
}

// Field numbers of SignedWelcome, Welcome.epochs and EpochGrant (proto/group.proto,
// proto/record.proto).
constexpr std::uint32_t kSignedWelcome = 1, kSignedSignature = 2, kWelcomeEpochs = 7;
constexpr std::uint32_t kGrantGroup = 1, kGrantEpoch = 2, kGrantSecret = 3, kGrantControl = 4,
                        kGrantSeed = 5, kGrantFile = 6;

// A SignedWelcome read by hand from locked memory (protobuf would copy the welcome, keys and
// all, into the heap): its welcome without the grants into `welcome`, the grants into `grants`,
// the welcome's bytes and signature as views into `plain`. False when it does not parse.
bool read_signed_welcome(ByteView plain, pb::Welcome& welcome, std::vector<ReadGrant>& grants,
                         ByteView& welcome_bytes, ByteView& signature) {
    std::size_t pos = 0;
    WireField f;
    for (WireRead r; (r = next_field(plain, pos, f, plain.size())) != WireRead::end;) {
        if (r != WireRead::field) return false;
        if (f.number == kSignedWelcome && f.type == kWireLengthDelimited) welcome_bytes = f.value;
        if (f.number == kSignedSignature && f.type == kWireLengthDelimited) signature = f.value;
    }
    std::string bare;
    pos = 0;
    for (WireRead r; (r = next_field(welcome_bytes, pos, f, plain.size())) != WireRead::end;) {
        if (r != WireRead::field) return false;
        if (f.number != kWelcomeEpochs) {
            bare.append(reinterpret_cast<const char*>(f.raw.data()), f.raw.size());
            continue;
        }
        if (f.type != kWireLengthDelimited) return false;
        ReadGrant g;
        std::string ids;
        std::size_t at = 0;
        WireField k;
        for (WireRead q; (q = next_field(f.value, at, k, plain.size())) != WireRead::end;) {
            if (q != WireRead::field) return false;
            crypto::SecretBytes* into = k.number == kGrantSecret    ? &g.secret
                                        : k.number == kGrantControl ? &g.control_key
                                        : k.number == kGrantSeed    ? &g.mailbox_seed
                                        : k.number == kGrantFile    ? &g.file_key
                                                                    : nullptr;
            if (!into) {
                ids.append(reinterpret_cast<const char*>(k.raw.data()), k.raw.size());
                continue;
            }
            if (k.type != kWireLengthDelimited) return false;
            *into = crypto::SecretBytes::copy_of(k.value);
        }
        if (!g.grant.ParseFromString(ids)) return false;
        grants.push_back(std::move(g));
    }
    return welcome.ParseFromString(bare);
}

// crypto::verify, with the message framed in locked memory: a welcome holds keys.
bool verify_secret_message(ByteView public_key, std::string_view domain, ByteView message,
                           ByteView signature) {
    crypto::SecretBytes framed(domain.size() + 1 + message.size());
    std::memcpy(framed.data(), domain.data(), domain.size());
    if (!message.empty())
        std::memcpy(framed.data() + domain.size() + 1, message.data(), message.size());
    return crypto::verify_raw(public_key, framed.view(), signature);
}

// A welcome, opened and checked as far as it can be without the group's records.
struct OpenedWelcome {
    pb::Welcome welcome;
    Card inviter;
    GroupId group{};
    GenesisInfo genesis;
    RecordId add_record{};
    std::vector<EpochKeys> keys;
};

// `more`: the box keys of this member's key updates (a token reissued to a member is sealed to
// their current key, §5.13).
Result<OpenedWelcome> open_welcome(std::string_view token_text, const Identity& me,
                                   std::int64_t now, std::span<const crypto::BoxKeyPair> more) {
    auto text = trim(token_text);
    if (text.size() > kMaxWelcomeText)
        return fail(CoreErrc::bad_input, "the welcome token is too long");
    if (!text.starts_with(kWelcomePrefix))
        return fail(CoreErrc::bad_input,
                    "not a welcome token (it should start with \"kolokol-welcome:\")");
    auto sealed = crypto::base64url_decode(std::string_view(text).substr(kWelcomePrefix.size()));
    if (!sealed) return fail(CoreErrc::bad_input, "the welcome token is damaged (bad base64)");
    auto plain = crypto::box_seal_open(me.box, *sealed);
    for (const auto& k : more) {
        if (plain) break;
        plain = crypto::box_seal_open(k, *sealed);
    }
    if (!plain)
        return fail(CoreErrc::bad_input, "this welcome token is not for you, or it is damaged");
    OpenedWelcome out;
    auto& w = out.welcome;
    std::vector<ReadGrant> grants;
    ByteView welcome_bytes, signature;
    if (!read_signed_welcome(plain->view(), w, grants, welcome_bytes, signature) ||
        w.version() != 1)
        return fail(CoreErrc::bad_input, "the welcome token does not parse");
    auto inviter = card_from_signed_bytes(as_bytes(w.inviter().SerializeAsString()));
    if (!inviter) return fail(CoreErrc::bad_input, "the inviter's card in the token is invalid");
    if (!verify_secret_message(inviter->sign_key, kWelcomeDomain, welcome_bytes, signature))
        return fail(CoreErrc::bad_input, "the welcome token's signature does not verify");
    out.inviter = std::move(*inviter);
    if (w.invitee() != to_string(me.sign.public_key))
        return fail(CoreErrc::bad_input, "this welcome token is for someone else");
    if (w.expires_ms() < now)
        return fail(CoreErrc::bad_input, "this welcome token has expired; ask for a new one");
    pb::Genesis g;
    if (!g.ParseFromString(w.genesis().genesis()) || g.creator().size() != 32 ||
        g.creator_box().size() != 32 ||
        !crypto::verify(as_bytes(g.creator()), kGenesisDomain, as_bytes(w.genesis().genesis()),
                        as_bytes(w.genesis().signature())))
        return fail(CoreErrc::bad_input, "the group's genesis in the token is invalid");
    out.group = crypto::blake2b_256(kGroupDomain, as_bytes(w.genesis().genesis()));
    if (w.group_id() != to_string(out.group))
        return fail(CoreErrc::bad_input, "the token names the wrong group");
    out.genesis = GenesisInfo{out.group, to_array<32>(as_bytes(g.creator())),
                              to_array<32>(as_bytes(g.creator_box())), g.creator_name()};
    // The add record is what the token will be judged by: without one it admits nobody.
    if (w.add_record().id().size() != 32 || w.add_record().epoch_id().size() != 32)
        return fail(CoreErrc::bad_input, "the welcome token names no add record");
    out.add_record = to_array<32>(as_bytes(w.add_record().id()));
    if (grants.empty() || grants.size() > static_cast<std::size_t>(kMaxWelcomeEpochs))
        return fail(CoreErrc::bad_input, "the token holds no keys");
    for (const auto& e : grants) {
        if (e.grant.group_id() != w.group_id() || e.grant.epoch_id().size() != 32)
            return fail(CoreErrc::bad_input, "the token holds a key of another group");
        auto keys = keys_of(out.group, e);
        if (!keys) return fail(CoreErrc::bad_input, "the token holds a damaged key");
        keys->source = KeySource::waiting_token;
        out.keys.push_back(std::move(*keys));
    }
    return out;
}
}  // namespace

Result<std::string> Node::Impl::welcome_token(const GroupId& group, const MemberKey& invitee,
                                              const crypto::BoxPublicKey& invitee_box,
                                              const RecordId& add, const EpochId& add_epoch,
                                              const std::function<bool(const EpochKeys&)>& full) {
    auto current = state(group).writer_epoch(identity.sign.public_key);
    if (!current) return fail(CoreErrc::no_epoch, "the group has no usable key; rotate first");

    pb::Welcome w;
    w.set_version(1);
    w.set_group_id(to_string(group));
    auto gs = db.cached("SELECT genesis FROM groups WHERE group_id = ?");
    if (!gs) return std::unexpected(gs.error());
    (*gs)->bind(1, ByteView(group));
    if (auto r = (*gs)->step(); !r || !*r)
        return fail(CoreErrc::corrupt_store, "group genesis missing");
    w.mutable_genesis()->ParseFromString(to_string((*gs)->column_blob(0)));
    (*gs)->reset();
    w.mutable_inviter()->ParseFromString(to_string(card.signed_bytes));
    w.set_invitee(to_string(invitee));
    w.mutable_add_record()->set_id(to_string(add));
    w.mutable_add_record()->set_epoch_id(to_string(add_epoch));
    // The grants go in with their key fields empty (protobuf keeps strings in the heap); the
    // keys are put back as the bytes are made, in locked memory (wire_out.hpp).
    std::vector<const EpochKeys*> granted;
    for (const auto& [mailbox, keys] : epochs) {
        // Keys this admin holds only on a token's word are not passed on.
        if (keys.group_id != group || keys.provisional()) continue;
        granted.push_back(&keys);
    }
    w.set_current_epoch(to_string(*current));
    for (const auto& r : state(group).relays()) w.add_relays(r);
    w.set_expires_ms(now() + kWelcomeLifetimeMs);
    w.set_group_name(state(group).name());
    const std::string bare = w.SerializeAsString();
    auto grant = [&](WireOut& o, const EpochKeys& keys) {
        o.field(kGrantGroup, ByteView(group));
        o.field(kGrantEpoch, ByteView(keys.epoch_id));
        if (keys.secret && full(keys)) {
            o.field(kGrantSecret, keys.secret->view());
        } else {
            o.field(kGrantControl, keys.control_key.view());
            o.field(kGrantSeed, keys.mailbox_seed.view());
            o.field(kGrantFile, keys.file_key.view());
        }
    };
    auto welcome = [&](WireOut& o) {
        o.bytes(as_bytes(bare));
        for (const auto* keys : granted) {
            o.header(kWelcomeEpochs, measured([&](WireOut& c) { grant(c, *keys); }));
            grant(o, *keys);
        }
    };
    crypto::SecretBytes welcome_bytes(measured(welcome));
    {
        WireOut into(welcome_bytes.data());
        welcome(into);
    }
    const auto signature =
        crypto::sign_secret_message(identity.sign.secret_key, kWelcomeDomain, welcome_bytes.view());
    auto signed_welcome = [&](WireOut& o) {
        o.field(kSignedWelcome, welcome_bytes.view());
        o.field(kSignedSignature, ByteView(signature));
    };
    crypto::SecretBytes plain(measured(signed_welcome));
    {
        WireOut into(plain.data());
        signed_welcome(into);
    }
    auto sealed = crypto::box_seal(invitee_box, plain.view());
    return std::string(kWelcomePrefix) + crypto::base64url_encode(sealed);
}

Result<std::string> Node::add_member(const GroupId& group, std::string_view card_text, bool admin,
                                     bool with_history) {
    auto& m = *m_impl;
    auto card = card_from_text(card_text);
    if (!card) return std::unexpected(card.error());
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    {
        const auto& g = m.state(group);
        if (!g.is_admin(me()))
            return fail(CoreErrc::not_permitted, "only an admin can add members");
        if (g.is_member(card->sign_key))
            return fail(CoreErrc::exists,
                        "{} is already a member (`kolokol group token` issues their welcome "
                        "token again)",
                        card->display_name);
    }
    // The add, the rotation and the carried copies are stored all or nothing.
    auto scope = WriteScope::open(m);
    if (!scope) return std::unexpected(scope.error());
    pb::RecordBody body;
    auto* op = body.mutable_membership();
    op->set_kind(pb::MembershipOp::ADD);
    op->set_member(to_string(card->sign_key));
    op->set_member_box_key(to_string(card->box_key));
    op->set_display_name(card->display_name);
    op->set_role(admin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER);
    op->set_grants_epoch(with_history);
    auto add_id = m.write(group, std::move(body));
    if (!add_id) return std::unexpected(add_id.error());
    auto add_row = m.record_row(*add_id);
    if (!add_row) return fail(CoreErrc::corrupt_store, "the add record just written is missing");
    // With a quorum the add waits for approvals: the rotation comes when it takes effect
    // (Node::approve, or maintain: "a member lacks the current key"), and until then the token
    // grants no secret, with history or without, only control access to sync the records: an
    // add nobody approved reads nothing (the history is not delivered after the approval).
    const bool waiting = !m.state(group).effective(*add_id);
    // Without history the newcomer's first key is a fresh one: they cannot read what came
    // before, except the objects admins marked as carried, copied into the new epoch.
    if (!with_history && !waiting) {
        if (auto r = m.rotate(group); !r) return std::unexpected(r.error());
        if (auto r = m.write_carried(group); !r) return std::unexpected(r.error());
    }
    auto current = m.state(group).writer_epoch(me());
    if (!current) return fail(CoreErrc::no_epoch, "the group has no usable key; rotate first");
    const EpochId first = *current;
    if (auto ok = scope->commit(); !ok) return std::unexpected(ok.error());
    return m.welcome_token(
        group, card->sign_key, card->box_key, *add_id, add_row->epoch,
        [&](const EpochKeys& k) { return !waiting && (with_history || k.epoch_id == first); });
}

Result<std::string> Node::welcome_again(const GroupId& group, const MemberKey& member) {
    auto& m = *m_impl;
    if (!m.genesis.contains(group)) return fail(CoreErrc::not_found, "no such group");
    const auto& g = m.state(group);
    if (!g.is_admin(me()))
        return fail(CoreErrc::not_permitted, "only an admin can issue a welcome token");
    auto it = g.members().find(member);
    if (it == g.members().end()) return fail(CoreErrc::not_found, "not a member of this group");
    if (member == me()) return fail(CoreErrc::bad_input, "you need no welcome token");
    const auto* add = g.admitting_add(member);
    if (!add)
        return fail(CoreErrc::not_found,
                    "no add record admits {} (the group's creator needs no welcome token)",
                    it->second.name);
    // What they were given: every secret when added with history, else those of the epochs a
    // rotation (or their add) granted them; control access to the rest.
    const bool history = add->body.membership().grants_epoch();
    const MemberTag tag = member_tag(member);
    return m.welcome_token(group, member, it->second.box, add->id, add->epoch,
                           [&](const EpochKeys& k) {
                               if (history) return true;
                               const auto* e = g.epoch(k.epoch_id);
                               return e != nullptr && e->holders.contains(tag);
                           });
}

Result<GroupId> Node::join(std::string_view token_text, JoinedGroup* joined) {
    auto& m = *m_impl;
    auto held_keys = m.held_box_keys(nullptr);
    if (!held_keys) return std::unexpected(held_keys.error());
    std::vector<crypto::BoxKeyPair> more;
    for (auto& k : *held_keys) more.push_back(std::move(k.pair));
    auto opened = open_welcome(token_text, m.identity, m.now(), more);
    if (!opened) return std::unexpected(opened.error());
    auto& w = *opened;
    const GroupId group = w.group;
    const bool held = m.genesis.contains(group);
    if (held && m.state(group).is_member(me())) {
        // A member's keys come from the group's own rotations; a token can only be a replay, or
        // a forgery that would swap the key they write with for one of the forger's choosing.
        bool other_keys = false;
        for (const auto& k : w.keys)
            if (const auto* mine = m.keys_for_epoch(k.epoch_id); mine && !mine->agrees_with(k))
                other_keys = true;
        const auto& name = m.state(group).name();
        if (other_keys)
            return fail(CoreErrc::conflict,
                        "you are already a member of \"{}\"; a welcome token cannot change your "
                        "keys, and this one gives another key for an epoch you hold: it is forged "
                        "(signed by {} {}). Nothing was changed",
                        name, w.inviter.display_name, short_key(w.inviter.sign_key));
        return fail(CoreErrc::conflict,
                    "you are already a member of \"{}\"; a welcome token cannot change your keys, "
                    "and this one is a replay (or was issued again). Nothing was changed",
                    name);
    }

    auto tx = m.db.begin();
    if (!tx) return std::unexpected(tx.error());
    auto apply = [&]() -> Result<std::optional<Impl::AdmissionState>> {
        if (held) {
            // A token still waiting for its add record is replaced by this one, keys and all:
            // nothing was written with them, and which of the two is genuine only the group's
            // records can tell.
            auto earlier = m.admission(group);
            if (!earlier) return std::unexpected(earlier.error());
            if (*earlier && (*earlier)->state == Impl::AdmissionState::waiting)
                if (auto ok = m.drop_token_keys(group, false); !ok)
                    return std::unexpected(ok.error());
        } else {
            auto st =
                m.db.cached("INSERT INTO groups(group_id, genesis, joined_ms) VALUES (?, ?, ?)");
            if (!st) return std::unexpected(st.error());
            auto genesis_bytes = w.welcome.genesis().SerializeAsString();
            (*st)->bind(1, ByteView(group)).bind(2, as_bytes(genesis_bytes)).bind(3, m.now());
            if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
            m.genesis[group] = w.genesis;
            for (const auto& given : w.welcome.relays()) {
                // Only whole addresses, in canonical form: one that does not parse could never
                // be synced with, and would make every later backup of this store fail its check.
                if (given.size() > 256) continue;
                auto parsed = transport::Address::parse(given);
                if (!parsed) continue;
                const auto relay = parsed->to_string();
                auto rs = m.db.cached(
                    "INSERT OR IGNORE INTO welcome_relays(group_id, address) VALUES (?, ?)");
                if (!rs) return std::unexpected(rs.error());
                (*rs)->bind(1, ByteView(group)).bind(2, std::string_view(relay));
                if (auto r = (*rs)->step(); !r) return std::unexpected(r.error());
            }
        }
        for (auto& k : w.keys)
            if (auto ok = m.add_epoch(std::move(k)); !ok) {
                if (ok.error().code != CoreErrc::conflict) return std::unexpected(ok.error());
                return fail(CoreErrc::conflict,
                            "this welcome token gives {}: it is forged, or a token you joined "
                            "with before was. Nothing was changed",
                            ok.error());
            }
        auto st = m.db.cached(
            "INSERT OR REPLACE INTO admissions(group_id, add_record, inviter, inviter_name, "
            "state, detail, at_ms) VALUES (?, ?, ?, ?, 0, '', ?)");
        if (!st) return std::unexpected(st.error());
        (*st)
            ->bind(1, ByteView(group))
            .bind(2, ByteView(w.add_record))
            .bind(3, ByteView(w.inviter.sign_key))
            .bind(4, std::string_view(w.inviter.display_name))
            .bind(5, m.now());
        if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
        m.invalidate(group);
        // A member who was removed may already hold the add record the token names.
        std::vector<RecordId> retry;
        return m.settle_admission(group, retry);
    };
    auto verdict = apply();
    if (verdict && *verdict == Impl::AdmissionState::refused) {
        auto why = m.admission(group);
        std::string detail = why && *why ? (*why)->detail : std::string("it was refused");
        verdict = fail(CoreErrc::conflict,
                       "this welcome token does not admit you: {}. Nothing was changed", detail);
    }
    if (verdict) {
        auto ok = tx->commit();
        if (ok) {
            if (joined) {
                // Shown to the joiner only; a name that is not clean text is left out.
                const auto& name = w.welcome.group_name();
                joined->name = name.size() <= 128 && is_clean_utf8(name) ? name : std::string();
                joined->inviter = w.inviter.display_name;
            }
            return group;
        }
        verdict = std::unexpected(ok.error());
    }
    // Nothing of the token stays: the store was rolled back, and what memory holds follows it.
    tx->rollback();
    if (!held) m.genesis.erase(group);
    m.invalidate(group);
    if (auto ok = m.load_epochs(); !ok) return std::unexpected(ok.error());
    return std::unexpected(verdict.error());
}

Result<std::optional<Node::Impl::Admission>> Node::Impl::admission(const GroupId& group) {
    auto st = db.cached(
        "SELECT add_record, inviter, inviter_name, state, detail FROM admissions "
        "WHERE group_id = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(group));
    auto r = (*st)->step();
    if (!r) {
        (*st)->reset();
        return std::unexpected(r.error());
    }
    std::optional<Admission> out;
    if (*r) {
        Admission a;
        a.add_record = to_array<32>((*st)->column_blob(0));
        a.inviter = to_array<32>((*st)->column_blob(1));
        a.inviter_name = (*st)->column_text(2);
        a.state = static_cast<AdmissionState>((*st)->column_int64(3));
        a.detail = (*st)->column_text(4);
        out = std::move(a);
    }
    (*st)->reset();
    return out;
}

Result<std::optional<Node::Impl::AdmissionState>> Node::Impl::settle_admission(
    const GroupId& group, std::vector<RecordId>& retry) {
    auto adm = admission(group);
    if (!adm) return std::unexpected(adm.error());
    if (!*adm) return std::nullopt;
    const auto& a = **adm;
    if (a.state != AdmissionState::waiting) return a.state;
    const auto& g = state(group);
    std::optional<std::string> refusal;
    if (g.holds(a.add_record)) {
        // An add waiting for the quorum's approvals may still take effect.
        if (g.pending(a.add_record)) return AdmissionState::waiting;
        refusal = g.refuses_admission(a.add_record, identity.sign.public_key, a.inviter);
    } else if (record_exists(a.add_record)) {
        // Held, and not a control record: it can never become the add.
        refusal = "the record it names is not an add of you";
    } else {
        return AdmissionState::waiting;  // not here yet: the next sync may bring it
    }
    if (refusal) {
        // Not an admin's add of this member: the keys it gave may be the forger's own.
        if (auto ok = refuse_token(group, *refusal, false, retry); !ok)
            return std::unexpected(ok.error());
        return AdmissionState::refused;
    }
    auto st = db.cached("UPDATE admissions SET state = 1, detail = '' WHERE group_id = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(group));
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    // An admin's add: the keys the token gave are worth what the admin's word is, no more — a
    // rotation that grants this member another key still proves the token lied (take_grant).
    auto up = db.cached("UPDATE epochs SET source = 2 WHERE group_id = ? AND source = 1");
    if (!up) return std::unexpected(up.error());
    (*up)->bind(1, ByteView(group));
    if (auto r = (*up)->step(); !r) return std::unexpected(r.error());
    for (auto& [mailbox, keys] : epochs)
        if (keys.group_id == group && keys.provisional()) keys.source = KeySource::token;
    return AdmissionState::confirmed;
}

Status Node::Impl::refuse_token(const GroupId& group, const std::string& why, bool admitted_too,
                                std::vector<RecordId>& retry) {
    auto st = db.cached("UPDATE admissions SET state = 2, detail = ? WHERE group_id = ?");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, std::string_view(why)).bind(2, ByteView(group));
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    if (auto ok = drop_token_keys(group, admitted_too); !ok) return ok;
    // Relays a forged token named would otherwise see this member's syncs from now on; the
    // group's own settings name its relays.
    auto rs = db.cached("DELETE FROM welcome_relays WHERE group_id = ?");
    if (!rs) return std::unexpected(rs.error());
    (*rs)->bind(1, ByteView(group));
    if (auto r = (*rs)->step(); !r) return std::unexpected(r.error());
    const auto& g = state(group);
    // Grants a rotation made to us that a forged key stood in the way of count now.
    for (const auto& op : g.records())
        if (op.body.has_rotation() && g.status(op.id) == OpStatus::valid)
            if (auto ok = take_grant(op.id, group, op.body.rotation(), retry); !ok) return ok;
    return {};
}

Status Node::Impl::settle_admissions(std::vector<RecordId>& retry) {
    std::vector<GroupId> waiting;
    {
        auto st = db.cached("SELECT group_id FROM admissions WHERE state = 0");
        if (!st) return std::unexpected(st.error());
        for (;;) {
            auto r = (*st)->step();
            if (!r) {
                (*st)->reset();
                return std::unexpected(r.error());
            }
            if (!*r) break;
            auto blob = (*st)->column_blob(0);
            if (blob.size() == 32) waiting.push_back(to_array<32>(blob));
        }
        (*st)->reset();
    }
    for (const auto& group : waiting) {
        if (!genesis.contains(group)) continue;
        if (auto r = settle_admission(group, retry); !r) return std::unexpected(r.error());
    }
    return {};
}

Status Node::Impl::drop_token_keys(const GroupId& group, bool admitted_too) {
    // Bodies stored once, in their envelope, would no longer open: keep them in the table.
    for (const auto& [mailbox, keys] : epochs) {
        const auto source = keys.source;
        if (keys.group_id == group &&
            (source == KeySource::waiting_token || (admitted_too && source == KeySource::token)))
            if (auto ok = records.keep_bodies(keys.epoch_id); !ok) return ok;
    }
    auto st = db.cached(admitted_too ? "DELETE FROM epochs WHERE group_id = ? AND source IN (1, 2)"
                                     : "DELETE FROM epochs WHERE group_id = ? AND source = 1");
    if (!st) return std::unexpected(st.error());
    (*st)->bind(1, ByteView(group));
    if (auto r = (*st)->step(); !r) return std::unexpected(r.error());
    for (auto it = epochs.begin(); it != epochs.end();) {
        const auto source = it->second.source;
        if (it->second.group_id == group &&
            (source == KeySource::waiting_token || (admitted_too && source == KeySource::token))) {
            epoch_mailbox.erase(it->second.epoch_id);
            it = epochs.erase(it);
        } else {
            ++it;
        }
    }
    return {};
}

}  // namespace kolokol::core
