// age STREAM (core/age): a real header for a fixed identity, followed by the input as the payload
// (nonce, then ChaCha20-Poly1305 chunks), read to the end. Past the header MAC the fuzzer can only
// reach the payload this way.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "fuzz_support.hpp"
#include "kolokol/age/decryptor.hpp"
#include "kolokol/age/encryptor.hpp"

using namespace kolokol;

namespace {
const age::X25519Identity& identity() {
    static const age::X25519Identity id = [] {
        crypto::DeterministicRandom r(7);
        return age::X25519Identity::generate(r);
    }();
    return id;
}

// The header of an age file to identity(): everything up to and including "--- <mac>\n".
const Bytes& header() {
    static const Bytes h = [] {
        Bytes file;
        crypto::DeterministicRandom r(8);
        age::EncryptOptions o;
        o.random = &r;
        o.threads = 1;
        auto recipient = identity().recipient();
        auto e = age::Encryptor::to_recipients(
            std::span(&recipient, 1),
            [&file](ByteView b) -> Status {
                append(file, b);
                return {};
            },
            o);
        if (!e || !e->finish()) std::abort();
        const std::string_view marker = "\n--- ";
        auto it = std::search(file.begin(), file.end(), marker.begin(), marker.end());
        if (it == file.end()) std::abort();
        auto nl = std::find(it + 1, file.end(), '\n');
        if (nl == file.end()) std::abort();
        return Bytes(file.begin(), nl + 1);
    }();
    return h;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Bytes file = header();
    file.insert(file.end(), data, data + size);
    ByteView in(file);
    age::Source source = [&in](MutableByteView out) -> Result<std::size_t> {
        const std::size_t n = std::min(out.size(), in.size());
        if (n) std::memcpy(out.data(), in.data(), n);
        in = in.subspan(n);
        return n;
    };
    age::DecryptOptions options;
    options.threads = 1;
    auto d = age::Decryptor::open(std::move(source), std::span(&identity(), 1), {}, options);
    if (!d) return 0;  // only when the input is shorter than the payload nonce
    Bytes buf(64 * 1024);
    while (true) {
        auto n = d->read(buf);
        if (!n || *n == 0) break;
    }
    return 0;
}
