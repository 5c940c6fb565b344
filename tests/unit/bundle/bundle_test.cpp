// Case bundles: a round trip, what verification proves, each kind of tampering caught and
// named, hostile archives refused before a byte is written, and re-export's custody entry.
#include "kolokol/bundle/bundle.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "kolokol/age/error.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/init.hpp"
#include "tar_util.hpp"

using namespace kolokol;
using bundle::BundleErrc;

namespace {

constexpr std::int64_t kNow = 1790000000000;

struct Person {
    core::Identity id;
    std::string card;
    explicit Person(std::string name)
        : id(core::Identity::generate(std::move(name))), card(core::card_to_text(id.card(kNow))) {}
    bundle::Signer signer() const {
        return {card, [this](std::string_view domain, ByteView m) {
                    return crypto::sign(id.sign.secret_key, domain, m);
                }};
    }
};

bundle::AttachmentExport attachment(std::string id, std::string name, std::string content) {
    bundle::AttachmentExport a;
    a.id = std::move(id);
    a.name = std::move(name);
    a.media_type = "application/octet-stream";
    a.size = content.size();
    a.sha256 = crypto::sha256(as_bytes(content));
    a.info = {{"author", "Alice"}};
    a.read = [content](const std::function<Status(ByteView)>& sink) -> Status {
        // Two pieces, so the writer sees a file arrive in parts.
        auto half = content.size() / 2;
        if (auto st = sink(as_bytes(std::string_view(content).substr(0, half))); !st) return st;
        return sink(as_bytes(std::string_view(content).substr(half)));
    };
    return a;
}

std::vector<bundle::CaseExport> sample_cases() {
    bundle::CaseExport c;
    c.id = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    c.record = {{"fields", {{"person", "Ivan P."}, {"charges", "article 212"}}},
                {"timeline", nlohmann::json::array({{{"text", "detained at 14:00"}}})},
                {"ledger", nlohmann::json::array({{{"amount", "150.00"}, {"currency", "EUR"}}})},
                {"history", nlohmann::json::array({{{"field", "person"}, {"by", "Alice"}}})}};
    c.attachments.push_back(attachment("0011223344556677", "protocol scan.pdf", "PDF bytes 1"));
    c.attachments.push_back(attachment("8899aabbccddeeff", "../../etc/passwd", "photo bytes 2!"));
    return {c};
}

struct Keys {
    age::X25519Identity id = age::X25519Identity::generate();
    bundle::Encryption to() const {
        bundle::Encryption e;
        e.recipients.push_back(id.recipient());
        return e;
    }
};

Bytes export_bundle(const Person& who, const Keys& keys,
                    std::vector<bundle::CaseExport> cases = sample_cases()) {
    Bytes out;
    auto r = bundle::write_bundle(cases, who.signer(), keys.to(), kNow, [&](ByteView b) -> Status {
        append(out, b);
        return {};
    });
    REQUIRE_MESSAGE(r, r.error().what());
    return out;
}

age::Source source_of(const Bytes& file) {
    auto pos = std::make_shared<std::size_t>(0);
    return [&file, pos](MutableByteView out) -> Result<std::size_t> {
        auto n = std::min(out.size(), file.size() - *pos);
        std::copy_n(file.begin() + static_cast<std::ptrdiff_t>(*pos), n, out.begin());
        *pos += n;
        return n;
    };
}

Result<bundle::VerifyReport> verify(const Bytes& file, const Keys& keys,
                                    bundle::ExtractTarget* target = nullptr) {
    bundle::ReadOptions options;
    options.extract = target;
    return bundle::read_bundle(source_of(file), std::span(&keys.id, 1), {}, options);
}

Bytes decrypt(const Bytes& file, const Keys& keys) {
    auto dec = age::Decryptor::open(source_of(file), std::span(&keys.id, 1));
    REQUIRE(dec);
    Bytes out, buf(1 << 16);
    while (true) {
        auto n = dec->read(buf);
        REQUIRE(n);
        if (*n == 0) break;
        append(out, ByteView(buf).first(*n));
    }
    return out;
}

Bytes encrypt(ByteView plain, const Keys& keys) {
    Bytes out;
    auto enc = age::Encryptor::to_recipients(std::span(&keys.id.recipient(), 1),
                                             [&](ByteView b) -> Status {
                                                 append(out, b);
                                                 return {};
                                             });
    REQUIRE(enc);
    REQUIRE(enc->write(plain));
    REQUIRE(enc->finish());
    return out;
}

// Decrypts, lets `change` edit the entries, re-encrypts to the same key.
Bytes tamper(const Bytes& file, const Keys& keys,
             const std::function<void(std::vector<tartest::Entry>&)>& change) {
    auto entries = tartest::untar(decrypt(file, keys));
    change(entries);
    return encrypt(tartest::tar(entries), keys);
}

tartest::Entry& find(std::vector<tartest::Entry>& entries, std::string_view name) {
    auto it =
        std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.name == name; });
    REQUIRE(it != entries.end());
    return *it;
}

