// Backup and restore of a member's store (`kolokol backup`, `kolokol restore`), and the health
// checks behind `kolokol doctor`. The backup format is proto/backup.proto inside an age file.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "backup.pb.h"
#include "group.pb.h"
#include "kolokol/age/decryptor.hpp"
#include "kolokol/age/encryptor.hpp"
#include "kolokol/age/error.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"
#include "kolokol/storage/envelope.hpp"
#include "kolokol/storage/output_file.hpp"
#include "kolokol/transport/address.hpp"
#include "node_impl.hpp"
#include "output_temp.hpp"
#include "schema.hpp"
#include "wire_out.hpp"

namespace kolokol::core {

namespace fs = std::filesystem;

namespace {
constexpr std::uint32_t kBackupVersion = 1;
constexpr std::size_t kMaxGroups = 4096;
constexpr std::size_t kMaxEpochsPerGroup = 65536;
// One row per key update this member made in a group, erased ones too (their rows stay):
// 65536 is seven years of key updates at the shortest rekey interval, one hour.
constexpr std::size_t kMaxBoxKeysPerGroup = 65536;
constexpr std::size_t kMaxRelays = 16;
// When the relay-list changes others wrote were received (§5.8): the latest ones of a group.
constexpr std::size_t kMaxRelayReceived = 4096;
constexpr std::size_t kMaxVerified = 100000;
constexpr std::size_t kMaxGenesisBytes = 4096;
constexpr std::size_t kMaxCardBytes = 4096;
constexpr std::size_t kIngestBatch = 1000;

// `literal` is a message literal (callers mark theirs with KOLOKOL_TEXT).
Error bad(const char* literal) {
    return make_error(CoreErrc::bad_input, literal);
}
// What failed (a message literal), with errno's text.
Error io_error(const char* literal) {
    return make_error(CoreErrc::io, "{}: {}", literal, std::string(std::strerror(errno)));
}
// As above, `literal` holding a "{}" for the path.
Error io_error(const char* literal, const fs::path& path) {
    const std::string why = std::strerror(errno);
    return make_error(CoreErrc::io, "{}: {}", make_error(CoreErrc::io, literal, path.string()),
                      why);
}

// A sealed secret column of the row `st` is on, opened into locked memory.
Result<crypto::SecretBytes> open_column(storage::Database& db, storage::Statement& st, int column,
                                        std::string_view name, ByteView row) {
    return db.open_secret(st.column_blob(column), secret_place(name, row));
}

// A backup in memory. Protobuf keeps strings in the ordinary heap, so the message holds no key:
// every key field is left empty there and held here, in locked memory, in the message's order
// (groups[i].epochs[j] is message.groups(i).epochs(j)). The plaintext is made from both in
// locked memory (encode) and split into both from it (Splitter), so no key ever lies in the
// heap, and no copy outlives its SecretBytes, which wipe themselves.
struct EpochSecrets {
    crypto::SecretBytes secret, control_key, mailbox_seed, file_key;
};
struct GroupSecrets {
    std::vector<EpochSecrets> epochs;
    std::vector<crypto::SecretBytes> box_keys;  // empty once erased
};
struct Plain {
    pb::Backup message;
    crypto::SecretBytes sign_secret, box_secret, transport_secret;
    std::vector<GroupSecrets> groups;
};

// Field numbers of proto/backup.proto.
constexpr std::uint32_t kBackupIdentity = 3, kBackupGroups = 4, kBackupEnvelopes = 6;
constexpr std::uint32_t kIdentitySign = 1, kIdentityBox = 2, kIdentityTransport = 5;
constexpr std::uint32_t kGroupEpochs = 4, kGroupBoxKeys = 6;
constexpr std::uint32_t kEpochSecret = 2, kEpochControl = 3, kEpochSeed = 4, kEpochFile = 5;
constexpr std::uint32_t kBoxKeySecret = 2;
constexpr std::uint32_t kLengthDelimited = 2;
// What a backup holds beside its envelopes — the identity, groups with their epochs and keys,
// verified marks — is read into locked memory: a file that says more is refused.
constexpr std::size_t kMaxKeysPartBytes = std::size_t{64} << 20;

// The backup's plaintext but its envelopes: the message's fields (which hold no key) with every
// key put back, into locked memory. The envelopes follow it in the file (encode_envelopes).
crypto::SecretBytes encode_keys_part(const Plain& p) {
    const auto& b = p.message;
    pb::Backup head;
    head.set_version(b.version());
    head.set_created_ms(b.created_ms());
    *head.mutable_verified() = b.verified();
    const std::string head_bytes = head.SerializeAsString();
    const std::string identity_bytes = b.identity().SerializeAsString();
    struct GroupBytes {
        std::string group;
        std::vector<std::string> epochs, box_keys;
    };
    std::vector<GroupBytes> groups;
    for (const auto& g : b.groups()) {
        pb::BackupGroup bare = g;
        bare.clear_epochs();
        bare.clear_box_keys();
        GroupBytes out{bare.SerializeAsString(), {}, {}};
        for (const auto& e : g.epochs()) out.epochs.push_back(e.SerializeAsString());
        for (const auto& k : g.box_keys()) out.box_keys.push_back(k.SerializeAsString());
        groups.push_back(std::move(out));
    }
    auto identity = [&](WireOut& o) {
        o.bytes(as_bytes(identity_bytes));
        o.field(kIdentitySign, p.sign_secret.view());
        o.field(kIdentityBox, p.box_secret.view());
        o.field(kIdentityTransport, p.transport_secret.view());
    };
    auto epoch = [&](WireOut& o, const std::string& bare, const EpochSecrets& k) {
        o.bytes(as_bytes(bare));
        o.field(kEpochSecret, k.secret.view());
        o.field(kEpochControl, k.control_key.view());
        o.field(kEpochSeed, k.mailbox_seed.view());
        o.field(kEpochFile, k.file_key.view());
    };
    auto box_key = [&](WireOut& o, const std::string& bare, const crypto::SecretBytes& k) {
        o.bytes(as_bytes(bare));
        o.field(kBoxKeySecret, k.view());
    };
    auto group = [&](WireOut& o, std::size_t i) {
        o.bytes(as_bytes(groups[i].group));
        for (std::size_t j = 0; j < groups[i].epochs.size(); ++j) {
            auto one = [&](WireOut& w) { epoch(w, groups[i].epochs[j], p.groups[i].epochs[j]); };
            o.header(kGroupEpochs, measured(one));
            one(o);
        }
        for (std::size_t j = 0; j < groups[i].box_keys.size(); ++j) {
            auto one = [&](WireOut& w) {
                box_key(w, groups[i].box_keys[j], p.groups[i].box_keys[j]);
            };
            o.header(kGroupBoxKeys, measured(one));
            one(o);
        }
    };
    auto all = [&](WireOut& o) {
        o.bytes(as_bytes(head_bytes));
        o.header(kBackupIdentity, measured(identity));
        identity(o);
        for (std::size_t i = 0; i < groups.size(); ++i) {
            o.header(kBackupGroups, measured([&](WireOut& w) { group(w, i); }));
            group(o, i);
        }
    };
    crypto::SecretBytes out(measured(all));
    WireOut into(out.data());
    all(into);
    return out;
}

Error unparsable() {
    return bad(KOLOKOL_TEXT("the backup does not parse: damaged, or not a Kolokol backup"));
}

// Splits one message: the fields `secrets` names go to their SecretBytes (the last one wins, as
// in protobuf), the others are appended to `bare`; `nested` sees the length-delimited fields it
// claims (returns true) and appends them itself.
template <class Nested>
Status split_message(ByteView data,
                     std::initializer_list<std::pair<std::uint32_t, crypto::SecretBytes*>> secrets,
                     std::string& bare, Nested&& nested) {
    std::size_t pos = 0;
    WireField f;
    for (;;) {
        auto r = next_field(data, pos, f, Node::kMaxBackupBytes);
        if (r == WireRead::end) return {};
        if (r != WireRead::field) return std::unexpected(unparsable());
        bool taken = false;
        for (const auto& [number, into] : secrets)
            if (f.number == number) {
                if (f.type != kLengthDelimited) return std::unexpected(unparsable());
                *into = crypto::SecretBytes::copy_of(f.value);
                taken = true;
            }
        if (taken) continue;
        auto n = nested(f, bare);
        if (!n) return std::unexpected(n.error());
        if (!*n) bare.append(reinterpret_cast<const char*>(f.raw.data()), f.raw.size());
    }
}
auto no_nested = [](const WireField&, std::string&) -> Result<bool> { return false; };

// The backup's fields but its envelopes, complete, in locked memory: split into the message
// (keys left out) and the keys.
Status split_keys_part(ByteView data, Plain& p) {
    std::string bare;
    std::size_t pos = 0;
    WireField f;
    bool identity = false;
    for (;;) {
        auto r = next_field(data, pos, f, Node::kMaxBackupBytes);
        if (r == WireRead::end) break;
        if (r != WireRead::field) return std::unexpected(unparsable());
        if (f.number == kBackupIdentity || f.number == kBackupGroups) {
            if (f.type != kLengthDelimited) return std::unexpected(unparsable());
        }
        if (f.number == kBackupIdentity) {
            // Protobuf would merge a second identity into the first; no backup holds two.
            if (identity) return std::unexpected(unparsable());
            identity = true;
            std::string id;
            auto ok = split_message(f.value,
                                    {{kIdentitySign, &p.sign_secret},
                                     {kIdentityBox, &p.box_secret},
                                     {kIdentityTransport, &p.transport_secret}},
                                    id, no_nested);
            if (!ok) return ok;
            append_field(bare, kBackupIdentity, id);
        } else if (f.number == kBackupGroups) {
            GroupSecrets keys;
            std::string group;
            auto nested = [&](const WireField& g, std::string& out) -> Result<bool> {
                if (g.number != kGroupEpochs && g.number != kGroupBoxKeys) return false;
                if (g.type != kLengthDelimited) return std::unexpected(unparsable());
                std::string one;
                if (g.number == kGroupEpochs) {
                    EpochSecrets e;
                    auto ok = split_message(g.value,
                                            {{kEpochSecret, &e.secret},
                                             {kEpochControl, &e.control_key},
                                             {kEpochSeed, &e.mailbox_seed},
                                             {kEpochFile, &e.file_key}},
                                            one, no_nested);
                    if (!ok) return std::unexpected(ok.error());
                    keys.epochs.push_back(std::move(e));
                } else {
                    crypto::SecretBytes secret;
                    auto ok = split_message(g.value, {{kBoxKeySecret, &secret}}, one, no_nested);
                    if (!ok) return std::unexpected(ok.error());
                    keys.box_keys.push_back(std::move(secret));
                }
                append_field(out, g.number, one);
                return true;
            };
            auto ok = split_message(f.value, {}, group, nested);
            if (!ok) return ok;
            append_field(bare, kBackupGroups, group);
            p.groups.push_back(std::move(keys));
        } else {
            bare.append(reinterpret_cast<const char*>(f.raw.data()), f.raw.size());
        }
    }
    // Parsing clears the message: the envelopes read before go into the parsed one.
    pb::Backup parsed;
    if (!parsed.ParseFromString(bare)) return std::unexpected(unparsable());
    parsed.mutable_envelopes()->Swap(p.message.mutable_envelopes());
    p.message = std::move(parsed);
    // Each group and each of its epochs and box keys came from one field of its own.
    if (static_cast<std::size_t>(p.message.groups_size()) != p.groups.size())
        return std::unexpected(unparsable());
    for (std::size_t i = 0; i < p.groups.size(); ++i) {
        const auto& g = p.message.groups(static_cast<int>(i));
        if (static_cast<std::size_t>(g.epochs_size()) != p.groups[i].epochs.size() ||
            static_cast<std::size_t>(g.box_keys_size()) != p.groups[i].box_keys.size())
            return std::unexpected(unparsable());
    }
    return {};
}

// Reads a backup's plaintext as it is decrypted, a piece at a time: the fields before the first
// envelope — every key of the backup — into a growing buffer in locked memory, the envelopes
// into the message (the heap: they are sealed already). Protobuf writes fields in the order of
// their numbers, so every backup has its envelopes (6) last; a file with another field after
// an envelope is refused, as a key there would have been read into the heap.
class Splitter {
public:
    explicit Splitter(Plain& out) : m_out(out) {}
    // In pieces: the first envelope is found before the locked buffer takes the next piece.
    static constexpr std::size_t kPiece = std::size_t{64} << 10;
    Status feed(ByteView data) {
        while (!data.empty()) {
            const auto n = std::min(data.size(), kPiece);
            if (auto ok = feed_piece(data.first(n)); !ok) return ok;
            data = data.subspan(n);
        }
        return {};
    }
    Status finish() {
        if (m_in_envelopes) {
            if (auto ok = envelopes(true); !ok) return ok;
        } else if (m_parsed != m_head_used) {
            return std::unexpected(unparsable());
        }
        return split_keys_part(ByteView(m_head.data(), m_parsed), m_out);
    }

private:
    Status feed_piece(ByteView data) {
        m_total += data.size();
        if (m_total > Node::kMaxBackupBytes)
            return std::unexpected(bad(KOLOKOL_TEXT("the backup is larger than 512 MiB")));
        if (m_in_envelopes) {
            m_rest.append(reinterpret_cast<const char*>(data.data()), data.size());
            return envelopes(false);
        }
        if (m_head_used + data.size() > kMaxKeysPartBytes)
            return std::unexpected(bad(KOLOKOL_TEXT(
                "the backup's keys and groups are larger than 64 MiB: not a Kolokol backup")));
        if (m_head_used + data.size() > m_head.size()) {
            // Growing needs the old buffer and the new one locked at once; past what this user
            // may lock the process would end (§3.3), so the backup is refused first: with a
            // buffer just large enough when doubling does not fit, else with one line.
            auto size = std::max(m_head.size() * 2, m_head_used + data.size());
            if (const auto left = crypto::lockable_bytes_left()) {
                constexpr std::size_t kSpare = std::size_t{1} << 20;  // for the other secrets
                const auto room = *left > kSpare ? *left - kSpare : 0;
                if (size > room) size = std::max(m_head_used + data.size(), m_head.size() + kPiece);
                if (size > room)
                    return std::unexpected(bad(KOLOKOL_TEXT(
                        "the backup's keys and groups need more locked memory than this user may "
                        "lock: raise the limit (ulimit -l, RLIMIT_MEMLOCK) or restore as a user "
                        "who may lock more")));
            }
            crypto::SecretBytes grown(size);
            if (m_head_used > 0) std::memcpy(grown.data(), m_head.data(), m_head_used);
            m_head = std::move(grown);
        }
        std::memcpy(m_head.data() + m_head_used, data.data(), data.size());
        m_head_used += data.size();
        // Complete fields up to the first envelope stay; from it on, the bytes go to m_rest.
        const ByteView head(m_head.data(), m_head_used);
        WireField f;
        for (;;) {
            std::size_t pos = m_parsed;
            auto r = next_field(head, pos, f, Node::kMaxBackupBytes);
            if (r == WireRead::bad) return std::unexpected(unparsable());
            if (r == WireRead::field && f.number != kBackupEnvelopes) {
                m_parsed = pos;
                continue;
            }
            // The end, a field cut by the piece's end, or the first envelope: its tag decides
            // as soon as it is read whole.
            std::size_t tag_pos = m_parsed;
            auto tag = read_varint(head, tag_pos);
            if (tag && (*tag >> 3) == kBackupEnvelopes) {
                m_rest.assign(reinterpret_cast<const char*>(head.data() + m_parsed),
                              m_head_used - m_parsed);
                crypto::memzero(m_head.mutable_view().subspan(m_parsed, m_head_used - m_parsed));
                m_head_used = m_parsed;
                m_in_envelopes = true;
                return envelopes(false);
            }
            return {};
        }
    }
    // Takes the complete envelope fields of m_rest; at the end, nothing may be left.
    Status envelopes(bool end) {
        std::size_t pos = 0;
        WireField f;
        for (;;) {
            std::size_t at = pos;
            auto r = next_field(as_bytes(m_rest), pos, f, Node::kMaxBackupBytes);
            if (r == WireRead::field) {
                if (f.number != kBackupEnvelopes || f.type != kLengthDelimited)
                    return std::unexpected(unparsable());
                m_out.message.add_envelopes(reinterpret_cast<const char*>(f.value.data()),
                                            f.value.size());
                continue;
            }
            if (r == WireRead::bad || (r == WireRead::incomplete && end))
                return std::unexpected(unparsable());
            m_rest.erase(0, at);
            return {};
        }
    }

