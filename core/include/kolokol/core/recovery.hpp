#pragma once
// Social recovery, the cryptographic core (docs/design.md §16.1): a member splits a random
// 32-byte recovery secret among holders, k of n; each share travels sealed to its holder and
// signed by the member; after losing every device the member's new device makes a request with
// a fresh key, each holder approves it after comparing a six-digit code with the member, and
// the approval seals the holder's share to the request's key. k approvals give the secret back,
// checked against a commitment every share carries; the secret's kit key opens the recovery
// kit (the identity key and the groups), which the holders keep beside their shares.
//
// Nothing here touches the store or a carrier: the commands that use it are not built yet.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/crypto/x25519.hpp"

namespace kolokol::core {

enum class RecoveryErrc {
    bad_parameters = 1,  // k or n out of bounds, a secret of the wrong size
    malformed,           // a share, request, approval or kit that does not parse
    too_few_shares,      // fewer shares than the split's threshold
    duplicate_share,     // two shares with the same number
    mixed_splits,        // shares of different splits
    damaged,             // shares that disagree, or do not combine to the committed secret
    wrong_member,        // a share or approval for another member or another request
    not_for_us,          // a sealed share or approval that does not open with our key
};
KOLOKOL_ERROR_ENUM(RecoveryErrc)

inline constexpr unsigned kRecoveryMinThreshold = 2;
inline constexpr unsigned kRecoveryMaxHolders = 16;
inline constexpr std::size_t kRecoverySecretBytes = 32;
inline constexpr std::size_t kRecoverySplitIdBytes = 16;
inline constexpr std::size_t kRecoveryShareBytes = 116;
inline constexpr std::size_t kRecoveryOfferBytes = crypto::kSealOverhead + kRecoveryShareBytes + 64;
inline constexpr std::size_t kRecoveryRequestBytes = 89;
inline constexpr std::size_t kRecoveryApprovalBytes =
    crypto::kSealOverhead + 32 + kRecoveryShareBytes;
inline constexpr std::size_t kRecoveryMaxKitBytes = 4 * 1024 * 1024;
inline constexpr std::string_view kRecoveryRequestPrefix = "kolokol-recovery-request:";
// The holder's number and the comparison code: six decimal digits each.
inline constexpr std::uint32_t kRecoveryCodeRange = 1'000'000;

using SplitId = ByteArray<kRecoverySplitIdBytes>;

// One share as a holder keeps it. Encoded (kRecoveryShareBytes, in locked memory):
//   u8 version (1) ‖ split id (16) ‖ u8 threshold ‖ u8 holders ‖ u8 number (1..holders) ‖
//   member's identity key (32) ‖ commitment (32) ‖ y (32)
struct RecoveryShare {
    SplitId split_id{};
    std::uint8_t threshold = 0;
    std::uint8_t holders = 0;
    std::uint8_t number = 0;
    ByteArray<32> member_key{};
    ByteArray<32> commitment{};
    crypto::SecretBytes y;  // 32 bytes
};

crypto::SecretBytes encode_share(const RecoveryShare& share);
Result<RecoveryShare> parse_share(ByteView encoded);

// The commitment every share of a split carries: BLAKE2b-256 under kolokol/recovery/commitment/v1
// over split id ‖ u8 threshold ‖ u8 holders ‖ member key ‖ secret.
ByteArray<32> recovery_commitment(const SplitId& split_id, std::uint8_t threshold,
                                  std::uint8_t holders, ByteView member_key, ByteView secret);

// A fresh random recovery secret (32 bytes).
crypto::SecretBytes new_recovery_secret(crypto::Random& random);

// Splits `secret` (32 bytes) for `holders` holders, any `threshold` of which recover it:
// 2 <= threshold <= holders <= 16. Shares are numbered 1..holders under a fresh split id.
Result<std::vector<RecoveryShare>> split_recovery_secret(const crypto::SecretBytes& secret,
                                                         ByteView member_key, unsigned threshold,
                                                         unsigned holders, crypto::Random& random);

// The secret from shares of one split: refused with too_few_shares below the threshold,
// duplicate_share for a number given twice, mixed_splits for shares of different splits, and
// damaged when the shares disagree about their split or no `threshold` of them combine to the
// committed secret (with more than the threshold, every subset is tried, so one bad share among
// enough good ones is passed over).
Result<crypto::SecretBytes> combine_recovery_shares(std::span<const RecoveryShare> shares);

// A share on its way to its holder: box_seal(holder's box key, share ‖ signature), the
// signature by the member's identity key under kolokol/recovery/offer/v1 over the holder's box
// key ‖ share. kRecoveryOfferBytes long.
Bytes seal_share_for_holder(const RecoveryShare& share, ByteView holder_box_key,
                            const crypto::SecretBytes& member_sign_secret);
// Opens and checks an offer: not_for_us when it does not open, malformed when the share does
// not parse or the signature by the share's member does not verify.
Result<RecoveryShare> open_share_offer(const crypto::BoxKeyPair& holder, ByteView offer);

// The member's request, from the new device. Encoded (kRecoveryRequestBytes):
//   u8 version (1) ‖ member's identity key (32) ‖ request box key (32) ‖ nonce (16) ‖
//   u64be created_ms
struct RecoveryRequest {
    ByteArray<32> member_key{};
    crypto::BoxPublicKey request_key{};
    ByteArray<16> nonce{};
    std::uint64_t created_ms = 0;
};
struct RecoveryRequestSecret {
    RecoveryRequest request;
    crypto::BoxKeyPair key;  // the request key's secret: stays on the new device
};

RecoveryRequestSecret make_recovery_request(ByteView member_key, std::uint64_t now_ms,
                                            crypto::Random& random);
Bytes encode_request(const RecoveryRequest& request);
Result<RecoveryRequest> parse_request(ByteView encoded);
// Text form: kRecoveryRequestPrefix + base64url; whitespace is ignored, at most 1 KiB of text.
std::string request_text(const RecoveryRequest& request);
Result<RecoveryRequest> parse_request_text(std::string_view text);
// BLAKE2b-256 under kolokol/recovery/request/v1 over the encoded request.
ByteArray<32> request_id(const RecoveryRequest& request);

// The holder's number: six random digits the holder's device makes once a request has arrived,
// and the holder reads out to the member.
std::uint32_t new_holder_number(crypto::Random& random);
// The comparison code both devices show: six digits from BLAKE2b-256 under
// kolokol/recovery/code/v1 over the encoded request ‖ u32be holder number.
std::string comparison_code(const RecoveryRequest& request, std::uint32_t holder_number);

// The holder's approval: box_seal(request key, request id ‖ share). wrong_member when the share
// belongs to another member than the request names.
Result<Bytes> approve_request(const RecoveryRequest& request, const RecoveryShare& share);
// Opens an approval on the new device: not_for_us when it does not open with the request key,
// wrong_member when it answers another request or carries another member's share.
Result<RecoveryShare> open_approval(const RecoveryRequestSecret& request, ByteView approval);

// The kit key: crypto_kdf under "kkrecov1", subkey 1, of the recovery secret. The member's
// device keeps it (never the secret) to seal kit updates.
crypto::SecretBytes recovery_kit_key(const crypto::SecretBytes& secret);
// The kit: nonce (24) ‖ XChaCha20-Poly1305 under the kit key, associated data
// kolokol/recovery/kit/v1 ‖ 0 ‖ split id ‖ member key ‖ u32be version. At most
// kRecoveryMaxKitBytes of plaintext.
Result<Bytes> seal_recovery_kit(const crypto::SecretBytes& kit_key, const SplitId& split_id,
                                ByteView member_key, std::uint32_t version, ByteView kit,
                                crypto::Random& random);
Result<crypto::SecretBytes> open_recovery_kit(const crypto::SecretBytes& kit_key,
                                              const SplitId& split_id, ByteView member_key,
                                              std::uint32_t version, ByteView sealed);

}  // namespace kolokol::core

KOLOKOL_ERROR_ENUM_TRAITS(kolokol::core, RecoveryErrc)
