#include <doctest/doctest.h>

#include <functional>
#include <ostream>
#include <set>
#include <string>

#include "domains.hpp"
#include "identity.pb.h"
#include "kolokol/core/devices.hpp"
#include "kolokol/core/errors.hpp"
#include "kolokol/crypto/random.hpp"

using namespace kolokol;
using namespace kolokol::core;

namespace {

struct Person {
    crypto::SignKeyPair identity = crypto::sign_keypair();
    crypto::SignKeyPair device = crypto::sign_keypair();
    crypto::BoxKeyPair device_box = crypto::box_keypair();
};

DeviceCertFields fields_of(const Person& p, std::string label = "laptop") {
    DeviceCertFields f;
    f.identity_key = p.identity.public_key;
    f.device_sign_key = p.device.public_key;
    f.device_box_key = p.device_box.public_key;
    for (std::size_t i = 0; i < f.device_id.size(); ++i)
        f.device_id[i] = static_cast<std::uint8_t>(i + 1);
    f.label = std::move(label);
    f.created_ms = 1'700'000'000'000;
    return f;
}

// The device accepts, the identity issues: the whole exchange of §4.5 without its carriers.
DeviceCert issue(const Person& p) {
    auto body = device_cert_body(fields_of(p));
    REQUIRE(body.has_value());
    auto accepted = accept_device_cert(p.device, *body);
    REQUIRE(accepted.has_value());
    auto cert = issue_device_cert(p.identity, *body, *accepted);
    REQUIRE(cert.has_value());
    return *cert;
}

// A SignedDeviceCert over `cert` bytes, signed by whichever keys are given (bypassing the
// checks of device_cert_body, to forge bad certificates with valid signatures).
Bytes sign_raw_cert(const pb::DeviceCert& cert, const crypto::SignKeyPair& identity,
                    const crypto::SignKeyPair& device) {
    auto body = cert.SerializeAsString();
    pb::SignedDeviceCert sc;
    sc.set_cert(body);
    sc.set_identity_signature(
        to_string(crypto::sign(identity.secret_key, kDeviceCertDomain, as_bytes(body))));
    sc.set_device_signature(
        to_string(crypto::sign(device.secret_key, kDeviceAcceptDomain, as_bytes(body))));
    return to_bytes(sc.SerializeAsString());
}

pb::DeviceCert pb_of(const DeviceCert& cert) {
    pb::SignedDeviceCert sc;
    REQUIRE(
        sc.ParseFromArray(cert.signed_bytes.data(), static_cast<int>(cert.signed_bytes.size())));
    pb::DeviceCert c;
    REQUIRE(c.ParseFromString(sc.cert()));
    return c;
}

std::string error_of(ByteView signed_cert,
                     const std::optional<crypto::SignPublicKey>& identity = {}) {
    auto r = verify_device_cert(signed_cert, identity);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == CoreErrc::bad_input);
    return r.error().message;
}

}  // namespace

TEST_CASE("a device certificate the device accepted and the identity issued verifies") {
    Person p;
    auto cert = issue(p);
    CHECK(cert.signed_bytes.size() <= kMaxDeviceCertBytes);
    auto back = verify_device_cert(cert.signed_bytes, p.identity.public_key);
    REQUIRE(back.has_value());
    CHECK(back->fields.identity_key == p.identity.public_key);
    CHECK(back->fields.device_sign_key == p.device.public_key);
    CHECK(back->fields.device_box_key == p.device_box.public_key);
    CHECK(back->fields.device_id == fields_of(p).device_id);
    CHECK(back->fields.label == "laptop");
    CHECK(back->fields.created_ms == 1'700'000'000'000);
    CHECK(back->signed_bytes == cert.signed_bytes);
    // Without an expected identity it verifies too, and names its identity.
    auto any = verify_device_cert(cert.signed_bytes);
    REQUIRE(any.has_value());
    CHECK(any->fields.identity_key == p.identity.public_key);
}

