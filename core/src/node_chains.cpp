// An author's own chain of records (DESIGN §7.5): each record names the author's previous one
// and carries the next sequence number, so one identity writing from one device gives one
// line. Two records of one author with the same sequence number mean the chain forked: the
// identity wrote from two devices at once (a restore from a backup on a second machine with
// both in use, or a copy of the identity in someone else's hands). Readers are told which
// branch each message after the fork is on, rather than seeing them interleaved without a word.

#include <algorithm>
#include <set>
#include <unordered_map>

#include "node_impl.hpp"

namespace kolokol::core {

namespace {}  // namespace

Result<std::optional<ChainFork>> Node::Impl::chain_fork(const GroupId& group,
                                                        const MemberKey& author) {
    // The first sequence number held twice, if any.
    auto first = records.first_forked_seq(group, author);
    if (!first) return std::unexpected(first.error());
    if (!*first) return std::optional<ChainFork>{};
    ChainFork fork;
    fork.seq = **first;

    auto links = records.chain_from(group, author, fork.seq);
    if (!links) return std::unexpected(links.error());
    std::unordered_map<std::string, ChainRow> rows;
    std::vector<std::pair<std::uint64_t, RecordId>> by_seq;
    for (const auto& c : *links) {
        rows.emplace(std::string(as_chars(ByteView(c.id))), c);
        by_seq.emplace_back(c.seq, c.id);
    }
    // The branches start at the fork: numbered by their first record's (Lamport, id).
    std::vector<std::pair<std::uint64_t, RecordId>> roots;
    for (const auto& [seq, id] : by_seq)
        if (seq == fork.seq)
            roots.emplace_back(rows.at(std::string(as_chars(ByteView(id)))).lamport, id);
    std::sort(roots.begin(), roots.end());
    fork.branches = static_cast<std::uint32_t>(roots.size());
    // Each later record is on its previous record's branch (ascending sequence numbers, so the
    // previous one is labelled first); a record whose previous one is not held stays 0.
    std::sort(by_seq.begin(), by_seq.end());
    for (const auto& [seq, id] : by_seq) {
        std::uint32_t branch = 0;
        if (seq == fork.seq) {
            for (std::size_t i = 0; i < roots.size(); ++i)
                if (roots[i].second == id) branch = static_cast<std::uint32_t>(i + 1);
        } else if (const auto& prev = rows.at(std::string(as_chars(ByteView(id)))).prev) {
            if (auto p = fork.branch.find(*prev); p != fork.branch.end()) branch = p->second;
        }
        fork.branch.emplace(id, branch);
    }
    return std::optional<ChainFork>{std::move(fork)};
}

Status Node::Impl::mark_forks(const GroupId& group, std::vector<MessageView>& messages) {
    std::set<MemberKey> authors;
    for (const auto& m : messages) authors.insert(m.author);
    for (const auto& author : authors) {
        auto fork = chain_fork(group, author);
        if (!fork) return std::unexpected(fork.error());
        if (!*fork) continue;
        for (auto& m : messages) {
            if (m.author != author || m.seq < (*fork)->seq) continue;
            m.devices = (*fork)->branches;
            if (auto b = (*fork)->branch.find(m.id); b != (*fork)->branch.end())
                m.device = b->second;
        }
    }
    return {};
}

}  // namespace kolokol::core
