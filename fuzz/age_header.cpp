// age v1 files (core/age): the header (stanzas, scrypt limits, MAC) and, when it opens, the
// STREAM payload, read to the end. Decrypts with a fixed X25519 identity; a passphrase is offered
// for scrypt stanzas, with the work factor capped so a run stays fast.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_support.hpp"
#include "kolokol/age/decryptor.hpp"

using namespace kolokol;

namespace {
const age::X25519Identity& identity() {
    static const age::X25519Identity id = [] {
        crypto::DeterministicRandom r(7);
        return age::X25519Identity::generate(r);
    }();
    return id;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ByteView in(data, size);
    age::Source source = [&in](MutableByteView out) -> Result<std::size_t> {
        const std::size_t n = std::min(out.size(), in.size());
        if (n) std::memcpy(out.data(), in.data(), n);
        in = in.subspan(n);
        return n;
    };
    age::PassphraseProvider pass = []() -> Result<crypto::SecretBytes> {
        return crypto::SecretBytes::copy_of(as_bytes(std::string_view("fuzz")));
    };
    age::DecryptOptions options;
    options.max_scrypt_work_factor = 4;
    options.threads = 1;
    auto d = age::Decryptor::open(std::move(source), std::span(&identity(), 1), pass, options);
    if (!d) return 0;
    Bytes buf(64 * 1024);
    while (true) {
        auto n = d->read(buf);
        if (!n || *n == 0) break;
    }
    return 0;
}