    Plain& m_out;
    crypto::SecretBytes m_head;
    std::size_t m_head_used = 0;
    std::size_t m_parsed = 0;
    bool m_in_envelopes = false;
    std::string m_rest;
    std::uint64_t m_total = 0;
};

Status check_identity(const Plain& p) {
    const auto& id = p.message.identity();
    if (p.sign_secret.size() != crypto::kSignSecretBytes)
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup holds a signing key of the wrong size")));
    if (p.box_secret.size() != 32)
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup holds an encryption key of the wrong size")));
    if (p.transport_secret.size() != 32)
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup holds a transport key of the wrong size")));
    if (auto ok = check_display_name(id.display_name()); !ok)
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds an invalid display name")));
    if (id.card().size() > kMaxCardBytes)
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds an oversized card")));
    auto card = card_from_signed_bytes(as_bytes(id.card()));
    if (!card)
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds a card that does not verify")));
    // The secrets must be the card's: derive both public keys again and compare.
    auto sign = crypto::sign_seed_keypair(p.sign_secret.view().first(crypto::kSignSeedBytes));
    if (sign.public_key != card->sign_key ||
        !crypto::equal_ct(sign.secret_key.view(), p.sign_secret.view()))
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup holds a signing key that does not match its card")));
    if (crypto::x25519_base(p.box_secret.view()) != card->box_key)
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup holds an encryption key that does not match its card")));
    if (crypto::is_zero(p.transport_secret.view()))
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds an empty transport key")));
    return {};
}

// The keys of the member's key updates in one group (§5.13): a held secret must be its public
// key's, an erased one is empty; no key twice in the whole backup (box_keys.public_key is the
// table's key).
Status check_box_keys(const pb::BackupGroup& g, const GroupSecrets& keys,
                      std::set<std::string>& box_keys) {
    if (static_cast<std::size_t>(g.box_keys_size()) > kMaxBoxKeysPerGroup)
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup holds too many box keys for one group")));
    for (int i = 0; i < g.box_keys_size(); ++i) {
        const auto& k = g.box_keys(i);
        const auto& secret = keys.box_keys[static_cast<std::size_t>(i)];
        if (k.public_key().size() != 32 || (!secret.empty() && secret.size() != 32))
            return std::unexpected(
                bad(KOLOKOL_TEXT("the backup holds a box key of the wrong size")));
        if (!secret.empty() && !crypto::equal_ct(ByteView(crypto::x25519_base(secret.view())),
                                                 as_bytes(k.public_key())))
            return std::unexpected(bad(
                KOLOKOL_TEXT("the backup holds a box key whose secret does not match its key")));
        if (k.made_ms() < 0)
            return std::unexpected(
                bad(KOLOKOL_TEXT("the backup holds a box key with a negative time")));
        if (!box_keys.insert(k.public_key()).second)
            return std::unexpected(bad(KOLOKOL_TEXT("the backup holds the same box key twice")));
    }
    return {};
}

Status check_group(const pb::BackupGroup& g, const GroupSecrets& keys,
                   std::set<std::string>& epoch_ids, std::set<std::string>& box_keys) {
    if (g.group_id().size() != 32)
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds a group id of the wrong size")));
    if (g.genesis().size() > kMaxGenesisBytes)
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds an oversized group genesis")));
    pb::SignedGenesis sg;
    pb::Genesis genesis;
    if (!sg.ParseFromString(g.genesis()) || !genesis.ParseFromString(sg.genesis()) ||
        genesis.creator().size() != 32 || genesis.creator_box().size() != 32 ||
        !crypto::verify(as_bytes(genesis.creator()), kGenesisDomain, as_bytes(sg.genesis()),
                        as_bytes(sg.signature())))
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup holds a group genesis that does not verify")));
    if (crypto::blake2b_256(kGroupDomain, as_bytes(sg.genesis())) !=
        to_array<32>(as_bytes(g.group_id())))
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup holds a group whose genesis does not match its id")));
    if (static_cast<std::size_t>(g.epochs_size()) > kMaxEpochsPerGroup)
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds too many epochs for one group")));
    for (int i = 0; i < g.epochs_size(); ++i) {
        const auto& e = g.epochs(i);
        const auto& k = keys.epochs[static_cast<std::size_t>(i)];
        if (e.epoch_id().size() != 32)
            return std::unexpected(
                bad(KOLOKOL_TEXT("the backup holds an epoch id of the wrong size")));
        if (!epoch_ids.insert(e.epoch_id()).second)
            return std::unexpected(bad(KOLOKOL_TEXT("the backup holds the same epoch twice")));
        bool full = k.secret.size() == 32 && k.control_key.empty() && k.mailbox_seed.empty() &&
                    k.file_key.empty();
        bool control = k.secret.empty() && k.control_key.size() == 32 &&
                       k.mailbox_seed.size() == 32 && k.file_key.size() == 32;
        if (!full && !control)
            return std::unexpected(bad(KOLOKOL_TEXT("the backup holds a damaged epoch key")));
        if (e.retired() && !control)
            return std::unexpected(
                bad(KOLOKOL_TEXT("the backup holds the secret of an epoch retention retired")));
        if (e.source() != static_cast<int>(KeySource::group) &&
            e.source() != static_cast<int>(KeySource::token))
            return std::unexpected(
                bad(KOLOKOL_TEXT("the backup holds an epoch key of an unknown source")));
    }
    if (static_cast<std::size_t>(g.relays_size()) > kMaxRelays)
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup lists more than 16 relays for a group")));
    for (const auto& r : g.relays())
        if (r.size() > transport::kMaxAddressChars || !transport::Address::parse(r))
            return std::unexpected(
                bad(KOLOKOL_TEXT("the backup lists a relay address that does not parse")));
    if (static_cast<std::size_t>(g.relay_received_size()) > kMaxRelayReceived)
        return std::unexpected(
            bad(KOLOKOL_TEXT("the backup holds too many relay change times for a group")));
    for (const auto& r : g.relay_received())
        if (r.record_id().size() != 32)
            return std::unexpected(
                bad(KOLOKOL_TEXT("the backup holds a relay change id of the wrong size")));
    return check_box_keys(g, keys, box_keys);
}

Status check(const Plain& p) {
    const auto& b = p.message;
    if (b.version() != kBackupVersion)
        return std::unexpected(make_error(CoreErrc::bad_input,
                                          "the backup has version {}; this kolokol reads version 1",
                                          b.version()));
    if (!b.has_identity())
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds no identity")));
    if (auto ok = check_identity(p); !ok) return ok;
    if (static_cast<std::size_t>(b.groups_size()) > kMaxGroups)
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds too many groups")));
    std::set<std::string> group_ids, epoch_ids, box_keys;
    for (int i = 0; i < b.groups_size(); ++i) {
        const auto& g = b.groups(i);
        if (auto ok = check_group(g, p.groups[static_cast<std::size_t>(i)], epoch_ids, box_keys);
            !ok)
            return ok;
        if (!group_ids.insert(g.group_id()).second)
            return std::unexpected(bad(KOLOKOL_TEXT("the backup holds the same group twice")));
    }
    if (static_cast<std::size_t>(b.verified_size()) > kMaxVerified)
        return std::unexpected(bad(KOLOKOL_TEXT("the backup holds too many verified marks")));
    for (const auto& v : b.verified())
        if (v.size() != 32)
            return std::unexpected(
                bad(KOLOKOL_TEXT("the backup holds a verified key of the wrong size")));
    for (const auto& e : b.envelopes())
        if (!storage::parse_envelope(as_bytes(e)))
            return std::unexpected(bad(KOLOKOL_TEXT("the backup holds a damaged envelope")));
    return {};
}

Status parse(ByteView plaintext, Plain& out) {
    Splitter splitter(out);
    if (auto ok = splitter.feed(plaintext); !ok) return ok;
    if (auto ok = splitter.finish(); !ok) return ok;
    return check(out);
}

Error map_age(const Error& e) {
    if (e.code == age::AgeErrc::no_match)
        return make_error(
            CoreErrc::wrong_passphrase,
            "the backup passphrase is wrong (or the file is not a passphrase backup)");
    if (e.code == age::AgeErrc::io) return reclassify(CoreErrc::io, e).error();
    if (e.code == age::AgeErrc::hmac_failure || e.code == age::AgeErrc::payload_failure)
        return make_error(CoreErrc::bad_input, "the backup file is damaged or was altered ({})", e);
    return make_error(CoreErrc::bad_input,
                      "the backup file is not a passphrase-protected age file ({})", e);
}

// Decrypts the age file at `path` into `out` (which refuses more than kMaxBackupBytes). Without
// `out`, only opens the header: that checks the passphrase (and the header's MAC), not the payload.
Status decrypt_file(const fs::path& path, ByteView passphrase, Splitter* out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return fail(CoreErrc::not_found, "no backup file {}", path.string());
        return std::unexpected(io_error(KOLOKOL_TEXT("cannot open {}"), path));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    age::Source source = [fd](MutableByteView buf) -> Result<std::size_t> {
        for (;;) {
            auto n = ::read(fd, buf.data(), buf.size());
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno != EINTR)
                return std::unexpected(io_error(KOLOKOL_TEXT("reading the backup")));
        }
    };
    age::PassphraseProvider provider = [passphrase]() -> Result<crypto::SecretBytes> {
        return crypto::SecretBytes::copy_of(passphrase);
    };
    age::DecryptOptions options;
    options.threads = 1;
    auto decryptor = age::Decryptor::open(source, {}, provider, options);
    if (!decryptor) return std::unexpected(map_age(decryptor.error()));
    if (!out) return {};
    // Every key of the backup passes through here: locked, and wiped as it goes.
    crypto::SecretBytes chunk(age::kChunkBytes);
    for (;;) {
        auto n = decryptor->read(chunk.mutable_view());
        if (!n) return std::unexpected(map_age(n.error()));
        if (*n == 0) break;
        if (auto ok = out->feed(chunk.view().first(*n)); !ok) return ok;
    }
    return out->finish();
}

template <class Fn>
Status for_rows(storage::Database& db, std::string_view sql, Fn&& fn,
                std::optional<ByteView> bind = std::nullopt) {
    auto st = db.prepare(sql);
    if (!st) return std::unexpected(st.error());
    if (bind) st->bind(1, *bind);
    for (;;) {
        auto r = st->step();
        if (!r) return std::unexpected(r.error());
        if (!*r) return {};
        if (auto ok = fn(*st); !ok) return ok;
    }
}

}  // namespace

