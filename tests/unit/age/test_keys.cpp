// age X25519 keys: Bech32 encoding, parsing, and identity/recipient files.

#include <doctest/doctest.h>

#include "kolokol/age/keys.hpp"
#include "kolokol/crypto/random.hpp"

using namespace kolokol;
using namespace kolokol::age;

namespace {
// A key pair published with age's own tests (cmd/age/testdata, key.txt).
constexpr std::string_view kIdentity =
    "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
constexpr std::string_view kRecipient =
    "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef";
}  // namespace

TEST_CASE("a known identity yields the known recipient and both round-trip") {
    auto id = X25519Identity::parse(kIdentity);
    REQUIRE(id);
    CHECK(id->recipient().to_string() == kRecipient);
    CHECK(id->to_string() == kIdentity);
    auto r = X25519Recipient::parse(kRecipient);
    REQUIRE(r);
    CHECK(*r == id->recipient());
    CHECK(r->to_string() == kRecipient);
    // Bech32 is case-insensitive as long as the case is not mixed.
    std::string lower(kIdentity);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto id_lower = X25519Identity::parse(lower);
    REQUIRE(id_lower);
    CHECK(id_lower->recipient() == id->recipient());
}

TEST_CASE("generated identities are distinct and deterministic under a seeded RNG") {
    crypto::DeterministicRandom a(7), b(7), c(8);
    auto ia = X25519Identity::generate(a);
    auto ib = X25519Identity::generate(b);
    auto ic = X25519Identity::generate(c);
    CHECK(ia.to_string() == ib.to_string());
    CHECK(ia.to_string() != ic.to_string());
    CHECK(ia.to_string().starts_with("AGE-SECRET-KEY-1"));
    CHECK(ia.to_string().size() == 74);
    CHECK(ia.recipient().to_string().starts_with("age1"));
    CHECK(ia.recipient().to_string().size() == 62);
    auto back = X25519Identity::parse(ia.to_string());
    REQUIRE(back);
    CHECK(back->recipient() == ia.recipient());
    auto copy = ia.clone();
    CHECK(copy.to_string() == ia.to_string());
}

TEST_CASE("malformed keys are refused with invalid_key and no echo of secrets") {
    auto bad_recipient = [](std::string_view s) {
        auto r = X25519Recipient::parse(s);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == make_error_code(AgeErrc::invalid_key));
    };
    std::string flipped(kRecipient);
    flipped[10] = flipped[10] == 'q' ? 'p' : 'q';
    bad_recipient(flipped);                                                           // checksum
    bad_recipient("");                                                                // empty
    bad_recipient("age1");                                                            // too short
    bad_recipient("AGE1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRwsvlul66mv4q47ryef");  // mixed case
    bad_recipient(kIdentity);                                                         // wrong HRP
    bad_recipient("age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq");  // checksum
    bad_recipient(std::string(300, 'q'));                                             // oversized
    bad_recipient("A12UEL5L");  // valid Bech32 (BIP 173), wrong HRP and length

    std::string secret_typo(kIdentity);
    secret_typo[20] = secret_typo[20] == 'Q' ? 'P' : 'Q';
    auto id = X25519Identity::parse(secret_typo);
    REQUIRE_FALSE(id);
    CHECK(id.error().code == make_error_code(AgeErrc::invalid_key));
    CHECK(id.error().message.find(secret_typo.substr(16, 20)) == std::string::npos);
    CHECK_FALSE(X25519Identity::parse(kRecipient));
    CHECK_FALSE(X25519Identity::from_secret(Bytes(31)));
}

TEST_CASE("identity files: comments, blank lines, CRLF; bad lines named by number only") {
    std::string text =
        "# created: 2021-02-02T13:09:43+01:00\n# public key: " + std::string(kRecipient) +
        "\n\n  " + std::string(kIdentity) + "\r\n";
    auto ids = parse_identities(text);
    REQUIRE(ids);
    REQUIRE(ids->size() == 1);
    CHECK((*ids)[0].recipient().to_string() == kRecipient);

    auto two =
        parse_identities(std::string(kIdentity) + "\n" + X25519Identity::generate().to_string());
    REQUIRE(two);
    CHECK(two->size() == 2);

    std::string leaked = "AGE-SECRET-KEY-1NOTAKEYBUTSECRETLOOKING";
    auto bad = parse_identities("# comment\n" + std::string(kIdentity) + "\n" + leaked + "\n");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("line 3") != std::string::npos);
    CHECK(bad.error().message.find("NOTAKEY") == std::string::npos);

    CHECK_FALSE(parse_identities("# only a comment\n\n"));
    CHECK_FALSE(parse_identities(""));
    CHECK_FALSE(parse_identities(std::string(kMaxKeyFileBytes + 1, '#')));
}

TEST_CASE("recipients files: one age1 per line, secret keys refused") {
    auto other = X25519Identity::generate().recipient().to_string();
    auto rs = parse_recipients("# team\n" + std::string(kRecipient) + "\n\n" + other + "\n");
    REQUIRE(rs);
    REQUIRE(rs->size() == 2);
    CHECK((*rs)[0].to_string() == kRecipient);
    CHECK((*rs)[1].to_string() == other);

    auto secret = parse_recipients(std::string(kIdentity) + "\n");
    REQUIRE_FALSE(secret);
    CHECK(secret.error().message.find("secret key") != std::string::npos);
    CHECK(secret.error().message.find(kIdentity.substr(16)) == std::string::npos);
    CHECK_FALSE(parse_recipients("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\n"));
    CHECK_FALSE(parse_recipients("\n# nothing\n"));
}
