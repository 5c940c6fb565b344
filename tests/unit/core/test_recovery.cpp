#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <vector>

#include "kolokol/core/recovery.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"

using namespace kolokol;
using namespace kolokol::core;
using crypto::DeterministicRandom;
using crypto::SecretBytes;

namespace {

RecoveryShare copy_share(const RecoveryShare& s) {
    auto copy = parse_share(encode_share(s).view());
    REQUIRE(copy);
    return std::move(*copy);
}

std::vector<RecoveryShare> pick(const std::vector<RecoveryShare>& all, std::uint32_t mask) {
    std::vector<RecoveryShare> out;
    for (std::size_t i = 0; i < all.size(); ++i)
        if (mask & (1u << i)) out.push_back(copy_share(all[i]));
    return out;
}

std::error_code code_of(const Result<SecretBytes>& r) {
    REQUIRE_FALSE(r);
    return r.error().code;
}

bool equal(const SecretBytes& a, const SecretBytes& b) {
    return crypto::equal_ct(a.view(), b.view());
}

// Chi-square statistic of `counts` against the uniform distribution over 256 values.
double chi_square(const std::array<unsigned, 256>& counts, unsigned total) {
    const double expected = total / 256.0;
    double chi = 0;
    for (auto c : counts) chi += (c - expected) * (c - expected) / expected;
    return chi;
}

}  // namespace

TEST_CASE("recovery: every 3-subset of a 3-of-5 split recovers, fewer are refused as too few") {
    DeterministicRandom random(1);
    const auto member = crypto::sign_keypair();
    const auto secret = new_recovery_secret(random);
    auto shares = split_recovery_secret(secret, member.public_key, 3, 5, random);
    REQUIRE(shares);
    REQUIRE(shares->size() == 5);
    unsigned recovered = 0;
    for (std::uint32_t mask = 1; mask < 32; ++mask) {
        CAPTURE(mask);
        auto subset = pick(*shares, mask);
        auto back = combine_recovery_shares(subset);
        if (std::popcount(mask) >= 3) {
            REQUIRE(back);
            CHECK(equal(*back, secret));
            ++recovered;
        } else {
            CHECK(code_of(back) == make_error_code(RecoveryErrc::too_few_shares));
        }
    }
    CHECK(recovered == 10 + 5 + 1);
    // One share alone says why it is not enough.
    auto one = pick(*shares, 1);
    auto alone = combine_recovery_shares(one);
    REQUIRE_FALSE(alone);
    CHECK(alone.error().message ==
          "1 of the 3 shares needed to recover are here: ask more holders to approve the request "
          "(one share alone reveals nothing)");
    CHECK(code_of(combine_recovery_shares({})) == make_error_code(RecoveryErrc::too_few_shares));
}

TEST_CASE("recovery: split parameters out of bounds are refused") {
    DeterministicRandom random(2);
    const auto member = crypto::sign_keypair();
    const auto secret = new_recovery_secret(random);
    for (auto [k, n] : {std::pair{1u, 3u}, {0u, 0u}, {4u, 3u}, {2u, 17u}, {17u, 17u}, {2u, 1u}}) {
        CAPTURE(k);
        CAPTURE(n);
        auto r = split_recovery_secret(secret, member.public_key, k, n, random);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == make_error_code(RecoveryErrc::bad_parameters));
    }
    CHECK(split_recovery_secret(secret, member.public_key, 2, 2, random));
    CHECK(split_recovery_secret(secret, member.public_key, 16, 16, random));
    const auto short_secret = SecretBytes(31);
    CHECK_FALSE(split_recovery_secret(short_secret, member.public_key, 2, 3, random));
}

