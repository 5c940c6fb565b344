// kolokol group audit: the membership and settings history as this member sees it, the digest
// to compare with other members, and control records that never reached this member (§5.12).
#include <iostream>
#include <nlohmann/json.hpp>

#include "group_audit.hpp"
#include "node_session.hpp"
#include "proposals.hpp"
// i18n.hpp after the other headers: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {
struct AuditArgs {
    std::string group;
    bool json = false;
};
AuditArgs& args() {
    static AuditArgs a;
    return a;
}

const char* kind_name(core::ControlEntry::Kind kind) {
    using Kind = core::ControlEntry::Kind;
    switch (kind) {
        case Kind::add:
            return "add";
        case Kind::remove:
            return "remove";
        case Kind::set_role:
            return "set_role";
        case Kind::rotation:
            return "rotation";
        case Kind::approval:
            return "approval";
        case Kind::key_update:
            return "key_update";
        case Kind::settings:
            break;
    }
    return "settings";
}

const char* status_name(core::ControlEntry::Status status) {
    using Status = core::ControlEntry::Status;
    switch (status) {
        case Status::valid:
            return "valid";
        case Status::waiting:
            return "waiting";
        case Status::invalid:
            return "invalid";
        case Status::dropped:
            break;
    }
    return "dropped";
}

std::string status_text(core::ControlEntry::Status status) {
    using Status = core::ControlEntry::Status;
    switch (status) {
        case Status::valid:
            return {};
        case Status::waiting:
            return _("waiting for approvals");
        case Status::invalid:
            return _("refused");
        case Status::dropped:
            break;
    }
    return _("void (strong remove)");
}

std::string names_of(core::Node& node, const std::vector<core::MemberKey>& keys) {
    std::string out;
    for (const auto& k : keys) {
        if (!out.empty()) out += ", ";
        out += node.display_name_of(k);
    }
    return out;
}

}  // namespace

std::string retention_text(std::uint64_t s) {
    if (s == 0) return _("keep records until someone redacts them");
    if (s % 86400 == 0)
        return subst(P_("delete records {} day after they were written",
                        "delete records {} days after they were written", s / 86400),
                     s / 86400);
    return subst(P_("delete records {} minute after they were written",
                    "delete records {} minutes after they were written", s / 60),
                 s / 60);
}

// "Retention: …", and when a shorter period set is not deleting here yet, from when it does.
static std::string retention_line(core::Node& node, const core::GroupId& group) {
    const auto r = node.retention_in_force(group);
    if (r.from_ms == 0) return subst(_("Retention: {}\n"), retention_text(r.set_seconds));
    return subst(_("Retention: {} (from {} here; until then: {})\n"), retention_text(r.set_seconds),
                 proposal_time_text(r.from_ms), retention_text(r.deleting_seconds));
}

std::string control_change(core::Node& node, const core::ControlEntry& e) {
    using Kind = core::ControlEntry::Kind;
    const std::string who = node.display_name_of(e.target);
    switch (e.kind) {
        case Kind::add:
            return e.admin ? subst(_("add {} as an admin"), who) : subst(_("add {}"), who);
        case Kind::remove:
            if (!e.compromised) return subst(_("remove {}"), who);
            if (e.compromised_at_ms == 0) return subst(_("burn notice for {}"), who);
            return subst(_("burn notice for {} (device taken at {})"), who,
                         proposal_time_text(e.compromised_at_ms));
        case Kind::set_role:
            return e.admin ? subst(_("make {} an admin"), who)
                           : subst(_("make {} a member who is no admin"), who);
        case Kind::rotation:
            return _("rotate the group's key");
        case Kind::approval:
            return e.withdraw ? subst(_("withdraw {}"), proposal_id_text(e.proposal))
                              : subst(_("approve {}"), proposal_id_text(e.proposal));
        case Kind::key_update:
            return _("replace their encryption key");
        case Kind::settings:
            break;
    }
    std::vector<std::string> parts;
    if (e.name) parts.push_back(subst(_("name the group \"{}\""), *e.name));
    if (e.relays) {
        std::string list;
        for (const auto& r : *e.relays) list += (list.empty() ? "" : ", ") + r;
        parts.push_back(e.relays->empty() ? std::string(_("list no relays"))
                                          : subst(_("set the relays to {}"), list));
    }
    if (e.retention_seconds) parts.push_back(retention_text(*e.retention_seconds));
    if (e.tor_only)
        parts.push_back(*e.tor_only ? std::string(_("make the group Tor only"))
                                    : std::string(_("let the group connect without Tor")));
    if (e.quorum) parts.push_back(subst(_("set the quorum to {}"), *e.quorum));
    if (e.rekey_interval_seconds) {
        const auto s = *e.rekey_interval_seconds;
        parts.push_back(s == 0
                            ? std::string(_("stop regular key updates"))
                            : subst(P_("have members replace their keys every {} hour",
                                       "have members replace their keys every {} hours", s / 3600),
                                    s / 3600));
    }
    if (parts.empty()) return _("change no setting");
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
}

