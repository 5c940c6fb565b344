#include "kolokol/core/recovery.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>

#include "domains.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/shamir.hpp"
#include "kolokol/crypto/sign.hpp"

namespace kolokol::core {

namespace {

constexpr std::uint8_t kShareVersion = 1;
constexpr std::uint8_t kRequestVersion = 1;
constexpr std::size_t kMaxRequestText = 1024;
constexpr std::string_view kKitKdfContext = "kkrecov1";

struct RecoveryCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.recovery"; }
    std::string message(int c) const override {
        switch (static_cast<RecoveryErrc>(c)) {
            case RecoveryErrc::bad_parameters:
                return KOLOKOL_TEXT("recovery parameters out of bounds");
            case RecoveryErrc::malformed:
                return KOLOKOL_TEXT("recovery data does not parse");
            case RecoveryErrc::too_few_shares:
                return KOLOKOL_TEXT("too few recovery shares");
            case RecoveryErrc::duplicate_share:
                return KOLOKOL_TEXT("a recovery share given twice");
            case RecoveryErrc::mixed_splits:
                return KOLOKOL_TEXT("recovery shares of different splits");
            case RecoveryErrc::damaged:
                return KOLOKOL_TEXT("recovery shares damaged or forged");
            case RecoveryErrc::wrong_member:
                return KOLOKOL_TEXT("recovery data for another member or request");
            case RecoveryErrc::not_for_us:
                return KOLOKOL_TEXT("not sealed to this key");
        }
        return KOLOKOL_TEXT("unknown error");
    }
};

bool same_split(const RecoveryShare& a, const RecoveryShare& b) {
    return a.threshold == b.threshold && a.holders == b.holders && a.member_key == b.member_key &&
           a.commitment == b.commitment;
}

// The first `threshold` shares of `chosen` (a bit mask over `shares`), combined and checked.
std::optional<crypto::SecretBytes> combine_subset(std::span<const RecoveryShare> shares,
                                                  std::uint32_t chosen) {
    std::vector<std::uint8_t> xs;
    std::vector<ByteView> ys;
    for (std::size_t i = 0; i < shares.size(); ++i)
        if (chosen & (1u << i)) {
            xs.push_back(shares[i].number);
            ys.push_back(shares[i].y.view());
        }
    auto secret = crypto::shamir_combine(xs, ys);
    if (!secret) return std::nullopt;
    const auto& s0 = shares[0];
    const auto commitment =
        recovery_commitment(s0.split_id, s0.threshold, s0.holders, s0.member_key, secret->view());
    if (!crypto::equal_ct(commitment, s0.commitment)) return std::nullopt;
    return secret;
}

crypto::SecretBytes concat_secret(ByteView a, ByteView b) {
    crypto::SecretBytes out(a.size() + b.size());
    std::copy(a.begin(), a.end(), out.data());
    std::copy(b.begin(), b.end(), out.data() + a.size());
    return out;
}

Bytes kit_associated_data(const SplitId& split_id, ByteView member_key, std::uint32_t version) {
    Bytes ad = to_bytes(kRecoveryKitDomain);
    ad.push_back(0);
    append(ad, split_id);
    append(ad, member_key);
    put_u32be(ad, version);
    return ad;
}

}  // namespace

const std::error_category& RecoveryErrc_category() {
    static RecoveryCategory category;
    return category;
}

crypto::SecretBytes encode_share(const RecoveryShare& share) {
    crypto::SecretBytes out(kRecoveryShareBytes);
    auto* p = out.data();
    *p++ = kShareVersion;
    p = std::copy(share.split_id.begin(), share.split_id.end(), p);
    *p++ = share.threshold;
    *p++ = share.holders;
    *p++ = share.number;
    p = std::copy(share.member_key.begin(), share.member_key.end(), p);
    p = std::copy(share.commitment.begin(), share.commitment.end(), p);
    const auto y = share.y.view();
    if (y.size() == kRecoverySecretBytes) std::copy(y.begin(), y.end(), p);
    return out;
}

Result<RecoveryShare> parse_share(ByteView encoded) {
    if (encoded.size() != kRecoveryShareBytes)
        return fail(RecoveryErrc::malformed, "the recovery share has the wrong size");
    ByteReader r(encoded);
    RecoveryShare share;
    const auto version = r.u8();
    const auto split_id = r.array<kRecoverySplitIdBytes>();
    const auto threshold = r.u8();
    const auto holders = r.u8();
    const auto number = r.u8();
    const auto member_key = r.array<32>();
    const auto commitment = r.array<32>();
    const auto y = r.take(kRecoverySecretBytes);
    if (!version || !split_id || !threshold || !holders || !number || !member_key || !commitment ||
        !y || !r.empty())
        return fail(RecoveryErrc::malformed, "the recovery share has the wrong size");
    if (*version != kShareVersion)
        return fail(RecoveryErrc::malformed, "the recovery share is of an unknown version");
    if (*threshold < kRecoveryMinThreshold || *threshold > *holders ||
        *holders > kRecoveryMaxHolders || *number < 1 || *number > *holders)
        return fail(RecoveryErrc::malformed,
                    "the recovery share names a threshold, holder count or number out of bounds");
    share.split_id = *split_id;
    share.threshold = *threshold;
    share.holders = *holders;
    share.number = *number;
    share.member_key = *member_key;
    share.commitment = *commitment;
    share.y = crypto::SecretBytes::copy_of(*y);
    return share;
}

