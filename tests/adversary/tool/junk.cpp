// Junk storage: fill a member's disk with what they can never use.
//   junk-sync-file  — a removed member's sync file, sealed with the old file keys they still hold,
//                     full of envelopes for random mailboxes, of noise in the epochs' own
//                     mailboxes, or of records that wait forever for references nobody has.
//   junk-relay      — a hostile relay: every mailbox a client opens holds megabytes of noise,
//                     fed to it by FetchAll or reconciliation like any relay's envelopes.
//   junk-push       — a removed member pushes noise into a member's `serve` through the old
//                     mailboxes they still hold keys to.
#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>

#include "command.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/relay/relay.hpp"
#include "kolokol/transport/sync.hpp"
#include "node_access.hpp"
#include "records.hpp"
#include "syncfile.pb.h"

namespace kolokol::adversary {
namespace {

using core::EpochKeys;
using storage::MailboxId;
using storage::RecordId;

constexpr std::size_t kChunkPlain = 1 << 20;  // what an honest writer puts in one chunk
// The hostile relay's noise envelopes: the largest a member asks for from an epoch it holds
// without the secret (Open.max_envelope_bytes), so the noise reaches late joiners too.
constexpr std::size_t kRelayNoiseBytes = 49'152;

std::uint64_t mib_arg(const std::string& text) {
    std::size_t used = 0;
    unsigned long long v = 0;
    try {
        v = std::stoull(text, &used);
    } catch (const std::exception&) {
        usage_error("MIB must be a number");
    }
    if (used != text.size() || v == 0 || v > 4096) usage_error("MIB must be 1…4096");
    return v << 20;
}

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) throw std::runtime_error("cannot read " + path);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// Noise addressed to `mailbox`: an envelope of the right shape that opens under no key.
Bytes noise_envelope(const MailboxId& mailbox, std::size_t size, crypto::Random& random) {
    Bytes e;
    e.reserve(size);
    e.push_back(storage::kEnvelopeVersion);
    append(e, mailbox);
    auto rest = random.bytes(size - e.size());
    append(e, rest);
    return e;
}

// A record by a stranger (a fresh key) in an old epoch, properly sealed and signed, whose
// control head is an id nothing has: whoever opens it must hold it until that id comes.
Bytes waiting_record(const EpochKeys& keys, bool control, std::size_t text_bytes,
                     crypto::Random& random) {
    auto author = crypto::sign_keypair();
    pb::RecordBody body;
    body.set_group_id(to_string(keys.group_id));
    body.set_epoch_id(to_string(keys.epoch_id));
    body.set_author(to_string(author.public_key));
    body.set_seq(1);
    body.set_lamport(1 + random.uniform(1u << 30));
    body.set_wall_clock_ms(1);
    body.add_control_heads(to_string(random.bytes(32)));
    if (control) {
        body.mutable_settings()->set_name(std::string(std::min<std::size_t>(text_bytes, 128), 'j'));
    } else {
        body.mutable_message()->set_text(
            std::string(std::min(text_bytes, core::kMaxMessageBytes), 'j'));
    }
    return core::seal_record(body, author.secret_key, keys, random);
}

void put_length(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

int junk_sync_file(std::span<const std::string> args) {
    if (args.size() != 5) usage_error("needs HOME PASSFILE OUT MIB KIND");
    const std::string& kind = args[4];
    if (kind != "foreign" && kind != "unopenable" && kind != "tiny" && kind != "waiting")
        usage_error("KIND is foreign, unopenable, tiny or waiting");
    const auto target = mib_arg(args[3]);
    const auto pass = first_line(args[1]);
    auto node = core::Node::open(args[0], as_bytes(pass));
    if (!node) throw std::runtime_error("cannot open the store: " + node.error().message);
    auto& impl = core::NodeTestAccess::impl(**node);
    // Every file key this member holds: the old ones survive a removal.
    std::vector<const EpochKeys*> keys;
    for (const auto& [mailbox, k] : impl.epochs)
        if (kind != "waiting" || k.content_key) keys.push_back(&k);
    if (keys.empty()) throw std::runtime_error("the store holds no usable epoch key");

    auto& random = crypto::system_random();
    const auto salt = random.bytes(32);
    std::string file = "KKSYNC01";
    pb::SyncFileHeader header;
    header.set_version(1);
    header.set_salt(to_string(salt));
    auto h = header.SerializeAsString();
    put_length(file, static_cast<std::uint32_t>(h.size()));
    file += h;
    std::ofstream out(args[2], std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));

    std::uint64_t written = 0, envelopes = 0;
    for (std::size_t turn = 0; written < target; ++turn) {
        const auto& k = *keys[turn % keys.size()];
        pb::EnvelopeBatch batch;
        std::size_t plain = 0;
        while (plain < kChunkPlain && written + plain < target) {
            Bytes e;
            if (kind == "foreign")
                e = noise_envelope(to_array<32>(random.bytes(32)), storage::kEnvelopeMaxBytes,
                                   random);
            else if (kind == "unopenable")
                e = noise_envelope(k.mailbox, storage::kEnvelopeMaxBytes, random);
            else if (kind == "tiny")
                e = noise_envelope(k.mailbox, storage::kEnvelopeMinBytes, random);
            else
                e = waiting_record(k, envelopes % 2 == 1, 16 * 1024, random);
            plain += e.size();
            batch.add_envelopes(to_string(e));
            ++envelopes;
        }
        written += plain;
        auto tag = crypto::blake2b(32, salt, k.file_key.view());
        Bytes ad = salt;
        append(ad, tag);
        auto nonce = random.bytes(24);
        pb::SyncFileChunk chunk;
        chunk.set_key_tag(to_string(tag));
        chunk.set_nonce(to_string(nonce));
        chunk.set_ciphertext(to_string(crypto::xchacha_seal(k.file_key.view(), nonce, ad,
                                                            as_bytes(batch.SerializeAsString()))));
        std::string framed;
        auto c = chunk.SerializeAsString();
        put_length(framed, static_cast<std::uint32_t>(c.size()));
        framed += c;
        out.write(framed.data(), static_cast<std::streamsize>(framed.size()));
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + args[2]);
    std::printf("%llu envelopes, %llu bytes of junk under %zu file keys\n",
                static_cast<unsigned long long>(envelopes),
                static_cast<unsigned long long>(written), keys.size());
    return 0;
}

// The hostile relay's store: for every mailbox asked about, `per_mailbox` bytes of noise
// envelopes. Each is remade from (mailbox, index) when asked for, so the relay's memory holds
// only their ids (an id is the hash of the bytes, so each is made once up front to learn it).
// What clients push is taken and thrown away.
class JunkReplica final : public transport::Replica {
public:
    explicit JunkReplica(std::uint64_t per_mailbox) : m_per_mailbox(per_mailbox) {}

