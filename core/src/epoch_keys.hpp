#pragma once
// Keys of one epoch, derived from its 32-byte secret with crypto_kdf (context "kkepoch1"):
//   1 content key · 2 mailbox signing seed · 3 LAN beacon key · 4 sync-file key · 5 control key.
// A member without history holds only the control key, mailbox seed and file key of old epochs:
// enough to fetch and read the group's control records, never its content.
//
// A store holds one set of keys per epoch id and never replaces it: a later grant must agree
// with what is held (agrees_with), and may only add the secret to control-only access.

#include <optional>

#include "kolokol/core/types.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/crypto/sign.hpp"

namespace kolokol::core {

// Where a store's key for an epoch came from (the epochs.source column; stable numbers).
enum class KeySource : int {
    group = 0,          // the group's own records: a rotation's grant, creating it, a backup
    waiting_token = 1,  // a welcome token whose add record has not been seen: never written with
    token = 2,          // a welcome token whose add record admitted this member
};

struct EpochKeys {
    GroupId group_id{};
    EpochId epoch_id{};
    std::optional<crypto::SecretBytes> secret;       // absent: control access only
    std::optional<crypto::SecretBytes> content_key;  // absent: control access only
    crypto::SecretBytes control_key;
    crypto::SecretBytes file_key;
    crypto::SecretBytes mailbox_seed;
    crypto::SignPublicKey mailbox_public{};
    MailboxId mailbox{};
    // A key only a token vouches for is dropped if a rotation of the group grants another (the
    // token lied), and one a waiting token gave is also dropped if the add record turns out not
    // to admit this member. Until then it syncs and reads; only a waiting token's is never used
    // to write.
    KeySource source = KeySource::group;
    bool provisional() const { return source == KeySource::waiting_token; }

    static EpochKeys from_secret(const GroupId& group, const EpochId& epoch, ByteView secret);
    static EpochKeys control_only(const GroupId& group, const EpochId& epoch, ByteView control_key,
                                  ByteView mailbox_seed, ByteView file_key);
    // The same epoch keys: equal control keys, mailbox seeds and file keys (what control-only
    // access holds), and equal secrets when both hold one. Constant time.
    bool agrees_with(const EpochKeys& other) const;
    crypto::SignKeyPair mailbox_keypair() const;
    crypto::SecretBytes beacon_key() const;  // requires the secret
};

}  // namespace kolokol::core