// Rewrites SHA256SUMS to match the entries as they are now (what a careful forger does).
void fix_sums(std::vector<tartest::Entry>& entries) {
    std::string sums;
    for (const auto& e : entries)
        if (e.name != "SHA256SUMS")
            sums += crypto::hex_encode(crypto::sha256(as_bytes(e.data))) + "  " + e.name + "\n";
    find(entries, "SHA256SUMS").data = sums;
}

bool has_problem(const bundle::VerifyReport& r, std::string_view words) {
    return std::any_of(r.problems.begin(), r.problems.end(),
                       [&](const auto& p) { return p.what().find(words) != std::string::npos; });
}

std::string problems_of(const bundle::VerifyReport& r) {
    std::string s;
    for (const auto& p : r.problems) s += p.what() + "\n";
    return s;
}

class Capture final : public bundle::ExtractTarget {
public:
    std::map<std::string, std::string> files;
    Status begin(std::string_view path, std::uint64_t) override {
        m_current = std::string(path);
        files[m_current];
        return {};
    }
    Status write(ByteView data) override {
        files[m_current].append(as_chars(data));
        return {};
    }
    Status end() override { return {}; }

private:
    std::string m_current;
};

}  // namespace

TEST_CASE("a bundle round-trips and verification says what it proved") {
    crypto::init();
    Person alice("Alice");
    Keys lawyer;
    auto file = export_bundle(alice, lawyer);
    Capture capture;
    auto report = verify(file, lawyer, &capture);
    REQUIRE_MESSAGE(report, report.error().what());
    CHECK_MESSAGE(report->ok(), problems_of(*report));
    CHECK(report->files == 8);  // six metadata files and two attachments
    CHECK(report->hashes_checked == 7);
    CHECK(report->signature_ok);
    CHECK(report->signer_name == "Alice");
    CHECK(report->signer_key == alice.id.sign.public_key);
    REQUIRE(report->custody.size() == 1);
    CHECK(report->custody[0].action == "export");
    CHECK(report->custody[0].to == std::vector<std::string>{lawyer.id.recipient().to_string()});
    CHECK(report->cases.size() == 1);
    CHECK(report->cases[0].find("Ivan P.") != std::string::npos);
    // The attachments come out byte-identical, under their own names made safe.
    CHECK(capture.files.at("files/a1b2c3d4e5f6/00112233-protocol scan.pdf") == "PDF bytes 1");
    CHECK(capture.files.at("files/a1b2c3d4e5f6/8899aabb-_.._etc_passwd") == "photo bytes 2!");
    auto manifest = nlohmann::json::parse(capture.files.at("manifest.json"));
    CHECK(manifest["cases"][0]["fields"]["charges"] == "article 212");
    CHECK(manifest["cases"][0]["attachments"][1]["sha256"] ==
          crypto::hex_encode(crypto::sha256(as_bytes("photo bytes 2!"))));
    CHECK(capture.files.at("README.txt").find("sha256sum -c SHA256SUMS") != std::string::npos);
}

TEST_CASE("a wrong key does not open a bundle") {
    crypto::init();
    Person alice("Alice");
    Keys lawyer, other;
    auto file = export_bundle(alice, lawyer);
    auto report = verify(file, other);
    REQUIRE_FALSE(report);
    CHECK(report.error().code == age::AgeErrc::no_match);
}

