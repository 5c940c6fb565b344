// Carry attacks: a member who is not an admin reads his own home with its passphrase and writes
// what only admins may write about carrying objects to newcomers, then pushes it to the group's
// relay himself (his own kolokol would refuse to write it).
//
//   forge-carry ADDRESS HOME PASSFILE GROUP OBJECT [mark|copy]
//     mark: an ObjectOp marking OBJECT as carried to members added without history;
//     copy: a carried copy of OBJECT's current fields, as an admin writes at an add.
#include <fstream>
#include <iostream>

#include "command.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/transport/sync.hpp"
#include "node_access.hpp"
#include "records.hpp"

namespace kolokol::adversary {
namespace {

using storage::MailboxId;
using storage::RecordId;

// Holds one envelope of one mailbox, to hand to whoever lacks it.
class OneEnvelope final : public transport::Replica {
public:
    OneEnvelope(MailboxId mailbox, Bytes envelope)
        : m_mailbox(mailbox),
          m_id(storage::record_id_of(envelope)),
          m_envelope(std::move(envelope)) {}
    Result<std::vector<RecordId>> ids(const MailboxId& mailbox) override {
        if (mailbox != m_mailbox) return std::vector<RecordId>{};
        return std::vector<RecordId>{m_id};
    }
    Result<std::optional<Bytes>> get(const RecordId& id) override {
        if (id != m_id) return std::optional<Bytes>{};
        return std::optional<Bytes>(m_envelope);
    }
    Result<std::vector<bool>> put(const MailboxId&, std::span<const Bytes> envelopes) override {
        return std::vector<bool>(envelopes.size(), true);
    }
    const RecordId& id() const { return m_id; }

private:
    MailboxId m_mailbox;
    RecordId m_id;
    Bytes m_envelope;
};

std::string pass_of(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) throw std::runtime_error("cannot read " + path);
    return line;
}

int forge_carry(std::span<const std::string> args) {
    if (args.size() != 5 && args.size() != 6)
        usage_error("needs ADDRESS HOME PASSFILE GROUP OBJECT [mark|copy]");
    const std::string how = args.size() == 6 ? args[5] : "mark";
    if (how != "mark" && how != "copy") usage_error("the last argument is mark or copy");
    auto node = core::Node::open(args[1], as_bytes(pass_of(args[2])));
    if (!node) throw std::runtime_error("cannot open the store: " + node.error().message);
    auto group = (*node)->resolve_group(args[3]);
    if (!group) throw std::runtime_error("no group: " + group.error().message);
    auto id = (*node)->resolve_object(*group, args[4]);
    if (!id) throw std::runtime_error("no object: " + id.error().message);
    auto view = (*node)->object(*group, *id);
    if (!view) throw std::runtime_error("no object: " + view.error().message);

    pb::RecordBody body;
    auto* op = body.mutable_object();
    op->set_type(view->type);
    op->set_object_id(to_string(*id));
    if (how == "mark") {
        op->set_carry(pb::ObjectOp::CARRY);
    } else {
        op->set_carried(true);
        op->set_carry(pb::ObjectOp::CARRY);
        for (const auto& [name, value] : view->fields) (*op->mutable_set())[name] = value.value;
    }
    auto& impl = core::NodeTestAccess::impl(**node);
    auto epoch = impl.prepare(*group, body, std::nullopt);
    if (!epoch) throw std::runtime_error("cannot prepare: " + epoch.error().message);
    const auto* keys = impl.keys_for_epoch(*epoch);
    if (!keys) throw std::runtime_error("no keys for the writer epoch");
    OneEnvelope replica(keys->mailbox, impl.seal(body, *epoch));
    std::vector<transport::MailboxKey> open;
    open.push_back(transport::MailboxKey::from_seed(keys->mailbox_seed.view()));
    auto r = transport::sync_with(args[0], std::move(open), replica);
    if (!r) throw std::runtime_error("sync failed: " + r.error().message);
    std::cout << "forged " << how << " " << crypto::hex_encode(replica.id()) << ": " << r->sent
              << " sent, " << r->peer_rejected << " declined\n";
    return r->sent == 1 ? 0 : 1;
}

const Registration forge_carry_reg{
    {"forge-carry",
     "ADDRESS HOME PASSFILE GROUP OBJECT [mark|copy] — as HOME's member, mark OBJECT as carried "
     "to newcomers (or write a carried copy of it) and push it to the relay at ADDRESS",
     forge_carry}};

}  // namespace
}  // namespace kolokol::adversary