TEST_CASE("recovery: duplicate numbers, mixed splits and disagreeing shares are told apart") {
    DeterministicRandom random(3);
    const auto member = crypto::sign_keypair();
    const auto secret = new_recovery_secret(random);
    auto a = split_recovery_secret(secret, member.public_key, 2, 3, random);
    auto b = split_recovery_secret(secret, member.public_key, 2, 3, random);
    REQUIRE(a);
    REQUIRE(b);
    std::vector<RecoveryShare> twice;
    twice.push_back(copy_share((*a)[0]));
    twice.push_back(copy_share((*a)[0]));
    CHECK(code_of(combine_recovery_shares(twice)) ==
          make_error_code(RecoveryErrc::duplicate_share));
    std::vector<RecoveryShare> mixed;
    mixed.push_back(copy_share((*a)[0]));
    mixed.push_back(copy_share((*b)[1]));
    CHECK(code_of(combine_recovery_shares(mixed)) == make_error_code(RecoveryErrc::mixed_splits));
    // The same split id but another threshold: a share altered after it was made.
    std::vector<RecoveryShare> disagree;
    disagree.push_back(copy_share((*a)[0]));
    disagree.push_back(copy_share((*a)[1]));
    disagree[1].threshold = 3;
    CHECK(code_of(combine_recovery_shares(disagree)) == make_error_code(RecoveryErrc::damaged));
    // A share whose y was replaced: the combination does not match the commitment.
    std::vector<RecoveryShare> forged;
    forged.push_back(copy_share((*a)[0]));
    forged.push_back(copy_share((*a)[1]));
    forged[1].y.data()[5] ^= 1;
    CHECK(code_of(combine_recovery_shares(forged)) == make_error_code(RecoveryErrc::damaged));
    // With one more good share than needed, the bad one is passed over.
    forged.push_back(copy_share((*a)[2]));
    auto back = combine_recovery_shares(forged);
    REQUIRE(back);
    CHECK(equal(*back, secret));
}

TEST_CASE("recovery: a flipped bit anywhere in an encoded share is detected") {
    DeterministicRandom random(4);
    const auto member = crypto::sign_keypair();
    const auto secret = new_recovery_secret(random);
    auto shares = split_recovery_secret(secret, member.public_key, 2, 3, random);
    REQUIRE(shares);
    const auto good = encode_share((*shares)[1]);
    unsigned refused_at_parse = 0, refused_at_combine = 0;
    for (std::size_t i = 0; i < kRecoveryShareBytes; ++i)
        for (int bit = 0; bit < 8; ++bit) {
            auto bad = good.clone();
            bad.data()[i] ^= static_cast<std::uint8_t>(1u << bit);
            auto parsed = parse_share(bad.view());
            if (!parsed) {
                ++refused_at_parse;
                continue;
            }
            std::vector<RecoveryShare> pair;
            pair.push_back(copy_share((*shares)[0]));
            pair.push_back(std::move(*parsed));
            auto r = combine_recovery_shares(pair);
            CAPTURE(i);
            CAPTURE(bit);
            CHECK_FALSE(r);
            ++refused_at_combine;
        }
    CHECK(refused_at_parse + refused_at_combine == kRecoveryShareBytes * 8);
    CHECK(refused_at_parse > 0);
}

TEST_CASE("recovery: k-1 shares are uniformly distributed whatever the secret") {
    // For a fixed secret (all zero, then all 0xff), the bytes of the two shares a 3-of-5 split
    // gives holders 1 and 2, and their sum, over many splits, against the uniform distribution.
    // 2,000 splits x 32 bytes = 64,000 samples per statistic; chi-square with 255 degrees of
    // freedom has mean 255 and standard deviation 22.6, and 360 is beyond p = 10^-5.
    // Uniform bytes one at a time are not enough: a polynomial with a zero coefficient gives
    // uniform shares too, yet two of them then fix the secret. So the pairs (byte of share 1,
    // same byte of share 2) are counted as well: uniform over 65,536 values, 64,000 samples fall
    // on about 40,850 distinct pairs; two shares that determine each other fall on at most 256.
    for (std::uint8_t fill : {std::uint8_t{0}, std::uint8_t{0xff}}) {
        CAPTURE(unsigned{fill});
        DeterministicRandom random(5 + fill);
        const auto member = crypto::sign_keypair();
        SecretBytes secret(kRecoverySecretBytes);
        std::fill(secret.data(), secret.data() + secret.size(), fill);
        std::array<unsigned, 256> first{}, second{}, sum{};
        std::vector<bool> pairs(65536);
        constexpr unsigned kSplits = 2000;
        for (unsigned i = 0; i < kSplits; ++i) {
            auto shares = split_recovery_secret(secret, member.public_key, 3, 5, random);
            REQUIRE(shares);
            const auto y1 = (*shares)[0].y.view();
            const auto y2 = (*shares)[1].y.view();
            for (std::size_t b = 0; b < kRecoverySecretBytes; ++b) {
                ++first[y1[b]];
                ++second[y2[b]];
                ++sum[y1[b] ^ y2[b]];
                pairs[(unsigned{y1[b]} << 8) | y2[b]] = true;
            }
            // Two shares alone are too few.
            std::vector<RecoveryShare> two;
            two.push_back(copy_share((*shares)[0]));
            two.push_back(copy_share((*shares)[1]));
            if (i < 20)
                CHECK(code_of(combine_recovery_shares(two)) ==
                      make_error_code(RecoveryErrc::too_few_shares));
        }
        const unsigned total = kSplits * kRecoverySecretBytes;
        CHECK(chi_square(first, total) < 360);
        CHECK(chi_square(second, total) < 360);
        CHECK(chi_square(sum, total) < 360);
        const auto distinct = std::count(pairs.begin(), pairs.end(), true);
        CHECK(distinct > 39000);
        CHECK(distinct < 42500);
        // Every byte value shows up.
        CHECK(std::count(first.begin(), first.end(), 0u) == 0);
    }
}

