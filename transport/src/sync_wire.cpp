#include "sync_wire.hpp"

#include <algorithm>

#include "sync.pb.h"

namespace kolokol::transport {

Result<Replica::StoredIds> Replica::ids_in_stored_order(const MailboxId& mailbox,
                                                        std::uint64_t from, std::size_t limit) {
    auto all = ids(mailbox);
    if (!all) return std::unexpected(all.error());
    StoredIds page;
    page.total = all->size();
    const std::size_t start = std::min<std::uint64_t>(from, all->size());
    const std::size_t end = start + std::min(limit, all->size() - start);
    page.ids.assign(all->begin() + static_cast<std::ptrdiff_t>(start),
                    all->begin() + static_cast<std::ptrdiff_t>(end));
    page.next = end;
    page.more = end < all->size();
    return page;
}

}  // namespace kolokol::transport

namespace kolokol::transport::detail {

Result<pb::SyncFrame> decode_frame(ByteView bytes) {
    if (bytes.size() > kSyncFrameMaxBytes)
        return fail(SyncErrc::limit_exceeded, "a sync frame over the size cap");
    pb::SyncFrame frame;
    if (!frame.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        return fail(SyncErrc::protocol_violation, "a sync frame that does not parse");
    const auto cap = static_cast<int>(kSyncMaxIdsPerFrame);
    if ((frame.has_want() && frame.want().ids_size() > cap) ||
        (frame.has_missing() && frame.missing().ids_size() > cap) ||
        (frame.has_ack() && frame.ack().rejected_size() > cap) ||
        (frame.has_fetch_all() &&
         frame.fetch_all().have_size() > static_cast<int>(kSyncMaxFetchHave)) ||
        (frame.has_fetched() &&
         (frame.fetched().lacking_size() > static_cast<int>(kSyncMaxFetchHave) ||
          frame.fetched().too_large_size() > cap)))
        return fail(SyncErrc::protocol_violation, "a sync frame with too many ids");
    if ((frame.has_want_part() && frame.want_part().length() > kSyncMaxPartBytes) ||
        (frame.has_part() && frame.part().bytes().size() > kSyncMaxPartBytes))
        return fail(SyncErrc::protocol_violation, "a sync frame with a part over the cap");
    if (frame.has_view() && frame.view().token().size() > kSyncMaxViewBytes)
        return fail(SyncErrc::protocol_violation, "a view over the size cap");
    return frame;
}

std::optional<RecordId> parse_id(const std::string& field) {
    if (field.size() != 32) return std::nullopt;
    return to_array<32>(as_bytes(field));
}

}  // namespace kolokol::transport::detail
