// Social recovery (core/src/recovery.cpp): a request pasted by the member, a share offer from a
// member, an approval from a holder, and a sealed kit, all from outside. The first byte chooses
// the parser; the rest is its input. Each opens with the fixed keys of recovery_fixture.hpp.
#include "kolokol/core/recovery.hpp"

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "recovery_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace kolokol;
    if (size == 0) return 0;
    const auto& f = fuzz::recovery_fixture();
    const auto rest = fuzz::input(data + 1, size - 1);
    switch (data[0] % 5) {
        case 0:
            (void)core::parse_request_text(fuzz::text(data + 1, size - 1));
            break;
        case 1:
            (void)core::parse_share(rest);
            break;
        case 2:
            (void)core::open_share_offer(f.holder, rest);
            break;
        case 3:
            (void)core::open_approval(f.request, rest);
            break;
        default:
            (void)core::open_recovery_kit(f.kit_key, f.split_id, f.member.public_key, 1, rest);
            break;
    }
    return 0;
}
