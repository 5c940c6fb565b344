// Reconciliation messages (transport/src/reconcile.cpp): a responder holding a fixed set of ids
// answers the peer's message. Decoding, validation and the reply all run on the input.
#include "kolokol/transport/reconcile.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.hpp"
#include "kolokol/crypto/hash.hpp"

using namespace kolokol;

namespace {
const std::vector<transport::RecordId>& ids() {
    static const std::vector<transport::RecordId> v = [] {
        std::vector<transport::RecordId> out;
        for (std::uint32_t i = 0; i < 300; ++i) {
            const Bytes seed{static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
            out.push_back(crypto::blake2b_256(seed));
        }
        std::sort(out.begin(), out.end());  // the Reconciler's O(n) path: more runs per second
        return out;
    }();
    return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    transport::Reconciler responder(transport::Reconciler::Role::responder, ids());
    (void)responder.reconcile(fuzz::input(data, size));
    return 0;
}