std::string missing_control_text(core::Node& node, const std::string& name,
                                 const std::vector<core::MissingControl>& missing) {
    std::string out;
    for (const auto& m : missing)
        out += subst(_("warning: \"{}\": control record {} has not reached you, but records of {} "
                       "name it (waiting since {}). A relay or peer may be withholding it: "
                       "compare `kolokol group audit` with other members, or sync with "
                       "another relay or by file.\n"),
                     name, proposal_id_text(m.id), names_of(node, m.referrers),
                     proposal_time_text(m.since_ms));
    return out;
}

std::size_t warn_missing_control(core::Node& node) {
    std::size_t n = 0;
    for (const auto& g : node.groups()) {
        auto missing = node.missing_control(g.id);
        if (!missing || missing->empty()) continue;
        n += missing->size();
        std::cerr << missing_control_text(node, g.name.empty() ? short_hex(g.id) : g.name,
                                          *missing);
    }
    return n;
}

std::string view_difference_text(core::Node& node, const std::string& name,
                                 const core::ViewCheck& c) {
    return subst(
        _("warning: \"{}\": after syncing directly with {}, your views of the group "
          "still differ: you hold {} valid control records (digest {}), {} holds {} "
          "(digest {}). One of you refused or dropped a record the other holds, and syncing "
          "again may not mend it: compare `kolokol group audit` with {} and tell an "
          "admin.\n"),
        name, node.display_name_of(c.peer), c.own_count, core::control_digest_text(c.own_digest),
        node.display_name_of(c.peer), c.peer_count, core::control_digest_text(c.peer_digest),
        node.display_name_of(c.peer));
}

std::size_t warn_view_differences(core::Node& node, std::int64_t since_ms) {
    auto checks = node.view_checks(nullptr, since_ms);
    if (!checks) return 0;
    std::size_t n = 0;
    for (const auto& c : *checks) {
        if (c.same) continue;
        std::string name = short_hex(c.group);
        for (const auto& g : node.groups())
            if (g.id == c.group && !g.name.empty()) name = g.name;
        std::cerr << view_difference_text(node, name, c);
        ++n;
    }
    return n;
}

std::string void_quorum_text(core::Node& node, const core::GroupId& group,
                             const std::string& name) {
    auto asked = node.void_quorum(group);
    auto now = node.quorum(group);
    if (!asked || !now || *asked <= *now) return {};
    return subst(_("Warning: {}: an admin set a quorum of {} while the group had fewer admins than "
                   "that. Such a setting is void at every member, so the quorum is {}. Set it "
                   "again now that there are enough admins: kolokol group quorum \"{}\" {}\n"),
                 name, *asked, *now, name, *asked);
}

std::size_t warn_void_quorums(core::Node& node) {
    std::size_t n = 0;
    for (const auto& g : node.groups()) {
        auto text = void_quorum_text(node, g.id, g.name.empty() ? short_hex(g.id) : g.name);
        if (text.empty()) continue;
        std::cerr << text;
        ++n;
    }
    return n;
}