TEST_CASE("tampering is caught and named") {
    crypto::init();
    Person alice("Alice");
    Keys lawyer;
    const auto file = export_bundle(alice, lawyer);
    const std::string att = "files/a1b2c3d4e5f6/00112233-protocol scan.pdf";
    const std::string other = "files/a1b2c3d4e5f6/8899aabb-_.._etc_passwd";

    SUBCASE("a flipped byte in the payload") {
        auto bad = file;
        bad[bad.size() - 700] ^= 0x01;
        auto r = verify(bad, lawyer);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == age::AgeErrc::payload_failure);
        CHECK(r.error().message.find("payload chunk") != std::string::npos);
    }
    SUBCASE("a truncated file") {
        auto bad = file;
        bad.resize(bad.size() - 100);
        auto r = verify(bad, lawyer);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == age::AgeErrc::payload_failure);
    }
    SUBCASE("an altered file with SHA256SUMS left alone") {
        auto bad = tamper(file, lawyer, [&](auto& e) { find(e, att).data = "PDF bytes X"; });
        auto r = verify(bad, lawyer);
        REQUIRE(r);
        CHECK(has_problem(*r, att + ": SHA-256 differs from SHA256SUMS"));
    }
    SUBCASE("a swapped file with SHA256SUMS rewritten to match") {
        auto bad = tamper(file, lawyer, [&](auto& e) {
            std::swap(find(e, att).data, find(e, other).data);
            fix_sums(e);
        });
        auto r = verify(bad, lawyer);
        REQUIRE(r);
        CHECK_MESSAGE(has_problem(*r, att + ": differs from manifest.json"), problems_of(*r));
        CHECK(has_problem(*r, other + ": differs from manifest.json"));
        CHECK(r->signature_ok);
    }
    SUBCASE("a file added after export") {
        auto bad = tamper(file, lawyer, [&](auto& e) {
            e.push_back({"files/a1b2c3d4e5f6/planted.txt", "planted"});
            fix_sums(e);
        });
        auto r = verify(bad, lawyer);
        REQUIRE(r);
        CHECK(has_problem(*r, "planted.txt: not named in manifest.json"));
    }
    SUBCASE("an edited manifest") {
        auto bad = tamper(file, lawyer, [&](auto& e) {
            auto& m = find(e, "manifest.json").data;
            auto at = m.find("article 212");
            REQUIRE(at != std::string::npos);
            m.replace(at, 11, "article 213");
            fix_sums(e);
        });
        auto r = verify(bad, lawyer);
        REQUIRE(r);
        CHECK_FALSE(r->signature_ok);
        CHECK(has_problem(*r, "manifest.sig: the signature does not verify"));
        // The custody chain is tied to the original manifest too.
        CHECK(has_problem(*r, "custody entry 1"));
    }
    SUBCASE("a forged signature") {
        auto bad = tamper(file, lawyer, [&](auto& e) {
            auto& sig = find(e, "manifest.sig").data;
            auto sp = sig.rfind(' ');
            auto fake = crypto::sign(Person("Mallory").id.sign.secret_key, bundle::kSignatureDomain,
                                     as_bytes(find(e, "manifest.json").data));
            sig = sig.substr(0, sp + 1) + crypto::base64_raw_encode(fake) + "\n";
            fix_sums(e);
        });
        auto r = verify(bad, lawyer);
        REQUIRE(r);
        CHECK_FALSE(r->signature_ok);
        CHECK(has_problem(*r, "manifest.sig: the signature does not verify"));
    }
    SUBCASE("a whole new signer: manifest re-signed, card replaced") {
        Person mallory("Alice");  // same name, another key
        auto bad = tamper(file, lawyer, [&](auto& e) {
            auto& m = find(e, "manifest.json").data;
            auto key_at = m.find(crypto::hex_encode(alice.id.sign.public_key));
            REQUIRE(key_at != std::string::npos);
            m.replace(key_at, 64, crypto::hex_encode(mallory.id.sign.public_key));
            auto sig =
                crypto::sign(mallory.id.sign.secret_key, bundle::kSignatureDomain, as_bytes(m));
            find(e, "manifest.sig").data = "ed25519 " +
                                           crypto::hex_encode(mallory.id.sign.public_key) + " " +
                                           crypto::base64_raw_encode(sig) + "\n";
            find(e, "signer.card").data = mallory.card + "\n";
            fix_sums(e);
        });
        auto r = verify(bad, lawyer);
        REQUIRE(r);
        CHECK(r->signature_ok);                              // Mallory's own signature is fine…
        CHECK(r->signer_key == mallory.id.sign.public_key);  // …and names Mallory's key
        CHECK_FALSE(r->custody_ok);                          // but the custody chain was Alice's
        CHECK(has_problem(*r, "custody entry 1"));
    }
    SUBCASE("a metadata file removed") {
        auto bad = tamper(file, lawyer, [&](auto& e) {
            std::erase_if(e, [](const auto& x) { return x.name == "manifest.sig"; });
        });
        auto r = verify(bad, lawyer);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == BundleErrc::not_a_bundle);
        CHECK(r.error().message.find("manifest.sig is missing") != std::string::npos);
    }
}

