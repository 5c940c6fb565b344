#include "reconcile_wire.hpp"

#include <algorithm>
#include <string>

namespace kolokol::transport {

namespace {
struct ReconcileCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.reconcile"; }
    std::string message(int c) const override {
        switch (static_cast<ReconcileErrc>(c)) {
            case ReconcileErrc::malformed:
                return KOLOKOL_TEXT("malformed reconciliation message");
            case ReconcileErrc::unsupported_version:
                return KOLOKOL_TEXT("unsupported reconciliation protocol version");
            case ReconcileErrc::too_large:
                return KOLOKOL_TEXT("reconciliation message too large");
            case ReconcileErrc::out_of_order:
                return KOLOKOL_TEXT("reconciliation ranges or ids out of order");
            case ReconcileErrc::wrong_state:
                return KOLOKOL_TEXT("reconciliation message out of turn");
        }
        return KOLOKOL_TEXT("unknown reconciliation error");
    }
};
}  // namespace

const std::error_category& ReconcileErrc_category() {
    static ReconcileCategory category;
    return category;
}

}  // namespace kolokol::transport

namespace kolokol::transport::detail {

void put_varint(Bytes& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}

std::size_t varint_size(std::uint64_t v) {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

std::optional<std::uint64_t> read_varint(ByteReader& r) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
        auto b = r.u8();
        if (!b) return std::nullopt;
        const std::uint64_t bits = *b & 0x7f;
        // The tenth byte may carry only the top bit of a 64-bit value.
        if (i == kMaxVarintBytes - 1 && bits > 1) return std::nullopt;
        v |= bits << (7 * i);
        if ((*b & 0x80) == 0) {
            // A zero final byte after the first means a longer encoding than needed; accepting
            // it would give one value two encodings.
            if (i > 0 && *b == 0) return std::nullopt;
            return v;
        }
    }
    return std::nullopt;
}

void put_bound(Bytes& out, const Bound& b) {
    if (b.end) {
        out.push_back(0);
        return;
    }
    out.push_back(b.length);
    out.insert(out.end(), b.value.begin(), b.value.begin() + b.length);
}

namespace {

std::unexpected<Error> malformed(const char* literal) {
    return fail(ReconcileErrc::malformed, "malformed reconciliation message: {}", literal);
}

Result<Bound> read_bound(ByteReader& r) {
    auto len = r.u8();
    if (!len) return malformed(KOLOKOL_TEXT("truncated bound"));
    if (*len == 0) return Bound::top();
    if (*len > kIdBytes) return malformed(KOLOKOL_TEXT("bound longer than an id"));
    auto prefix = r.take(*len);
    if (!prefix) return malformed(KOLOKOL_TEXT("truncated bound"));
    // A trailing zero byte adds nothing to the bound; the encoder never writes one, and
    // refusing it keeps one encoding per bound.
    if (prefix->back() == 0) return malformed(KOLOKOL_TEXT("non-canonical bound"));
    Bound b;
    b.length = *len;
    std::copy(prefix->begin(), prefix->end(), b.value.begin());
    return b;
}

}  // namespace

Result<std::vector<Range>> decode_message(ByteView message, std::size_t max_bytes) {
    if (message.size() > max_bytes)
        return fail(ReconcileErrc::too_large,
                    "reconciliation message of {} bytes is over the cap of {}", message.size(),
                    max_bytes);
    ByteReader r(message);
    auto version = r.u8();
    if (!version) return malformed(KOLOKOL_TEXT("empty"));
    if (*version != kReconcileVersion)
        return fail(ReconcileErrc::unsupported_version,
                    "reconciliation protocol version {} is not supported", *version);

    std::vector<Range> ranges;
    Bound lower;
    while (!r.empty()) {
        Range range;
        auto upper = read_bound(r);
        if (!upper) return std::unexpected(upper.error());
        if (!(lower < *upper))
            return fail(ReconcileErrc::out_of_order, "reconciliation bounds not increasing");
        range.upper = *upper;
        auto mode = r.u8();
        if (!mode) return malformed(KOLOKOL_TEXT("truncated range"));
        range.mode = *mode;
        switch (*mode) {
            case kModeSkip:
                break;
            case kModeFingerprint: {
                auto fp = r.array<kFingerprintBytes>();
                if (!fp) return malformed(KOLOKOL_TEXT("truncated fingerprint"));
                range.fingerprint = *fp;
                break;
            }
            case kModeIdList: {
                auto count = read_varint(r);
                if (!count) return malformed(KOLOKOL_TEXT("bad id count"));
                // Check the count against what is left before reading anything.
                if (*count > r.remaining() / kIdBytes)
                    return malformed(KOLOKOL_TEXT("id list longer than the message"));
                auto ids = r.take(static_cast<std::size_t>(*count) * kIdBytes);
                if (!ids) return malformed(KOLOKOL_TEXT("truncated id list"));
                RecordId prev{};
                for (std::size_t i = 0; i < *count; ++i) {
                    auto id = to_array<kIdBytes>(ids->subspan(i * kIdBytes, kIdBytes));
                    if (below(id, lower) || !below(id, range.upper))
                        return fail(ReconcileErrc::out_of_order,
                                    "reconciliation id outside its range");
                    if (i > 0 && !(prev < id))
                        return fail(ReconcileErrc::out_of_order,
                                    "reconciliation ids not strictly increasing");
                    prev = id;
                }
                range.ids = *ids;
                break;
            }
            default:
                return malformed(KOLOKOL_TEXT("unknown range mode"));
        }
        lower = range.upper;
        ranges.push_back(range);
    }
    return ranges;
}

}  // namespace kolokol::transport::detail
