#include "proposals.hpp"

#include <algorithm>
#include <ctime>

#include "kolokol/crypto/encoding.hpp"
// i18n.hpp after the other headers: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

std::string proposal_id_text(const core::RecordId& id) {
    return crypto::hex_encode(ByteView(id).first(4));
}

std::string proposal_time_text(std::int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

std::string burn_alert_text(const std::string& name, const std::string& at) {
    return at.empty() ? subst(_("Burn notice: the device of {} is in other hands. They were "
                                "removed and the group's key rotated; ignore anything that "
                                "still comes from them."),
                              name)
                      : subst(_("Burn notice: the device of {} is in other hands since {}. "
                                "They were removed and the group's key rotated; ignore "
                                "anything that still comes from them."),
                              name, at);
}

std::string proposal_alert(core::Node& node, const core::ProposalView& p) {
    if (p.kind != core::ProposalView::Kind::remove || !p.compromised) return {};
    return burn_alert_text(
        node.display_name_of(p.target),
        p.compromised_at_ms > 0 ? proposal_time_text(p.compromised_at_ms) : std::string());
}

std::string proposal_change(core::Node& node, const core::ProposalView& p) {
    using Kind = core::ProposalView::Kind;
    const std::string who = p.kind == Kind::quorum ? std::string() : node.display_name_of(p.target);
    switch (p.kind) {
        case Kind::add:
            return p.admin ? subst(_("add {} as an admin"), who) : subst(_("add {}"), who);
        case Kind::remove:
            if (!p.compromised) return subst(_("remove {}"), who);
            if (p.compromised_at_ms == 0) return subst(_("burn notice for {}"), who);
            return subst(_("burn notice for {} (device taken at {})"), who,
                         proposal_time_text(p.compromised_at_ms));
        case Kind::set_role:
            return p.admin ? subst(_("make {} an admin"), who)
                           : subst(_("make {} a member who is no admin"), who);
        case Kind::quorum:
            break;
    }
    return subst(_("set the quorum to {}"), p.quorum);
}

std::string proposal_line(core::Node& node, const core::ProposalView& p) {
    const auto held = p.approvers.size();
    std::string line =
        subst(_("{}  {}  proposed by {}  "), proposal_id_text(p.id), proposal_change(node, p),
              node.display_name_of(p.proposer)) +
        subst(P_("{} of {} approval", "{} of {} approvals", p.needed), held, p.needed);
    if (std::find(p.approvers.begin(), p.approvers.end(), node.me()) != p.approvers.end())
        line += subst("  ({})", _("you approved"));
    return line;
}

std::optional<core::ProposalView> own_waiting(core::Node& node, const core::GroupId& group,
                                              core::ProposalView::Kind kind,
                                              const core::MemberKey& target) {
    auto waiting = node.pending(group);
    if (!waiting) return std::nullopt;
    std::optional<core::ProposalView> found;
    // In (Lamport, id) order: the last match is the one just written.
    for (auto& p : *waiting)
        if (p.kind == kind && p.proposer == node.me() &&
            (kind == core::ProposalView::Kind::quorum || p.target == target))
            found = std::move(p);
    return found;
}

}  // namespace kolokol::cli
