#pragma once
// Every signature, hash and KDF domain of the core library, in one place: a domain names what
// the signed or hashed bytes are, so that bytes signed as one thing never verify as another.
// Changing a string here makes every stored signature under it fail: add a new version instead.
//
// Other modules keep their own beside their one use (storage: "kolokol/store/secret/v1";
// transport: mailbox opening, reconciliation fingerprints, LAN beacons; bundle: manifests and
// custody). tests/unit/core/test_domains.cpp checks that these and the public ones of bundle and
// transport are distinct and none is a prefix of another.

#include <string_view>

namespace kolokol::core {

// A record's author signature over its exact body bytes (records.cpp).
inline constexpr std::string_view kRecordDomain = "kolokol/record/v1";
// A card's self-signature (identity.cpp).
inline constexpr std::string_view kCardDomain = "kolokol/card/v1";
// The hash both sides compute for a safety number (identity.cpp).
inline constexpr std::string_view kSafetyNumberDomain = "kolokol/safety-number/v1";
// A group's genesis signature, and its id (BLAKE2b over the signed genesis): a backed-up genesis
// (node_backup.cpp) is checked exactly as one in a welcome token (node_welcome.cpp).
inline constexpr std::string_view kGenesisDomain = "kolokol/genesis/v1";
inline constexpr std::string_view kGroupDomain = "kolokol/group";
// A welcome token's signature by its inviter (node_welcome.cpp).
inline constexpr std::string_view kWelcomeDomain = "kolokol/welcome/v1";
// The hash of an attachment's chunk ids, named in its manifest (node_attachments.cpp).
inline constexpr std::string_view kChunksHashDomain = "kolokol/attachment-chunks/v1";
// The checksum of one part of a sync file cut into parts (sync_parts.cpp).
inline constexpr std::string_view kSyncPartDomain = "kolokol/sync-part/v1";
// The digest of a group's valid control records that members compare (node_audit.cpp, §5.12).
inline constexpr std::string_view kControlDigestDomain = "kolokol/control-digest/v1";
// The hash of the key a rotation's grant is sealed to, named in the grant (§5.13).
inline constexpr std::string_view kGrantBoxKeyDomain = "kolokol/grant-box-key/v1";
// A member's view of a group said in a direct session: its signature, and the associated data
// of the sealed token (node_views.cpp, §5.12).
inline constexpr std::string_view kViewDomain = "kolokol/view/v1";
// A device certificate: the identity's signature, and the device's own consent to it
// (devices.cpp, §4.4).
inline constexpr std::string_view kDeviceCertDomain = "kolokol/device-cert/v1";
inline constexpr std::string_view kDeviceAcceptDomain = "kolokol/device-accept/v1";
// The identity's revocation of one of its devices (devices.cpp, §4.6).
inline constexpr std::string_view kDeviceRevocationDomain = "kolokol/device-revocation/v1";
// Linking a device (devices.cpp, §4.5): the new device's commitment to its nonce, and the hash
// the comparison code both screens show is cut from.
inline constexpr std::string_view kLinkCommitDomain = "kolokol/device-link-commit/v1";
inline constexpr std::string_view kLinkCodeDomain = "kolokol/device-link-code/v1";

// Social recovery (recovery.cpp, §16.1): the commitment to a split's secret that every share
// carries, the member's signature on a share sent to its holder, a request's id, the code a
// holder and the member compare, and the associated data of the recovery kit.
inline constexpr std::string_view kRecoveryCommitmentDomain = "kolokol/recovery/commitment/v1";
inline constexpr std::string_view kRecoveryOfferDomain = "kolokol/recovery/offer/v1";
inline constexpr std::string_view kRecoveryRequestDomain = "kolokol/recovery/request/v1";
inline constexpr std::string_view kRecoveryCodeDomain = "kolokol/recovery/code/v1";
inline constexpr std::string_view kRecoveryKitDomain = "kolokol/recovery/kit/v1";

}  // namespace kolokol::core