Result<BackupSummary> Node::write_backup(const fs::path& path, ByteView passphrase, bool history) {
    auto& m = *m_impl;
    if (passphrase.empty()) return fail(CoreErrc::bad_input, "the backup passphrase is empty");
    BackupSummary summary;
    Plain backup;
    auto& b = backup.message;
    b.set_version(kBackupVersion);
    b.set_created_ms(m.now());

    auto ok =
        for_rows(m.db,
                 "SELECT sign_secret, box_secret, display_name, card, transport_secret, "
                 "created_ms FROM identity WHERE id = 1",
                 [&](storage::Statement& st) -> Status {
                     auto sign = open_column(m.db, st, 0, "identity.sign_secret", {});
                     auto box = open_column(m.db, st, 1, "identity.box_secret", {});
                     auto transport = open_column(m.db, st, 4, "identity.transport_secret", {});
                     if (!sign || !box || !transport)
                         return fail(CoreErrc::corrupt_store, "the stored identity is damaged");
                     auto* id = b.mutable_identity();
                     backup.sign_secret = std::move(*sign);
                     backup.box_secret = std::move(*box);
                     id->set_display_name(st.column_text(2));
                     id->set_card(to_string(st.column_blob(3)));
                     backup.transport_secret = std::move(*transport);
                     id->set_created_ms(st.column_int64(5));
                     return {};
                 });
    if (!ok) return std::unexpected(ok.error());
    if (!b.has_identity()) return fail(CoreErrc::corrupt_store, "the store holds no identity");

    ok = for_rows(m.db, "SELECT group_id, genesis, joined_ms FROM groups ORDER BY joined_ms",
                  [&](storage::Statement& st) -> Status {
                      auto* g = b.add_groups();
                      g->set_group_id(to_string(st.column_blob(0)));
                      g->set_genesis(to_string(st.column_blob(1)));
                      g->set_joined_ms(st.column_int64(2));
                      return {};
                  });
    if (!ok) return std::unexpected(ok.error());
    backup.groups.resize(static_cast<std::size_t>(b.groups_size()));
    for (int gi = 0; gi < b.groups_size(); ++gi) {
        auto& g = *b.mutable_groups(gi);
        auto& keys = backup.groups[static_cast<std::size_t>(gi)];
        // Exactly the rows of the epochs table: a secret the member does not hold (never
        // received, or dropped) is NULL there and stays absent here. Keys that only a welcome
        // token still waiting for its add record vouches for stay out: restored, they would
        // pass for confirmed ones (join again after restoring, with a token issued again).
        ok = for_rows(
            m.db,
            "SELECT epoch_id, secret, control_key, mailbox_seed, file_key, added_ms, "
            "EXISTS (SELECT 1 FROM retired_epochs r WHERE r.epoch_id = epochs.epoch_id), source "
            "FROM epochs WHERE group_id = ? AND source != 1 ORDER BY added_ms, epoch_id",
            [&](storage::Statement& st) -> Status {
                auto* e = g.add_epochs();
                auto& k = keys.epochs.emplace_back();
                const auto epoch = st.column_blob(0);
                e->set_epoch_id(to_string(epoch));
                if (!st.column_is_null(1)) {
                    auto secret = open_column(m.db, st, 1, "epochs.secret", epoch);
                    if (!secret) return fail(CoreErrc::corrupt_store, "a stored epoch is damaged");
                    k.secret = std::move(*secret);
                    ++summary.epochs;
                } else {
                    auto control = open_column(m.db, st, 2, "epochs.control_key", epoch);
                    auto seed = open_column(m.db, st, 3, "epochs.mailbox_seed", epoch);
                    auto file = open_column(m.db, st, 4, "epochs.file_key", epoch);
                    if (!control || !seed || !file)
                        return fail(CoreErrc::corrupt_store, "a stored epoch is damaged");
                    k.control_key = std::move(*control);
                    k.mailbox_seed = std::move(*seed);
                    k.file_key = std::move(*file);
                    ++summary.control_only;
                }
                e->set_added_ms(st.column_int64(5));
                e->set_retired(st.column_int64(6) != 0);
                e->set_source(static_cast<std::int32_t>(st.column_int64(7)));
                return {};
            },
            as_bytes(g.group_id()));
        if (!ok) return std::unexpected(ok.error());
        for (const auto& r : relays(to_array<32>(as_bytes(g.group_id())))) g.add_relays(r);
        // The keys of this member's key updates, erased ones too (a key update naming one is
        // still this member's own), in the order they were made: restored in that order, the
        // rowids keep it (HeldBoxKey::order).
        ok = for_rows(
            m.db,
            "SELECT public_key, secret, made_ms FROM box_keys WHERE group_id = ? ORDER BY rowid",
            [&](storage::Statement& st) -> Status {
                auto* k = g.add_box_keys();
                auto& secret_kept = keys.box_keys.emplace_back();
                const auto pub = st.column_blob(0);
                k->set_public_key(to_string(pub));
                if (!st.column_is_null(1)) {
                    auto secret = open_column(m.db, st, 1, "box_keys.secret", pub);
                    if (!secret)
                        return fail(CoreErrc::corrupt_store, "a stored box key is damaged");
                    secret_kept = std::move(*secret);
                }
                k->set_made_ms(st.column_int64(2));
                return {};
            },
            as_bytes(g.group_id()));
        if (!ok) return std::unexpected(ok.error());
        // When the relay-list changes others wrote were received (the earlier of this store's
        // time and the one a backup it was restored from carried): restored, a change settled
        // here stays settled, and one that was not waits only for the rest of its day (§5.8).
        const auto group = to_array<32>(as_bytes(g.group_id()));
        if (m.genesis.contains(group)) {
            const auto& changes = m.state(group).relay_changes();
            std::vector<std::pair<RecordId, std::int64_t>> times;
            for (const auto& c : changes) {
                if (c.author == me() || crypto::is_zero(c.id)) continue;
                const auto received = relay_change_received_ms(m, c.id);
                if (received) times.emplace_back(c.id, *received);
            }
            const auto skip =
                times.size() > kMaxRelayReceived ? times.size() - kMaxRelayReceived : 0;
            for (std::size_t i = skip; i < times.size(); ++i) {
                auto* r = g.add_relay_received();
                r->set_record_id(to_string(ByteView(times[i].first)));
                r->set_received_ms(times[i].second);
            }
        }
    }
    // A group joined with a token that is still waiting has no key yet to bring back.
    for (int gi = b.groups_size() - 1; gi >= 0; --gi)
        if (b.groups(gi).epochs_size() == 0) {
            b.mutable_groups()->DeleteSubrange(gi, 1);
            backup.groups.erase(backup.groups.begin() + gi);
        }
    summary.groups = static_cast<std::size_t>(b.groups_size());

    ok = for_rows(m.db, "SELECT sign_key FROM verified", [&](storage::Statement& st) -> Status {
        b.add_verified(to_string(st.column_blob(0)));
        return {};
    });
    if (!ok) return std::unexpected(ok.error());

    std::uint64_t total = 0;
    // With history every envelope held; without, still the member's own records, so nothing
    // they wrote and never synced is lost with the device.
    std::vector<RecordId> ids;
    if (history) {
        for (const auto& mailbox : mailboxes()) {
            auto held = m.envelopes->ids(mailbox);
            if (!held) return std::unexpected(held.error());
            ids.insert(ids.end(), held->begin(), held->end());
        }
    } else {
        auto mine = m.records.ids_by(me());
        if (!mine) return std::unexpected(mine.error());
        ids = std::move(*mine);
        // A retired epoch's mailbox is closed to sync for good (ingest drops it), so what is
        // left there — its control records, which retention keeps — travels in the backup.
        ok = for_rows(m.db, "SELECT epoch_id FROM retired_epochs",
                      [&](storage::Statement& st) -> Status {
                          const auto* keys = m.keys_for_epoch(to_array<32>(st.column_blob(0)));
                          if (!keys) return {};
                          auto held = m.envelopes->ids(keys->mailbox);
                          if (!held) return std::unexpected(held.error());
                          ids.insert(ids.end(), held->begin(), held->end());
                          return {};
                      });
        if (!ok) return std::unexpected(ok.error());
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    }
    for (const auto& id : ids) {
        auto env = m.envelopes->get(id);
        if (!env) return std::unexpected(env.error());
        if (!*env) continue;  // redacted or expired: its envelope is gone
        total += (*env)->size();
        if (total > kMaxBackupBytes - (std::uint64_t{16} << 20))
            return fail(CoreErrc::bad_input,
                        "the history is larger than a backup holds (512 MiB); back up without "
                        "--history and let sync fetch it");
        b.add_envelopes(to_string(**env));
        ++summary.envelopes;
    }
    if (auto checked = check(backup); !checked)
        return fail(CoreErrc::corrupt_store, "the store's contents do not make a valid backup: {}",
                    checked.error());

    // The plaintext: the keys part in locked memory, then the envelopes, written from the
    // message as they are (encrypted already).
    const crypto::SecretBytes keys_part = encode_keys_part(backup);

    fs::path tmp = path;
    tmp += ".tmp";
    auto created = create_temp_output(tmp);
    if (!created) return std::unexpected(created.error());
    const int fd = *created;
    auto abandon = [&](Error e) -> Result<BackupSummary> {
        ::close(fd);
        ::unlink(tmp.c_str());
        return std::unexpected(std::move(e));
    };
    age::Sink sink = [fd, &summary](ByteView data) -> Status {
        while (!data.empty()) {
            auto n = ::write(fd, data.data(), data.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                return std::unexpected(io_error(KOLOKOL_TEXT("writing the backup")));
            }
            data = data.subspan(static_cast<std::size_t>(n));
            summary.bytes += static_cast<std::uint64_t>(n);
        }
        return {};
    };
    age::EncryptOptions options;
    options.threads = 1;
    options.secret_plaintext = true;
    auto enc = age::Encryptor::with_passphrase(passphrase, sink, options);
    if (!enc) return abandon(enc.error());
    if (auto w = enc->write(keys_part.view()); !w) return abandon(w.error());
    for (const auto& e : b.envelopes()) {
        WireOut count;
        count.header(kBackupEnvelopes, e.size());
        std::uint8_t head[20];
        WireOut into(head);
        into.header(kBackupEnvelopes, e.size());
        if (auto w = enc->write(ByteView(head, count.size())); !w) return abandon(w.error());
        if (auto w = enc->write(as_bytes(e)); !w) return abandon(w.error());
    }
    if (auto f = enc->finish(); !f) return abandon(f.error());
    if (::fsync(fd) != 0) return abandon(io_error(KOLOKOL_TEXT("syncing the backup")));
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        return std::unexpected(io_error(KOLOKOL_TEXT("closing the backup")));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto e = io_error(KOLOKOL_TEXT("cannot move the backup to {}"), path);
        ::unlink(tmp.c_str());
        return std::unexpected(e);
    }
    return summary;
}

