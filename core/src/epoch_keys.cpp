#include "epoch_keys.hpp"

#include "kolokol/crypto/hash.hpp"
#include "kolokol/crypto/kdf.hpp"

namespace kolokol::core {

namespace {
constexpr std::string_view kContext = "kkepoch1";
enum Subkey : std::uint64_t { content = 1, mailbox = 2, beacon = 3, file = 4, control = 5 };

void finish_mailbox(EpochKeys& k) {
    auto kp = crypto::sign_seed_keypair(k.mailbox_seed.view());
    k.mailbox_public = kp.public_key;
    k.mailbox = crypto::blake2b_256(kp.public_key);
}
}  // namespace

EpochKeys EpochKeys::from_secret(const GroupId& group, const EpochId& epoch, ByteView secret) {
    EpochKeys k;
    k.group_id = group;
    k.epoch_id = epoch;
    k.secret = crypto::SecretBytes::copy_of(secret);
    k.content_key = crypto::kdf_derive(secret, Subkey::content, kContext);
    k.control_key = crypto::kdf_derive(secret, Subkey::control, kContext);
    k.file_key = crypto::kdf_derive(secret, Subkey::file, kContext);
    k.mailbox_seed = crypto::kdf_derive(secret, Subkey::mailbox, kContext);
    finish_mailbox(k);
    return k;
}

EpochKeys EpochKeys::control_only(const GroupId& group, const EpochId& epoch, ByteView control_key,
                                  ByteView mailbox_seed, ByteView file_key) {
    EpochKeys k;
    k.group_id = group;
    k.epoch_id = epoch;
    k.control_key = crypto::SecretBytes::copy_of(control_key);
    k.file_key = crypto::SecretBytes::copy_of(file_key);
    k.mailbox_seed = crypto::SecretBytes::copy_of(mailbox_seed);
    finish_mailbox(k);
    return k;
}

bool EpochKeys::agrees_with(const EpochKeys& other) const {
    bool same = crypto::equal_ct(control_key.view(), other.control_key.view());
    same &= crypto::equal_ct(mailbox_seed.view(), other.mailbox_seed.view());
    same &= crypto::equal_ct(file_key.view(), other.file_key.view());
    if (secret && other.secret) same &= crypto::equal_ct(secret->view(), other.secret->view());
    return same;
}

crypto::SignKeyPair EpochKeys::mailbox_keypair() const {
    return crypto::sign_seed_keypair(mailbox_seed.view());
}

crypto::SecretBytes EpochKeys::beacon_key() const {
    return crypto::kdf_derive(secret->view(), Subkey::beacon, kContext);
}

}  // namespace kolokol::core
