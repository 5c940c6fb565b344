// kolokol contact · report · alert — the group's vetted directory, observers' reports with
// their files, and alerts (DESIGN §13).
#include <iostream>

#include "delivery.hpp"
#include "i18n.hpp"
#include "kolokol/objects/time_text.hpp"
#include "kolokol/objects/values.hpp"
#include "object_cli.hpp"
#include "object_labels.hpp"

namespace kolokol::cli::objcli {

namespace {

using core::ObjectView;

std::string name_of_member(core::Node& node, std::string_view hex_key) {
    auto key = objects::parse_key_hex(hex_key);
    return key ? node.display_name_of(*key) : std::string();
}

// Who last set `field`, and when (local time): "Anna, 2026-12-05 10:05".
std::string set_by(core::Node& node, const ObjectView& v, std::string_view field) {
    auto it = v.fields.find(field);
    if (it == v.fields.end()) return {};
    return node.display_name_of(it->second.author) + ", " + local_ms(it->second.wall_clock_ms);
}

std::string contact_row(core::Node& node, const ObjectView& v) {
    std::string row = one_line(v.get("name"), 40) + "  " + value_label("role", v.get("role"));
    if (!v.get("reach").empty()) row += "  " + one_line(v.get("reach"), 40);
    if (auto who = name_of_member(node, v.get("vetted_by")); !who.empty())
        row += "  " + subst(_("vetted by {}"), one_line(who, 30));
    if (!objects::is_active(v))
        row += "  " + subst(_("[removed by {}]"), set_by(node, v, "status"));
    return row;
}

std::string report_row(core::Node& node, const ObjectView& v) {
    std::string row = shown(v.type, {}, "at", v.get("at"));
    row += "  " + one_line(v.get("place"), 40);
    if (!v.get("category").empty()) row += "  " + one_line(v.get("category"), 30);
    if (!v.get("text").empty()) row += "  " + one_line(v.get("text"), 50);
    if (auto n = v.list("attachments").size(); n > 0)
        row += "  " + subst(P_("[{} file]", "[{} files]", n), n);
    row += "  — " + node.display_name_of(v.created_by);
    return row;
}

std::string alert_row(core::Node& node, const ObjectView& v) {
    std::string row = value_label("urgency", v.get("urgency")) + "  " + one_line(v.get("text"));
    row += "  — " + node.display_name_of(v.created_by) + ", " + local_ms(v.created_wall_clock_ms);
    if (!objects::is_active(v))
        row += "  " + subst(_("[resolved by {}]"), set_by(node, v, "status"));
    return row;
}

}  // namespace

void register_directory(CLI::App& app) {
    auto& a = args();

    // ---- contact ----------------------------------------------------------------------
    auto* contact =
        app.add_subcommand("contact", _("A vetted directory: lawyers, journalists, medics"));
    contact->require_subcommand(1);
    auto* c_add = with_group(contact->add_subcommand("add", _("Add a contact")));
    c_add->add_option("--name", a.name, _("Name"))->required();
    c_add->add_option("--role", a.role, _("lawyer, journalist, medic or other"))->required();
    c_add->add_option("--reach", a.reach, _("How to reach them"));
    c_add->add_option("--vetted-by", a.vetted_by, _("The member who vouches (default: you)"));
    c_add->add_flag("--carry", a.carry, _("Carry it to members added without history (admins)"));
    c_add->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("contact");
        put(e.set, "name", a.name);
        put(e.set, "role", a.role);
        put(e.set, "reach", a.reach);
        e.set["vetted_by"] =
            a.vetted_by.empty() ? objects::key_hex(node->me()) : member_hex(*node, g, a.vetted_by);
        if (a.carry) e.carry = true;
        created(_("Contact"), change(*node, g, e));
    });
    auto* c_set =
        with_object(contact->add_subcommand("set", _("Change a contact's details")), "CONTACT");
    c_set->add_option("--name", a.name, _("Name"));
    c_set->add_option("--role", a.role, _("lawyer, journalist, medic or other"));
    c_set->add_option("--reach", a.reach, _("How to reach them"));
    c_set->add_option("--vetted-by", a.vetted_by, _("The member who vouches"));
    c_set->footer(
        _("Example:\n  kolokol contact set \"Legal support\" 3fa9 --reach \"+7 900 111-22-33\""));
    c_set->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("contact", object_of(*node, g, "contact"));
        put(e.set, "name", a.name);
        put(e.set, "role", a.role);
        put(e.set, "reach", a.reach);
        if (!a.vetted_by.empty()) e.set["vetted_by"] = member_hex(*node, g, a.vetted_by);
        if (e.set.empty())
            throw CommandError(Exit::usage,
                               _("nothing to change: give --name, --role, --reach or --vetted-by"));
        change(*node, g, e);
        std::cout << _("Contact updated.\n");
    });
    auto* c_remove = with_object(
        contact->add_subcommand("remove", _("Take a contact off the directory")), "CONTACT");
    c_remove->add_option("--reason", a.reason, _("Why (kept with the contact's history)"));
    c_remove->footer(
        _("The contact stays in the history (contact list --all shows it); to erase its details "
          "from every device, its author or an admin redacts its records.\nExample:\n  kolokol "
          "contact remove \"Legal support\" 3fa9 --reason \"number compromised\""));
    c_remove->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("contact", object_of(*node, g, "contact"));
        e.set["status"] = "removed";
        if (!a.reason.empty())
            e.append =
                objects::ListAppend{"vetting", {{"verdict", "withdraw"}, {"note", a.reason}}};
        change(*node, g, e);
        std::cout << _("Contact removed from the directory.\n");
    });
    list_command(contact, "contact", _("No contacts.\n"), true, contact_row);
    carry_commands(contact, "contact", "CONTACT");

    // ---- report -----------------------------------------------------------------------
    auto* report =
        app.add_subcommand("report", _("Document violations: place, time, what happened"));
    report->require_subcommand(1);
    auto* r_add = with_group(report->add_subcommand("add", _("File a report")));
    r_add->add_option("--place", a.place, _("Where, e.g. polling station 1234"))->required();
    r_add
        ->add_option("--at", a.at,
                     _("When, in your local time: 2026-03-01 10:05, 01.03.2026 10:05, or 10:05 "
                       "for today"))
        ->required();
    r_add->add_option("--category", a.category, _("e.g. ballot stuffing, detention"));
    r_add->add_option("--text", a.text, _("What happened (\"-\" reads stdin)"));
    r_add->add_option("--attach", a.attach,
                      _("A file to attach (repeatable); the report and its files are saved "
                        "together or not at all"));
    add_send_option(r_add, a.no_send);
    r_add->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("report");
        put(e.set, "place", a.place);
        put(e.set, "at", time_arg(*node, a.at));
        put(e.set, "category", a.category);
        if (!a.text.empty()) {
            auto text = argument_or_stdin(a.text);
            while (!text.empty() && text.back() == '\n') text.pop_back();
            put(e.set, "text", text);
        }
        auto done = change_with_files(*node, g, e, a.attach);
        for (const auto& info : done.attachments)
            std::cout << subst(_("Attached {} ({}).\n"), info.name, size_text(info.size));
        created(_("Report"), done.change);
        say_recorded(e.set["at"]);
        send_written(*node, g, a.no_send);
    });
    list_command(report, "report", _("No reports.\n"), false, report_row);
    carry_commands(report, "report", "REPORT");

    // ---- alert ------------------------------------------------------------------------
    auto* alert = app.add_subcommand("alert", _("Send an urgent alert, or list them"));
    alert->require_subcommand(0, 1);
    alert->add_option("GROUP", a.group, _("Group name or id prefix"));
    alert->add_option("TEXT", a.text, _("e.g. \"Detained at station X — lawyer needed now\""));
    alert->add_option("--urgency", a.urgency, _("normal, urgent or critical (default urgent)"))
        ->check(CLI::IsMember({"normal", "urgent", "critical"}));
    add_send_option(alert, a.no_send);
    alert->footer(
        _("Examples:\n  kolokol alert \"Legal support\" \"Detained at station X — lawyer needed "
          "now\"\n  "
          "kolokol alert list \"Legal support\"\n  kolokol alert resolve \"Legal support\" 3fa9"));
    list_command(alert, "alert", _("No alerts.\n"), true, alert_row);
    carry_commands(alert, "alert", "ALERT");
    auto* resolve = with_object(
        alert->add_subcommand("resolve", _("Mark an alert dealt with (it stays in the list "
                                           "with --all)")),
        "ALERT");
    add_send_option(resolve, a.no_send);
    resolve->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("alert", object_of(*node, g, "alert"));
        e.set["status"] = "resolved";
        change(*node, g, e);
        std::cout << _("Alert resolved.\n");
        send_written(*node, g, args().no_send);
    });
    alert->callback([alert] {
        if (!alert->get_subcommands().empty()) return;
        auto& a = args();
        if (a.group.empty() || a.text.empty())
            throw CommandError(Exit::usage,
                               _("usage: kolokol alert GROUP TEXT, or kolokol alert list GROUP"));
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("alert");
        e.set["text"] = a.text;
        put(e.set, "urgency", a.urgency);
        created(_("Alert"), change(*node, g, e));
        send_written(*node, g, a.no_send);
    });
}

}  // namespace kolokol::cli::objcli
