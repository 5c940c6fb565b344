#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "kolokol/storage/unlock_agent.hpp"
#include "temp_dir.hpp"

using namespace kolokol;
using namespace kolokol::storage;
using namespace std::chrono_literals;
using kolokol::storage::test::TempDir;

namespace {

Unlocked unlocked_store(const TempDir& dir) {
    crypto::DeterministicRandom rng(7);
    const auto path = dir.path() / "store.key";
    auto key = KeyFile::create(path, as_bytes("pass"), std::nullopt, crypto::argon2_min(), rng);
    REQUIRE(key.has_value());
    auto unlocked = KeyFile::unlock(path, as_bytes("pass"));
    REQUIRE(unlocked.has_value());
    return std::move(*unlocked);
}

}  // namespace

TEST_CASE("agent requests: both kinds round-trip; anything else is refused") {
    for (AgentOp op : {AgentOp::key, AgentOp::lock}) {
        auto bytes = encode_agent_request(op);
        auto decoded = decode_agent_request(bytes);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == op);
    }
    auto good = encode_agent_request(AgentOp::key);
    // Truncated, one byte too many, oversized, empty.
    CHECK_FALSE(decode_agent_request(ByteView(good).first(kAgentRequestBytes - 1)));
    Bytes longer(good.begin(), good.end());
    longer.push_back(0);
    CHECK_FALSE(decode_agent_request(longer));
    CHECK_FALSE(decode_agent_request(Bytes(kAgentMaxRequestBytes + 1, 'k')));
    CHECK_FALSE(decode_agent_request(ByteView{}));
    // Another magic, another version, an unknown op.
    auto bad_magic = good;
    bad_magic[0] ^= 1;
    CHECK_FALSE(decode_agent_request(bad_magic));
    auto bad_version = good;
    bad_version[kAgentRequestBytes - 2] = '2';
    CHECK_FALSE(decode_agent_request(bad_version));
    for (std::uint8_t op : {0, 3, 255}) {
        auto unknown = good;
        unknown.back() = op;
        CHECK_FALSE(decode_agent_request(unknown));
    }
}

TEST_CASE("agent key reply: round-trips the key and the key file it came from") {
    TempDir dir;
    auto unlocked = unlocked_store(dir);
    auto reply = encode_agent_key_reply(unlocked);
    CHECK(reply.size() == kAgentKeyReplyBytes);
    auto decoded = decode_agent_key_reply(reply.view());
    REQUIRE(decoded.has_value());
    CHECK(decoded->kind == SlotKind::real);
    CHECK(crypto::equal_ct(decoded->db_key.view(), unlocked.db_key.view()));
    CHECK(decoded->seen.device == unlocked.seen.device);
    CHECK(decoded->seen.inode == unlocked.seen.inode);
    CHECK(decoded->seen.bytes == unlocked.seen.bytes);
}

TEST_CASE("agent key reply: truncated, extended, wrong status or a damaged key file is refused") {
    TempDir dir;
    auto unlocked = unlocked_store(dir);
    auto reply = encode_agent_key_reply(unlocked);
    Bytes bytes(reply.view().begin(), reply.view().end());
    CHECK_FALSE(decode_agent_key_reply(ByteView(bytes).first(bytes.size() - 1)));
    auto longer = bytes;
    longer.push_back(0);
    CHECK_FALSE(decode_agent_key_reply(longer));
    auto status = bytes;
    status[15] = 1;
    CHECK_FALSE(decode_agent_key_reply(status));
    // The key file's first slot names an opslimit of 0: out of bounds, so not a key file.
    auto damaged = bytes;
    std::fill_n(damaged.begin() + 16 + 32 + 16 + 16, 8, std::uint8_t{0});
    CHECK_FALSE(decode_agent_key_reply(damaged));
    CHECK_FALSE(decode_agent_key_reply(encode_agent_lock_reply()));
}

TEST_CASE("agent lock reply: only the exact bytes count") {
    auto reply = encode_agent_lock_reply();
    CHECK(is_agent_lock_reply(reply));
    auto other = reply;
    other.back() = 1;
    CHECK_FALSE(is_agent_lock_reply(other));
    CHECK_FALSE(is_agent_lock_reply(ByteView(reply).first(kAgentLockReplyBytes - 1)));
    CHECK_FALSE(is_agent_lock_reply(encode_agent_request(AgentOp::lock)));
}

TEST_CASE("suspend watch: time asleep past the threshold is a suspend, time awake is not") {
    std::chrono::nanoseconds asleep = 5s;  // asleep before the watch began: not counted
    SuspendWatch watch([&asleep] { return asleep; });
    CHECK_FALSE(watch.suspended());
    asleep += SuspendWatch::kThreshold / 2;  // two clocks read a moment apart
    CHECK_FALSE(watch.suspended());
    asleep += SuspendWatch::kThreshold;
    CHECK(watch.suspended());
}

TEST_CASE("suspend watch: the real clocks show no suspend within a test") {
    SuspendWatch watch;
    CHECK_FALSE(watch.suspended());
    CHECK(SuspendWatch::system_asleep() >= 0ns);
}