TEST_CASE("every field of a device certificate changed breaks its signatures") {
    Person p;
    auto cert = issue(p);
    pb::SignedDeviceCert signed_cert;
    REQUIRE(signed_cert.ParseFromArray(cert.signed_bytes.data(),
                                       static_cast<int>(cert.signed_bytes.size())));
    const auto original = pb_of(cert);
    auto other = crypto::sign_keypair();
    auto other_box = crypto::box_keypair();
    const std::vector<std::pair<const char*, std::function<void(pb::DeviceCert&)>>> changes = {
        {"identity key",
         [&](pb::DeviceCert& c) { c.set_identity_key(to_string(other.public_key)); }},
        {"device key",
         [&](pb::DeviceCert& c) { c.set_device_sign_key(to_string(other.public_key)); }},
        {"box key",
         [&](pb::DeviceCert& c) { c.set_device_box_key(to_string(other_box.public_key)); }},
        {"device id", [&](pb::DeviceCert& c) { c.set_device_id(std::string(16, 'x')); }},
        {"label", [&](pb::DeviceCert& c) { c.set_label("phone"); }},
        {"created", [&](pb::DeviceCert& c) { c.set_created_ms(c.created_ms() + 1); }},
    };
    for (const auto& [name, change] : changes) {
        CAPTURE(name);
        auto c = original;
        change(c);
        auto forged = signed_cert;
        forged.set_cert(c.SerializeAsString());  // the original signatures kept
        auto bytes = to_bytes(forged.SerializeAsString());
        auto message = error_of(bytes);
        CHECK(message.find("signature") != std::string::npos);
    }
    // The signatures themselves, one bit each.
    for (int which = 0; which < 2; ++which) {
        auto forged = signed_cert;
        auto sig = which == 0 ? forged.identity_signature() : forged.device_signature();
        sig[5] = static_cast<char>(sig[5] ^ 1);
        which == 0 ? forged.set_identity_signature(sig) : forged.set_device_signature(sig);
        auto message = error_of(to_bytes(forged.SerializeAsString()));
        CHECK(message == (which == 0
                              ? "the identity's signature on the device certificate does not verify"
                              : "the device's signature on its certificate does not verify"));
    }
    // And any byte of the whole encoding.
    for (std::size_t i = 0; i < cert.signed_bytes.size(); ++i) {
        auto bad = cert.signed_bytes;
        bad[i] ^= 0x04;
        CHECK_FALSE(verify_device_cert(bad).has_value());
    }
}

TEST_CASE("a device certificate signed by another identity fails") {
    Person p, mallory;
    // Mallory's identity signs a body naming Anna's identity: the identity signature is wrong.
    auto c = pb_of(issue(p));
    auto forged = sign_raw_cert(c, mallory.identity, p.device);
    CHECK(error_of(forged) == "the identity's signature on the device certificate does not verify");
    // A genuine certificate of Mallory's is not Anna's.
    auto hers = issue(mallory);
    CHECK(error_of(hers.signed_bytes, p.identity.public_key) ==
          "the device certificate is for another identity");
    // The identity cannot issue a body that names another identity.
    auto body = device_cert_body(fields_of(p));
    REQUIRE(body.has_value());
    auto accepted = accept_device_cert(p.device, *body);
    REQUIRE(accepted.has_value());
    auto issued = issue_device_cert(mallory.identity, *body, *accepted);
    REQUIRE_FALSE(issued.has_value());
    CHECK(issued.error().message == "the device certificate is for another identity");
}

TEST_CASE("an identity cannot claim a device that did not accept it") {
    Person p, victim;
    // Mallory's identity certifies the victim's device key without the victim's consent.
    auto f = fields_of(p);
    f.device_sign_key = victim.device.public_key;
    auto body = device_cert_body(f);
    REQUIRE(body.has_value());
    // The device refuses to accept a body for another device...
    auto wrong = accept_device_cert(p.device, *body);
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().message == "the device certificate is for another device");
    // ...and its consent cannot be replaced by another key's signature.
    auto not_the_device = crypto::sign(p.device.secret_key, kDeviceAcceptDomain, *body);
    auto issued = issue_device_cert(p.identity, *body, not_the_device);
    REQUIRE_FALSE(issued.has_value());
    CHECK(issued.error().message == "the device's signature on its certificate does not verify");
    pb::DeviceCert c;
    REQUIRE(c.ParseFromArray(body->data(), static_cast<int>(body->size())));
    CHECK(error_of(sign_raw_cert(c, p.identity, p.device)) ==
          "the device's signature on its certificate does not verify");
    // The consent is under its own domain: a record-style signature over the body is not it.
    pb::SignedDeviceCert sc;
    sc.set_cert(to_string(*body));
    sc.set_identity_signature(
        to_string(crypto::sign(p.identity.secret_key, kDeviceCertDomain, *body)));
    sc.set_device_signature(
        to_string(crypto::sign(victim.device.secret_key, kRecordDomain, *body)));
    CHECK(error_of(to_bytes(sc.SerializeAsString())) ==
          "the device's signature on its certificate does not verify");
}

