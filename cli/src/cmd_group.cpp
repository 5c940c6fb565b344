// kolokol group create · add · join · members · remove · rotate · list
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "node_session.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {
struct GroupArgs {
    std::string group, card, token, member;
    bool admin = false, with_history = false, json = false;
};
GroupArgs& args() {
    static GroupArgs a;
    return a;
}

void print_maintenance(core::Node& node) {
    for (const auto& line : value_or_raise(node.maintain())) std::cout << line << "\n";
}
}  // namespace

void register_group_commands(CLI::App& app) {
    auto* group = app.add_subcommand("group", "Create and manage groups and their members");
    group->require_subcommand(1);
    auto& a = args();

    auto* create = group->add_subcommand("create", "Create a group; you are its first admin");
    create->add_option("NAME", a.group, "The group's name (only members ever see it)")->required();
    create->footer("Example:\n  kolokol group create \"Legal support\"");
    create->callback([] {
        auto node = open_node();
        auto id = value_or_raise(node->create_group(args().group));
        std::cout << "Created group \"" << args().group << "\" (" << short_hex(id) << ").\n"
                  << "Add members with `kolokol group add \"" << args().group << "\" CARD`.\n";
    });

    auto* add = group->add_subcommand(
        "add", "Add a member from their card; prints a welcome token for them");
    add->add_option("GROUP", a.group, "Group name or id prefix")->required();
    add->add_option("CARD", a.card, "Their card (kolokol-card:…), or - to read it from stdin")
        ->required();
    add->add_flag("--admin", a.admin, "Make them an admin");
    add->add_flag("--with-history", a.with_history,
                  "Let them read what the group wrote before (default: only what comes after)");
    add->footer(
        "Example:\n  kolokol group add \"Legal support\" kolokol-card:CiQI…\n\nSend them the "
        "token it prints; only they can open it. Then sync so they receive their admission.");
    add->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto token = value_or_raise(node->add_member(gid, argument_or_stdin(args().card),
                                                     args().admin, args().with_history));
        std::cerr << "Welcome token (send it to the new member; it is sealed to their key):\n";
        std::cout << token << "\n";
    });

    auto* join =
        group->add_subcommand("join", "Join a group with the welcome token an admin gave you");
    join->add_option("TOKEN", a.token, "The token (kolokol-welcome:…), or - to read it from stdin")
        ->required();
    join->footer(
        "Example:\n  kolokol group join kolokol-welcome:Q2x…\n\nThen sync (a file, a peer or a "
        "relay) "
        "to receive the group's records.");
    join->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->join(argument_or_stdin(args().token)));
        std::cout << "Joined group " << short_hex(gid)
                  << ". Sync with the group (e.g. `kolokol sync --from-file FILE`) to receive its "
                     "messages.\n";
    });

    auto* members = group->add_subcommand("members", "List a group's members");
    members->add_option("GROUP", a.group, "Group name or id prefix")->required();
    members->add_flag("--json", a.json, "Machine-readable output");
    members->footer("Example:\n  kolokol group members \"Legal support\"");
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
                      << (m.admin ? "  admin" : "") << (m.me ? "  (you)" : "") << "\n";
    });

    auto* remove = group->add_subcommand("remove", "Remove a member and rotate the group's key");
    remove->add_option("GROUP", a.group, "Group name or id prefix")->required();
    remove->add_option("MEMBER", a.member, "Their name or key prefix")->required();
    remove->footer(
        "Example:\n  kolokol group remove \"Legal support\" Boris\n\nThey keep what they "
        "already read; they cannot read anything written after this.");
    remove->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto who = value_or_raise(node->resolve_member(gid, args().member));
        auto name = node->display_name_of(who);
        check(node->remove_member(gid, who));
        std::cout << "Removed " << name
                  << " and rotated the group's key. Sync to tell the others.\n";
    });

    auto* rotate = group->add_subcommand("rotate", "Start a new key epoch for the group now");
    rotate->add_option("GROUP", a.group, "Group name or id prefix")->required();
    rotate->footer("Example:\n  kolokol group rotate \"Legal support\"");
    rotate->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        check(node->rotate(gid));
        std::cout << "Rotated the group's key.\n";
    });

    static std::string relay_action, relay_address;
    auto* relay = group->add_subcommand(
        "relay", "Add, remove or list the group's relays (admins change them)");
    relay->add_option("ACTION", relay_action, "add, remove or list")
        ->required()
        ->check(CLI::IsMember({"add", "remove", "list"}));
    relay->add_option("GROUP", a.group, "Group name or id prefix")->required();
    relay->add_option("ADDRESS", relay_address, "kolokol://HOST:PORT/KEY (for add and remove)");
    relay->footer(
        "Example:\n  kolokol group relay add \"Legal support\" "
        "kolokol://203.0.113.5:7000/mfrgg…\n\n"
        "The list is itself a record: every member learns it on their next sync.");
    relay->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        auto list = node->relays(gid);
        if (relay_action == "list") {
            if (list.empty()) std::cout << "No relays.\n";
            for (const auto& r : list) std::cout << r << "\n";
            return;
        }
        if (relay_address.empty()) throw CommandError(Exit::usage, "give the relay's address");
        auto it = std::find(list.begin(), list.end(), relay_address);
        if (relay_action == "add") {
            if (it != list.end())
                throw CommandError(Exit::exists, "the group already lists that relay");
            list.push_back(relay_address);
        } else {
            if (it == list.end())
                throw CommandError(Exit::not_found, "the group does not list that relay");
            list.erase(it);
        }
        check(node->set_relays(gid, list));
        std::cout << (relay_action == "add" ? "Added" : "Removed")
                  << " the relay. Sync to tell the others.\n";
    });

    auto* list = group->add_subcommand("list", "List your groups");
    list->add_flag("--json", a.json, "Machine-readable output");
    list->footer("Example:\n  kolokol group list");
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
                             {"rotation_needed", g.rotation_needed}});
            std::cout << j.dump(2) << "\n";
            return;
        }
        if (groups.empty())
            std::cout << "No groups yet: `kolokol group create NAME` or join one.\n";
        for (const auto& g : groups)
            std::cout << (g.name.empty() ? "(not synced yet)" : g.name) << "  " << short_hex(g.id)
                      << "  " << g.members << " member" << (g.members == 1 ? "" : "s")
                      << (g.admin ? "  admin" : "") << "\n";
        print_maintenance(*node);
    });
}

}  // namespace kolokol::cli