TEST_CASE("recovery: a share sealed to its holder opens only with the holder's key") {
    DeterministicRandom random(6);
    const auto member = crypto::sign_keypair();
    const auto other = crypto::sign_keypair();
    const auto holder = crypto::box_keypair();
    const auto stranger = crypto::box_keypair();
    const auto secret = new_recovery_secret(random);
    auto shares = split_recovery_secret(secret, member.public_key, 2, 3, random);
    REQUIRE(shares);
    const auto offer = seal_share_for_holder((*shares)[0], holder.public_key, member.secret_key);
    CHECK(offer.size() == kRecoveryOfferBytes);
    auto opened = open_share_offer(holder, offer);
    REQUIRE(opened);
    CHECK(opened->number == 1);
    CHECK(crypto::equal_ct(opened->y.view(), (*shares)[0].y.view()));
    auto wrong = open_share_offer(stranger, offer);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == make_error_code(RecoveryErrc::not_for_us));
    // Signed by someone else than the member the share names: refused.
    const auto forged = seal_share_for_holder((*shares)[0], holder.public_key, other.secret_key);
    auto refused = open_share_offer(holder, forged);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == make_error_code(RecoveryErrc::malformed));
    // Sealed and signed for another holder, then re-sealed to this one: the signature names the
    // other holder's key.
    {
        const auto plain_for_stranger =
            seal_share_for_holder((*shares)[0], stranger.public_key, member.secret_key);
        auto inner = crypto::box_seal_open(stranger, plain_for_stranger);
        REQUIRE(inner);
        auto resealed = crypto::box_seal(holder.public_key, inner->view());
        auto r = open_share_offer(holder, resealed);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == make_error_code(RecoveryErrc::malformed));
    }
    for (std::size_t i = 0; i < offer.size(); i += 7) {
        auto bad = offer;
        bad[i] ^= 0x40;
        CHECK_FALSE(open_share_offer(holder, bad));
    }
    for (std::size_t n : {std::size_t{0}, std::size_t{47}, kRecoveryOfferBytes - 1,
                          kRecoveryOfferBytes + 1, std::size_t{4096}})
        CHECK(open_share_offer(holder, random.bytes(n)).error().code ==
              make_error_code(RecoveryErrc::malformed));
}

