// Envelopes in parts (DESIGN §9.14): a client in short connections asks for an envelope larger
// than its connections carry a part at a time (WantPart), across as many sessions as it takes;
// the server answers each with one Part. The envelope is stored whole, unchanged, once its
// last part arrives and it proves to be the one asked for.

#include <algorithm>

#include "sync.pb.h"
#include "sync_engine_impl.hpp"
#include "sync_wire.hpp"

namespace kolokol::transport {
using namespace detail;

namespace {
// What a Part frame adds to its bytes: the mailbox, the id, offsets, tags.
constexpr std::uint64_t kPartOverhead = 128;
// A part smaller than this is not worth a round trip: the next connection carries it.
constexpr std::uint64_t kMinPartBytes = 256;
}  // namespace

Status SyncEngine::Impl::on_want_part(const pb::SyncFrame& f) {
    const auto& w = f.want_part();
    auto mailbox = parse_id(w.mailbox());
    auto it = mailbox ? m_mailboxes.find(*mailbox) : m_mailboxes.end();
    if (it == m_mailboxes.end() || it->second.state != Mailbox::State::open)
        return fail_with(CloseReason::unopened_mailbox, SyncErrc::unopened_mailbox,
                         KOLOKOL_TEXT("a part wanted from a mailbox that is not open"));
    auto id = parse_id(w.id());
    if (!id || w.length() == 0 || w.length() > kSyncMaxPartBytes)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a part want with a bad id or length"));
    auto env = m_replica.get(*id);
    if (!env)
        return fail_with(CloseReason::internal,
                         make_error(SyncErrc::replica_failed, "the store failed: {}", env.error()));
    pb::SyncFrame out;
    auto* part = out.mutable_part();
    part->set_mailbox(w.mailbox());
    part->set_id(w.id());
    part->set_offset(w.offset());
    // As for whole envelopes: one that does not parse or belongs elsewhere is not held here.
    std::optional<envelope::EnvelopeView> view;
    if (env->has_value()) view = envelope::parse_envelope(**env);
    if (view && view->mailbox == *mailbox) {
        const Bytes& bytes = **env;
        if (w.offset() >= bytes.size())
            return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                             KOLOKOL_TEXT("a part want beyond the envelope's end"));
        const auto n = std::min<std::uint64_t>(w.length(), bytes.size() - w.offset());
        part->set_total(bytes.size());
        part->set_bytes(std::string(reinterpret_cast<const char*>(bytes.data()) + w.offset(), n));
    }
    emit(out);
    return {};
}