    Result<std::vector<RecordId>> ids(const MailboxId& mailbox) override {
        std::lock_guard lock(m_mutex);
        return fill(mailbox);
    }
    Result<std::optional<Bytes>> get(const RecordId& id) override {
        std::lock_guard lock(m_mutex);
        auto it = m_where.find(id);
        if (it == m_where.end()) return std::optional<Bytes>{};
        return std::optional<Bytes>(make(it->second.first, it->second.second));
    }
    Result<std::vector<bool>> put(const MailboxId&, std::span<const Bytes> envelopes) override {
        return std::vector<bool>(envelopes.size(), true);
    }

private:
    static Bytes make(const MailboxId& mailbox, std::uint64_t index) {
        Bytes seed(mailbox.begin(), mailbox.end());
        put_u64be(seed, index);
        const auto h = crypto::blake2b_256(seed);
        std::uint64_t s = 0;
        for (int i = 0; i < 8; ++i) s = (s << 8) | h[static_cast<std::size_t>(i)];
        crypto::DeterministicRandom random(s);
        return noise_envelope(mailbox, kRelayNoiseBytes, random);
    }
    const std::vector<RecordId>& fill(const MailboxId& mailbox) {
        auto& ids = m_ids[mailbox];
        if (!ids.empty()) return ids;
        std::uint64_t index = 0;
        for (std::uint64_t made = 0; made < m_per_mailbox; made += kRelayNoiseBytes) {
            auto id = storage::record_id_of(make(mailbox, index));
            m_where[id] = {mailbox, index++};
            ids.push_back(id);
        }
        std::sort(ids.begin(), ids.end());
        std::fprintf(stderr, "junk-relay: %zu envelopes of noise for a mailbox\n", ids.size());
        return ids;
    }

