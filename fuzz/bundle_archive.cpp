// The case-bundle reader past decryption: the tar (libarchive) and every metadata file in it
// (SHA256SUMS, manifest.json, manifest.sig, signer.card, custody.log). The input is the tar;
// it is sealed to a fixed key so that the bytes reach the reader as a real bundle's would.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "kolokol/age/encryptor.hpp"
#include "kolokol/bundle/bundle.hpp"

namespace {

const kolokol::age::X25519Identity& key() {
    static const auto id = [] {
        kolokol::crypto::DeterministicRandom rng(7);
        return kolokol::age::X25519Identity::generate(rng);
    }();
    return id;
}

kolokol::Bytes seal(kolokol::ByteView tar) {
    using namespace kolokol;
    Bytes out;
    crypto::DeterministicRandom rng(8);
    age::EncryptOptions options;
    options.random = &rng;
    options.threads = 1;
    auto enc = age::Encryptor::to_recipients(
        std::span(&key().recipient(), 1),
        [&](ByteView b) -> Status {
            append(out, b);
            return {};
        },
        options);
    if (!enc || !enc->write(tar) || !enc->finish()) __builtin_trap();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace kolokol;
    const auto file = seal(fuzz::input(data, size));
    std::size_t pos = 0;
    age::Source source = [&](MutableByteView out) -> Result<std::size_t> {
        auto n = std::min(out.size(), file.size() - pos);
        std::copy_n(file.begin() + static_cast<std::ptrdiff_t>(pos), n, out.begin());
        pos += n;
        return n;
    };
    bundle::ReadOptions options;
    options.decrypt.threads = 1;
    (void)bundle::read_bundle(source, std::span(&key(), 1), {}, options);
    return 0;
}
