#include "kolokol/transport/reconcile.hpp"

#include <algorithm>

#include "kolokol/crypto/hash.hpp"
#include "reconcile_wire.hpp"

namespace kolokol::transport {

using detail::Bound;
using detail::kIdBytes;

namespace {

constexpr std::string_view kFingerprintDomain = "kolokol/reconcile-fingerprint/v1";

// Builds one outgoing message under the size cap. Skips are held back and written only when a
// later range needs them, so trailing skips never go out; room is always kept for the closing
// "fingerprint of the rest" range.
class Writer {
public:
    // A pending skip (≤ 34 bytes) plus the closing range: end bound, mode, fingerprint.
    static constexpr std::size_t kReserve = 1 + kIdBytes + 1 + 1 + 1 + kFingerprintBytes;

    explicit Writer(std::size_t limit) : m_limit(limit) { m_out.push_back(kReconcileVersion); }

    void skip(const Bound& upper) {
        m_skipping = true;
        m_skip_upper = upper;
    }
    // Bytes that one more range may take and still leave room to close the message.
    std::size_t room() const {
        const std::size_t used = m_out.size() + pending() + kReserve;
        return used >= m_limit ? 0 : m_limit - used;
    }
    void append(ByteView range) {
        flush_skip();
        kolokol::append(m_out, range);
    }
    // Ends the message with one fingerprint over everything from the last bound written.
    void close_with_rest(const Fingerprint& rest) {
        flush_skip();
        detail::put_bound(m_out, Bound::top());
        m_out.push_back(detail::kModeFingerprint);
        kolokol::append(m_out, rest);
    }
    // The message without its trailing skip; only the version byte when there is nothing to do.
    Bytes finish() && { return std::move(m_out); }
    bool empty() const { return m_out.size() == 1; }

private:
    std::size_t pending() const { return m_skipping ? m_skip_upper.encoded_size() + 1 : 0; }
    void flush_skip() {
        if (!m_skipping) return;
        detail::put_bound(m_out, m_skip_upper);
        m_out.push_back(detail::kModeSkip);
        m_skipping = false;
    }

