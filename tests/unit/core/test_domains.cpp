#include <doctest/doctest.h>

#include <set>
#include <string_view>

#include "domains.hpp"
#include "kolokol/bundle/bundle.hpp"
#include "kolokol/bundle/custody.hpp"
#include "kolokol/transport/sync_types.hpp"

using namespace kolokol;

TEST_CASE("every signature and hash domain is distinct and versioned in the kolokol space") {
    const std::string_view domains[] = {
        core::kRecordDomain,
        core::kCardDomain,
        core::kSafetyNumberDomain,
        core::kGenesisDomain,
        core::kGroupDomain,
        core::kWelcomeDomain,
        core::kChunksHashDomain,
        bundle::kSignatureDomain,
        bundle::kCustodyDomain,
        transport::kMailboxOpenDomain,
        core::kSyncPartDomain,
        core::kControlDigestDomain,
        core::kGrantBoxKeyDomain,
        core::kViewDomain,
        core::kDeviceCertDomain,
        core::kDeviceAcceptDomain,
        core::kDeviceRevocationDomain,
        core::kLinkCommitDomain,
        core::kLinkCodeDomain,
        core::kRecoveryCommitmentDomain,
        core::kRecoveryOfferDomain,
        core::kRecoveryRequestDomain,
        core::kRecoveryCodeDomain,
        core::kRecoveryKitDomain,
    };
    std::set<std::string_view> seen;
    for (auto d : domains) {
        CAPTURE(d);
        CHECK(d.starts_with("kolokol/"));
        CHECK(d.find('\0') == std::string_view::npos);
        CHECK(seen.insert(d).second);
    }
    // Signatures and blake2b_256 end the domain with a zero byte, but the safety number and the
    // chunk ids hash feed theirs to a running hash without one: there a domain that is a prefix
    // of another could meet it ("kolokol/group" + "/v1…" against "kolokol/group/v1" + "…").
    for (auto a : domains)
        for (auto b : domains)
            if (a != b) CHECK_MESSAGE(!b.starts_with(a), a, " is a prefix of ", b);
}
