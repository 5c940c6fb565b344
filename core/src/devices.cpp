#include "kolokol/core/devices.hpp"

#include "domains.hpp"
#include "identity.pb.h"
#include "kolokol/core/errors.hpp"
#include "kolokol/core/identity.hpp"

namespace kolokol::core {

namespace {

// The fields of a DeviceCert, each checked in turn; the first failure decides.
Result<DeviceCertFields> check_cert_body(const pb::DeviceCert& c) {
    if (c.version() != 1) return fail(CoreErrc::bad_input, "unknown device certificate version");
    if (c.identity_key().size() != crypto::kSignPublicBytes)
        return fail(CoreErrc::bad_input,
                    "the device certificate's identity key has the wrong size");
    if (c.device_sign_key().size() != crypto::kSignPublicBytes)
        return fail(CoreErrc::bad_input, "the device certificate's device key has the wrong size");
    if (c.device_box_key().size() != 32)
        return fail(CoreErrc::bad_input, "the device certificate's box key has the wrong size");
    if (c.device_id().size() != kDeviceIdBytes)
        return fail(CoreErrc::bad_input, "the device certificate's device id has the wrong size");
    if (c.identity_key() == c.device_sign_key())
        return fail(CoreErrc::bad_input, "a device certificate cannot certify the identity key");
    if (c.label().empty() || c.label().size() > kMaxDeviceLabelBytes || !is_clean_utf8(c.label()))
        return fail(CoreErrc::bad_input, "a device label has 1 to 64 bytes of clean UTF-8");
    if (c.created_ms() < 0)
        return fail(CoreErrc::bad_input, "the device certificate's time is negative");
    DeviceCertFields f;
    f.identity_key = to_array<32>(as_bytes(c.identity_key()));
    f.device_sign_key = to_array<32>(as_bytes(c.device_sign_key()));
    f.device_box_key = to_array<32>(as_bytes(c.device_box_key()));
    f.device_id = to_array<kDeviceIdBytes>(as_bytes(c.device_id()));
    f.label = c.label();
    f.created_ms = c.created_ms();
    return f;
}

Result<DeviceCertFields> parse_cert_body(ByteView body) {
    if (body.size() > kMaxDeviceCertBytes)
        return fail(CoreErrc::bad_input, "the device certificate is too long");
    pb::DeviceCert c;
    if (!c.ParseFromArray(body.data(), static_cast<int>(body.size())))
        return fail(CoreErrc::bad_input, "the device certificate does not parse");
    return check_cert_body(c);
}

bool same_identity(const crypto::SignPublicKey& a, const crypto::SignPublicKey& b) {
    return a == b;  // public keys: no secret to protect
}

Result<DeviceRevocation> check_revocation(const pb::DeviceRevocation& r) {
    if (r.version() != 1) return fail(CoreErrc::bad_input, "unknown device revocation version");
    if (r.identity_key().size() != crypto::kSignPublicBytes)
        return fail(CoreErrc::bad_input, "the device revocation's identity key has the wrong size");
    if (r.device_sign_key().size() != crypto::kSignPublicBytes)
        return fail(CoreErrc::bad_input, "the device revocation's device key has the wrong size");
    if (r.identity_key() == r.device_sign_key())
        return fail(CoreErrc::bad_input, "a device revocation cannot revoke the identity key");
    if (r.revoked_ms() < 0)
        return fail(CoreErrc::bad_input, "the device revocation's time is negative");
    if (r.compromised_at_ms() < 0 || (!r.compromised() && r.compromised_at_ms() != 0))
        return fail(CoreErrc::bad_input, "the device revocation's time of seizure is not valid");
    DeviceRevocation out;
    out.identity_key = to_array<32>(as_bytes(r.identity_key()));
    out.device_sign_key = to_array<32>(as_bytes(r.device_sign_key()));
    out.revoked_ms = r.revoked_ms();
    out.compromised = r.compromised();
    out.compromised_at_ms = r.compromised_at_ms();
    return out;
}

}  // namespace

Result<Bytes> device_cert_body(const DeviceCertFields& fields) {
    pb::DeviceCert c;
    c.set_version(1);
    c.set_identity_key(to_string(fields.identity_key));
    c.set_device_sign_key(to_string(fields.device_sign_key));
    c.set_device_box_key(to_string(fields.device_box_key));
    c.set_device_id(to_string(fields.device_id));
    c.set_label(fields.label);
    c.set_created_ms(fields.created_ms);
    if (auto ok = check_cert_body(c); !ok) return std::unexpected(ok.error());
    return to_bytes(c.SerializeAsString());
}

Result<crypto::Signature> accept_device_cert(const crypto::SignKeyPair& device, ByteView body) {
    auto fields = parse_cert_body(body);
    if (!fields) return std::unexpected(fields.error());
    if (fields->device_sign_key != device.public_key)
        return fail(CoreErrc::bad_input, "the device certificate is for another device");
    return crypto::sign(device.secret_key, kDeviceAcceptDomain, body);
}

Result<DeviceCert> issue_device_cert(const crypto::SignKeyPair& identity, ByteView body,
                                     ByteView device_signature) {
    auto fields = parse_cert_body(body);
    if (!fields) return std::unexpected(fields.error());
    if (!same_identity(fields->identity_key, identity.public_key))
        return fail(CoreErrc::bad_input, "the device certificate is for another identity");
    if (device_signature.size() != crypto::kSignatureBytes ||
        !crypto::verify(fields->device_sign_key, kDeviceAcceptDomain, body, device_signature))
        return fail(CoreErrc::bad_input,
                    "the device's signature on its certificate does not verify");
    auto sig = crypto::sign(identity.secret_key, kDeviceCertDomain, body);
    pb::SignedDeviceCert sc;
    sc.set_cert(to_string(body));
    sc.set_identity_signature(to_string(sig));
    sc.set_device_signature(to_string(device_signature));
    DeviceCert out;
    out.fields = std::move(*fields);
    out.signed_bytes = to_bytes(sc.SerializeAsString());
    if (out.signed_bytes.size() > kMaxDeviceCertBytes)
        return fail(CoreErrc::bad_input, "the device certificate is too long");
    return out;
}

Result<DeviceCert> verify_device_cert(ByteView signed_cert,
                                      const std::optional<crypto::SignPublicKey>& identity) {
    if (signed_cert.size() > kMaxDeviceCertBytes)
        return fail(CoreErrc::bad_input, "the device certificate is too long");
    pb::SignedDeviceCert sc;
    if (!sc.ParseFromArray(signed_cert.data(), static_cast<int>(signed_cert.size())))
        return fail(CoreErrc::bad_input, "the device certificate does not parse");
    auto fields = parse_cert_body(as_bytes(sc.cert()));
    if (!fields) return std::unexpected(fields.error());
    if (sc.identity_signature().size() != crypto::kSignatureBytes ||
        sc.device_signature().size() != crypto::kSignatureBytes)
        return fail(CoreErrc::bad_input, "the device certificate's signatures have the wrong size");
    if (identity && !same_identity(fields->identity_key, *identity))
        return fail(CoreErrc::bad_input, "the device certificate is for another identity");
    if (!crypto::verify(fields->identity_key, kDeviceCertDomain, as_bytes(sc.cert()),
                        as_bytes(sc.identity_signature())))
        return fail(CoreErrc::bad_input,
                    "the identity's signature on the device certificate does not verify");
    if (!crypto::verify(fields->device_sign_key, kDeviceAcceptDomain, as_bytes(sc.cert()),
                        as_bytes(sc.device_signature())))
        return fail(CoreErrc::bad_input,
                    "the device's signature on its certificate does not verify");
    DeviceCert out;
    out.fields = std::move(*fields);
    out.signed_bytes = Bytes(signed_cert.begin(), signed_cert.end());
    return out;
}

Result<DeviceRevocation> issue_device_revocation(const crypto::SignKeyPair& identity,
                                                 const crypto::SignPublicKey& device,
                                                 std::int64_t revoked_ms, bool compromised,
                                                 std::int64_t compromised_at_ms) {
    pb::DeviceRevocation r;
    r.set_version(1);
    r.set_identity_key(to_string(identity.public_key));
    r.set_device_sign_key(to_string(device));
    r.set_revoked_ms(revoked_ms);
    r.set_compromised(compromised);
    r.set_compromised_at_ms(compromised_at_ms);
    auto out = check_revocation(r);
    if (!out) return out;
    auto body = r.SerializeAsString();
    auto sig = crypto::sign(identity.secret_key, kDeviceRevocationDomain, as_bytes(body));
    pb::SignedDeviceRevocation sr;
    sr.set_revocation(body);
    sr.set_signature(to_string(sig));
    out->signed_bytes = to_bytes(sr.SerializeAsString());
    return out;
}

Result<DeviceRevocation> verify_device_revocation(
    ByteView signed_revocation, const std::optional<crypto::SignPublicKey>& identity) {
    if (signed_revocation.size() > kMaxDeviceCertBytes)
        return fail(CoreErrc::bad_input, "the device revocation is too long");
    pb::SignedDeviceRevocation sr;
    if (!sr.ParseFromArray(signed_revocation.data(), static_cast<int>(signed_revocation.size())))
        return fail(CoreErrc::bad_input, "the device revocation does not parse");
    pb::DeviceRevocation r;
    if (!r.ParseFromString(sr.revocation()))
        return fail(CoreErrc::bad_input, "the device revocation does not parse");
    auto out = check_revocation(r);
    if (!out) return out;
    if (sr.signature().size() != crypto::kSignatureBytes)
        return fail(CoreErrc::bad_input, "the device revocation's signature has the wrong size");
    if (identity && !same_identity(out->identity_key, *identity))
        return fail(CoreErrc::bad_input, "the device revocation is by another identity");
    if (!crypto::verify(out->identity_key, kDeviceRevocationDomain, as_bytes(sr.revocation()),
                        as_bytes(sr.signature())))
        return fail(CoreErrc::bad_input, "the device revocation's signature does not verify");
    out->signed_bytes = Bytes(signed_revocation.begin(), signed_revocation.end());
    return out;
}

crypto::Hash32 link_commitment(const crypto::SignPublicKey& new_device_sign,
                               const crypto::BoxPublicKey& new_device_box,
                               const LinkNonce& new_device_nonce) {
    Bytes input;
    append(input, new_device_sign);
    append(input, new_device_box);
    append(input, new_device_nonce);
    return crypto::blake2b_256(kLinkCommitDomain, input);
}

std::string link_code(const crypto::SignPublicKey& identity_key,
                      const crypto::SignPublicKey& approver_device_sign,
                      const crypto::SignPublicKey& new_device_sign,
                      const crypto::BoxPublicKey& new_device_box, const LinkNonce& approver_nonce,
                      const LinkNonce& new_device_nonce) {
    // Fixed-size fields in a fixed order, so no two inputs share an encoding.
    crypto::Blake2b h(64);
    h.update(kLinkCodeDomain);
    const std::uint8_t zero = 0;
    h.update(ByteView(&zero, 1));
    h.update(identity_key);
    h.update(approver_device_sign);
    h.update(new_device_sign);
    h.update(new_device_box);
    h.update(approver_nonce);
    h.update(new_device_nonce);
    auto digest = h.finish();
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < 8; ++k) v = (v << 8) | digest[k];
    auto digits = std::to_string(v % 1000000);
    digits = std::string(6 - digits.size(), '0') + digits;
    return digits.substr(0, 3) + " " + digits.substr(3);
}

}  // namespace kolokol::core
