#include "kolokol/transport/frame.hpp"

#include <algorithm>
#include <cassert>
#include <string>

#include "kolokol/crypto/byte_reader.hpp"

namespace kolokol::transport {

namespace {

std::unexpected<Error> malformed(const char* literal) {
    return fail(TransportErrc::malformed_frame, literal);
}

Status check_list(const std::vector<std::uint16_t>& versions) {
    if (versions.empty() || versions.size() > kMaxOfferedVersions)
        return malformed(KOLOKOL_TEXT("a version list holds 1 to 16 versions"));
    for (std::size_t i = 0; i < versions.size(); ++i) {
        if (versions[i] == 0) return malformed(KOLOKOL_TEXT("version 0 is not a version"));
        if (i > 0 && versions[i] <= versions[i - 1])
            return malformed(KOLOKOL_TEXT("versions must be strictly increasing"));
    }
    return {};
}

void put_offer(Bytes& out, const std::vector<std::uint16_t>& versions) {
    out.push_back(static_cast<std::uint8_t>(versions.size()));
    for (auto v : versions) put_u16be(out, v);
}

Result<std::vector<std::uint16_t>> read_offer(ByteReader& r) {
    auto count = r.u8();
    if (!count) return malformed(KOLOKOL_TEXT("version list truncated"));
    // Checked before reading on, so a count byte cannot make us loop over junk.
    if (*count == 0 || *count > kMaxOfferedVersions)
        return malformed(KOLOKOL_TEXT("a version list holds 1 to 16 versions"));
    std::vector<std::uint16_t> out;
    for (std::size_t i = 0; i < *count; ++i) {
        auto v = r.u16be();
        if (!v) return malformed(KOLOKOL_TEXT("version list truncated"));
        out.push_back(*v);
    }
    if (auto ok = check_list(out); !ok) return std::unexpected(ok.error());
    return out;
}

}  // namespace

Bytes encode_frame(ByteView noise_message) {
    assert(noise_message.size() <= kMaxFrameBytes);
    Bytes out;
    out.reserve(kFrameHeaderBytes + noise_message.size());
    put_u16be(out, static_cast<std::uint16_t>(noise_message.size()));
    append(out, noise_message);
    return out;
}

std::size_t frame_length(ByteView header) {
    assert(header.size() == kFrameHeaderBytes);
    return (std::size_t{header[0]} << 8) | header[1];
}

Status validate_versions(const std::vector<std::uint16_t>& versions) {
    return check_list(versions);
}

Bytes encode_version_offer(const std::vector<std::uint16_t>& versions) {
    Bytes out;
    put_offer(out, versions);
    return out;
}

Result<std::vector<std::uint16_t>> parse_version_offer(ByteView payload) {
    ByteReader r(payload);
    auto offer = read_offer(r);
    if (!offer) return offer;
    if (!r.empty()) return malformed(KOLOKOL_TEXT("trailing bytes after the version list"));
    return offer;
}

Bytes encode_version_answer(const VersionAnswer& answer) {
    Bytes out;
    put_u16be(out, answer.chosen);
    put_offer(out, answer.supported);
    return out;
}

Result<VersionAnswer> parse_version_answer(ByteView payload) {
    ByteReader r(payload);
    auto chosen = r.u16be();
    if (!chosen) return malformed(KOLOKOL_TEXT("version answer truncated"));
    auto offer = read_offer(r);
    if (!offer) return std::unexpected(offer.error());
    if (!r.empty()) return malformed(KOLOKOL_TEXT("trailing bytes after the version answer"));
    VersionAnswer out{*chosen, std::move(*offer)};
    // The chosen version must be one the responder says it speaks.
    if (out.chosen != 0 &&
        std::find(out.supported.begin(), out.supported.end(), out.chosen) == out.supported.end())
        return malformed(KOLOKOL_TEXT("the chosen version is not in the responder's list"));
    return out;
}

std::uint16_t choose_version(const std::vector<std::uint16_t>& ours,
                             const std::vector<std::uint16_t>& theirs) {
    for (auto it = ours.rbegin(); it != ours.rend(); ++it)
        if (std::find(theirs.begin(), theirs.end(), *it) != theirs.end()) return *it;
    return 0;
}

}  // namespace kolokol::transport
