#pragma once
// Devices of one identity (DESIGN §4.4–4.7): the identity key certifies each device's own
// signing and box keys (a device certificate, which the device co-signs), revokes a device with a
// signed statement, and two devices being linked compare a short code.
//
// Built so far: the certificate, the revocation statement and the comparison code, with their
// checks. Not built yet: device keys signing records, the group rules, linking and migration.

#include <optional>
#include <string>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"

namespace kolokol::core {

// A signed device certificate or revocation longer than this is refused before it is parsed.
inline constexpr std::size_t kMaxDeviceCertBytes = 1024;
inline constexpr std::size_t kDeviceIdBytes = 16;
inline constexpr std::size_t kMaxDeviceLabelBytes = 64;
inline constexpr std::size_t kLinkNonceBytes = 16;

using DeviceId = ByteArray<kDeviceIdBytes>;
using LinkNonce = ByteArray<kLinkNonceBytes>;

// What a device certificate says. The device chooses everything but the identity key.
struct DeviceCertFields {
    crypto::SignPublicKey identity_key{};
    crypto::SignPublicKey device_sign_key{};
    crypto::BoxPublicKey device_box_key{};
    DeviceId device_id{};
    std::string label;
    std::int64_t created_ms = 0;
};

struct DeviceCert {
    DeviceCertFields fields;
    Bytes signed_bytes;  // the SignedDeviceCert encoding it was read from or made as
};

// The exact DeviceCert bytes for these fields (checked as verify checks them).
Result<Bytes> device_cert_body(const DeviceCertFields& fields);
// The device's consent to a certificate body: its signature under kolokol/device-accept/v1.
// Refused unless the body names this device's signing key.
Result<crypto::Signature> accept_device_cert(const crypto::SignKeyPair& device, ByteView body);
// The identity signs a body the device accepted: every field is checked, the body must name
// this identity, and the device's signature must verify, before the identity signs.
Result<DeviceCert> issue_device_cert(const crypto::SignKeyPair& identity, ByteView body,
                                     ByteView device_signature);
// Parses and checks a SignedDeviceCert: at most 1 KiB (before parsing), version 1, each key and
// the device id of its size, a device key other than the identity key, a clean label, a time not
// below zero, signatures of 64 bytes, the identity's signature, the device's signature and —
// when `identity` is given — that it is this identity's. Each failure has its own message.
Result<DeviceCert> verify_device_cert(ByteView signed_cert,
                                      const std::optional<crypto::SignPublicKey>& identity = {});

struct DeviceRevocation {
    crypto::SignPublicKey identity_key{};
    crypto::SignPublicKey device_sign_key{};
    std::int64_t revoked_ms = 0;
    bool compromised = false;
    std::int64_t compromised_at_ms = 0;  // with compromised; 0 = not known
    Bytes signed_bytes;
};

// The identity's statement that `device` is revoked (for every group).
Result<DeviceRevocation> issue_device_revocation(const crypto::SignKeyPair& identity,
                                                 const crypto::SignPublicKey& device,
                                                 std::int64_t revoked_ms, bool compromised,
                                                 std::int64_t compromised_at_ms);
// Parses and checks a SignedDeviceRevocation, bounded and field by field as a certificate.
Result<DeviceRevocation> verify_device_revocation(
    ByteView signed_revocation, const std::optional<crypto::SignPublicKey>& identity = {});

// Linking (§4.5). The new device commits to its nonce in its link request, before it sees the
// approving device's nonce, so that nobody carrying the messages can search for keys that give
// the same code on both screens.
crypto::Hash32 link_commitment(const crypto::SignPublicKey& new_device_sign,
                               const crypto::BoxPublicKey& new_device_box,
                               const LinkNonce& new_device_nonce);
// The 6-digit code both devices show ("123 456"): BLAKE2b-512 under kolokol/device-link-code/v1
// over the identity key, the approving device's signing key, the new device's signing and box
// keys and both nonces; its first 8 bytes (big-endian) modulo 10^6.
std::string link_code(const crypto::SignPublicKey& identity_key,
                      const crypto::SignPublicKey& approver_device_sign,
                      const crypto::SignPublicKey& new_device_sign,
                      const crypto::BoxPublicKey& new_device_box, const LinkNonce& approver_nonce,
                      const LinkNonce& new_device_nonce);

}  // namespace kolokol::core