TEST_CASE("re-export appends a signed custody entry; removing one is caught") {
    crypto::init();
    Person alice("Alice"), lawyer_person("Lawyer L.");
    Keys lawyer, colleague;
    const auto file = export_bundle(alice, lawyer);
    Bytes again;
    bundle::ReadOptions options;
    auto r = bundle::reexport_bundle(source_of(file), std::span(&lawyer.id, 1), {}, options,
                                     lawyer_person.signer(), "reexport", colleague.to(),
                                     kNow + 1000, [&](ByteView b) -> Status {
                                         append(again, b);
                                         return {};
                                     });
    REQUIRE_MESSAGE(r, r.error().what());
    CHECK(r->ok());
    auto report = verify(again, colleague);
    REQUIRE(report);
    CHECK_MESSAGE(report->ok(), problems_of(*report));
    REQUIRE(report->custody.size() == 2);
    CHECK(report->custody[1].by == "Lawyer L.");
    CHECK(report->custody[1].seq == 2);
    CHECK(report->custody[1].to == std::vector<std::string>{colleague.id.recipient().to_string()});

    SUBCASE("the first entry removed") {
        auto bad = tamper(again, colleague, [&](auto& e) {
            auto& log = find(e, "custody.log").data;
            log = log.substr(log.find('\n') + 1);
            fix_sums(e);
        });
        auto v = verify(bad, colleague);
        REQUIRE(v);
        CHECK_FALSE(v->custody_ok);
        CHECK_MESSAGE(has_problem(*v, "custody entry 1: numbered 2"), problems_of(*v));
        CHECK(has_problem(*v, "the export entry was removed"));
    }
    SUBCASE("the newest entry removed") {
        auto bad = tamper(again, colleague, [&](auto& e) {
            auto& log = find(e, "custody.log").data;
            log = log.substr(0, log.find('\n') + 1);
            fix_sums(e);
        });
        auto v = verify(bad, colleague);
        REQUIRE(v);
        CHECK_FALSE(v->custody_ok);
        CHECK_MESSAGE(has_problem(*v, "a later custody entry was removed"), problems_of(*v));
    }
    SUBCASE("an entry edited") {
        auto bad = tamper(again, colleague, [&](auto& e) {
            auto& log = find(e, "custody.log").data;
            auto at = log.find("Lawyer L.");
            REQUIRE(at != std::string::npos);
            log.replace(at, 9, "Lawyer M.");
            fix_sums(e);
        });
        auto v = verify(bad, colleague);
        REQUIRE(v);
        CHECK(has_problem(*v, "custody entry 2: the signature by Lawyer M. does not verify"));
    }
}

TEST_CASE("hostile archives are refused before anything is written") {
    crypto::init();
    Keys keys;
    auto refused = [&](std::vector<tartest::Entry> entries, BundleErrc code, std::string_view words,
                       std::size_t written_before = 0) {
        Capture capture;
        auto r = verify(encrypt(tartest::tar(entries), keys), keys, &capture);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == code);
        CHECK_MESSAGE(r.error().message.find(words) != std::string::npos, r.error().message);
        CHECK(capture.files.size() == written_before);
    };
    refused({{"../evil", "x"}}, BundleErrc::unsafe_entry, "\"..\"");
    refused({{"files/../../evil", "x"}}, BundleErrc::unsafe_entry, "\"..\"");
    refused({{"/etc/evil", "x"}}, BundleErrc::unsafe_entry, "absolute");
    refused({{"files/link", "", '2', "/etc/passwd"}}, BundleErrc::unsafe_entry, "links");
    refused({{"files/hard", "", '1', "README.txt"}}, BundleErrc::unsafe_entry, "links");
    refused({{"files/dev", "", '3'}}, BundleErrc::unsafe_entry, "regular files");
    refused({{"files/huge", "", '0', "", std::uint64_t{1} << 42}}, BundleErrc::too_large,
            "over the limit");
    // The first copy was fine; the second is refused before it replaces anything.
    refused({{"files/a", "1"}, {"files/a", "2"}}, BundleErrc::unsafe_entry, "twice", 1);
    refused({{"elsewhere.txt", "x"}}, BundleErrc::unsafe_entry, "not a part");
    // Not a tar at all.
    auto r = verify(encrypt(as_bytes(std::string(4096, 'z')), keys), keys);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == BundleErrc::not_a_bundle);
}

