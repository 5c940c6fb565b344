// Envelopes and record bodies (core/src/records.cpp): open_record, the one parser every envelope
// from a peer, relay or sync file goes through. The first input byte picks what the rest is:
//   even: a whole envelope, opened under a fixed epoch's keys (framing, AEAD);
//   odd:  the plaintext SignedRecord, which the harness seals under the fixed content key first
//         so the fuzzer reaches the protobuf parse, the limits and the signature check.
#include <cstddef>
#include <cstdint>

#include "epoch_keys.hpp"
#include "fuzz_support.hpp"
#include "kolokol/crypto/aead.hpp"
#include "kolokol/storage/envelope.hpp"
#include "records.hpp"

using namespace kolokol;

namespace {
const core::EpochKeys& keys() {
    static const core::EpochKeys k = [] {
        ByteArray<32> group{}, epoch{}, secret{};
        group.fill(1);
        epoch.fill(2);
        secret.fill(3);
        return core::EpochKeys::from_secret(group, epoch, secret);
    }();
    return k;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    auto rest = fuzz::input(data + 1, size - 1);
    if ((data[0] & 1) == 0) {
        (void)core::open_record(rest, keys());
        return 0;
    }
    Bytes envelope;
    envelope.push_back(storage::kEnvelopeVersion);
    append(envelope, keys().mailbox);
    ByteArray<24> nonce{};
    append(envelope, nonce);
    append(envelope, crypto::xchacha_seal(keys().content_key->view(), nonce,
                                          ByteView(envelope).first(33), rest));
    (void)core::open_record(envelope, keys());
    return 0;
}