TEST_CASE("recovery: the comparison code is the same on both sides and changes with the request") {
    DeterministicRandom random(7);
    const auto member = crypto::sign_keypair();
    auto req = make_recovery_request(member.public_key, 1'700'000'000'000, random);
    const auto text = request_text(req.request);
    CHECK(text.starts_with(kRecoveryRequestPrefix));
    // The holder reads the request from text (wrapped by a messenger), the member's device
    // keeps its own: both show the same code for the holder's number.
    auto received = parse_request_text(text.substr(0, 40) + "\n  " + text.substr(40));
    REQUIRE(received);
    const auto number = new_holder_number(random);
    CHECK(number < kRecoveryCodeRange);
    const auto code = comparison_code(req.request, number);
    CHECK(code.size() == 6);
    CHECK(std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }));
    CHECK(comparison_code(*received, number) == code);
    // Another request key, nonce, member, time or holder number: another code (checked over
    // several numbers, since two codes of six digits collide once in a million).
    unsigned differ_key = 0, differ_nonce = 0, differ_number = 0, differ_member = 0;
    for (std::uint32_t n = 0; n < 20; ++n) {
        const auto c = comparison_code(req.request, n);
        auto other_key = req.request;
        other_key.request_key[0] ^= 1;
        auto other_nonce = req.request;
        other_nonce.nonce[15] ^= 1;
        auto other_member = req.request;
        other_member.member_key[3] ^= 1;
        differ_key += comparison_code(other_key, n) != c;
        differ_nonce += comparison_code(other_nonce, n) != c;
        differ_member += comparison_code(other_member, n) != c;
        differ_number += comparison_code(req.request, n + 1) != c;
    }
    CHECK(differ_key == 20);
    CHECK(differ_nonce == 20);
    CHECK(differ_member == 20);
    CHECK(differ_number == 20);
    // The holder's number: six digits, about uniform.
    std::array<unsigned, 10> first_digit{};
    for (int i = 0; i < 10000; ++i) ++first_digit[new_holder_number(random) / 100000];
    for (auto c : first_digit) CHECK((c > 850 && c < 1150));
}

TEST_CASE("recovery: two of three holders approve a request after panic and the secret returns") {
    DeterministicRandom random(8);
    const auto member = crypto::sign_keypair();
    const auto secret = new_recovery_secret(random);
    const auto kit_key = recovery_kit_key(secret);
    auto shares = split_recovery_secret(secret, member.public_key, 2, 3, random);
    REQUIRE(shares);
    const SplitId split_id = (*shares)[0].split_id;
    const Bytes kit = to_bytes("identity key and groups");
    auto sealed_kit = seal_recovery_kit(kit_key, split_id, member.public_key, 1, kit, random);
    REQUIRE(sealed_kit);
    // Each holder keeps its share (opened from the offer) and the sealed kit.
    std::vector<crypto::BoxKeyPair> holders;
    std::vector<RecoveryShare> held;
    for (int i = 0; i < 3; ++i) {
        holders.push_back(crypto::box_keypair());
        auto opened = open_share_offer(
            holders.back(),
            seal_share_for_holder((*shares)[i], holders.back().public_key, member.secret_key));
        REQUIRE(opened);
        held.push_back(std::move(*opened));
    }
    // The only device is gone; the new one knows the member key (from a holder, or the card).
    auto request = make_recovery_request(member.public_key, 5, random);
    auto at_holder = parse_request_text(request_text(request.request));
    REQUIRE(at_holder);
    std::vector<RecoveryShare> got;
    for (int i : {0, 2}) {
        const auto number = new_holder_number(random);
        REQUIRE(comparison_code(*at_holder, number) == comparison_code(request.request, number));
        auto approval = approve_request(*at_holder, held[i]);
        REQUIRE(approval);
        CHECK(approval->size() == kRecoveryApprovalBytes);
        auto share = open_approval(request, *approval);
        REQUIRE(share);
        got.push_back(std::move(*share));
        // With one approval only, recovery fails and says why.
        if (got.size() == 1) {
            auto one = combine_recovery_shares(got);
            REQUIRE_FALSE(one);
            CHECK(one.error().code == make_error_code(RecoveryErrc::too_few_shares));
        }
    }
    auto back = combine_recovery_shares(got);
    REQUIRE(back);
    CHECK(equal(*back, secret));
    auto opened_kit =
        open_recovery_kit(recovery_kit_key(*back), split_id, member.public_key, 1, *sealed_kit);
    REQUIRE(opened_kit);
    CHECK(Bytes(opened_kit->view().begin(), opened_kit->view().end()) == kit);
    // The kit is bound to its split, member and version.
    CHECK_FALSE(open_recovery_kit(kit_key, split_id, member.public_key, 2, *sealed_kit));
    SplitId other_split = split_id;
    other_split[0] ^= 1;
    CHECK_FALSE(open_recovery_kit(kit_key, other_split, member.public_key, 1, *sealed_kit));
    auto flipped = *sealed_kit;
    flipped[30] ^= 1;
    CHECK_FALSE(open_recovery_kit(kit_key, split_id, member.public_key, 1, flipped));
}

