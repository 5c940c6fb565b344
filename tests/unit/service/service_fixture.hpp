#pragma once
// What the service's tests share: two members of one group, a loopback listener, a look at
// what a member holds through its service.

#include <doctest/doctest.h>

#include <algorithm>
#include <asio/ip/address.hpp>
#include <memory>
#include <string>

#include "kolokol/core/identity.hpp"
#include "kolokol/core/sync_service.hpp"
#include "node_fixture.hpp"

namespace kolokol::test {

// Anna made group G and added Boris; both hold everything.
struct Pair {
    TempDir dir;
    std::unique_ptr<core::Node> a = make_node(dir.path() / "a", "Anna");
    std::unique_ptr<core::Node> b = make_node(dir.path() / "b", "Boris");
    core::GroupId g{};

    Pair() {
        g = *a->create_group("G");
        auto token = a->add_member(g, core::card_to_text(b->card()), false, true);
        REQUIRE(token.has_value());
        REQUIRE(b->join(*token).has_value());
        deliver(*a, *b);
        deliver(*b, *a);
    }
};

inline core::ListenOptions loopback(std::uint16_t port = 0) {
    core::ListenOptions o;
    o.endpoint = {asio::ip::make_address("127.0.0.1"), port};
    return o;
}

// Whether the member `service` runs for holds a message `text` in `group`.
inline bool has_text(core::SyncService& service, const core::GroupId& group,
                     const std::string& text) {
    auto all = service.with_node([&](core::Node& n) { return texts(n, group); });
    return std::find(all.begin(), all.end(), text) != all.end();
}

}  // namespace kolokol::test
