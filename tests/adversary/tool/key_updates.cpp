// Key updates made with a member's signing key elsewhere (docs/design.md §5.13): a copy of the
// member's home (seized, passphrase known) writes one more key update on the member's chain.
//
//   forge-key-update HOME PASSFILE GROUP [BOX_KEY]
//
// The record is an ordinary one, sealed by the library as `kolokol rekey` seals its own: signed
// with the home's identity, sealed in the epoch of the member's newest key update (with its
// control key, which is all the copy may hold of that epoch), one past that record, which must
// be the newest on the member's chain. Its parents and control heads are that key update alone,
// so it is concurrent with anything written after it (a rotation the key update caused). It
// names BOX_KEY (hex), by default the newest per-group key whose secret the home holds, and
// adds no key to the home. It is stored in the home as the home's own record, so the home's
// next `kolokol sync` sends it like any other.
#include <fstream>
#include <iostream>

#include "command.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "node_access.hpp"
#include "record_store.hpp"
#include "records.hpp"

namespace kolokol::adversary {
namespace {

int forge_key_update(std::span<const std::string> args) {
    if (args.size() != 3 && args.size() != 4) usage_error("expects HOME PASSFILE GROUP [BOX_KEY]");
    std::string pass;
    {
        std::ifstream in(args[1]);
        if (!std::getline(in, pass)) throw std::runtime_error("cannot read " + args[1]);
    }
    auto opened = core::Node::open(args[0], as_bytes(pass));
    if (!opened) throw std::runtime_error("cannot open " + args[0] + ": " + opened.error().what());
    auto& node = **opened;
    auto& m = core::NodeTestAccess::impl(node);
    auto group = node.resolve_group(args[2]);
    if (!group) throw std::runtime_error(group.error().what());
    const auto me = node.me();

    // The key to name.
    crypto::BoxPublicKey box{};
    if (args.size() == 4) {
        auto key = crypto::hex_decode(args[3]);
        if (!key || key->size() != 32) usage_error("BOX_KEY is 32 bytes in hex");
        box = to_array<32>(ByteView(*key));
    } else {
        auto held = m.held_box_keys(&*group);
        if (!held) throw std::runtime_error(held.error().what());
        if (held->empty()) {
            std::cerr << "the home holds no per-group key of this group\n";
            return 1;
        }
        box = held->front().pair.public_key;  // newest first
    }

    // The member's newest key update, which must be the newest record on the chain (the new
    // record follows it: one past it, no fork).
    auto last = m.records.last_by(*group, me);
    if (!last) throw std::runtime_error(last.error().what());
    if (!*last) {
        std::cerr << "the home holds no record of its own in this group\n";
        return 1;
    }
    auto newest = m.db.prepare(
        "SELECT coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM "
        "envelopes e WHERE e.seq = r.n)) FROM records r WHERE group_n = (SELECT n FROM "
        "record_keys WHERE key = ?) AND "
        "author_n = (SELECT n FROM record_keys WHERE key = ?) AND kind = ? "
        "ORDER BY seq DESC LIMIT 1");
    if (!newest) throw std::runtime_error(newest.error().what());
    newest->bind(1, ByteView(*group))
        .bind(2, ByteView(me))
        .bind(3, static_cast<std::int64_t>(core::RecordKind::key_update));
    auto found = newest->step();
    if (!found) throw std::runtime_error(found.error().what());
    if (!*found || to_array<32>(newest->column_blob(0)) != (*last)->id) {
        std::cerr << "the newest record on the member's chain is not a key update\n";
        return 1;
    }
    newest->reset();
    const core::RecordRow& on = **last;

    // The header as prepare() fills it, but on the key update alone and in its epoch, of which
    // the copy may hold only the control key (a key update is a control record): the copy
    // needs no key newer than the one its member used last.
    const auto* keys = m.keys_for_epoch(on.epoch);
    if (!keys) {
        std::cerr << "the home holds no key of the key update's epoch\n";
        return 1;
    }
    pb::RecordBody body;
    body.mutable_key_update()->set_box_key(to_string(box));
    body.set_group_id(to_string(*group));
    body.set_epoch_id(to_string(on.epoch));
    body.set_author(to_string(me));
    body.set_seq(on.seq + 1);
    body.mutable_prev()->set_id(to_string(on.id));
    body.mutable_prev()->set_epoch_id(to_string(on.epoch));
    auto* parent = body.add_parents();
    parent->set_id(to_string(on.id));
    parent->set_epoch_id(to_string(on.epoch));
    body.add_control_heads(to_string(on.id));
    body.set_lamport(on.lamport + 1);
    body.set_wall_clock_ms(unix_ms());

    Bytes one[] = {core::seal_record(body, m.identity.sign.secret_key, *keys, *m.random)};
    const auto id = storage::record_id_of(one[0]);
    auto report = m.ingest(one);
    if (!report) throw std::runtime_error(report.error().what());
    if (report->added != 1) {
        std::cerr << "the home did not take the record as its own (see `kolokol rejected`)\n";
        return 1;
    }
    std::cout << "record " << crypto::hex_encode(id) << "\n";
    std::cout << "seq " << body.seq() << "\n";
    std::cout << "box-key " << crypto::hex_encode(box) << "\n";
    return 0;
}

const Registration reg_forge_key_update{
    {"forge-key-update",
     "HOME PASSFILE GROUP [BOX_KEY] — as a copy of a member's home: writes a key update one "
     "past the member's newest key update, on it alone, signed with the home's identity and "
     "sealed in that record's epoch, naming BOX_KEY (hex; by default the newest per-group key "
     "the home holds the secret of), and stores it in the home, whose next sync sends it; "
     "prints \"record ID\", \"seq N\" and \"box-key HEX\"",
     forge_key_update}};

}  // namespace
}  // namespace kolokol::adversary