TEST_CASE("recovery: an approval is bound to its request and its member") {
    DeterministicRandom random(9);
    const auto member = crypto::sign_keypair();
    const auto someone = crypto::sign_keypair();
    const auto secret = new_recovery_secret(random);
    auto shares = split_recovery_secret(secret, member.public_key, 2, 3, random);
    REQUIRE(shares);
    auto mine = make_recovery_request(member.public_key, 1, random);
    auto thief = make_recovery_request(member.public_key, 1, random);
    auto approval = approve_request(mine.request, (*shares)[0]);
    REQUIRE(approval);
    // Another request (another key) cannot open it.
    auto r = open_approval(thief, *approval);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == make_error_code(RecoveryErrc::not_for_us));
    // A request that names another member gets no share of this member.
    auto other = make_recovery_request(someone.public_key, 1, random);
    auto refused = approve_request(other.request, (*shares)[0]);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == make_error_code(RecoveryErrc::wrong_member));
    // An approval sealed to this request's key but naming another request is refused.
    {
        auto wrong_request = mine.request;
        wrong_request.nonce[0] ^= 1;
        auto misdirected = approve_request(wrong_request, (*shares)[0]);
        REQUIRE(misdirected);
        auto opened = open_approval(mine, *misdirected);
        REQUIRE_FALSE(opened);
        CHECK(opened.error().code == make_error_code(RecoveryErrc::wrong_member));
    }
    for (std::size_t n : {std::size_t{0}, kRecoveryApprovalBytes - 1, kRecoveryApprovalBytes + 1})
        CHECK(open_approval(mine, random.bytes(n)).error().code ==
              make_error_code(RecoveryErrc::malformed));
    CHECK(open_approval(mine, random.bytes(kRecoveryApprovalBytes)).error().code ==
          make_error_code(RecoveryErrc::not_for_us));
}

TEST_CASE("recovery: parsers are bounded and refuse junk") {
    DeterministicRandom random(10);
    for (std::size_t n = 0; n < 300; ++n) {
        auto junk = random.bytes(n);
        auto share = parse_share(junk);
        if (n != kRecoveryShareBytes) CHECK_FALSE(share);
        auto request = parse_request(junk);
        if (n != kRecoveryRequestBytes) CHECK_FALSE(request);
    }
    // A share with every field at a bound.
    const auto member = crypto::sign_keypair();
    const auto secret = new_recovery_secret(random);
    auto shares = split_recovery_secret(secret, member.public_key, 2, 3, random);
    REQUIRE(shares);
    auto enc = encode_share((*shares)[0]);
    for (auto [offset, value] : {std::pair{0u, 2u},  // version
                                 {17u, 1u},          // threshold 1
                                 {17u, 4u},          // threshold above holders
                                 {18u, 17u},         // 17 holders
                                 {19u, 0u},          // number 0
                                 {19u, 4u}}) {       // number above holders
        auto bad = enc.clone();
        bad.data()[offset] = static_cast<std::uint8_t>(value);
        CAPTURE(offset);
        CHECK(parse_share(bad.view()).error().code == make_error_code(RecoveryErrc::malformed));
    }
    auto req = make_recovery_request(member.public_key, 1, random);
    auto good = encode_request(req.request);
    REQUIRE(parse_request(good));
    auto bad_version = good;
    bad_version[0] = 2;
    CHECK_FALSE(parse_request(bad_version));
    auto zero_key = good;
    std::fill(zero_key.begin() + 33, zero_key.begin() + 65, 0);
    CHECK_FALSE(parse_request(zero_key));
    CHECK_FALSE(parse_request_text(""));
    CHECK_FALSE(parse_request_text("kolokol-card:AAAA"));
    CHECK_FALSE(parse_request_text("kolokol-recovery-request:!!!!"));
    CHECK_FALSE(parse_request_text(std::string(kRecoveryRequestPrefix) + std::string(2000, 'A')));
    CHECK_FALSE(parse_request_text(std::string(100000, ' ')));
    // A kit past the bound is refused before any allocation for it.
    const auto kit_key = recovery_kit_key(secret);
    CHECK_FALSE(open_recovery_kit(kit_key, SplitId{}, member.public_key, 1, Bytes(39)));
    CHECK_FALSE(seal_recovery_kit(kit_key, SplitId{}, member.public_key, 1,
                                  Bytes(kRecoveryMaxKitBytes + 1), random));
}
