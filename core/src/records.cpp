#include "records.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/transport/address.hpp"

namespace kolokol::core {

std::string grant_key_hash(ByteView box_public_key) {
    auto h = crypto::blake2b_256(kGrantBoxKeyDomain, box_public_key);
    return std::string(as_chars(ByteView(h).first(kGrantKeyHashBytes)));
}

std::optional<std::string_view> quorum_problem(const pb::GroupSettings& s) {
    if (!s.set_quorum()) {
        if (s.quorum() != 0) return "a quorum without set_quorum";
        return std::nullopt;
    }
    if (s.quorum() == 0 || s.quorum() > kMaxQuorum) return "quorum out of range";
    if (!s.name().empty() || s.set_relays() || s.relays_size() > 0 ||
        s.relay_alternates_size() > 0 || s.relay_retired_size() > 0 || s.set_retention() ||
        s.retention_seconds() != 0 || s.set_tor_only() || s.tor_only() || s.set_rekey_interval() ||
        s.rekey_interval_seconds() != 0)
        return "a quorum change with other settings";
    return std::nullopt;
}

std::optional<std::string_view> relay_list_problem(const pb::GroupSettings& s) {
    if (s.relays_size() > kMaxRelays) return "too many relays";
    for (const auto& r : s.relays())
        if (r.size() > kMaxRelayAddressChars) return "relay address too long";
    if (s.relay_retired_size() > 0) {
        if (!s.set_relays()) return "retired relay addresses without a relay list";
        if (s.relay_retired_size() > kMaxRelayRetired) return "too many retired relay addresses";
        for (const auto& r : s.relay_retired()) {
            if (r.size() > kMaxRelayAddressChars) return "relay address too long";
            auto parsed = transport::Address::parse(r);
            if (!parsed || parsed->to_string() != r) return "relay address does not parse";
            if (std::find(s.relays().begin(), s.relays().end(), r) != s.relays().end() ||
                std::find(s.relay_alternates().begin(), s.relay_alternates().end(), r) !=
                    s.relay_alternates().end())
                return "relay address listed and retired";
        }
    }
    if (s.relay_alternates_size() == 0) return std::nullopt;
    if (!s.set_relays()) return "relay addresses without a relay list";
    if (s.relay_alternates_size() > kMaxRelayAlternates) return "too many relay addresses";
    // Addresses per relay key, the relays' own first: an alternate must share one of them.
    std::map<transport::StaticPublicKey, int> per_key;
    std::set<std::string_view> seen;
    for (const auto& r : s.relays()) {
        seen.insert(r);
        if (auto parsed = transport::Address::parse(r)) ++per_key[parsed->key];
    }
    for (const auto& r : s.relay_alternates()) {
        if (r.size() > kMaxRelayAddressChars) return "relay address too long";
        auto parsed = transport::Address::parse(r);
        if (!parsed || parsed->to_string() != r) return "relay address does not parse";
        auto it = per_key.find(parsed->key);
        if (it == per_key.end()) return "relay address for a relay not listed";
        if (!seen.insert(r).second) return "relay address listed twice";
        if (++it->second > kMaxRelayAddresses) return "too many addresses for one relay";
    }
    return std::nullopt;
}

std::string_view reject_reason_name(RejectReason reason) {
    switch (reason) {
        case RejectReason::malformed_envelope:
            return KOLOKOL_TEXT("malformed envelope");
        case RejectReason::undecryptable:
            return KOLOKOL_TEXT("does not decrypt");
        case RejectReason::malformed_record:
            return KOLOKOL_TEXT("malformed record");
        case RejectReason::bad_signature:
            return KOLOKOL_TEXT("bad signature");
        case RejectReason::wrong_group:
            return KOLOKOL_TEXT("wrong group");
        case RejectReason::wrong_epoch:
            return KOLOKOL_TEXT("wrong epoch");
        case RejectReason::wrong_key_class:
            return KOLOKOL_TEXT("wrong key class");
        case RejectReason::bad_references:
            return KOLOKOL_TEXT("inconsistent references");
        case RejectReason::not_member:
            return KOLOKOL_TEXT("author not a member");
        case RejectReason::not_admin:
            return KOLOKOL_TEXT("author not an admin");
        case RejectReason::removed_author:
            return KOLOKOL_TEXT("author was removed");
        case RejectReason::invalid_op:
            return KOLOKOL_TEXT("invalid operation");
        case RejectReason::key_conflict:
            return KOLOKOL_TEXT("key conflict");
    }
    return KOLOKOL_TEXT("unknown");
}

bool is_control_payload(const pb::RecordBody& body) {
    return body.has_membership() || body.has_rotation() || body.has_settings() ||
           body.has_approval() || body.has_key_update();
}

Bytes seal_record(const pb::RecordBody& body, const crypto::SecretBytes& author_secret,
                  const EpochKeys& keys, crypto::Random& random) {
    auto body_bytes = body.SerializeAsString();
    auto sig = crypto::sign(author_secret, kRecordDomain, as_bytes(body_bytes));
    pb::SignedRecord sr;
    sr.set_body(body_bytes);
    sr.set_signature(to_string(sig));
    auto plaintext = sr.SerializeAsString();

    Bytes envelope;
    envelope.reserve(storage::kEnvelopeHeaderBytes + plaintext.size() + 16);
    envelope.push_back(storage::kEnvelopeVersion);
    append(envelope, keys.mailbox);
    auto nonce = random.array<24>();
    append(envelope, nonce);
    const auto& key = is_control_payload(body) ? keys.control_key : *keys.content_key;
    auto ct =
        crypto::xchacha_seal(key.view(), nonce, ByteView(envelope).first(33), as_bytes(plaintext));
    append(envelope, ct);
    return envelope;
}

namespace {
std::unexpected<Rejection> reject(RejectReason r, std::string detail) {
    return std::unexpected(Rejection{r, std::move(detail)});
}

bool ref_ok(const pb::RecordRef& r) {
    return r.id().size() == 32 && r.epoch_id().size() == 32;
}

// Structural limits on a body, checked before anything else looks at it.
std::optional<std::string> check_limits(const pb::RecordBody& b) {
    if (b.group_id().size() != 32 || b.epoch_id().size() != 32 || b.author().size() != 32)
        return "bad key or id sizes";
    if (b.seq() == 0 || b.lamport() == 0) return "zero sequence or clock";
    if ((b.seq() == 1) == b.has_prev()) return "sequence and previous record disagree";
    if (b.has_prev() && !ref_ok(b.prev())) return "bad previous reference";
    if (b.parents_size() > kMaxRefs || b.control_heads_size() > kMaxRefs)
        return "too many references";
    for (const auto& p : b.parents())
        if (!ref_ok(p)) return "bad parent reference";
    for (const auto& h : b.control_heads())
        if (h.size() != 32) return "bad control reference";
    switch (b.payload_case()) {
        case pb::RecordBody::kMessage:
            if (b.message().text().size() > kMaxMessageBytes) return "message too long";
            if (!is_clean_utf8(b.message().text(), "\n\t")) return "message is not clean UTF-8";
            if (!b.message().reply_to().empty() && b.message().reply_to().size() != 32)
                return "bad reply reference";
            break;
        case pb::RecordBody::kMembership: {
            const auto& m = b.membership();
            if (m.member().size() != 32) return "bad member key";
            if (m.kind() == pb::MembershipOp::ADD) {
                if (m.member_box_key().size() != 32) return "bad member box key";
                if (!check_display_name(m.display_name())) return "bad display name";
            }
            if (m.has_cutoff() && !ref_ok(m.cutoff())) return "bad cutoff reference";
            if (m.compromised() && m.kind() != pb::MembershipOp::REMOVE)
                return "a burn notice that is not a removal";
            if (m.compromised_at_ms() != 0 && (!m.compromised() || m.compromised_at_ms() < 0))
                return "a detention time without a burn notice";
            break;
        }
        case pb::RecordBody::kRotation:
            if (b.rotation().grants_size() == 0 || b.rotation().grants_size() > kMaxGrants)
                return "bad number of grants";
            for (const auto& g : b.rotation().grants())
                if (g.member_tag().size() != 8 || g.sealed_secret().size() != 32 + 48 ||
                    (!g.box_key_hash().empty() && g.box_key_hash().size() != kGrantKeyHashBytes))
                    return "bad grant";
            if (b.rotation().control_grants_size() > kMaxControlGrants)
                return "too many control grants";
            {
                std::set<std::string_view> tags;
                for (const auto& g : b.rotation().control_grants()) {
                    if (g.member_tag().size() != 8 ||
                        g.sealed_keys().size() != kControlGrantKeyBytes + 48)
                        return "bad control grant";
                    if (!tags.insert(g.member_tag()).second)
                        return "a control grant names one newcomer twice";
                }
            }
            break;
        case pb::RecordBody::kSettings:
            if (b.settings().name().size() > 128 || !is_clean_utf8(b.settings().name()))
                return "bad group name";
            if (auto problem = relay_list_problem(b.settings())) return std::string(*problem);
            if (auto problem = quorum_problem(b.settings())) return std::string(*problem);
            if (b.settings().rekey_interval_seconds() != 0 && !b.settings().set_rekey_interval())
                return "a rekey interval without set_rekey_interval";
            if (b.settings().rekey_interval_seconds() > kMaxRekeyIntervalSeconds ||
                (b.settings().rekey_interval_seconds() != 0 &&
                 b.settings().rekey_interval_seconds() < kMinRekeyIntervalSeconds))
                return "rekey interval out of range";
            break;
        case pb::RecordBody::kKeyUpdate:
            if (b.key_update().box_key().size() != 32) return "bad box key";
            break;
        case pb::RecordBody::kApproval:
            if (!b.approval().has_proposal() || !ref_ok(b.approval().proposal()))
                return "bad proposal reference";
            break;
        case pb::RecordBody::PAYLOAD_NOT_SET:
            return "no payload";
        default:
            break;  // other payloads are checked by their own modules
    }
    return std::nullopt;
}
}  // namespace

std::expected<UncheckedRecord, Rejection> open_unchecked(ByteView envelope, const EpochKeys& keys) {
    auto view = storage::parse_envelope(envelope);
    if (!view) return reject(RejectReason::malformed_envelope, "bad size or version");
    std::optional<Bytes> plain;
    bool control = false;
    if (keys.content_key)
        plain = crypto::xchacha_open(keys.content_key->view(), view->nonce, view->header,
                                     view->ciphertext);
    if (!plain) {
        plain = crypto::xchacha_open(keys.control_key.view(), view->nonce, view->header,
                                     view->ciphertext);
        control = true;
    }
    if (!plain) return reject(RejectReason::undecryptable, "AEAD failed");

    UncheckedRecord out;
    out.record.control = control;
    if (!out.sr.ParseFromArray(plain->data(), static_cast<int>(plain->size())) ||
        out.sr.signature().size() != 64)
        return reject(RejectReason::malformed_record, "signed record does not parse");
    if (!out.record.body.ParseFromString(out.sr.body()))
        return reject(RejectReason::malformed_record, "body does not parse");
    if (auto why = check_limits(out.record.body))
        return reject(RejectReason::malformed_record, *why);
    out.record.signed_record = std::move(*plain);
    return out;
}

namespace {
// The checks after the signature's: what the record claims must be where it was found.
std::expected<OpenedRecord, Rejection> check_binding(OpenedRecord out, const GroupId& group,
                                                     const EpochId& epoch) {
    if (as_bytes(out.body.group_id()).size() != 32 ||
        to_array<32>(as_bytes(out.body.group_id())) != group)
        return reject(RejectReason::wrong_group, "record names another group");
    if (to_array<32>(as_bytes(out.body.epoch_id())) != epoch)
        return reject(RejectReason::wrong_epoch, "record names another epoch");
    if (is_control_payload(out.body) != out.control)
        return reject(RejectReason::wrong_key_class, "sealed under the wrong key class");
    return out;
}
}  // namespace

std::expected<OpenedRecord, Rejection> check_unchecked(UncheckedRecord unchecked, ByteView envelope,
                                                       const GroupId& group, const EpochId& epoch) {
    OpenedRecord& out = unchecked.record;
    if (!crypto::verify(as_bytes(out.body.author()), kRecordDomain, as_bytes(unchecked.sr.body()),
                        as_bytes(unchecked.sr.signature())))
        return reject(RejectReason::bad_signature, "signature does not verify");
    out.id = storage::record_id_of(envelope);
    out.envelope = Bytes(envelope.begin(), envelope.end());
    return check_binding(std::move(out), group, epoch);
}

std::expected<OpenedRecord, Rejection> open_record(ByteView envelope, const EpochKeys& keys) {
    auto unchecked = open_unchecked(envelope, keys);
    if (!unchecked) return std::unexpected(std::move(unchecked.error()));
    return check_unchecked(std::move(*unchecked), envelope, keys.group_id, keys.epoch_id);
}

std::expected<OpenedRecord, Rejection> open_pinned_record(ByteView envelope, const EpochKeys& keys,
                                                          const RecordId& id) {
    auto unchecked = open_unchecked(envelope, keys);
    if (!unchecked) return std::unexpected(std::move(unchecked.error()));
    // Neither the signed record nor the envelope is kept (see records.hpp).
    unchecked->record.signed_record.clear();
    unchecked->record.id = id;
    return check_binding(std::move(unchecked->record), keys.group_id, keys.epoch_id);
}

std::optional<Bytes> open_stored_body(ByteView envelope, const EpochKeys& keys) {
    auto view = storage::parse_envelope(envelope);
    if (!view) return std::nullopt;
    std::optional<Bytes> plain;
    if (keys.content_key)
        plain = crypto::xchacha_open(keys.content_key->view(), view->nonce, view->header,
                                     view->ciphertext);
    if (!plain)
        plain = crypto::xchacha_open(keys.control_key.view(), view->nonce, view->header,
                                     view->ciphertext);
    return plain;
}

std::optional<pb::RecordBody> parse_stored_body(ByteView signed_record) {
    pb::SignedRecord sr;
    if (!sr.ParseFromArray(signed_record.data(), static_cast<int>(signed_record.size())))
        return std::nullopt;
    pb::RecordBody body;
    if (!body.ParseFromString(sr.body())) return std::nullopt;
    return body;
}

}  // namespace kolokol::core