ByteArray<32> recovery_commitment(const SplitId& split_id, std::uint8_t threshold,
                                  std::uint8_t holders, ByteView member_key, ByteView secret) {
    crypto::SecretBytes input(split_id.size() + 2 + member_key.size() + secret.size());
    auto* p = std::copy(split_id.begin(), split_id.end(), input.data());
    *p++ = threshold;
    *p++ = holders;
    p = std::copy(member_key.begin(), member_key.end(), p);
    std::copy(secret.begin(), secret.end(), p);
    return crypto::blake2b_256(kRecoveryCommitmentDomain, input.view());
}

crypto::SecretBytes new_recovery_secret(crypto::Random& random) {
    crypto::SecretBytes secret(kRecoverySecretBytes);
    random.fill(secret.mutable_view());
    return secret;
}

Result<std::vector<RecoveryShare>> split_recovery_secret(const crypto::SecretBytes& secret,
                                                         ByteView member_key, unsigned threshold,
                                                         unsigned holders, crypto::Random& random) {
    if (threshold < kRecoveryMinThreshold || threshold > holders || holders > kRecoveryMaxHolders)
        return fail(RecoveryErrc::bad_parameters,
                    "a recovery split needs at least 2 holders to agree, no more than it has "
                    "holders, and at most 16 holders");
    if (secret.size() != kRecoverySecretBytes || member_key.size() != 32)
        return fail(RecoveryErrc::bad_parameters,
                    "a recovery secret and a member key are 32 bytes");
    std::vector<std::uint8_t> xs;
    for (unsigned i = 1; i <= holders; ++i) xs.push_back(static_cast<std::uint8_t>(i));
    auto ys = crypto::shamir_split(secret.view(), xs, threshold, random);
    if (!ys)
        return fail(RecoveryErrc::bad_parameters,
                    "a recovery split needs at least 2 holders to agree, no more than it has "
                    "holders, and at most 16 holders");
    RecoveryShare model;
    model.split_id = random.array<kRecoverySplitIdBytes>();
    model.threshold = static_cast<std::uint8_t>(threshold);
    model.holders = static_cast<std::uint8_t>(holders);
    std::copy(member_key.begin(), member_key.end(), model.member_key.begin());
    model.commitment = recovery_commitment(model.split_id, model.threshold, model.holders,
                                           member_key, secret.view());
    std::vector<RecoveryShare> shares;
    for (unsigned i = 0; i < holders; ++i) {
        RecoveryShare share;
        share.split_id = model.split_id;
        share.threshold = model.threshold;
        share.holders = model.holders;
        share.number = xs[i];
        share.member_key = model.member_key;
        share.commitment = model.commitment;
        share.y = std::move((*ys)[i]);
        shares.push_back(std::move(share));
    }
    return shares;
}

Result<crypto::SecretBytes> combine_recovery_shares(std::span<const RecoveryShare> shares) {
    if (shares.empty())
        return fail(RecoveryErrc::too_few_shares,
                    "no recovery share is here: ask the holders to approve the request");
    const auto& first = shares[0];
    for (const auto& s : shares) {
        if (s.split_id != first.split_id)
            return fail(RecoveryErrc::mixed_splits,
                        "the shares come from different splits: only shares of the member's "
                        "latest split combine");
        if (!same_split(s, first))
            return fail(RecoveryErrc::damaged,
                        "the shares disagree about their split: one is damaged or forged");
        if (s.y.size() != kRecoverySecretBytes || s.number < 1 || s.number > s.holders ||
            s.threshold < kRecoveryMinThreshold || s.threshold > s.holders ||
            s.holders > kRecoveryMaxHolders)
            return fail(
                RecoveryErrc::malformed,
                "the recovery share names a threshold, holder count or number out of bounds");
    }
    std::uint32_t numbers = 0;
    for (const auto& s : shares) {
        if (numbers & (1u << s.number))
            return fail(RecoveryErrc::duplicate_share, "share number {} was given twice",
                        unsigned{s.number});
        numbers |= 1u << s.number;
    }
    // Distinct numbers in 1..holders <= 16: at most 16 shares from here on.
    if (shares.size() < first.threshold)
        return fail(RecoveryErrc::too_few_shares,
                    "{} of the {} shares needed to recover are here: ask more holders to approve "
                    "the request (one share alone reveals nothing)",
                    shares.size(), unsigned{first.threshold});
    // Every subset of `threshold` shares, in order, until one combines to the committed secret:
    // at most C(16, 8) = 12,870 interpolations of 32 bytes.
    const std::uint32_t all = (1u << shares.size()) - 1;
    for (std::uint32_t chosen = 1; chosen <= all; ++chosen) {
        if (static_cast<unsigned>(std::popcount(chosen)) != first.threshold) continue;
        if (auto secret = combine_subset(shares, chosen)) return std::move(*secret);
    }
    return fail(RecoveryErrc::damaged,
                "the shares do not combine to the secret they commit to: one is damaged or forged");
}

