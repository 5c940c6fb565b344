// Writes the seed corpora in fuzz/corpus/<target>/ from the real encoders, so the seeds follow
// the formats as they change. Run from the repository root after a format change:
//   build-fuzz/fuzz/fuzz_gen_corpus fuzz/corpus
// and commit what changed. Seeds are small: the fuzzers grow their own corpora from them.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "epoch_keys.hpp"
#include "kolokol/age/encryptor.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/init.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/envelope.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/lan_beacon.hpp"
#include "kolokol/transport/reconcile.hpp"
#include "kolokol/transport/sync_types.hpp"
#include "noise_common.hpp"
#include "records.hpp"
#include "recovery_fixture.hpp"
#include "sync.pb.h"

using namespace kolokol;
namespace fs = std::filesystem;

namespace {

fs::path g_out;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "gen_corpus: %s\n", what.c_str());
    std::exit(1);
}

void put(const std::string& target, const std::string& name, ByteView bytes) {
    fs::create_directories(g_out / target);
    std::ofstream f(g_out / target / name, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    if (!f) die("cannot write " + target + "/" + name);
}
void put(const std::string& target, const std::string& name, std::string_view text) {
    put(target, name, as_bytes(text));
}
Bytes read_all(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
}

core::EpochKeys fixed_keys() {  // as in record.cpp
    ByteArray<32> group{}, epoch{}, secret{};
    group.fill(1);
    epoch.fill(2);
    secret.fill(3);
    return core::EpochKeys::from_secret(group, epoch, secret);
}

void records() {
    auto keys = fixed_keys();
    auto author = crypto::sign_keypair();
    pb::RecordBody body;
    body.set_group_id(to_string(keys.group_id));
    body.set_epoch_id(to_string(keys.epoch_id));
    body.set_author(to_string(author.public_key));
    body.set_seq(1);
    body.set_lamport(1);
    body.set_wall_clock_ms(1700000000000);
    body.mutable_message()->set_text("hello");
    crypto::DeterministicRandom r(1);
    Bytes env = core::seal_record(body, author.secret_key, keys, r);
    Bytes mode0{0};
    append(mode0, env);
    put("record", "envelope", mode0);
    auto view = storage::parse_envelope(env);
    auto plain =
        crypto::xchacha_open(keys.content_key->view(), view->nonce, view->header, view->ciphertext);
    if (!plain) die("cannot reopen the record");
    Bytes mode1{1};
    append(mode1, *plain);
    put("record", "signed_record", mode1);
    // A key update (docs/design.md §5.13): sealed under the control key.
    body.mutable_key_update()->set_box_key(std::string(32, 'k'));
    Bytes key_update{0};
    append(key_update, core::seal_record(body, author.secret_key, keys, r));
    put("record", "key_update", key_update);
}

void sync_frames() {
    auto frame = [](const std::string& name, const pb::SyncFrame& f) {
        put("sync_frame", name, f.SerializeAsString());
    };
    pb::SyncFrame f;
    f.mutable_hello()->set_version(transport::kSyncVersion);
    f.mutable_hello()->set_window_bytes(1 << 20);
    f.mutable_hello()->set_max_reconciliations(4);
    f.mutable_hello()->set_max_wants(1024);
    frame("hello", f);
    f.Clear();
    f.mutable_open()->set_mailbox(std::string(32, 'm'));
    f.mutable_open()->set_public_key(std::string(32, 'k'));
    f.mutable_open()->set_signature(std::string(64, 's'));
    f.mutable_open()->set_live(true);
    frame("open", f);
    f.Clear();
    f.mutable_want()->set_mailbox(std::string(32, 'm'));
    for (int i = 0; i < 3; ++i) f.mutable_want()->add_ids(std::string(32, static_cast<char>(i)));
    frame("want", f);
    f.Clear();
    f.mutable_envelopes()->set_mailbox(std::string(32, 'm'));
    f.mutable_envelopes()->add_envelopes(std::string(100, 'e'));
    f.mutable_envelopes()->set_flush(true);
    frame("envelopes", f);
    f.Clear();
    f.mutable_reconcile()->set_mailbox(std::string(32, 'm'));
    f.mutable_reconcile()->set_message(std::string(1, '\1'));
    frame("reconcile", f);
    f.Clear();
    f.mutable_ping();
    frame("ping", f);
    f.Clear();
    f.mutable_fetch_all()->set_mailbox(std::string(32, 'm'));
    f.mutable_fetch_all()->add_have(std::string(32, 'h'));
    frame("fetch_all", f);
    f.Clear();
    f.mutable_fetched()->set_mailbox(std::string(32, 'm'));
    f.mutable_fetched()->set_total(3);
    f.mutable_fetched()->set_done(true);
    f.mutable_fetched()->add_lacking(std::string(32, 'h'));
    frame("fetched", f);
}

void reconciliation() {  // ids as in reconcile.cpp; the initiator holds a shifted subset
    std::vector<transport::RecordId> ids;
    for (std::uint32_t i = 150; i < 400; ++i)
        ids.push_back(crypto::blake2b_256(
            Bytes{static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)}));
    transport::Reconciler a(transport::Reconciler::Role::initiator, ids);
    auto m = a.initiate();
    if (!m) die("initiate");
    put("reconcile", "initiate", *m);
    transport::Reconciler small(transport::Reconciler::Role::initiator,
                                std::vector<transport::RecordId>(ids.begin(), ids.begin() + 5));
    auto s = small.initiate();
    if (!s) die("initiate");
    put("reconcile", "initiate_small", *s);
    transport::Reconciler empty(transport::Reconciler::Role::initiator, {});
    put("reconcile", "initiate_empty", *empty.initiate());
}

