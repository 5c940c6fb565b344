// A fetch's cursor is committed in the same transaction as the envelopes it covers (DESIGN
// §9.14): a kill between the two loses nothing and stores nothing twice.

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>

#include "kolokol/envelope/envelope.hpp"
#include "kolokol/transport/sync_types.hpp"
#include "service_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {

// Anna's envelopes that Boris lacks, by mailbox.
std::map<MailboxId, std::vector<Bytes>> lacking(Node& a, Node& b, const GroupId& group) {
    std::map<MailboxId, std::vector<Bytes>> out;
    for (const auto& key : a.mailbox_keys(&group)) {
        auto ids = a.envelope_ids(key.id);
        REQUIRE(ids.has_value());
        for (const auto& id : *ids) {
            auto theirs = b.envelope(id);
            REQUIRE(theirs.has_value());
            if (theirs->has_value()) continue;
            auto ours = a.envelope(id);
            REQUIRE(ours.has_value());
            REQUIRE(ours->has_value());
            out[key.id].push_back(**ours);
        }
    }
    return out;
}

std::size_t held_count(Node& node, const std::vector<Bytes>& envelopes) {
    std::size_t n = 0;
    for (const auto& e : envelopes) {
        auto held = node.envelope(envelope::record_id_of(e));
        REQUIRE(held.has_value());
        if (held->has_value()) ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("a fetch's cursor is committed with its envelopes: a kill before the commit loses both") {
    Pair p;
    for (int i = 0; i < 5; ++i) REQUIRE(p.a->post(p.g, "later " + std::to_string(i)).has_value());
    const auto missing = lacking(*p.a, *p.b, p.g);
    REQUIRE(missing.size() == 1);
    const MailboxId mailbox = missing.begin()->first;
    const std::vector<Bytes> envelopes = missing.begin()->second;
    REQUIRE(envelopes.size() == 5);
    const std::string relay = "relay-key";
    const auto home = p.dir.path() / "b";
    const auto before = texts(*p.b, p.g);
    p.b.reset();  // the child opens the store itself, as the sync's process would

    // The fetch's envelopes are stored and its cursor written in one put; the process is killed
    // after both, before the commit.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        auto b = reopen(home);
        if (!b) ::_exit(2);
        // As a sync does: it reads the cursor before it fetches from it.
        if (b->fetch_cursor(relay, mailbox)) ::_exit(5);
        auto replica = b->replica();
        (void)replica->put_then(mailbox, envelopes, [&] {
            if (!b->set_fetch_cursor(relay, mailbox, 42)) ::_exit(3);
            ::kill(::getpid(), SIGKILL);
        });
        ::_exit(4);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO("the child's exit code: " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);

    auto b = reopen(home);
    REQUIRE(b);
    // Neither the cursor nor any of its envelopes: the next sync fetches them again from where
    // the last saved cursor (none) says.
    CHECK_FALSE(b->fetch_cursor(relay, mailbox).has_value());
    CHECK(held_count(*b, envelopes) == 0);
    CHECK(texts(*b, p.g) == before);

    // Fetched again, stored with the cursor; and once more (a redial that got the same fetch
    // again before its cursor was known): nothing is held twice.
    auto replica = b->replica();
    for (int round = 0; round < 2; ++round) {
        auto held = replica->put_then(mailbox, envelopes, [&] {
            CHECK(b->set_fetch_cursor(relay, mailbox, 42).has_value());
        });
        REQUIRE(held.has_value());
        CHECK(std::count(held->begin(), held->end(), true) == 5);
    }
    replica.reset();
    b.reset();
    b = reopen(home);
    REQUIRE(b);
    CHECK(b->fetch_cursor(relay, mailbox) == std::optional<std::uint64_t>(42));
    CHECK(held_count(*b, envelopes) == 5);
    const auto after = texts(*b, p.g);
    CHECK(after.size() == before.size() + 5);
    for (int i = 0; i < 5; ++i)
        CHECK(std::count(after.begin(), after.end(), "later " + std::to_string(i)) == 1);
}