Bytes seal_share_for_holder(const RecoveryShare& share, ByteView holder_box_key,
                            const crypto::SecretBytes& member_sign_secret) {
    const auto encoded = encode_share(share);
    const auto signed_part = concat_secret(holder_box_key, encoded.view());
    const auto signature =
        crypto::sign_secret_message(member_sign_secret, kRecoveryOfferDomain, signed_part.view());
    const auto plaintext = concat_secret(encoded.view(), signature);
    return crypto::box_seal(holder_box_key, plaintext.view());
}

Result<RecoveryShare> open_share_offer(const crypto::BoxKeyPair& holder, ByteView offer) {
    if (offer.size() != kRecoveryOfferBytes)
        return fail(RecoveryErrc::malformed, "the recovery share offer has the wrong size");
    auto plaintext = crypto::box_seal_open(holder, offer);
    if (!plaintext)
        return fail(RecoveryErrc::not_for_us,
                    "the recovery share is not sealed to this device's key");
    const auto view = plaintext->view();
    auto share = parse_share(view.first(kRecoveryShareBytes));
    if (!share) return std::unexpected(share.error());
    const auto signed_part = concat_secret(holder.public_key, view.first(kRecoveryShareBytes));
    // verify() frames the message on the heap; the share's y would land there, so the framing
    // is made here in locked memory and checked raw.
    const auto domain = as_bytes(kRecoveryOfferDomain);
    crypto::SecretBytes framed(domain.size() + 1 + signed_part.size());
    auto* p = std::copy(domain.begin(), domain.end(), framed.data());
    *p++ = 0;
    std::copy(signed_part.view().begin(), signed_part.view().end(), p);
    if (!crypto::verify_raw(share->member_key, framed.view(), view.subspan(kRecoveryShareBytes)))
        return fail(RecoveryErrc::malformed,
                    "the recovery share's signature by its member does not verify");
    return share;
}

RecoveryRequestSecret make_recovery_request(ByteView member_key, std::uint64_t now_ms,
                                            crypto::Random& random) {
    crypto::SecretBytes seed(32);
    random.fill(seed.mutable_view());
    RecoveryRequestSecret out{{}, crypto::box_seed_keypair(seed.view())};
    std::copy_n(member_key.begin(), std::min<std::size_t>(32, member_key.size()),
                out.request.member_key.begin());
    out.request.request_key = out.key.public_key;
    out.request.nonce = random.array<16>();
    out.request.created_ms = now_ms;
    return out;
}

Bytes encode_request(const RecoveryRequest& request) {
    Bytes out;
    out.reserve(kRecoveryRequestBytes);
    out.push_back(kRequestVersion);
    append(out, request.member_key);
    append(out, request.request_key);
    append(out, request.nonce);
    put_u64be(out, request.created_ms);
    return out;
}

Result<RecoveryRequest> parse_request(ByteView encoded) {
    if (encoded.size() != kRecoveryRequestBytes)
        return fail(RecoveryErrc::malformed, "the recovery request has the wrong size");
    ByteReader r(encoded);
    const auto version = r.u8();
    RecoveryRequest request;
    const auto member_key = r.array<32>();
    const auto request_key = r.array<32>();
    const auto nonce = r.array<16>();
    const auto created = r.u64be();
    if (!version || !member_key || !request_key || !nonce || !created || !r.empty())
        return fail(RecoveryErrc::malformed, "the recovery request has the wrong size");
    if (*version != kRequestVersion)
        return fail(RecoveryErrc::malformed, "the recovery request is of an unknown version");
    if (crypto::is_zero(*request_key))
        return fail(RecoveryErrc::malformed, "the recovery request's key is all zero");
    request.member_key = *member_key;
    request.request_key = *request_key;
    request.nonce = *nonce;
    request.created_ms = *created;
    return request;
}

std::string request_text(const RecoveryRequest& request) {
    return std::string(kRecoveryRequestPrefix) + crypto::base64url_encode(encode_request(request));
}