Status Node::check_backup(ByteView plaintext) {
    Plain backup;
    return parse(plaintext, backup);
}

Status Node::check_backup_passphrase(const fs::path& backup_path, ByteView passphrase) {
    return decrypt_file(backup_path, passphrase, nullptr);
}

Result<RestoreReport> Node::restore_backup(const fs::path& home, const fs::path& backup_path,
                                           const RestoreOptions& options) {
    if (exists(home))
        return fail(CoreErrc::exists,
                    "a store already exists in {}; restore only into an empty home", home.string());
    if (options.store_passphrase.empty())
        return fail(CoreErrc::bad_input, "the new store passphrase is empty");
    Plain backup;
    auto& b = backup.message;
    {
        Splitter splitter(backup);
        if (auto ok = decrypt_file(backup_path, options.backup_passphrase, &splitter); !ok)
            return std::unexpected(ok.error());
        if (auto ok = check(backup); !ok) return std::unexpected(ok.error());
    }

    InitOptions init_options;
    init_options.display_name = b.identity().display_name();
    init_options.passphrase = options.store_passphrase;
    init_options.kdf = options.kdf;
    init_options.clock = options.clock;
    if (auto ok = init(home, init_options); !ok) return std::unexpected(ok.error());
    RestoreReport report;
    auto passphrase = options.store_passphrase;
    // A lambda, so it may reach the new Node's internals as this member function can.
    auto fill = [&]() -> Status {
        {
            auto node = open(home, passphrase, options.clock);
            if (!node) return std::unexpected(node.error());
            auto& m = *(*node)->m_impl;
            auto tx = m.db.begin();
            if (!tx) return std::unexpected(tx.error());
            const auto& id = b.identity();
            auto sign =
                m.db.seal_secret(backup.sign_secret.view(), secret_place("identity.sign_secret"));
            auto box =
                m.db.seal_secret(backup.box_secret.view(), secret_place("identity.box_secret"));
            auto transport = m.db.seal_secret(backup.transport_secret.view(),
                                              secret_place("identity.transport_secret"));
            if (!sign || !box || !transport)
                return fail(CoreErrc::io, "cannot seal the identity's keys");
            auto st = m.db.prepare(
                "UPDATE identity SET sign_secret = ?, box_secret = ?, display_name = ?, card = ?, "
                "transport_secret = ?, created_ms = ? WHERE id = 1");
            if (!st) return std::unexpected(st.error());
            st->bind(1, *sign)
                .bind(2, *box)
                .bind(3, std::string_view(id.display_name()))
                .bind(4, as_bytes(id.card()))
                .bind(5, *transport)
                .bind(6, id.created_ms());
            if (auto r = st->step(); !r) return std::unexpected(r.error());

            for (int gi = 0; gi < b.groups_size(); ++gi) {
                const auto& g = b.groups(gi);
                const auto& keys = backup.groups[static_cast<std::size_t>(gi)];
                auto gs = m.db.cached(
                    "INSERT INTO groups(group_id, genesis, joined_ms) VALUES (?, ?, ?)");
                if (!gs) return std::unexpected(gs.error());
                (*gs)
                    ->bind(1, as_bytes(g.group_id()))
                    .bind(2, as_bytes(g.genesis()))
                    .bind(3, g.joined_ms());
                if (auto r = (*gs)->step(); !r) return std::unexpected(r.error());
                auto group = to_array<32>(as_bytes(g.group_id()));
                for (int ei = 0; ei < g.epochs_size(); ++ei) {
                    const auto& e = g.epochs(ei);
                    const auto& k = keys.epochs[static_cast<std::size_t>(ei)];
                    auto epoch = to_array<32>(as_bytes(e.epoch_id()));
                    auto epoch_keys =
                        k.secret.empty()
                            ? EpochKeys::control_only(group, epoch, k.control_key.view(),
                                                      k.mailbox_seed.view(), k.file_key.view())
                            : EpochKeys::from_secret(group, epoch, k.secret.view());
                    // A key only an admitted welcome token vouched for stays so: a rotation
                    // that grants another key for its epoch must still expose the token.
                    epoch_keys.source = static_cast<KeySource>(e.source());
                    const bool full = epoch_keys.secret.has_value();
                    // The same path as every other grant: two entries with the same keys under
                    // different epoch ids are refused.
                    if (auto ok = m.add_epoch(std::move(epoch_keys), e.added_ms()); !ok) {
                        if (ok.error().code == CoreErrc::conflict)
                            return std::unexpected(make_error(
                                CoreErrc::bad_input, "the backup holds conflicting epoch keys: {}",
                                ok.error()));
                        return ok;
                    }
                    ++(full ? report.epochs : report.control_only);
                }
                for (const auto& relay : g.relays()) {
                    auto rs = m.db.cached(
                        "INSERT OR IGNORE INTO welcome_relays(group_id, address) VALUES (?, ?)");
                    if (!rs) return std::unexpected(rs.error());
                    (*rs)->bind(1, ByteView(group)).bind(2, std::string_view(relay));
                    if (auto r = (*rs)->step(); !r) return std::unexpected(r.error());
                }
                // In the backup's order, which is the order they were made in: the rowids
                // given here keep it.
                for (int ki = 0; ki < g.box_keys_size(); ++ki) {
                    const auto& k = g.box_keys(ki);
                    const auto& secret = keys.box_keys[static_cast<std::size_t>(ki)];
                    const auto pub = as_bytes(k.public_key());
                    auto ks = m.db.cached(
                        "INSERT INTO box_keys(public_key, group_id, secret, made_ms) VALUES (?, ?, "
                        "?, ?)");
                    if (!ks) return std::unexpected(ks.error());
                    (*ks)->bind(1, pub).bind(2, ByteView(group)).bind(4, k.made_ms());
                    if (secret.empty()) {
                        (*ks)->bind_null(3);
                    } else {
                        auto sealed =
                            m.db.seal_secret(secret.view(), secret_place("box_keys.secret", pub));
                        if (!sealed) return fail(CoreErrc::io, "cannot seal a box key");
                        (*ks)->bind(3, *sealed);
                    }
                    if (auto r = (*ks)->step(); !r) return std::unexpected(r.error());
                }
                ++report.groups;
            }
            for (const auto& v : b.verified()) {
                auto vs =
                    m.db.cached("INSERT OR REPLACE INTO verified(sign_key, at_ms) VALUES (?, ?)");
                if (!vs) return std::unexpected(vs.error());
                (*vs)->bind(1, as_bytes(v)).bind(2, m.now());
                if (auto r = (*vs)->step(); !r) return std::unexpected(r.error());
            }
            if (auto c = tx->commit(); !c) return std::unexpected(c.error());
        }
        // Reopened, so the identity, groups and epochs are loaded as any later open sees them.
        auto node = open(home, passphrase, options.clock);
        if (!node) return std::unexpected(node.error());
        // Retired epochs are marked after their envelopes went in: ingest refuses them after.
        // With them, when the relay-list changes were received: the time each was held before
        // the backup counts, the time between the backup and now does not (this copy of the
        // store heard nothing then), so a change settled when the backup was made is settled,
        // and one that was not still waits for the rest of its day (§5.8).
        auto mark_retired = [&]() -> Status {
            auto& m = *(*node)->m_impl;
            if (auto ok = ensure_network_schema(m.db); !ok) return ok;
            auto tx = m.db.begin();
            if (!tx) return std::unexpected(tx.error());
            const auto now = m.now();
            const auto made =
                std::clamp<std::int64_t>(b.created_ms(), 0, std::max<std::int64_t>(now, 0));
            for (const auto& g : b.groups())
                for (const auto& r : g.relay_received()) {
                    const auto held = made - std::clamp<std::int64_t>(r.received_ms(), 0, made);
                    if (auto ok = carry_relay_received(m.db, to_array<32>(as_bytes(r.record_id())),
                                                       now - held);
                        !ok)
                        return ok;
                }
            for (const auto& g : b.groups())
                for (const auto& e : g.epochs()) {
                    if (!e.retired()) continue;
                    auto rs =
                        m.db.cached("INSERT INTO retired_epochs(epoch_id, group_id) VALUES (?, ?)");
                    if (!rs) return std::unexpected(rs.error());
                    (*rs)->bind(1, as_bytes(e.epoch_id())).bind(2, as_bytes(g.group_id()));
                    if (auto r = (*rs)->step(); !r) return std::unexpected(r.error());
                }
            return tx->commit();
        };
        std::vector<Bytes> batch;
        batch.reserve(kIngestBatch);
        auto flush = [&]() -> Status {
            if (batch.empty()) return {};
            auto r = (*node)->ingest(batch);
            if (!r) return std::unexpected(r.error());
            report.ingest.merge(*r);
            batch.clear();
            return {};
        };
        for (const auto& e : b.envelopes()) {
            batch.emplace_back(e.begin(), e.end());
            ++report.envelopes;
            if (batch.size() == kIngestBatch)
                if (auto ok = flush(); !ok) return ok;
        }
        if (auto ok = flush(); !ok) return ok;
        return mark_retired();
    };
    // Any failure from here on removes the half-made store again (after the node is closed).
    if (auto ok = fill(); !ok) {
        (void)panic(home);
        return std::unexpected(ok.error());
    }
    return report;
}

Status Node::check_integrity() {
    auto st = m_impl->db.prepare("PRAGMA quick_check");
    if (!st) return std::unexpected(st.error());
    auto r = st->step();
    if (!r) return fail(CoreErrc::corrupt_store, "the check failed: {}", r.error());
    if (!*r) return fail(CoreErrc::corrupt_store, "the check returned nothing");
    auto verdict = st->column_text(0);
    if (verdict != "ok")
        return fail(CoreErrc::corrupt_store, "the database is damaged: {}", verdict);
    return {};
}

ClockReport Node::clock_report(std::size_t recent) {
    ClockReport report;
    for (const auto& s : m_impl->records.latest_received(me(), recent)) {
        ++report.samples;
        report.ahead_ms = std::max(report.ahead_ms, s.wall_ms - s.received_ms);
    }
    return report;
}

}  // namespace kolokol::core