    std::size_t m_limit;
    Bytes m_out;
    bool m_skipping = false;
    Bound m_skip_upper;
};

ByteArray<32> sum_bytes(const std::array<std::uint64_t, 4>& sum) {
    ByteArray<32> out{};
    for (std::size_t limb = 0; limb < 4; ++limb)
        for (std::size_t i = 0; i < 8; ++i)
            out[limb * 8 + i] = static_cast<std::uint8_t>(sum[limb] >> (8 * i));
    return out;
}

}  // namespace

Fingerprint reconcile_fingerprint(const ByteArray<32>& sum_le, std::uint64_t count) {
    Bytes input(sum_le.begin(), sum_le.end());
    detail::put_varint(input, count);
    auto h = crypto::blake2b_256(kFingerprintDomain, input);
    return to_array<kFingerprintBytes>(h);
}

ReconcileSet::ReconcileSet(std::vector<RecordId> ids) : m_ids(std::move(ids)) {
    if (!std::is_sorted(m_ids.begin(), m_ids.end())) std::sort(m_ids.begin(), m_ids.end());
    m_ids.erase(std::unique(m_ids.begin(), m_ids.end()), m_ids.end());
    m_ids.shrink_to_fit();

    // Ids as 256-bit little-endian integers. A prefix sum mod 2^256 every kSumStride ids gives
    // any range's sum from two checkpoints and at most 2 × (kSumStride − 1) additions.
    m_checkpoints.reserve(m_ids.size() / kSumStride + 1);
    Sum acc{};
    for (std::size_t i = 0; i < m_ids.size(); ++i) {
        if (i % kSumStride == 0) m_checkpoints.push_back(acc);
        add_id(acc, m_ids[i]);
    }
    if (m_ids.size() % kSumStride == 0) m_checkpoints.push_back(acc);
}

std::size_t ReconcileSet::memory_bytes_for(std::size_t count) {
    return sizeof(ReconcileSet) + count * sizeof(RecordId) + (count / kSumStride + 1) * sizeof(Sum);
}

std::size_t ReconcileSet::build_bytes_for(std::size_t count) {
    return count * sizeof(RecordId) + memory_bytes_for(count);
}

std::size_t ReconcileSet::memory_bytes() const {
    return sizeof(ReconcileSet) + m_ids.capacity() * sizeof(RecordId) +
           m_checkpoints.capacity() * sizeof(Sum);
}

void ReconcileSet::add_id(Sum& acc, const RecordId& id) {
    std::uint64_t carry = 0;
    for (std::size_t limb = 0; limb < 4; ++limb) {
        std::uint64_t v = 0;
        for (std::size_t b = 0; b < 8; ++b) v |= std::uint64_t{id[limb * 8 + b]} << (8 * b);
        const std::uint64_t s1 = acc[limb] + v;
        const std::uint64_t c1 = s1 < v ? 1 : 0;
        const std::uint64_t s2 = s1 + carry;
        const std::uint64_t c2 = s2 < carry ? 1 : 0;
        acc[limb] = s2;
        carry = c1 | c2;
    }
}

ReconcileSet::Sum ReconcileSet::prefix_sum(std::size_t end) const {
    Sum acc = m_checkpoints[end / kSumStride];
    for (std::size_t i = end - end % kSumStride; i < end; ++i) add_id(acc, m_ids[i]);
    return acc;
}

Reconciler::Reconciler(Role role, std::vector<RecordId> ids, Options options)
    : Reconciler(role, std::make_shared<const ReconcileSet>(std::move(ids)), options) {}

Reconciler::Reconciler(Role role, std::shared_ptr<const ReconcileSet> set, Options options)
    : m_role(role),
      m_max_bytes(std::max(options.max_message_bytes, kReconcileMinMessageBytes)),
      m_set(std::move(set)),
      m_ids(&m_set->m_ids) {}

std::size_t Reconciler::own_memory_bytes() const {
    // A std::set node holds the id and about 32 bytes of links and colour.
    return sizeof(Reconciler) + (m_have.capacity() + m_need.capacity()) * sizeof(RecordId) +
           m_reported.size() * (sizeof(RecordId) + 32);
}

std::size_t Reconciler::index_of(const Bound& bound) const {
    if (bound.end) return m_ids->size();
    return static_cast<std::size_t>(std::lower_bound(m_ids->begin(), m_ids->end(), bound.value) -
                                    m_ids->begin());
}

Fingerprint Reconciler::fingerprint(std::size_t begin, std::size_t end) const {
    using Sum = ReconcileSet::Sum;
    const Sum hi = m_set->prefix_sum(end);
    const Sum lo = m_set->prefix_sum(begin);
    Sum diff{};
    std::uint64_t borrow = 0;
    for (std::size_t limb = 0; limb < 4; ++limb) {
        const std::uint64_t d1 = hi[limb] - lo[limb];
        const std::uint64_t b1 = hi[limb] < lo[limb] ? 1 : 0;
        const std::uint64_t d2 = d1 - borrow;
        const std::uint64_t b2 = d1 < borrow ? 1 : 0;
        diff[limb] = d2;
        borrow = b1 | b2;
    }
    return reconcile_fingerprint(sum_bytes(diff), end - begin);
}

Bound Reconciler::separator(std::size_t index) const {
    const RecordId& a = (*m_ids)[index - 1];
    const RecordId& b = (*m_ids)[index];
    std::size_t common = 0;
    while (common < kIdBytes && a[common] == b[common]) ++common;
    // Ids are distinct, so they differ at `common` and b's byte there is above a's, hence
    // non-zero: the prefix of b one byte past the common part lies in (a, b].
    Bound out;
    out.length = static_cast<std::uint8_t>(common + 1);
    std::copy(b.begin(), b.begin() + out.length, out.value.begin());
    return out;
}

void Reconciler::split(Bytes& out, std::size_t begin, std::size_t end, const Bound& upper) const {
    const std::size_t n = end - begin;
    if (n < kReconcileIdListThreshold) {
        detail::put_bound(out, upper);
        out.push_back(detail::kModeIdList);
        detail::put_varint(out, n);
        for (std::size_t i = begin; i < end; ++i) append(out, (*m_ids)[i]);
        return;
    }
    const std::size_t per_bucket = n / kReconcileBuckets;
    const std::size_t extra = n % kReconcileBuckets;
    std::size_t cur = begin;
    for (std::size_t bucket = 0; bucket < kReconcileBuckets; ++bucket) {
        const std::size_t next = cur + per_bucket + (bucket < extra ? 1 : 0);
        const Bound b = bucket + 1 == kReconcileBuckets ? upper : separator(next);
        detail::put_bound(out, b);
        out.push_back(detail::kModeFingerprint);
        append(out, fingerprint(cur, next));
        cur = next;
    }
}

void Reconciler::learn(std::size_t begin, std::size_t end, ByteView their_ids) {
    const std::size_t theirs = their_ids.size() / kIdBytes;
    std::size_t i = begin;
    std::size_t j = 0;
    auto report = [this](std::vector<RecordId>& into, const RecordId& id) {
        if (m_reported.insert(id).second) into.push_back(id);
    };
    while (i < end || j < theirs) {
        if (j == theirs) {
            report(m_have, (*m_ids)[i++]);
            continue;
        }
        const auto their = to_array<kIdBytes>(their_ids.subspan(j * kIdBytes, kIdBytes));
        if (i == end || their < (*m_ids)[i]) {
            report(m_need, their);
            ++j;
        } else if ((*m_ids)[i] < their) {
            report(m_have, (*m_ids)[i++]);
        } else {
            ++i;
            ++j;
        }
    }
}

Result<Bytes> Reconciler::initiate() {
    if (m_role != Role::initiator || m_started)
        return fail(ReconcileErrc::wrong_state, "initiate() on a responder or called twice");
    m_started = true;
    Bytes out{kReconcileVersion};
    split(out, 0, m_ids->size(), Bound::top());
    return out;
}

Result<std::optional<Bytes>> Reconciler::reconcile(ByteView message) {
    if (m_done || (m_role == Role::initiator && !m_started))
        return fail(ReconcileErrc::wrong_state, "reconciliation message out of turn");
    auto ranges = detail::decode_message(message, m_max_bytes);
    if (!ranges) return std::unexpected(ranges.error());
    ++m_rounds;

    Writer w(m_max_bytes);
    std::size_t lo = 0;
    for (const auto& range : *ranges) {
        const std::size_t hi = index_of(range.upper);
        bool stop = false;
        switch (range.mode) {
            case detail::kModeSkip:
                w.skip(range.upper);
                break;
            case detail::kModeFingerprint: {
                if (fingerprint(lo, hi) == range.fingerprint) {
                    w.skip(range.upper);
                    break;
                }
                Bytes o;
                split(o, lo, hi, range.upper);
                if (o.size() > w.room()) {
                    w.close_with_rest(fingerprint(lo, m_ids->size()));
                    stop = true;
                } else {
                    w.append(o);
                }
                break;
            }
            case detail::kModeIdList: {
                if (m_role == Role::initiator) {
                    learn(lo, hi, range.ids);
                    w.skip(range.upper);
                    break;
                }
                // Responder: answer with our own ids in the range, as many as fit; the rest
                // goes back as one fingerprint and is worked through in later rounds.
                const std::size_t count = hi - lo;
                const std::size_t head = range.upper.encoded_size() + 1 + detail::kMaxVarintBytes;
                const std::size_t room = w.room();
                std::size_t fit = room > head ? (room - head) / kIdBytes : 0;
                Bound upper = range.upper;
                if (fit < count) {
                    if (fit == 0) {
                        w.close_with_rest(fingerprint(lo, m_ids->size()));
                        stop = true;
                        break;
                    }
                    upper = separator(lo + fit);
                    stop = true;
                } else {
                    fit = count;
                }
                Bytes o;
                detail::put_bound(o, upper);
                o.push_back(detail::kModeIdList);
                detail::put_varint(o, fit);
                for (std::size_t i = lo; i < lo + fit; ++i) append(o, (*m_ids)[i]);
                w.append(o);
                if (stop) w.close_with_rest(fingerprint(lo + fit, m_ids->size()));
                break;
            }
        }
        if (stop) break;
        lo = hi;
    }

    if (m_role == Role::initiator && w.empty()) {
        m_done = true;
        return std::optional<Bytes>{};
    }
    return std::optional<Bytes>(std::move(w).finish());
}

}  // namespace kolokol::transport