Result<RecoveryRequest> parse_request_text(std::string_view pasted) {
    if (pasted.size() > 16 * kMaxRequestText)
        return fail(RecoveryErrc::malformed, "the recovery request is too long");
    const auto text = compact_pasted(pasted);
    if (text.size() > kMaxRequestText)
        return fail(RecoveryErrc::malformed, "the recovery request is too long");
    if (!text.starts_with(kRecoveryRequestPrefix))
        return fail(RecoveryErrc::malformed,
                    "not a recovery request (it should start with \"kolokol-recovery-request:\")");
    auto raw =
        crypto::base64url_decode(std::string_view(text).substr(kRecoveryRequestPrefix.size()));
    if (!raw) return fail(RecoveryErrc::malformed, "the recovery request is damaged (bad base64)");
    return parse_request(*raw);
}

ByteArray<32> request_id(const RecoveryRequest& request) {
    return crypto::blake2b_256(kRecoveryRequestDomain, encode_request(request));
}

std::uint32_t new_holder_number(crypto::Random& random) {
    return static_cast<std::uint32_t>(random.uniform(kRecoveryCodeRange));
}

std::string comparison_code(const RecoveryRequest& request, std::uint32_t holder_number) {
    auto input = encode_request(request);
    put_u32be(input, holder_number);
    const auto h = crypto::blake2b_256(kRecoveryCodeDomain, input);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | h[i];
    // 2^64 mod 10^6 / 2^64 < 10^-13: the bias of the remainder is negligible.
    char digits[8];
    std::snprintf(digits, sizeof digits, "%06u", static_cast<unsigned>(v % kRecoveryCodeRange));
    return digits;
}

Result<Bytes> approve_request(const RecoveryRequest& request, const RecoveryShare& share) {
    if (request.member_key != share.member_key)
        return fail(RecoveryErrc::wrong_member,
                    "the request names another member than the one whose share this is");
    const auto id = request_id(request);
    const auto encoded = encode_share(share);
    const auto plaintext = concat_secret(id, encoded.view());
    return crypto::box_seal(request.request_key, plaintext.view());
}

Result<RecoveryShare> open_approval(const RecoveryRequestSecret& request, ByteView approval) {
    if (approval.size() != kRecoveryApprovalBytes)
        return fail(RecoveryErrc::malformed, "the approval has the wrong size");
    auto plaintext = crypto::box_seal_open(request.key, approval);
    if (!plaintext)
        return fail(RecoveryErrc::not_for_us, "the approval does not open with this request's key");
    const auto view = plaintext->view();
    const auto id = request_id(request.request);
    if (!crypto::equal_ct(view.first(32), id))
        return fail(RecoveryErrc::wrong_member, "the approval answers another recovery request");
    auto share = parse_share(view.subspan(32));
    if (!share) return std::unexpected(share.error());
    if (share->member_key != request.request.member_key)
        return fail(RecoveryErrc::wrong_member,
                    "the approval carries the share of another member than the request names");
    return share;
}

crypto::SecretBytes recovery_kit_key(const crypto::SecretBytes& secret) {
    return crypto::kdf_derive(secret.view(), 1, kKitKdfContext);
}

Result<Bytes> seal_recovery_kit(const crypto::SecretBytes& kit_key, const SplitId& split_id,
                                ByteView member_key, std::uint32_t version, ByteView kit,
                                crypto::Random& random) {
    if (kit.size() > kRecoveryMaxKitBytes)
        return fail(RecoveryErrc::bad_parameters, "the recovery kit is larger than 4 MiB");
    const auto nonce = random.array<crypto::kXNonceBytes>();
    auto sealed = crypto::xchacha_seal(kit_key.view(), nonce,
                                       kit_associated_data(split_id, member_key, version), kit);
    Bytes out(nonce.begin(), nonce.end());
    append(out, sealed);
    return out;
}

Result<crypto::SecretBytes> open_recovery_kit(const crypto::SecretBytes& kit_key,
                                              const SplitId& split_id, ByteView member_key,
                                              std::uint32_t version, ByteView sealed) {
    if (sealed.size() < crypto::kXNonceBytes + crypto::kAeadTagBytes ||
        sealed.size() > crypto::kXNonceBytes + crypto::kAeadTagBytes + kRecoveryMaxKitBytes)
        return fail(RecoveryErrc::malformed, "the recovery kit has the wrong size");
    auto kit = crypto::xchacha_open_secret(kit_key.view(), sealed.first(crypto::kXNonceBytes),
                                           kit_associated_data(split_id, member_key, version),
                                           sealed.subspan(crypto::kXNonceBytes));
    if (!kit)
        return fail(RecoveryErrc::damaged,
                    "the recovery kit does not open: damaged, or of another split, member or "
                    "version");
    return std::move(*kit);
}

}  // namespace kolokol::core
