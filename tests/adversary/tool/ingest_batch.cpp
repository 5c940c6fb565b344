// Crafted ingest batches: a member writes a sync file of records that every member must refuse,
// beside the records he holds, in one large batch (opened on every core, signatures checked on
// workers while records are applied) or one record a chunk (the one-by-one path), so a test can
// compare the two.
//   forge-batch — records claiming the group's creator with a signature by another key, records
//                 naming another group or epoch than the key they are sealed under, and records
//                 by strangers, all on the group's current heads.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>

#include "command.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "node_access.hpp"
#include "records.hpp"
#include "syncfile.pb.h"

namespace kolokol::adversary {
namespace {

using core::EpochKeys;
using core::GroupId;
using storage::RecordId;

// What a record written now stands on: the group's heads (with their epochs) and its control
// heads, and the largest Lamport clock among them.
struct Heads {
    std::vector<std::pair<RecordId, std::optional<core::EpochId>>> parents;
    std::vector<RecordId> control;
    std::uint64_t lamport = 0;
};

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) throw std::runtime_error("cannot read " + path);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

void put_length(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// Record `i` of the batch, sealed under `keys`: kind i % 4 — 0 the creator's name on a
// signature by another key, 1 another group's id, 2 another epoch's id, 3 a stranger's own.
Bytes forged_record(std::size_t i, const EpochKeys& keys, const core::MemberKey& creator,
                    const Heads& heads, crypto::Random& random) {
    auto signer = crypto::sign_keypair();
    pb::RecordBody body;
    body.set_group_id(to_string(i % 4 == 1 ? to_array<32>(random.bytes(32)) : keys.group_id));
    body.set_epoch_id(to_string(i % 4 == 2 ? to_array<32>(random.bytes(32)) : keys.epoch_id));
    body.set_author(to_string(i % 4 == 0 ? creator : signer.public_key));
    body.set_seq(1);
    body.set_lamport(heads.lamport + 1 + i);
    body.set_wall_clock_ms(unix_ms());
    for (const auto& [id, epoch] : heads.parents) {
        auto* ref = body.add_parents();
        ref->set_id(to_string(id));
        if (epoch) ref->set_epoch_id(to_string(*epoch));
    }
    for (const auto& h : heads.control) body.add_control_heads(to_string(h));
    body.mutable_message()->set_text("forged " + std::to_string(i));
    return core::seal_record(body, signer.secret_key, keys, random);
}

int forge_batch(std::span<const std::string> args) {
    if (args.size() != 5 && !(args.size() == 6 && args[5] == "--split"))
        usage_error("needs HOME PASSFILE GROUP OUT N [--split]");
    const auto count = number(args[4], "N");
    if (count == 0 || count > 20000) usage_error("N must be 1…20000");
    const bool split = args.size() == 6;
    const auto pass = first_line(args[1]);
    auto node = core::Node::open(args[0], as_bytes(pass));
    if (!node) throw std::runtime_error("cannot open the store: " + node.error().message);
    std::optional<GroupId> group;
    for (const auto& g : (*node)->groups())
        if (g.name == args[2]) group = g.id;
    if (!group) throw std::runtime_error("no group " + args[2]);
    auto& impl = core::NodeTestAccess::impl(**node);
    const auto creator = impl.genesis.at(*group).creator;
    Heads heads;
    for (const auto& p : impl.group_heads(*group, &heads.lamport)) {
        auto row = impl.record_row(p);
        heads.parents.emplace_back(p,
                                   row ? std::optional<core::EpochId>(row->epoch) : std::nullopt);
    }
    for (const auto& h : impl.state(*group).heads()) {
        heads.control.push_back(h);
        if (auto row = impl.record_row(h)) heads.lamport = std::max(heads.lamport, row->lamport);
    }
    std::vector<const EpochKeys*> keys;
    for (const auto& [mailbox, k] : impl.epochs)
        if (k.group_id == *group && k.content_key) keys.push_back(&k);
    if (keys.empty()) throw std::runtime_error("the store holds no content key of the group");

    auto& random = crypto::system_random();
    const auto salt = random.bytes(32);
    std::string file = "KKSYNC01";
    pb::SyncFileHeader header;
    header.set_version(1);
    header.set_salt(to_string(salt));
    auto h = header.SerializeAsString();
    put_length(file, static_cast<std::uint32_t>(h.size()));
    file += h;
    auto chunk_of = [&](const EpochKeys& k, const pb::EnvelopeBatch& batch) {
        auto tag = crypto::blake2b(32, salt, k.file_key.view());
        Bytes ad = salt;
        append(ad, tag);
        auto nonce = random.bytes(24);
        pb::SyncFileChunk chunk;
        chunk.set_key_tag(to_string(tag));
        chunk.set_nonce(to_string(nonce));
        chunk.set_ciphertext(to_string(crypto::xchacha_seal(k.file_key.view(), nonce, ad,
                                                            as_bytes(batch.SerializeAsString()))));
        auto c = chunk.SerializeAsString();
        put_length(file, static_cast<std::uint32_t>(c.size()));
        file += c;
    };
    std::size_t genuine = 0;
    for (const auto* k : keys) {
        pb::EnvelopeBatch batch;
        auto add = [&](const Bytes& envelope) {
            batch.add_envelopes(to_string(envelope));
            if (split) {
                chunk_of(*k, batch);
                batch.Clear();
            }
        };
        for (std::size_t i = 0; i < count; ++i) add(forged_record(i, *k, creator, heads, random));
        // Then everything HOME holds in the epoch, which every member must take as before.
        auto held = impl.envelopes->ids(k->mailbox);
        if (!held) throw std::runtime_error("cannot list the store's envelopes");
        for (const auto& id : *held)
            if (auto e = impl.envelopes->get(id); e && *e) {
                add(**e);
                ++genuine;
            }
        if (!split && batch.envelopes_size() > 0) chunk_of(*k, batch);
    }
    write_file_or_stdout(args[3], file);
    std::printf("%lu forged records in each of %zu epochs and %zu held ones, %s\n", count,
                keys.size(), genuine, split ? "one a chunk" : "one chunk an epoch");
    return 0;
}

const Registration forge_batch_reg{
    {"forge-batch",
     "HOME PASSFILE GROUP OUT N [--split] — as the member whose store is HOME, write a sync file "
     "of N records in each epoch of GROUP they can write in, on the group's heads, that every "
     "member must refuse: the creator's name on another key's signature, another group's or "
     "epoch's id, a stranger's own; then every envelope HOME holds in that epoch; in one chunk "
     "an epoch (one large ingest batch) or, with --split, one record a chunk",
     forge_batch}};

}  // namespace
}  // namespace kolokol::adversary