TEST_CASE("entry paths") {
    CHECK(bundle::check_entry_path("files/abc/01-x.pdf"));
    CHECK(bundle::check_entry_path("README.txt"));
    CHECK(bundle::check_entry_path("files/"));
    // Names keep their own spelling: other scripts and spaces are not unsafe.
    CHECK(bundle::check_entry_path("a b"));
    CHECK(bundle::check_entry_path("\xc3\xa9"));
    CHECK(bundle::check_entry_path("files/abc/01-Протокол задержания.pdf"));
    for (auto bad : {"",
                     "/x",
                     "a//b",
                     "./a",
                     "a/./b",
                     "..",
                     "a/..",
                     "a/../b",
                     "a\\b",
                     "a\nb",
                     "a\tb",
                     "a\x7f",
                     "a\xc2\x9b[2J",              // DEL, C1 CSI
                     "photo\xe2\x80\xaegpj.exe",  // U+202E right-to-left override
                     "a\xe2\x81\xa6"
                     "b",
                     "a\xe2\x80\x8b"
                     "b",
                     "\xef\xbb\xbf"
                     "a",  // U+2066, U+200B, BOM
                     "a:b",
                     "a*b",
                     "a?b",
                     "a\"b",
                     "a<b",
                     "a>b",
                     "a|b",
                     "files/-rf",
                     "\xc3",
                     "\xc0\xaf",
                     "\xed\xa0\x80",
                     "\xf4\x90\x80\x80"})  // bad UTF-8
        CHECK_MESSAGE(!bundle::check_entry_path(bad), bad);
    CHECK_FALSE(bundle::check_entry_path(std::string(300, 'a')));
}

TEST_CASE("attachment names keep their spelling in the tar; what is unsafe becomes '_'") {
    const std::string c = "a1b2c3d4e5f6", a = "0011223344556677";
    CHECK(bundle::attachment_path(c, a, "Протокол задержания.pdf") ==
          "files/a1b2c3d4e5f6/00112233-Протокол задержания.pdf");
    CHECK(bundle::attachment_path(c, a, "../../etc/passwd") ==
          "files/a1b2c3d4e5f6/00112233-_.._etc_passwd");
    CHECK(bundle::attachment_path(c, a, "photo\u202egpj.exe") ==
          "files/a1b2c3d4e5f6/00112233-photo_gpj.exe");
    CHECK(bundle::attachment_path(c, a, "-rf *:?.txt") == "files/a1b2c3d4e5f6/00112233-rf ___.txt");
    CHECK(bundle::attachment_path(c, a, "...") == "files/a1b2c3d4e5f6/00112233-file");
    CHECK(bundle::attachment_path(c, a, "bad\xc3") == "files/a1b2c3d4e5f6/00112233-bad_");
    // Cut at a character boundary: 120 bytes of two-byte letters is 60 of them.
    const auto long_name = bundle::attachment_path(c, a, std::string(200, 'x') + "Я");
    CHECK(long_name.size() == std::string("files/a1b2c3d4e5f6/00112233-").size() + 120);
    const auto cyr = bundle::attachment_path(c, a, [] {
        std::string s;
        for (int i = 0; i < 100; ++i) s += "Я";
        return s;
    }());
    CHECK(cyr.size() == std::string("files/a1b2c3d4e5f6/00112233-").size() + 120);
    for (auto name : {"Протокол задержания.pdf", "../../etc/passwd", "photo\u202egpj.exe",
                      "a\x1b[2Jb", "-rf *:?.txt", "...", "bad\xc3", "日本語 ファイル.png"})
        CHECK_MESSAGE(bundle::check_entry_path(bundle::attachment_path(c, a, name)), name);

    // Through a whole bundle: the reader restores the names as written (pax UTF-8 headers).
    crypto::init();
    Person alice("Alice");
    Keys lawyer;
    auto cases = sample_cases();
    cases[0].attachments.push_back(
        attachment("2233445566778899", "Протокол задержания.pdf", "скан протокола"));
    cases[0].attachments.push_back(
        attachment("33445566778899aa", "видео\u202e4pm.exe", "video bytes"));
    auto file = export_bundle(alice, lawyer, cases);
    Capture capture;
    auto report = verify(file, lawyer, &capture);
    REQUIRE_MESSAGE(report, report.error().what());
    CHECK_MESSAGE(report->ok(), problems_of(*report));
    CHECK(capture.files.at("files/a1b2c3d4e5f6/22334455-Протокол задержания.pdf") ==
          "скан протокола");
    CHECK(capture.files.at("files/a1b2c3d4e5f6/33445566-видео_4pm.exe") == "video bytes");
    auto manifest = nlohmann::json::parse(capture.files.at("manifest.json"));
    CHECK(manifest["cases"][0]["attachments"][2]["name"] == "Протокол задержания.pdf");
}

