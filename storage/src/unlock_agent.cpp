#include "kolokol/storage/unlock_agent.hpp"

#include <time.h>

#include <algorithm>
#include <string_view>

#include "kolokol/crypto/byte_reader.hpp"

namespace kolokol::storage {

namespace {

constexpr std::string_view kMagic = "kolokol-agent/1";
static_assert(kMagic.size() + 1 == kAgentRequestBytes);

bool has_magic(ByteReader& in) {
    auto magic = in.take(kMagic.size());
    return magic && std::ranges::equal(*magic, as_bytes(kMagic));
}

void put_u64be(std::uint8_t* out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<std::uint8_t>(v);
        v >>= 8;
    }
}

}  // namespace

std::filesystem::path agent_socket_path(const std::filesystem::path& home) {
    return home / "agent" / "socket";
}

ByteArray<kAgentRequestBytes> encode_agent_request(AgentOp op) {
    ByteArray<kAgentRequestBytes> out{};
    std::ranges::copy(as_bytes(kMagic), out.begin());
    out[kMagic.size()] = static_cast<std::uint8_t>(op);
    return out;
}

Result<AgentOp> decode_agent_request(ByteView bytes) {
    // The size first: nothing past a request's fixed length is ever looked at.
    if (bytes.size() != kAgentRequestBytes)
        return fail(StorageErrc::invalid_argument, "an agent request has the wrong size");
    ByteReader in(bytes);
    if (!has_magic(in)) return fail(StorageErrc::invalid_argument, "not an agent request");
    const auto op = in.u8();
    if (op == static_cast<std::uint8_t>(AgentOp::key)) return AgentOp::key;
    if (op == static_cast<std::uint8_t>(AgentOp::lock)) return AgentOp::lock;
    return fail(StorageErrc::invalid_argument, "an agent request of an unknown kind");
}

crypto::SecretBytes encode_agent_key_reply(const Unlocked& unlocked) {
    crypto::SecretBytes out(kAgentKeyReplyBytes);
    std::uint8_t* p = out.data();
    std::ranges::copy(as_bytes(kMagic), p);
    p += kMagic.size();
    *p++ = 0;
    std::ranges::copy(unlocked.db_key.view(), p);
    p += 32;
    put_u64be(p, unlocked.seen.device);
    put_u64be(p + 8, unlocked.seen.inode);
    p += 16;
    std::ranges::copy(unlocked.seen.bytes, p);
    return out;
}

Result<Unlocked> decode_agent_key_reply(ByteView bytes) {
    if (bytes.size() != kAgentKeyReplyBytes)
        return fail(StorageErrc::invalid_argument, "an agent reply has the wrong size");
    ByteReader in(bytes);
    if (!has_magic(in) || in.u8() != 0)
        return fail(StorageErrc::invalid_argument, "not an agent reply");
    Unlocked out;
    out.kind = SlotKind::real;
    out.db_key = crypto::SecretBytes::copy_of(*in.take(32));
    out.seen.device = *in.u64be();
    out.seen.inode = *in.u64be();
    out.seen.bytes = *in.array<kKeyFileBytes>();
    if (!KeyFile::parameters(out.seen.bytes))
        return fail(StorageErrc::invalid_argument, "the agent sent a damaged key file");
    return out;
}

ByteArray<kAgentLockReplyBytes> encode_agent_lock_reply() {
    ByteArray<kAgentLockReplyBytes> out{};
    std::ranges::copy(as_bytes(kMagic), out.begin());
    return out;
}

bool is_agent_lock_reply(ByteView bytes) {
    return std::ranges::equal(bytes, encode_agent_lock_reply());
}

SuspendWatch::SuspendWatch(AsleepClock asleep)
    : m_asleep(asleep ? std::move(asleep) : AsleepClock(system_asleep)), m_start(m_asleep()) {}

bool SuspendWatch::suspended() const {
    return m_asleep() - m_start > kThreshold;
}

std::chrono::nanoseconds SuspendWatch::system_asleep() {
    auto ns = [](clockid_t id) {
        timespec ts{};
        ::clock_gettime(id, &ts);
        return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    };
    // BOOTTIME is read last: a suspend between the two reads makes the difference larger, never
    // smaller, so none is missed; at worst one is seen a moment early.
    const auto monotonic = ns(CLOCK_MONOTONIC);
    return ns(CLOCK_BOOTTIME) - monotonic;
}

}  // namespace kolokol::storage