    std::uint64_t m_per_mailbox;
    std::mutex m_mutex;
    std::map<MailboxId, std::vector<RecordId>> m_ids;
    std::map<RecordId, std::pair<MailboxId, std::uint64_t>> m_where;
};

int junk_relay(std::span<const std::string> args) {
    if (args.size() != 2) usage_error("needs LISTEN MIB");
    auto endpoint = transport::parse_listen_address(args[0]);
    if (!endpoint) usage_error("LISTEN is HOST:PORT");
    JunkReplica replica(mib_arg(args[1]));
    asio::io_context io;
    crypto::BoxKeyPair key;
    key.secret_key = crypto::SecretBytes::copy_of(crypto::system_random().bytes(32));
    key.public_key = crypto::x25519_base(key.secret_key.view());
    // No admission policy: like any relay, it serves whatever mailbox a client proves a key for.
    transport::SyncServer server(io.get_executor(), std::move(key), replica,
                                 transport::ServerOptions{}, transport::ServeOptions{});
    if (auto ok = server.listen(*endpoint); !ok)
        throw std::runtime_error("cannot listen: " + ok.error().message);
    server.start();
    std::cout << server.address().to_string() << std::endl;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code&, int) {
        server.stop();
        io.stop();
    });
    io.run();
    return 0;
}

// As the removed member whose store is HOME: open every mailbox they still hold a key to on a
// member's `kolokol serve` (or a relay) and push noise into each, as a peer with envelopes the
// other lacks would.
int junk_push(std::span<const std::string> args) {
    if (args.size() != 4) usage_error("needs ADDRESS HOME PASSFILE MIB");
    const auto pass = first_line(args[2]);
    auto node = core::Node::open(args[1], as_bytes(pass));
    if (!node) throw std::runtime_error("cannot open the store: " + node.error().message);
    auto keys = (*node)->mailbox_keys();
    JunkReplica replica(mib_arg(args[3]));
    crypto::BoxKeyPair local;
    local.secret_key = crypto::SecretBytes::copy_of(crypto::system_random().bytes(32));
    local.public_key = crypto::x25519_base(local.secret_key.view());
    auto r = transport::sync_with(args[0], local, std::move(keys), replica);
    if (!r) throw std::runtime_error("sync failed: " + r.error().message);
    std::printf("pushed: %llu stored, %llu declined by the peer, %llu mailboxes opened\n",
                static_cast<unsigned long long>(r->sent),
                static_cast<unsigned long long>(r->peer_rejected),
                static_cast<unsigned long long>(r->mailboxes_opened));
    return 0;
}

const Registration sync_file_reg{
    {"junk-sync-file",
     "HOME PASSFILE OUT MIB KIND — as the (removed) member whose store is HOME, write a sync "
     "file of MIB MiB of junk under every file key they hold; KIND: foreign (envelopes for "
     "random mailboxes), unopenable (noise in each epoch's own mailbox), tiny (the same in the "
     "smallest envelopes) or waiting (records by strangers whose control head exists nowhere)",
     junk_sync_file}};
const Registration relay_reg{
    {"junk-relay",
     "LISTEN MIB — a relay that holds MIB MiB of noise in every mailbox a client opens and hands "
     "it out by FetchAll and reconciliation; prints its address, runs until killed",
     junk_relay}};
const Registration push_reg{
    {"junk-push",
     "ADDRESS HOME PASSFILE MIB — as the (removed) member whose store is HOME, open every mailbox "
     "they hold a key to at ADDRESS (a member's serve, a relay) and push MIB MiB of noise into "
     "each",
     junk_push}};

}  // namespace
}  // namespace kolokol::adversary
