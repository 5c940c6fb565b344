// kolokol group create · add · token · join · members · remove · compromised · quorum ·
// pending · approve · rotate · relay · tor-only · list
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "group_audit.hpp"
#include "i18n.hpp"
#include "kolokol/objects/values.hpp"
#include "kolokol/transport/address.hpp"
#include "node_session.hpp"
#include "object_cli.hpp"
#include "output_file.hpp"
#include "proposals.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {
struct GroupArgs {
    std::string group, card, token, member, output, proposal, at;
    std::uint32_t quorum = 0;
    bool admin = false, with_history = false, json = false, force = false;
};
GroupArgs& args() {
    static GroupArgs a;
    return a;
}

void print_maintenance(core::Node& node) {
    for (const auto& line : value_or_raise(node.maintain())) std::cout << line << "\n";
}

// What a change that now waits for approvals tells its proposer (standard error for `add`,
// whose standard output is the token).
std::string waiting_text(const core::ProposalView& p, const std::string& group) {
    const auto more = p.needed - static_cast<std::uint32_t>(p.approvers.size());
    return subst(P_("This change waits for {} more admin's approval (proposal {}): it takes "
                    "effect once they run `kolokol group approve \"{}\" {}`. Sync to tell them.\n",
                    "This change waits for {} more admins' approvals (proposal {}): it takes "
                    "effect once they run `kolokol group approve \"{}\" {}`. Sync to tell them.\n",
                    more),
                 more, proposal_id_text(p.id), group, proposal_id_text(p.id));
}

const char* kind_name(core::ProposalView::Kind kind) {
    switch (kind) {
        case core::ProposalView::Kind::add:
            return "add";
        case core::ProposalView::Kind::remove:
            return "remove";
        case core::ProposalView::Kind::set_role:
            return "set_role";
        case core::ProposalView::Kind::quorum:
            break;
    }
    return "quorum";
}
}  // namespace