void noise() {
    auto initiator = fuzz::handshake(transport::noise::Role::initiator);
    auto responder = fuzz::handshake(transport::noise::Role::responder);
    auto m1 = initiator.write_message(fuzz::offer());
    put("noise_msg1", "msg1", *m1);
    if (!responder.read_message(*m1)) die("msg1");
    auto m2 = responder.write_message(
        transport::encode_version_answer({transport::kProtocolVersion, {1}}));
    put("noise_msg2", "msg2", *m2);
    if (!initiator.read_message(*m2)) die("msg2");
    auto m3 = initiator.write_message({});
    put("noise_msg3", "msg3", *m3);
}

void age_files() {
    crypto::DeterministicRandom idr(7);  // as in age_header.cpp
    auto id = age::X25519Identity::generate(idr);
    auto recipient = id.recipient();
    for (std::size_t n : {std::size_t{0}, std::size_t{100}, std::size_t{65600}}) {
        Bytes file;
        crypto::DeterministicRandom r(n);
        age::EncryptOptions o;
        o.random = &r;
        o.threads = 1;
        auto sink = [&file](ByteView b) -> Status {
            append(file, b);
            return {};
        };
        auto e = age::Encryptor::to_recipients(std::span(&recipient, 1), sink, o);
        if (!e) die("age");
        // An empty write is skipped: Encryptor::write(empty) passes a null pointer to memcpy
        // (UBSan, core/age/src/encryptor.cpp), reported to the age module's owner.
        if (n != 0 && !e->write(Bytes(n, 'a'))) die("age write");
        if (!e->finish()) die("age finish");
        put("age_header", "x25519_" + std::to_string(n), file);
        const std::string_view marker = "\n--- ";
        auto it = std::search(file.begin(), file.end(), marker.begin(), marker.end());
        auto nl = std::find(it + 1, file.end(), '\n');
        put("age_stream", "payload_" + std::to_string(n), Bytes(nl + 1, file.end()));
    }
    Bytes file;
    crypto::DeterministicRandom r(9);
    age::EncryptOptions o;
    o.random = &r;
    o.threads = 1;
    o.scrypt_work_factor = 2;
    auto e = age::Encryptor::with_passphrase(
        as_bytes(std::string_view("fuzz")),
        [&file](ByteView b) -> Status {
            append(file, b);
            return {};
        },
        o);
    if (!e || !e->write(Bytes(10, 'p')) || !e->finish()) die("age scrypt");
    put("age_header", "scrypt", file);
}

void node_files() {
    char tmpl[] = "/tmp/kolokol-gencorpus-XXXXXX";
    if (!::mkdtemp(tmpl)) die("mkdtemp");
    const fs::path dir = tmpl;
    auto make = [&](const std::string& name) {
        core::InitOptions o;
        o.display_name = name;
        static constexpr std::string_view pass = "corpus passphrase";
        o.passphrase = as_bytes(pass);
        o.kdf = core::KdfProfile::fast;
        if (!core::Node::init(dir / name, o)) die("init");
        auto n = core::Node::open(dir / name, as_bytes(pass));
        if (!n) die("open");
        return std::move(*n);
    };
    auto alice = make("alice");
    auto bob = make("bob");
    put("keyfile", "keyfile", read_all(dir / "alice" / "store.key"));
    put("card", "card", core::card_to_text(bob->card()));
    auto g = alice->create_group("corpus");
    if (!g) die("group");
    auto token = alice->add_member(*g, core::card_to_text(bob->card()), false, false);
    if (!token) die("add");
    put("welcome", "welcome", *token);
    if (!alice->post(*g, "seed message")) die("post");
    const core::GroupId groups[] = {*g};
    if (!alice->write_sync_file(dir / "sync.kolokol", groups)) die("sync file");
    put("sync_file", "sync_file", read_all(dir / "sync.kolokol"));
    // The same file as armored parts, and one part cut short, for fuzz_sync_part.
    core::PartsWritten parts;
    if (!alice->write_sync_parts(dir / "armored", groups, {4096, true}, &parts)) die("parts");
    put("sync_part", "part1", read_all(parts.files.front()));
    auto first = read_all(parts.files.front());
    put("sync_part", "truncated", ByteView(first).first(first.size() / 2));
    alice.reset();
    bob.reset();
    fs::remove_all(dir);
}

