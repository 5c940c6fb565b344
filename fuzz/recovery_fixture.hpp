#pragma once
// Fixed keys for the social recovery target (recovery.cpp) and its seeds (gen_corpus.cpp): a
// holder's box key, a request and its key, and a kit key, all from constant seeds, so that the
// seeds open with the same keys the target tries.
#include "kolokol/core/recovery.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/sign.hpp"
#include "kolokol/crypto/x25519.hpp"

namespace kolokol::fuzz {

struct RecoveryFixture {
    crypto::SignKeyPair member;
    crypto::BoxKeyPair holder;
    core::RecoveryRequestSecret request;
    crypto::SecretBytes kit_key;
    core::SplitId split_id{};
};

inline const RecoveryFixture& recovery_fixture() {
    static const RecoveryFixture f = [] {
        crypto::DeterministicRandom random(19);
        auto member = crypto::sign_seed_keypair(random.bytes(32));
        auto holder = crypto::box_seed_keypair(random.bytes(32));
        auto request = core::make_recovery_request(member.public_key, 1, random);
        crypto::SecretBytes secret(32);
        random.fill(secret.mutable_view());
        auto kit_key = core::recovery_kit_key(secret);
        core::SplitId split_id{};
        split_id.fill(7);
        return RecoveryFixture{std::move(member), std::move(holder), std::move(request),
                               std::move(kit_key), split_id};
    }();
    return f;
}

}  // namespace kolokol::fuzz