TEST_CASE("summary.txt: named with its hash in the signed manifest, checked by verify") {
    crypto::init();
    Person alice("Alice");
    Keys lawyer;
    auto cases = sample_cases();
    const bundle::Summary summary{"СВОДКА ПО ДЕЛУ\n--------------\nИван П. задержан\n", "ru"};
    Bytes file;
    auto written = bundle::write_bundle(
        cases, alice.signer(), lawyer.to(), kNow,
        [&](ByteView b) -> Status {
            append(file, b);
            return {};
        },
        {}, summary);
    REQUIRE_MESSAGE(written, written.error().what());
    Capture capture;
    auto report = verify(file, lawyer, &capture);
    REQUIRE_MESSAGE(report, report.error().what());
    CHECK_MESSAGE(report->ok(), problems_of(*report));
    CHECK(report->summary_ok);
    CHECK(report->hashes_checked == 8);
    CHECK(capture.files.at("summary.txt") == summary.text);
    auto manifest = nlohmann::json::parse(capture.files.at("manifest.json"));
    CHECK(manifest["summary"]["path"] == "summary.txt");
    CHECK(manifest["summary"]["language"] == "ru");
    CHECK(manifest["summary"]["sha256"] ==
          crypto::hex_encode(crypto::sha256(as_bytes(summary.text))));
    // In the tar, right after manifest.json.
    auto entries = tartest::untar(decrypt(file, lawyer));
    REQUIRE(entries.size() > 3);
    CHECK(entries[1].name == "manifest.json");
    CHECK(entries[2].name == "summary.txt");

    // Altered (and SHA256SUMS fixed to match): the signed manifest still catches it.
    auto altered = tamper(file, lawyer, [](auto& e) {
        find(e, "summary.txt").data = "СВОДКА ПО ДЕЛУ\nИван П. освобождён\n";
        fix_sums(e);
    });
    auto r1 = verify(altered, lawyer);
    REQUIRE(r1);
    CHECK(has_problem(*r1, "summary.txt: differs from manifest.json"));
    CHECK_FALSE(r1->summary_ok);
    // Removed.
    auto removed = tamper(file, lawyer, [](auto& e) {
        std::erase_if(e, [](const auto& x) { return x.name == "summary.txt"; });
        fix_sums(e);
    });
    auto r2 = verify(removed, lawyer);
    REQUIRE(r2);
    CHECK(has_problem(*r2, "summary.txt: named in manifest.json but missing"));
    // Added to a bundle exported without one.
    auto plain = export_bundle(alice, lawyer);
    auto added = tamper(plain, lawyer, [](auto& e) {
        e.insert(e.begin() + 2, tartest::Entry{"summary.txt", "fake summary\n"});
        fix_sums(e);
    });
    auto r3 = verify(added, lawyer);
    REQUIRE(r3);
    CHECK(has_problem(*r3, "summary.txt: not named in manifest.json"));
    // A bundle without a summary is still sound (bundles made before it).
    auto r4 = verify(plain, lawyer);
    REQUIRE(r4);
    CHECK(r4->ok());
    CHECK_FALSE(r4->summary_ok);
}

TEST_CASE("an attachment that does not match its declared hash stops the export") {
    crypto::init();
    Person alice("Alice");
    Keys keys;
    auto cases = sample_cases();
    cases[0].attachments[0].sha256[0] ^= 1;
    auto r = bundle::write_bundle(cases, alice.signer(), keys.to(), kNow,
                                  [](ByteView) -> Status { return {}; });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == BundleErrc::hash_mismatch);
    cases = sample_cases();
    cases[0].attachments[1].size += 1;
    r = bundle::write_bundle(cases, alice.signer(), keys.to(), kNow,
                             [](ByteView) -> Status { return {}; });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == BundleErrc::hash_mismatch);
    // A signer whose function signs with another key than its card's.
    Person mallory("Mallory");
    bundle::Signer wrong{alice.card, mallory.signer().sign};
    r = bundle::write_bundle(sample_cases(), wrong, keys.to(), kNow,
                             [](ByteView) -> Status { return {}; });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == BundleErrc::bad_input);
}