Status SyncEngine::Impl::on_part(const pb::SyncFrame& f) {
    const auto& p = f.part();
    auto mailbox = parse_id(p.mailbox());
    auto id = parse_id(p.id());
    if (!m_part_wanted || !mailbox || !id || *mailbox != m_part_wanted->mailbox ||
        *id != m_part_wanted->id || p.offset() != m_part_wanted->offset)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("a part that was not asked for"));
    const PartWanted wanted = *m_part_wanted;
    m_part_wanted.reset();
    m_partials->claimed.erase(wanted.id);
    auto& queue = m_partials->queue;
    auto& held = m_partials->held;
    auto done_with = [&] {
        held.erase(wanted.id);
        const auto at = std::find(queue.begin(), queue.end(), std::pair{wanted.mailbox, wanted.id});
        if (at != queue.end()) queue.erase(at);
    };
    auto refuse = [&](const char* why) {
        // Whatever was gathered of it is suspect now: the next sync starts it again.
        held.erase(wanted.id);
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation, why);
    };
    // Its fetch's cursor no longer waits for it (once it is stored, or not to be had).
    auto release = [&] {
        if (m_partials->positions.erase(wanted.id) > 0) advance_cursor(wanted.mailbox, 0);
    };
    if (p.total() == 0) {
        if (!p.bytes().empty()) return refuse(KOLOKOL_TEXT("a part of an envelope not held"));
        done_with();  // the server does not hold it after all
        release();
        return {};
    }
    const Mailbox& mb = m_mailboxes.at(wanted.mailbox);  // asked only of open mailboxes
    if (p.total() > mb.part_cap || p.total() < envelope::kEnvelopeMinBytes)
        return refuse(KOLOKOL_TEXT("a part of an envelope of a size not asked for"));
    if (p.bytes().empty() || p.bytes().size() > wanted.length ||
        wanted.offset + p.bytes().size() > p.total())
        return refuse(KOLOKOL_TEXT("a part out of bounds"));
    auto h = held.find(wanted.id);
    if (wanted.offset == 0) {
        if (h == held.end()) {
            if (held.size() >= kSyncMaxPartials) {
                // The oldest that no session is fetching right now.
                auto evict = std::find_if(held.begin(), held.end(), [this](const auto& e) {
                    return !m_partials->claimed.contains(e.first);
                });
                held.erase(evict != held.end() ? evict : held.begin());
            }
            h = held.emplace(wanted.id, PartialEnvelopes::Partial{}).first;
        }
        h->second = PartialEnvelopes::Partial{wanted.mailbox, p.total(), {}};
    } else if (h == held.end() || h->second.total != p.total() ||
               h->second.bytes.size() != wanted.offset) {
        return refuse(KOLOKOL_TEXT("a part that does not continue its envelope"));
    }
    const auto part = as_bytes(p.bytes());
    h->second.bytes.insert(h->second.bytes.end(), part.begin(), part.end());
    if (h->second.bytes.size() < h->second.total) return {};

    Bytes whole = std::move(h->second.bytes);
    done_with();
    auto view = envelope::parse_envelope(whole);
    if (!view || view->mailbox != wanted.mailbox || envelope::record_id_of(whole) != wanted.id)
        return fail_with(CloseReason::protocol_violation, SyncErrc::protocol_violation,
                         KOLOKOL_TEXT("an envelope in parts that is not the one asked for"));
    auto stored = m_replica.put(wanted.mailbox, std::span<const Bytes>(&whole, 1));
    if (!stored)
        return fail_with(CloseReason::internal, make_error(SyncErrc::replica_failed,
                                                           "the store failed: {}", stored.error()));
    if (!stored->empty() && stored->front())
        ++m_report.received;
    else
        ++m_report.rejected;
    release();
    return {};
}

void SyncEngine::Impl::send_part_want() {
    if (!m_partials || m_part_wanted || m_new_connection_wanted) return;
    // One thing at a time within the connection's budget: a bounded fetch under way first.
    for (const auto& [id, mb] : m_mailboxes)
        if (mb.rec == Mailbox::Rec::fetching && mb.fetch_bounded) return;
    auto& queue = m_partials->queue;
    for (auto at = queue.begin(); at != queue.end();) {
        const auto [mailbox, id] = *at;
        // Another session running at once is fetching this one's parts.
        if (m_partials->claimed.contains(id)) {
            ++at;
            continue;
        }
        auto it = m_mailboxes.find(mailbox);
        if (it == m_mailboxes.end() || it->second.state == Mailbox::State::refused ||
            it->second.part_cap == 0) {
            at = queue.erase(at);  // not this session's to fetch
            // Nor is it forgotten: a later fetch of its mailbox starts at it again, so the
            // cursor never passes it, and what is remembered stays bounded by the queue.
            if (auto pos = m_partials->positions.find(id); pos != m_partials->positions.end()) {
                auto& from = m_partials->fetch_from[pos->second.first];
                from = std::min(from, pos->second.second);
                m_partials->positions.erase(pos);
            }
            continue;
        }
        if (it->second.state != Mailbox::State::open) return;  // its open result is to come
        std::uint64_t offset = 0;
        if (auto h = m_partials->held.find(id); h != m_partials->held.end()) {
            if (h->second.mailbox == mailbox)
                offset = h->second.bytes.size();
            else
                m_partials->held.erase(h);
        }
        std::uint64_t length = m_config.part_bytes;
        if (m_config.byte_budget > 0) {
            const auto used = m_report.bytes_received + kPartOverhead;
            const auto room = used < m_config.byte_budget ? m_config.byte_budget - used : 0;
            if (room < kMinPartBytes) {
                m_new_connection_wanted = true;
                return;
            }
            length = std::min(length, room);
        }
        pb::SyncFrame f;
        auto* w = f.mutable_want_part();
        w->set_mailbox(to_string(mailbox));
        w->set_id(to_string(id));
        w->set_offset(offset);
        w->set_length(static_cast<std::uint32_t>(length));
        emit(f);
        m_part_wanted = PartWanted{mailbox, id, offset, static_cast<std::uint32_t>(length)};
        m_partials->claimed.insert(id);
        return;
    }
}

}  // namespace kolokol::transport