TEST_CASE("an oversized device certificate is refused before it is parsed") {
    Person p;
    auto cert = issue(p);
    // Valid bytes with junk appended past 1 KiB: refused for length, whatever follows.
    auto big = cert.signed_bytes;
    big.resize(kMaxDeviceCertBytes + 1, 0xFF);
    CHECK(error_of(big) == "the device certificate is too long");
    // A certificate signed by the right keys whose label alone is over 1 KiB: the length is
    // refused first, before the fields are parsed and checked.
    auto c = pb_of(cert);
    c.set_label(std::string(1100, 'a'));
    CHECK(error_of(sign_raw_cert(c, p.identity, p.device)) == "the device certificate is too long");
    CHECK(error_of(Bytes{}) == "unknown device certificate version");
    CHECK(error_of(to_bytes("\xff\xff\xff")) == "the device certificate does not parse");
}

TEST_CASE("each malformed field of a device certificate has its own error") {
    Person p;
    const auto good = pb_of(issue(p));
    const std::vector<std::pair<std::function<void(pb::DeviceCert&)>, std::string>> cases = {
        {[](pb::DeviceCert& c) { c.set_version(2); }, "unknown device certificate version"},
        {[](pb::DeviceCert& c) { c.set_identity_key(c.identity_key().substr(0, 31)); },
         "the device certificate's identity key has the wrong size"},
        {[](pb::DeviceCert& c) { c.set_device_sign_key(c.device_sign_key() + "x"); },
         "the device certificate's device key has the wrong size"},
        {[](pb::DeviceCert& c) { c.clear_device_box_key(); },
         "the device certificate's box key has the wrong size"},
        {[](pb::DeviceCert& c) { c.set_device_id(std::string(15, 'i')); },
         "the device certificate's device id has the wrong size"},
        {[](pb::DeviceCert& c) { c.set_device_sign_key(c.identity_key()); },
         "a device certificate cannot certify the identity key"},
        {[](pb::DeviceCert& c) { c.clear_label(); },
         "a device label has 1 to 64 bytes of clean UTF-8"},
        {[](pb::DeviceCert& c) { c.set_label(std::string(65, 'l')); },
         "a device label has 1 to 64 bytes of clean UTF-8"},
        {[](pb::DeviceCert& c) { c.set_label("lap\ntop"); },
         "a device label has 1 to 64 bytes of clean UTF-8"},
        {[](pb::DeviceCert& c) { c.set_created_ms(-1); },
         "the device certificate's time is negative"},
    };
    std::set<std::string> distinct;
    for (const auto& [change, expected] : cases) {
        CAPTURE(expected);
        auto c = good;
        change(c);
        // Signed by the right keys, so only the field check can refuse it.
        CHECK(error_of(sign_raw_cert(c, p.identity, p.device)) == expected);
        distinct.insert(expected);
    }
    CHECK(distinct.size() == cases.size() - 2);  // the label's three cases share one message
    // Signatures of the wrong size are refused before any is checked.
    pb::SignedDeviceCert sc;
    auto bytes = issue(p).signed_bytes;
    REQUIRE(sc.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    sc.set_device_signature(sc.device_signature().substr(0, 63));
    CHECK(error_of(to_bytes(sc.SerializeAsString())) ==
          "the device certificate's signatures have the wrong size");
    // device_cert_body refuses what verify refuses.
    auto f = fields_of(p, "");
    CHECK_FALSE(device_cert_body(f).has_value());
    f = fields_of(p);
    f.device_sign_key = f.identity_key;
    CHECK_FALSE(device_cert_body(f).has_value());
}

TEST_CASE("a device revocation verifies, names its identity and refuses every change") {
    Person p, mallory;
    auto r = issue_device_revocation(p.identity, p.device.public_key, 1'700'000'000'123, true,
                                     1'699'999'999'000);
    REQUIRE(r.has_value());
    auto back = verify_device_revocation(r->signed_bytes, p.identity.public_key);
    REQUIRE(back.has_value());
    CHECK(back->device_sign_key == p.device.public_key);
    CHECK(back->identity_key == p.identity.public_key);
    CHECK(back->compromised);
    CHECK(back->compromised_at_ms == 1'699'999'999'000);
    CHECK(back->revoked_ms == 1'700'000'000'123);

    auto other = verify_device_revocation(r->signed_bytes, mallory.identity.public_key);
    REQUIRE_FALSE(other.has_value());
    CHECK(other.error().message == "the device revocation is by another identity");

    for (std::size_t i = 0; i < r->signed_bytes.size(); ++i) {
        auto bad = r->signed_bytes;
        bad[i] ^= 0x10;
        CHECK_FALSE(verify_device_revocation(bad).has_value());
    }
    // Mallory's key signing a revocation that names Anna's identity.
    pb::SignedDeviceRevocation sr;
    REQUIRE(sr.ParseFromArray(r->signed_bytes.data(), static_cast<int>(r->signed_bytes.size())));
    sr.set_signature(to_string(crypto::sign(mallory.identity.secret_key, kDeviceRevocationDomain,
                                            as_bytes(sr.revocation()))));
    auto forged = verify_device_revocation(to_bytes(sr.SerializeAsString()));
    REQUIRE_FALSE(forged.has_value());
    CHECK(forged.error().message == "the device revocation's signature does not verify");
    // A certificate's signature is no revocation's: the domains differ.
    sr.set_signature(to_string(
        crypto::sign(p.identity.secret_key, kDeviceCertDomain, as_bytes(sr.revocation()))));
    CHECK_FALSE(verify_device_revocation(to_bytes(sr.SerializeAsString())).has_value());

    Bytes big(kMaxDeviceCertBytes + 1, 0);
    auto too_long = verify_device_revocation(big);
    REQUIRE_FALSE(too_long.has_value());
    CHECK(too_long.error().message == "the device revocation is too long");

    // The identity key is not a device, and a time of seizure needs `compromised`.
    CHECK(issue_device_revocation(p.identity, p.identity.public_key, 1, false, 0).error().message ==
          "a device revocation cannot revoke the identity key");
    CHECK(issue_device_revocation(p.identity, p.device.public_key, 1, false, 5).error().message ==
          "the device revocation's time of seizure is not valid");
    CHECK(issue_device_revocation(p.identity, p.device.public_key, -1, false, 0).error().message ==
          "the device revocation's time is negative");
}

TEST_CASE("the link code is the same on both devices and changes with every key and nonce") {
    Person p;
    auto approver = crypto::sign_keypair();
    LinkNonce na{}, nn{};
    for (std::size_t i = 0; i < na.size(); ++i) {
        na[i] = static_cast<std::uint8_t>(i);
        nn[i] = static_cast<std::uint8_t>(100 + i);
    }
    // The new device: its own keys and nonce, then what the approver's offer names.
    auto on_new = link_code(p.identity.public_key, approver.public_key, p.device.public_key,
                            p.device_box.public_key, na, nn);
    // The approving device: what the request and the revealed nonce named, checked against
    // the commitment first.
    auto commitment = link_commitment(p.device.public_key, p.device_box.public_key, nn);
    CHECK(commitment == link_commitment(p.device.public_key, p.device_box.public_key, nn));
    auto on_approver = link_code(p.identity.public_key, approver.public_key, p.device.public_key,
                                 p.device_box.public_key, na, nn);
    CHECK(on_new == on_approver);
    REQUIRE(on_new.size() == 7);
    CHECK(on_new[3] == ' ');
    for (std::size_t i : {0, 1, 2, 4, 5, 6})
        CHECK(std::isdigit(static_cast<unsigned char>(on_new[i])));

    auto flip = [](auto key, std::size_t i) {
        key[i] ^= 1;
        return key;
    };
    for (std::size_t i : {std::size_t{0}, std::size_t{15}, std::size_t{31}}) {
        CAPTURE(i);
        CHECK(link_code(flip(p.identity.public_key, i), approver.public_key, p.device.public_key,
                        p.device_box.public_key, na, nn) != on_new);
        CHECK(link_code(p.identity.public_key, flip(approver.public_key, i), p.device.public_key,
                        p.device_box.public_key, na, nn) != on_new);
        CHECK(link_code(p.identity.public_key, approver.public_key, flip(p.device.public_key, i),
                        p.device_box.public_key, na, nn) != on_new);
        CHECK(link_code(p.identity.public_key, approver.public_key, p.device.public_key,
                        flip(p.device_box.public_key, i), na, nn) != on_new);
        CHECK(link_commitment(flip(p.device.public_key, i), p.device_box.public_key, nn) !=
              commitment);
        CHECK(link_commitment(p.device.public_key, flip(p.device_box.public_key, i), nn) !=
              commitment);
    }
    for (std::size_t i : {std::size_t{0}, std::size_t{15}}) {
        CHECK(link_code(p.identity.public_key, approver.public_key, p.device.public_key,
                        p.device_box.public_key, flip(na, i), nn) != on_new);
        CHECK(link_code(p.identity.public_key, approver.public_key, p.device.public_key,
                        p.device_box.public_key, na, flip(nn, i)) != on_new);
        CHECK(link_commitment(p.device.public_key, p.device_box.public_key, flip(nn, i)) !=
              commitment);
    }
    // The two nonces have their own places: swapping them is another code.
    CHECK(link_code(p.identity.public_key, approver.public_key, p.device.public_key,
                    p.device_box.public_key, nn, na) != on_new);
    // Random nonces spread over the million codes (a loose check of the reduction).
    std::set<std::string> seen;
    for (int k = 0; k < 200; ++k) {
        LinkNonce r{};
        crypto::system_random().fill(r);
        seen.insert(link_code(p.identity.public_key, approver.public_key, p.device.public_key,
                              p.device_box.public_key, na, r));
    }
    CHECK(seen.size() >= 195);
}

TEST_CASE("each malformed field of a device revocation has its own error") {
    Person p;
    auto r = issue_device_revocation(p.identity, p.device.public_key, 10, false, 0);
    REQUIRE(r.has_value());
    pb::SignedDeviceRevocation signed_revocation;
    REQUIRE(signed_revocation.ParseFromArray(r->signed_bytes.data(),
                                             static_cast<int>(r->signed_bytes.size())));
    pb::DeviceRevocation good;
    REQUIRE(good.ParseFromString(signed_revocation.revocation()));
    const std::vector<std::pair<std::function<void(pb::DeviceRevocation&)>, std::string>> cases = {
        {[](pb::DeviceRevocation& x) { x.set_version(0); }, "unknown device revocation version"},
        {[](pb::DeviceRevocation& x) { x.set_identity_key(x.identity_key().substr(1)); },
         "the device revocation's identity key has the wrong size"},
        {[](pb::DeviceRevocation& x) { x.set_device_sign_key(x.device_sign_key() + "x"); },
         "the device revocation's device key has the wrong size"},
        {[](pb::DeviceRevocation& x) { x.set_device_sign_key(x.identity_key()); },
         "a device revocation cannot revoke the identity key"},
        {[](pb::DeviceRevocation& x) { x.set_revoked_ms(-5); },
         "the device revocation's time is negative"},
        {[](pb::DeviceRevocation& x) { x.set_compromised_at_ms(7); },
         "the device revocation's time of seizure is not valid"},
        {[](pb::DeviceRevocation& x) {
             x.set_compromised(true);
             x.set_compromised_at_ms(-7);
         },
         "the device revocation's time of seizure is not valid"},
    };
    for (const auto& [change, expected] : cases) {
        CAPTURE(expected);
        auto x = good;
        change(x);
        // Signed by the identity it names, so only the field check can refuse it.
        auto body = x.SerializeAsString();
        pb::SignedDeviceRevocation sr;
        sr.set_revocation(body);
        sr.set_signature(to_string(
            crypto::sign(p.identity.secret_key, kDeviceRevocationDomain, as_bytes(body))));
        auto checked = verify_device_revocation(to_bytes(sr.SerializeAsString()));
        REQUIRE_FALSE(checked.has_value());
        CHECK(checked.error().message == expected);
    }
    auto short_signature = signed_revocation;
    short_signature.set_signature(short_signature.signature().substr(0, 63));
    auto checked = verify_device_revocation(to_bytes(short_signature.SerializeAsString()));
    REQUIRE_FALSE(checked.has_value());
    CHECK(checked.error().message == "the device revocation's signature has the wrong size");
    auto junk = verify_device_revocation(to_bytes("\xff\xff\xff"));
    REQUIRE_FALSE(junk.has_value());
    CHECK(junk.error().message == "the device revocation does not parse");
}