void register_group_audit(CLI::App& group) {
    auto& a = args();
    auto* audit = group.add_subcommand(
        "audit", _("The group's membership and settings history as you hold it, with a digest "
                   "to compare with other members"));
    audit->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    audit->add_flag("--json", a.json, _("Machine-readable output"));
    audit->footer(
        _("Example:\n  kolokol group audit \"Legal support\"\n\nEvery control record you hold "
          "(additions, removals, roles, key rotations, approvals, settings) in order, who signed "
          "it and the time their device claimed. Read the digest aloud with another member, in "
          "person or on a call: the same digest and count means you both hold the same valid "
          "control records. Different digests mean one of you lacks a record (sync again, with "
          "another relay or by file) or refused one the other accepted. Records other members' "
          "records name that never reached you are listed as missing."));
    audit->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto audit = value_or_raise(node->audit(gid));
        auto members = value_or_raise(node->members(gid));
        std::string name;
        for (const auto& g : node->groups())
            if (g.id == gid) name = g.name;
        if (args().json) {
            auto records = nlohmann::json::array();
            for (const auto& e : audit.records) {
                nlohmann::json item = {{"id", hex(e.id)},
                                       {"lamport", e.lamport},
                                       {"kind", kind_name(e.kind)},
                                       {"status", status_name(e.status)},
                                       {"change", control_change(*node, e)},
                                       {"author", hex(e.author)},
                                       {"author_name", node->display_name_of(e.author)},
                                       {"claimed_ms", e.wall_ms}};
                if (e.kind == core::ControlEntry::Kind::add ||
                    e.kind == core::ControlEntry::Kind::remove ||
                    e.kind == core::ControlEntry::Kind::set_role)
                    item["target"] = hex(e.target);
                if (e.kind == core::ControlEntry::Kind::approval) {
                    item["proposal"] = hex(e.proposal);
                    item["withdraw"] = e.withdraw;
                }
                records.push_back(std::move(item));
            }
            auto missing = nlohmann::json::array();
            for (const auto& m : audit.missing) {
                auto by = nlohmann::json::array();
                for (const auto& k : m.referrers)
                    by.push_back({{"key", hex(k)}, {"name", node->display_name_of(k)}});
                missing.push_back({{"id", hex(m.id)}, {"named_by", by}, {"since_ms", m.since_ms}});
            }
            auto compared = nlohmann::json::array();
            for (const auto& c : value_or_raise(node->view_checks(&gid)))
                compared.push_back({{"key", hex(c.peer)},
                                    {"name", node->display_name_of(c.peer)},
                                    {"at_ms", c.at_ms},
                                    {"same", c.same},
                                    {"peer_valid", c.peer_count},
                                    {"peer_digest_hex", hex(c.peer_digest)},
                                    {"valid", c.own_count},
                                    {"digest_hex", hex(c.own_digest)}});
            auto mj = nlohmann::json::array();
            for (const auto& m : members)
                mj.push_back({{"key", hex(m.key)}, {"name", m.name}, {"admin", m.admin}});
            std::cout << nlohmann::json{{"group", hex(gid)},
                                        {"name", name},
                                        {"digest", core::control_digest_text(audit.digest)},
                                        {"digest_hex", hex(audit.digest)},
                                        {"valid", audit.valid},
                                        {"records", records},
                                        {"members", mj},
                                        {"quorum", value_or_raise(node->quorum(gid))},
                                        {"retention_seconds", node->retention(gid)},
                                        {"retention_deleting_seconds",
                                         node->retention_in_force(gid).deleting_seconds},
                                        {"retention_from_ms",
                                         node->retention_in_force(gid).from_ms},
                                        {"tor_only", node->tor_only(gid)},
                                        {"relays", node->relay_addresses(gid)},
                                        {"missing", missing},
                                        {"compared", compared}}
                             .dump(2)
                      << "\n";
            return;
        }
        std::cout << subst(_("Control records of \"{}\" as you hold them:\n"), name);
        for (const auto& e : audit.records) {
            std::cout << "  " << proposal_id_text(e.id) << "  " << control_change(*node, e) << "  "
                      << subst(_("signed by {}, {}"), node->display_name_of(e.author),
                               proposal_time_text(e.wall_ms));
            if (auto s = status_text(e.status); !s.empty()) std::cout << "  (" << s << ")";
            std::cout << "\n";
        }
        std::cout << subst(_("Members ({}):\n"), members.size());
        for (const auto& m : members)
            std::cout << "  " << m.name << (m.admin ? subst("  {}", _("admin")) : "") << "\n";
        std::cout << subst(_("Quorum: {}\n"), value_or_raise(node->quorum(gid)))
                  << retention_line(*node, gid)
                  << subst(_("Tor only: {}\n"),
                           node->tor_only(gid) ? std::string(_("yes")) : std::string(_("no")));
        for (const auto& r : node->relay_addresses(gid)) std::cout << subst(_("Relay: {}\n"), r);
        std::cout << subst(P_("Digest: {}  ({} valid control record)\n",
                              "Digest: {}  ({} valid control records)\n", audit.valid),
                           core::control_digest_text(audit.digest), audit.valid);
        // What direct syncs found (§5.12): the latest comparison with each member.
        for (const auto& c : value_or_raise(node->view_checks(&gid))) {
            if (c.same)
                std::cout << subst(_("Compared with {} in a direct sync ({}): the same view\n"),
                                   node->display_name_of(c.peer), proposal_time_text(c.at_ms));
            else
                std::cout << subst(_("Compared with {} in a direct sync ({}): a DIFFERENT view, "
                                     "{} valid control records, digest {} (yours was {}, {})\n"),
                                   node->display_name_of(c.peer), proposal_time_text(c.at_ms),
                                   c.peer_count, core::control_digest_text(c.peer_digest),
                                   c.own_count, core::control_digest_text(c.own_digest));
        }
        if (!audit.missing.empty()) {
            std::cout.flush();
            std::cerr << missing_control_text(*node, name, audit.missing);
        }
    });
}

}  // namespace kolokol::cli
