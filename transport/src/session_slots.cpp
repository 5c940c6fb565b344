#include "kolokol/transport/session_slots.hpp"

namespace kolokol::transport {

namespace {
// Of two groups, the one to evict from: more unauthorized sessions, then the older oldest.
template <class G>
bool pays_before(const G& a, const G& b) {
    if (a.unauthorized.size() != b.unauthorized.size())
        return a.unauthorized.size() > b.unauthorized.size();
    return *a.unauthorized.begin() < *b.unauthorized.begin();
}
// Of two groups, the one to evict from when authorized sessions count too: more sessions, then
// the older oldest.
template <class G>
bool holds_more(const G& a, const G& b) {
    if (a.all.size() != b.all.size()) return a.all.size() > b.all.size();
    return *a.all.begin() < *b.all.begin();
}
// The session a group gives up: its oldest unauthorized one, else its oldest.
template <class G>
std::uint64_t oldest_of(const G& g) {
    return g.unauthorized.empty() ? *g.all.begin() : *g.unauthorized.begin();
}
}  // namespace

asio::ip::address SessionSlots::normalized(const asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    return address;
}

asio::ip::address SessionSlots::prefix_of(const asio::ip::address& address) {
    const auto a = normalized(address);
    if (a.is_v4()) return asio::ip::address_v4(a.to_v4().to_uint() & 0xffffff00u);
    auto bytes = a.to_v6().to_bytes();
    // A /48: what one site is given (a home line often gets a /56, a hosting customer a /48), so
    // one customer's addresses count as one party however their /64s are spread.
    for (std::size_t i = 6; i < bytes.size(); ++i) bytes[i] = 0;
    return asio::ip::address_v6(bytes);
}

std::size_t SessionSlots::unauthorized() const {
    std::size_t n = 0;
    for (const auto& [id, slot] : m_slots) n += slot.authorized ? 0 : 1;
    return n;
}

std::size_t SessionSlots::at_address(const asio::ip::address& address) const {
    auto it = m_addresses.find(normalized(address));
    return it == m_addresses.end() ? 0 : it->second.all.size();
}

std::size_t SessionSlots::in_prefix(const asio::ip::address& address) const {
    auto it = m_prefixes.find(prefix_of(address));
    return it == m_prefixes.end() ? 0 : it->second.all.size();
}

const SessionSlots::Group* SessionSlots::biggest_address_in(const Prefix& prefix) const {
    const Group* best = nullptr;
    for (const auto& address : prefix.addresses) {
        const Group& g = m_addresses.at(address);
        if (!g.unauthorized.empty() && (!best || pays_before(g, *best))) best = &g;
    }
    return best;
}

std::size_t SessionSlots::unauthorized_at(const asio::ip::address& address) const {
    auto it = m_addresses.find(address);
    return it == m_addresses.end() ? 0 : it->second.unauthorized.size();
}

std::size_t SessionSlots::unauthorized_in(const asio::ip::address& prefix) const {
    auto it = m_prefixes.find(prefix);
    return it == m_prefixes.end() ? 0 : it->second.unauthorized.size();
}

std::optional<SessionSlots::SlotId> SessionSlots::victim_in_prefix(
    const asio::ip::address& prefix, const asio::ip::address& newcomer) const {
    auto it = m_prefixes.find(prefix);
    if (it == m_prefixes.end()) return std::nullopt;
    const Group* biggest = biggest_address_in(it->second);
    if (!biggest || biggest->unauthorized.size() < unauthorized_at(newcomer) + 2)
        return std::nullopt;
    return *biggest->unauthorized.begin();
}

std::optional<SessionSlots::SlotId> SessionSlots::victim_anywhere(
    const asio::ip::address& newcomer_prefix) const {
    const Prefix* biggest = nullptr;
    for (const auto& [prefix, p] : m_prefixes)
        if (!p.unauthorized.empty() && (!biggest || pays_before(p, *biggest))) biggest = &p;
    if (!biggest || biggest->unauthorized.size() < unauthorized_in(newcomer_prefix) + 2)
        return std::nullopt;
    return *biggest_address_in(*biggest)->unauthorized.begin();
}

const SessionSlots::Group* SessionSlots::busiest_address_in(const Prefix& prefix) const {
    const Group* best = nullptr;
    for (const auto& address : prefix.addresses) {
        const Group& g = m_addresses.at(address);
        if (!best || holds_more(g, *best)) best = &g;
    }
    return best;
}

std::optional<SessionSlots::SlotId> SessionSlots::any_victim_in_prefix(
    const asio::ip::address& prefix, const asio::ip::address& newcomer) const {
    auto it = m_prefixes.find(prefix);
    if (it == m_prefixes.end()) return std::nullopt;
    const Group* busiest = busiest_address_in(it->second);
    if (!busiest || busiest->all.size() < at_address(newcomer) + 2) return std::nullopt;
    return oldest_of(*busiest);
}

std::optional<SessionSlots::SlotId> SessionSlots::any_victim_anywhere(
    const asio::ip::address& newcomer, const asio::ip::address& newcomer_prefix) const {
    const Prefix* biggest = nullptr;
    for (const auto& [prefix, p] : m_prefixes)
        if (!biggest || holds_more(p, *biggest)) biggest = &p;
    if (!biggest || biggest->all.size() < in_prefix(newcomer_prefix) + 2) return std::nullopt;
    const Group* busiest = busiest_address_in(*biggest);
    if (!busiest || busiest->all.size() < at_address(newcomer) + 2) return std::nullopt;
    return oldest_of(*busiest);
}

SessionSlots::Admission SessionSlots::admit(const asio::ip::address& raw) {
    const auto address = normalized(raw);
    const auto prefix = prefix_of(address);
    Admission out;
    std::optional<SlotId> victim;
    if (at_address(address) >= m_limits.per_address) {
        // Only another session of the same address could make room: that is the same party
        // trading one attempt for another, so the cap simply holds.
        out.outcome = Outcome::refused_address;
    } else if (in_prefix(address) >= m_limits.per_prefix) {
        victim = victim_in_prefix(prefix, address);
        if (!victim && m_limits.evict_authorized) victim = any_victim_in_prefix(prefix, address);
        if (!victim) out.outcome = Outcome::refused_prefix;
    } else if (m_slots.size() >= m_limits.max_sessions) {
        victim = victim_anywhere(prefix);
        if (!victim && m_limits.evict_authorized) victim = any_victim_anywhere(address, prefix);
        if (!victim) out.outcome = Outcome::refused_capacity;
    }
    if (out.outcome != Outcome::admitted) return out;
    if (victim) {
        remove(*victim);
        out.evicted = victim;
    }
    out.slot = m_next++;
    m_slots.emplace(out.slot, Slot{address, prefix, false});
    auto& g = m_addresses[address];
    g.all.insert(out.slot);
    g.unauthorized.insert(out.slot);
    auto& p = m_prefixes[prefix];
    p.all.insert(out.slot);
    p.unauthorized.insert(out.slot);
    p.addresses.insert(address);
    return out;
}

void SessionSlots::authorize(SlotId slot) {
    auto it = m_slots.find(slot);
    if (it == m_slots.end() || it->second.authorized) return;
    it->second.authorized = true;
    m_addresses.at(it->second.address).unauthorized.erase(slot);
    m_prefixes.at(it->second.prefix).unauthorized.erase(slot);
}

void SessionSlots::release(SlotId slot) {
    if (m_slots.contains(slot)) remove(slot);
}

void SessionSlots::remove(SlotId slot) {
    auto it = m_slots.find(slot);
    const Slot s = it->second;
    m_slots.erase(it);
    auto a = m_addresses.find(s.address);
    a->second.unauthorized.erase(slot);
    a->second.all.erase(slot);
    const bool address_gone = a->second.all.empty();
    if (address_gone) m_addresses.erase(a);
    auto p = m_prefixes.find(s.prefix);
    p->second.unauthorized.erase(slot);
    p->second.all.erase(slot);
    if (address_gone) p->second.addresses.erase(s.address);
    if (p->second.all.empty()) m_prefixes.erase(p);
}

}  // namespace kolokol::transport