// Beacons for fuzz_lan_beacon, whose recogniser holds keys 1, 2 and 3 (32 bytes of that value)
// and whose clock stands at kBeaconNowMs.
void lan_beacons() {
    constexpr std::int64_t kBeaconNowMs = 1'800'000'000'000;
    const auto window = transport::lan::window_of(kBeaconNowMs);
    const Bytes key1(transport::lan::kBeaconKeyBytes, 1), key4(transport::lan::kBeaconKeyBytes, 4);
    transport::lan::BeaconInfo info;
    info.port = 7420;
    info.address = {192, 168, 1, 20};
    for (std::size_t i = 0; i < info.key.size(); ++i) info.key[i] = static_cast<std::uint8_t>(i);
    auto beacon = [&](ByteView key, std::uint64_t w) {
        auto b = transport::lan::make_beacon(key, w, info, crypto::system_random());
        if (!b) die("make_beacon failed");
        return *b;
    };
    put("lan_beacon", "recognised", beacon(key1, window));
    put("lan_beacon", "previous_window", beacon(key1, window - 1));
    put("lan_beacon", "stale_window", beacon(key1, window - 5));
    put("lan_beacon", "unknown_key", beacon(key4, window));
    auto truncated = beacon(key1, window);
    truncated.pop_back();
    put("lan_beacon", "truncated", truncated);
}

void addresses() {
    put("address", "ipv4", "kolokol://127.0.0.1:7420/" + std::string(52, 'a'));
    put("address", "ipv6", "kolokol://[2001:db8::1]:443/" + std::string(52, 'b'));
    put("address", "dns", "kolokol://relay.example.org:65535/" + std::string(52, 'c'));
}

// Control-record DAGs for fuzz/group_fold.cpp, six bytes per record as that file describes:
// author | kind << 3, target or argument, heads mask, epoch, flags, claimed time.
void group_folds() {
    auto dag = [](const std::string& name, std::initializer_list<std::uint8_t> bytes) {
        put("group_fold", name, Bytes(bytes));
    };
    // Quorum 2 among three admins: a waiting add, its approval, a burn notice of the creator
    // with a cutoff and a detention time, its approval, the creator's concurrent removal of an
    // approver, a rotation.
    dag("quorum_burn", {0,          1,  0, 0, 1, 1,    // A adds B as an admin
                        0,          2,  1, 0, 1, 2,    // A adds C as an admin
                        5 << 3,     1,  1, 0, 0, 3,    // A sets the quorum to 2
                        0,          3,  1, 0, 0, 4,    // A proposes adding D
                        1 | 6 << 3, 3,  1, 0, 0, 5,    // B approves it
                        1 | 3 << 3, 0,  1, 0, 6, 6,    // B's burn notice for A
                        2 | 6 << 3, 5,  1, 0, 0, 7,    // C approves the notice
                        2 << 3,     2,  2, 0, 0, 8,    // A removes C, not having seen it
                        1 | 7 << 3, 14, 1, 0, 0, 9});  // B rotates for B, C and D
    // Quorum 1: two admins remove each other concurrently, then a rotation and a demotion.
    dag("mutual_removal", {0,          1, 0, 0, 1, 1,    // A adds B as an admin
                           2 << 3,     1, 1, 0, 0, 2,    // A removes B
                           1 | 2 << 3, 0, 2, 0, 0, 2,    // B removes A, concurrently
                           7 << 3,     1, 2, 0, 0, 3,    // A rotates
                           1 | 4 << 3, 0, 3, 1, 4, 4});  // B demotes A, in the new epoch
}

}  // namespace

// Social recovery: one seed per parser, each behind the byte that chooses it (recovery.cpp),
// made for the fixture's keys so that they open; and a truncated request.
void recovery() {
    const auto& f = fuzz::recovery_fixture();
    crypto::DeterministicRandom random(20);
    auto secret = core::new_recovery_secret(random);
    auto shares = core::split_recovery_secret(secret, f.member.public_key, 2, 3, random);
    if (!shares) die("recovery split");
    auto with = [](std::uint8_t selector, ByteView body) {
        Bytes out{selector};
        append(out, body);
        return out;
    };
    const auto text = core::request_text(f.request.request);
    put("recovery", "request", with(0, as_bytes(text)));
    put("recovery", "request_truncated", with(0, as_bytes(std::string_view(text).substr(0, 40))));
    put("recovery", "share", with(1, core::encode_share((*shares)[0]).view()));
    put("recovery", "offer",
        with(2,
             core::seal_share_for_holder((*shares)[0], f.holder.public_key, f.member.secret_key)));
    auto approval = core::approve_request(f.request.request, (*shares)[1]);
    if (!approval) die("recovery approval");
    put("recovery", "approval", with(3, *approval));
    auto kit = core::seal_recovery_kit(f.kit_key, f.split_id, f.member.public_key, 1,
                                       as_bytes("kit"), random);
    if (!kit) die("recovery kit");
    put("recovery", "kit", with(4, *kit));
}

int main(int argc, char** argv) {
    if (argc != 2) die("usage: fuzz_gen_corpus <corpus dir>");
    crypto::init();
    g_out = argv[1];
    records();
    sync_frames();
    reconciliation();
    noise();
    age_files();
    node_files();
    addresses();
    lan_beacons();
    group_folds();
    recovery();
    return 0;
}