void register_group_commands(CLI::App& app) {
    auto* group = app.add_subcommand("group", _("Create and manage groups and their members"));
    group->require_subcommand(1);
    auto& a = args();

    auto* create = group->add_subcommand("create", _("Create a group; you are its first admin"));
    create->add_option("NAME", a.group, _("The group's name (only members ever see it)"))
        ->required();
    create->footer(_("Example:\n  kolokol group create \"Legal support\""));
    create->callback([] {
        auto node = open_node();
        auto id = value_or_raise(node->create_group(args().group));
        std::cout << subst(_("Created group \"{}\" ({}).\n"), args().group, short_hex(id))
                  << subst(_("Add members with `kolokol group add \"{}\" CARD`.\n"), args().group);
    });

    auto* add = group->add_subcommand(
        "add", _("Add a member from their card; prints a welcome token for them"));
    add->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    add->add_option("CARD", a.card, _("Their card (kolokol-card:…), or - to read it from stdin"))
        ->required();
    add->add_option("-o,--output", a.output,
                    _("Write the welcome token to this file, once it is made (not on failure)"));
    add->add_flag("--force", a.force, _("With -o: replace the file if it exists"));
    add->add_flag("--admin", a.admin, _("Make them an admin"));
    add->add_flag("--with-history", a.with_history,
                  _("Let them read what the group wrote before (default: only what comes after)"));
    add->footer(
        _("Examples:\n  kolokol group add \"Legal support\" kolokol-card:CiQI…\n  kolokol group "
          "add \"Legal support\" - -o boris.welcome < boris.card\n\nSend them the token; only "
          "they can open it. Then sync so they receive their admission. With -o the file is "
          "written only when the token is made (`> FILE` creates it even when the command "
          "fails)."));
    add->callback([] {
        // The card first: a damaged one is named before the passphrase is asked.
        auto card_text = pasted_argument(args().card, _("their card (kolokol-card:…)"));
        auto card = core::card_from_text(card_text);
        if (!card) raise(card.error());
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto token =
            value_or_raise(node->add_member(gid, card_text, args().admin, args().with_history));
        // Under a quorum the add is only proposed: the token admits them once it takes effect.
        if (auto p = own_waiting(*node, gid, core::ProposalView::Kind::add, card->sign_key)) {
            std::cerr << waiting_text(*p, args().group);
            std::cerr << _(
                "They can join with the token now; they read and write once the add "
                "has taken effect.\n");
        }
        if (!args().output.empty()) {
            write_output_file(args().output, token + "\n", args().force);
            std::cerr << subst(_("Wrote the welcome token to {}: send it to the new member; it "
                                 "is sealed to their key.\n"),
                               args().output);
            return;
        }
        std::cerr << _("Welcome token (send it to the new member; it is sealed to their key):\n");
        std::cout << token << "\n";
    });

    auto* token = group->add_subcommand(
        "token", _("Issue a member's welcome token again, when they lost it (admins)"));
    token->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    token->add_option("MEMBER", a.member, _("Their name or key prefix"))->required();
    token->footer(
        _("Example:\n  kolokol group token \"Legal support\" Boris\n\nFor a member who never "
          "joined because the token was lost: it names the record that added them and gives "
          "the keys they were given. Nothing is posted and nobody is added or removed."));
    token->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto who = value_or_raise(node->resolve_member(gid, args().member));
        auto again = value_or_raise(node->welcome_again(gid, who));
        std::cerr << _(
            "Their welcome token, issued again (send it to them; it is sealed to their "
            "key):\n");
        std::cout << again << "\n";
    });

    auto* join =
        group->add_subcommand("join", _("Join a group with the welcome token an admin gave you"));
    join->add_option("TOKEN", a.token,
                     _("The token (kolokol-welcome:…), or - to read it from stdin"))
        ->required();
    join->footer(
        _("Examples:\n  kolokol group join kolokol-welcome:Q2x…\n  kolokol group join - < "
          "boris.welcome\n\nThen sync (a file, a peer or a relay) to receive the group's "
          "records. You can write once the record that added you has arrived: until then "
          "`kolokol group list` says your admission is waiting. A token for a group you are "
          "already in, or one that gives another key for an epoch you hold, is refused with exit "
          "code 13: it is replayed or forged."));
    join->callback([] {
        auto token = pasted_argument(args().token, _("the welcome token (kolokol-welcome:…)"));
        auto node = open_node();
        core::JoinedGroup joined;
        auto gid = value_or_raise(node->join(token, &joined));
        if (joined.name.empty())
            std::cout << subst(_("Joined group {} (added by {})."), short_hex(gid), joined.inviter);
        else
            std::cout << subst(_("Joined \"{}\" ({}), added by {}."), joined.name, short_hex(gid),
                               joined.inviter);
        std::cout << " "
                  << _("Sync with the group (e.g. `kolokol sync`, or `kolokol sync --from-file "
                       "FILE`) to receive its messages.")
                  << "\n";
    });

    auto* members = group->add_subcommand("members", _("List a group's members"));
    members->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    members->add_flag("--json", a.json, _("Machine-readable output"));
    members->footer(_("Example:\n  kolokol group members \"Legal support\""));
    members->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto list = value_or_raise(node->members(gid));
        if (args().json) {
            auto j = nlohmann::json::array();
            for (const auto& m : list)
                j.push_back({{"name", m.name},
                             {"key", hex(m.key)},
                             {"admin", m.admin},
                             {"verified", m.verified},
                             {"me", m.me}});
            std::cout << j.dump(2) << "\n";
            return;
        }
        for (const auto& m : list)
            std::cout << (m.verified ? "✓ " : "  ") << m.name << "  " << short_hex(m.key)
                      << (m.admin ? subst("  {}", _("admin")) : "")
                      << (m.me ? subst("  ({})", _("you")) : "") << "\n";
    });

    auto* remove = group->add_subcommand("remove", _("Remove a member and rotate the group's key"));
    remove->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    remove->add_option("MEMBER", a.member, _("Their name or key prefix"))->required();
    remove->footer(
        _("Example:\n  kolokol group remove \"Legal support\" Boris\n\nThey keep what they "
          "already read; they cannot read anything written after this."));
    remove->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto who = value_or_raise(node->resolve_member(gid, args().member));
        auto name = node->display_name_of(who);
        check(node->remove_member(gid, who));
        if (auto p = own_waiting(*node, gid, core::ProposalView::Kind::remove, who)) {
            std::cout << subst(_("Proposed removing {}; they stay a member until then.\n"), name)
                      << waiting_text(*p, args().group);
            return;
        }
        std::cout << subst(_("Removed {} and rotated the group's key. Sync to tell the others.\n"),
                           name);
    });

    static std::string role_name;
    auto* role = group->add_subcommand(
        "role", _("Make a member an admin, or an admin a member who is no admin (admins)"));
    role->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    role->add_option("MEMBER", a.member, _("Their name or key prefix"))->required();
    role->add_option("ROLE", role_name, _("admin or member"))
        ->required()
        ->check(CLI::IsMember({"admin", "member"}));
    role->footer(
        _("Examples:\n  kolokol group role \"Legal support\" Zoya admin\n  kolokol group role "
          "\"Legal support\" Boris member\n\nAn admin adds and removes members and changes "
          "settings. A demoted admin stays a member; what they changed as an admin without "
          "having seen the demotion is void. Under a quorum above 1 the change waits for other "
          "admins' approvals."));
    role->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto who = value_or_raise(node->resolve_member(gid, args().member));
        auto name = node->display_name_of(who);
        const bool admin = role_name == "admin";
        check(node->set_role(gid, who, admin));
        if (auto p = own_waiting(*node, gid, core::ProposalView::Kind::set_role, who)) {
            std::cout << (admin ? subst(_("Proposed making {} an admin; they stay a member who "
                                          "is no admin until then.\n"),
                                        name)
                                : subst(_("Proposed making {} a member who is no admin; they "
                                          "stay an admin until then.\n"),
                                        name))
                      << waiting_text(*p, args().group);
            return;
        }
        std::cout << (admin ? subst(_("{} is now an admin. Sync to tell the others.\n"), name)
                            : subst(_("{} is now a member who is no admin. Sync to tell the "
                                      "others.\n"),
                                    name));
    });

    auto* quorum = group->add_subcommand(
        "quorum",
        _("Show or set how many admins must sign each membership change (admins set it)"));
    quorum->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    quorum->add_option("K", a.quorum, _("1 to 100 admins (show when omitted)"))
        ->check(CLI::Range(1, 100));
    quorum->footer(
        _("Example:\n  kolokol group quorum \"Legal support\" 2\n\n"
          "With a quorum of 2, an add, a removal, a change of role and a change of the quorum "
          "take effect only once a second admin approves them (`kolokol group pending`, "
          "`kolokol group approve`): one seized admin device alone changes nobody. The quorum "
          "cannot exceed the number of admins: make members admins first (`kolokol group "
          "role`). A group left with fewer admins than the quorum by later removals needs all "
          "of them. Under a quorum above 1, this change is itself a proposal."));
    quorum->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        if (args().quorum == 0) {
            std::cout << value_or_raise(node->quorum(gid)) << "\n";
            std::cerr << void_quorum_text(*node, gid, args().group);
            return;
        }
        check(node->set_quorum(gid, args().quorum));
        // A burn notice for an admin is counted among the others and, under K >= 2, needs at
        // least two of them (docs/design.md §5.11): with no more admins than K it needs every
        // other admin, and with two admins it never completes.
        const auto members = value_or_raise(node->members(gid));
        const auto admins = static_cast<std::uint32_t>(
            std::count_if(members.begin(), members.end(), [](const auto& m) { return m.admin; }));
        if (args().quorum > 1 && admins <= args().quorum)
            std::cerr << subst(
                P_("Warning: this group has {} admin. With no more admins than the quorum a burn "
                   "notice for an admin needs every other admin, so any of them, a seized one "
                   "too, can block it, and with two admins it can never take effect. Make at "
                   "least {} members admins (`kolokol group role`).\n",
                   "Warning: this group has {} admins. With no more admins than the quorum a burn "
                   "notice for an admin needs every other admin, so any of them, a seized one "
                   "too, can block it, and with two admins it can never take effect. Make at "
                   "least {} members admins (`kolokol group role`).\n",
                   admins),
                admins, args().quorum + 1);
        if (auto p = own_waiting(*node, gid, core::ProposalView::Kind::quorum, {})) {
            std::cout << subst(_("Proposed a quorum of {}.\n"), args().quorum)
                      << waiting_text(*p, args().group);
            return;
        }
        std::cout << subst(P_("The quorum is now {}: {} admin signs each membership change. "
                              "Sync to tell the others.\n",
                              "The quorum is now {}: {} admins sign each membership change. "
                              "Sync to tell the others.\n",
                              args().quorum),
                           args().quorum, args().quorum);
    });

    auto* pending = group->add_subcommand(
        "pending", _("List the membership changes waiting for admins' approvals"));
    pending->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    pending->add_flag("--json", a.json, _("Machine-readable output"));
    pending->footer(
        _("Example:\n  kolokol group pending \"Legal support\"\n\nEach line: the proposal's "
          "id, what it changes, who proposed it, and how many approvals it has of those it "
          "needs (the proposer's counts). Approve one with `kolokol group approve GROUP ID`."));
    pending->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto list = value_or_raise(node->pending(gid));
        if (args().json) {
            auto j = nlohmann::json::array();
            for (const auto& p : list) {
                auto approvers = nlohmann::json::array();
                for (const auto& k : p.approvers) approvers.push_back(hex(k));
                nlohmann::json item = {{"id", hex(p.id)},
                                       {"kind", kind_name(p.kind)},
                                       {"change", proposal_change(*node, p)},
                                       {"proposer", hex(p.proposer)},
                                       {"proposer_name", node->display_name_of(p.proposer)},
                                       {"approvers", approvers},
                                       {"needed", p.needed}};
                if (p.kind == core::ProposalView::Kind::quorum) {
                    item["quorum"] = p.quorum;
                } else {
                    item["target"] = hex(p.target);
                    item["target_name"] = node->display_name_of(p.target);
                    item["admin"] = p.admin;
                    if (p.kind == core::ProposalView::Kind::remove) {
                        item["compromised"] = p.compromised;
                        if (p.compromised && p.compromised_at_ms != 0)
                            item["compromised_at"] = proposal_time_text(p.compromised_at_ms);
                    }
                }
                j.push_back(std::move(item));
            }
            std::cout << j.dump(2) << "\n";
            return;
        }
        if (list.empty()) std::cout << _("No changes are waiting for approvals.\n");
        for (const auto& p : list) std::cout << proposal_line(*node, p) << "\n";
    });

    auto* approve = group->add_subcommand(
        "approve", _("Approve a membership change another admin proposed (admins)"));
    approve->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    approve->add_option("ID", a.proposal, _("The proposal's id or a prefix of it (4+ digits)"))
        ->required();
    approve->footer(
        _("Example:\n  kolokol group approve \"Legal support\" 3fa9c2d1\n\nCheck what it "
          "changes first (`kolokol group pending`). The change takes effect at the approval "
          "that brings it to the quorum, the same for every member whatever order the records "
          "reach them in."));
    approve->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto id = value_or_raise(node->resolve_proposal(gid, args().proposal));
        std::string change, alert;
        for (const auto& p : value_or_raise(node->pending(gid)))
            if (p.id == id) {
                change = proposal_change(*node, p);
                alert = proposal_alert(*node, p);
            }
        check(node->approve(gid, id, alert));
        for (const auto& p : value_or_raise(node->pending(gid))) {
            if (p.id != id) continue;
            const auto more = p.needed - static_cast<std::uint32_t>(p.approvers.size());
            std::cout << subst(P_("Approved: {}. It waits for {} more approval. Sync to tell "
                                  "the others.\n",
                                  "Approved: {}. It waits for {} more approvals. Sync to tell "
                                  "the others.\n",
                                  more),
                               change, more);
            return;
        }
        std::cout << subst(_("Approved: {}. It has taken effect. Sync to tell the others.\n"),
                           change);
    });

    auto* withdraw = group->add_subcommand(
        "withdraw", _("Take back a change you proposed that still waits for approvals (admins)"));
    withdraw->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    withdraw->add_option("ID", a.proposal, _("The proposal's id or a prefix of it (4+ digits)"))
        ->required();
    withdraw->footer(
        _("Example:\n  kolokol group withdraw \"Legal support\" 3fa9c2d1\n\nA withdrawn "
          "change never takes effect at any member, also if an approval of it comes later or "
          "was written at the same time: a proposal nobody approved, or one you no longer want, "
          "cannot be completed long after by an admin whose device was taken."));
    withdraw->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto id = value_or_raise(node->resolve_proposal(gid, args().proposal));
        std::string change;
        for (const auto& p : value_or_raise(node->pending(gid)))
            if (p.id == id) change = proposal_change(*node, p);
        check(node->withdraw(gid, id));
        std::cout << subst(_("Withdrawn: {}. Sync to tell the others.\n"), change);
    });

    auto* burn = group->add_subcommand(
        "compromised",
        _("Burn notice: a member's device is in other hands; remove them, rotate, alert the "
          "group, and reject whatever their keys sign from now on"));
    burn->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    burn->add_option("MEMBER", a.member, _("Their name or key prefix"))->required();
    burn->add_option("--at", a.at,
                     _("When the device was taken, if known, in your local time: 2026-03-01 "
                       "10:05, 01.03.2026 10:05, or 10:05 for today; what their keys signed "
                       "stamped after it is rejected too"));
    burn->footer(
        _("Examples:\n  kolokol group compromised \"Legal support\" Boris\n  kolokol group "
          "compromised \"Legal support\" Boris --at \"2026-03-01 10:05\"\n\nWith a quorum "
          "the notice waits for the other admins' approvals (`kolokol group approve`). Whatever "
          "their device signs that this notice has not seen is rejected, whatever time it "
          "claims."));
    burn->callback([] {
        auto& a = args();
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(a.group));
        auto who = value_or_raise(node->resolve_member(gid, a.member));
        auto name = node->display_name_of(who);
        std::int64_t at_ms = 0;
        std::string stored;
        if (!a.at.empty()) {
            stored = objcli::time_arg(*node, a.at);
            auto seconds = objects::parse_datetime(stored);
            if (!seconds)
                throw CommandError(Exit::bad_input, subst(_("\"{}\" is not a time"), a.at));
            at_ms = *seconds * 1000;
        }
        auto alert = burn_alert_text(name, a.at);
        auto done = value_or_raise(node->burn_member(gid, who, at_ms, alert));
        if (!stored.empty()) objcli::say_recorded(stored);
        if (done.effective) {
            std::cout << subst(_("Burn notice sent: removed {}, rotated the group's key and "
                                 "posted an alert. Whatever their keys sign from now on is "
                                 "rejected by every member. Sync to tell the others.\n"),
                               name);
            return;
        }
        const auto more = done.needed > done.approvers ? done.needed - done.approvers : 0;
        std::cout << subst(P_("Burn notice for {} proposed ({}): it waits for {} more approval "
                              "(`kolokol group approve`). Sync to tell the other admins.\n",
                              "Burn notice for {} proposed ({}): it waits for {} more approvals "
                              "(`kolokol group approve`). Sync to tell the other admins.\n",
                              more),
                           name, short_hex(done.notice), more);
        // Approvals come from the admins other than the one it is about (§5.11): with too few
        // of them it can never take effect, and the proposer should know now, not wait.
        const auto members = value_or_raise(node->members(gid));
        const auto others = static_cast<std::uint32_t>(
            std::count_if(members.begin(), members.end(),
                          [&](const auto& m) { return m.admin && m.key != who; }));
        if (others < done.needed)
            std::cerr << subst(P_("kolokol: warning: this group has only {} admin besides {}, "
                                  "and the notice needs {}: it cannot take effect. Nothing in "
                                  "the records tells the seized device from you; start a new "
                                  "group without {}.\n",
                                  "kolokol: warning: this group has only {} admins besides {}, "
                                  "and the notice needs {}: it cannot take effect. Nothing in "
                                  "the records tells the seized device from you; start a new "
                                  "group without {}.\n",
                                  others),
                               others, name, done.needed, name);
    });

    auto* rotate = group->add_subcommand("rotate", _("Start a new key epoch for the group now"));
    rotate->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    rotate->footer(_("Example:\n  kolokol group rotate \"Legal support\""));
    rotate->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        check(node->rotate(gid));
        std::cout << _("Rotated the group's key.\n");
    });

    static std::string relay_action, relay_address;
    auto* relay = group->add_subcommand(
        "relay", _("Add, remove or list the group's relays (admins change them)"));
    relay->add_option("ACTION", relay_action, _("add, remove, list, add-address or retire-address"))
        ->required()
        ->check(CLI::IsMember({"add", "remove", "list", "add-address", "retire-address"}));
    relay->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    relay->add_option("ADDRESS", relay_address, _("kolokol://HOST:PORT/KEY (for all but list)"));
    relay->footer(
        _("Examples:\n  kolokol group relay add \"Legal support\" "
          "kolokol://203.0.113.5:7000/mfrgg…\n  kolokol group relay add-address \"Legal support\" "
          "kolokol://relay.example.org:443/mfrgg…\n  kolokol group relay retire-address "
          "\"Legal support\" kolokol://203.0.113.5:7000/mfrgg…\n\n"
          "A relay may have several addresses (IPs, names, an onion name), all with its key: "
          "members try them in order, the one that worked last first. The list is itself a "
          "record: every member learns it on their next sync."));
    relay->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto routes = node->relay_routes_as_listed(gid);
        if (relay_action == "list") {
            if (routes.empty()) std::cout << _("No relays.\n");
            for (const auto& route : routes)
                for (const auto& r : route.addresses) std::cout << r << "\n";
            return;
        }
        if (relay_address.empty()) throw CommandError(Exit::usage, _("give the relay's address"));
        // Compared as the list keeps them: canonical (set_relays refuses a malformed one).
        auto parsed = transport::Address::parse(relay_address);
        if (parsed)
            relay_address = parsed->to_string();
        else if (relay_action == "add-address" || relay_action == "retire-address")
            throw CommandError(Exit::bad_input, relay_address + ": " + translated(parsed.error()));
        const auto holding = std::find_if(routes.begin(), routes.end(), [&](const auto& route) {
            return std::find(route.addresses.begin(), route.addresses.end(), relay_address) !=
                   route.addresses.end();
        });
        const char* done = nullptr;
        std::vector<std::string> retired;
        if (relay_action == "add") {
            if (holding != routes.end())
                throw CommandError(Exit::exists, _("the group already lists that relay"));
            routes.push_back({relay_address, {}, {relay_address}});
            done = _("Added the relay. Sync to tell the others.\n");
        } else if (relay_action == "remove") {
            if (holding == routes.end())
                throw CommandError(Exit::not_found, _("the group does not list that relay"));
            // The relay goes with every address of it.
            retired = holding->addresses;
            routes.erase(holding);
            done = _("Removed the relay. Sync to tell the others.\n");
        } else if (relay_action == "add-address") {
            if (holding != routes.end())
                throw CommandError(Exit::exists, _("the group already lists that address"));
            const auto key = parsed ? transport::key_to_text(parsed->key) : std::string();
            auto relay = std::find_if(routes.begin(), routes.end(),
                                      [&](const auto& route) { return route.key == key; });
            if (relay == routes.end())
                throw CommandError(Exit::not_found,
                                   _("the group lists no relay with that key: add a new relay "
                                     "with `kolokol group relay add`"));
            // Tried after the addresses the relay has.
            relay->addresses.push_back(relay_address);
            done = _("Added the address. Sync to tell the others.\n");
        } else {
            if (holding == routes.end())
                throw CommandError(Exit::not_found, _("the group does not list that address"));
            if (holding->addresses.size() < 2)
                throw CommandError(Exit::usage,
                                   _("that is the relay's only address: remove the relay with "
                                     "`kolokol group relay remove`"));
            std::erase(holding->addresses, relay_address);
            retired.push_back(relay_address);
            done = _("Retired the address. Sync to tell the others.\n");
        }
        std::vector<std::string> relays, alternates;
        for (auto& route : routes) {
            relays.push_back(route.addresses.front());
            alternates.insert(alternates.end(), route.addresses.begin() + 1, route.addresses.end());
        }
        check(node->set_relays(gid, std::move(relays), std::move(alternates), std::move(retired)));
        std::cout << done;
    });

    static std::string tor_only_state;
    auto* tor_only = group->add_subcommand(
        "tor-only", _("Show or set whether the group is Tor only (admins set it)"));
    tor_only->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    tor_only->add_option("STATE", tor_only_state, _("on or off (show when omitted)"))
        ->check(CLI::IsMember({"on", "off"}));
    tor_only->footer(
        _("Example:\n  kolokol group tor-only \"Legal support\" on\n\n"
          "Members then connect to the group's peers and relays only through a proxy (`kolokol "
          "proxy set`, or --proxy) and never announce it on the LAN. Sync to tell the others."));
    tor_only->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        if (tor_only_state.empty()) {
            std::cout << (node->tor_only(gid) ? "on" : "off") << "\n";
            return;
        }
        check(node->set_tor_only(gid, tor_only_state == "on"));
        std::cout << (tor_only_state == "on"
                          ? _("The group is now Tor only. Sync to tell the others.\n")
                          : _("The group is no longer Tor only. Sync to tell the others.\n"));
    });

    auto* list = group->add_subcommand("list", _("List your groups"));
    list->add_flag("--json", a.json, _("Machine-readable output"));
    list->footer(_("Example:\n  kolokol group list"));
    list->callback([] {
        auto node = open_node();
        auto groups = node->groups();
        if (args().json) {
            auto j = nlohmann::json::array();
            for (const auto& g : groups)
                j.push_back({{"id", hex(g.id)},
                             {"name", g.name},
                             {"members", g.members},
                             {"admin", g.admin},
                             {"member", g.member},
                             {"rotation_needed", g.rotation_needed},
                             {"admission", g.admission}});
            std::cout << j.dump(2) << "\n";
            return;
        }
        if (groups.empty())
            std::cout << _("No groups yet: `kolokol group create NAME` or join one.\n");
        for (const auto& g : groups)
            std::cout << (g.name.empty() ? std::string(_("(not synced yet)")) : g.name) << "  "
                      << short_hex(g.id) << "  "
                      << subst(P_("{} member", "{} members", g.members), g.members)
                      << (g.admin ? subst("  {}", _("admin")) : "")
                      << (g.member || !g.admission.empty()
                              ? std::string()
                              : subst("  {}", _("you were removed: you read nothing written "
                                                "after that")))
                      << "\n"
                      << (g.admission.empty() ? std::string()
                                              : subst(_("  admission: {}\n"), g.admission));
        print_maintenance(*node);
    });

    register_group_audit(*group);
}

}  // namespace kolokol::cli
