// kolokol event · task · redact · attachment · group retention — coordination objects
// (DESIGN §13) from the command line; case (cmd_case.cpp) and contact, report, alert
// (cmd_directory.cpp) share their plumbing (object_cli.hpp).
#include <algorithm>
#include <iostream>

#include "group_audit.hpp"
#include "i18n.hpp"
#include "kolokol/objects/time_text.hpp"
#include "kolokol/objects/values.hpp"
#include "object_cli.hpp"
#include "object_labels.hpp"
#include "proposals.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {

using core::ObjectView;
using namespace objcli;

std::uint64_t duration_arg(const std::string& s) {
    if (s == "off" || s == "0" || s == "never") return 0;
    if (s.size() < 2) bad(subst(_("\"{}\" is not a duration: write e.g. 90m, 12h, 30d, 2w"), s));
    auto unit = s.back();
    std::uint64_t mul = unit == 's'   ? 1
                        : unit == 'm' ? 60
                        : unit == 'h' ? 3600
                        : unit == 'd' ? 86400
                        : unit == 'w' ? 604800
                                      : 0;
    auto digits = s.substr(0, s.size() - 1);
    if (mul == 0 || digits.empty() || digits.size() > 9 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        bad(subst(_("\"{}\" is not a duration: write e.g. 90m, 12h, 30d, 2w"), s));
    return std::stoull(digits) * mul;
}

std::string event_row(core::Node&, const ObjectView& v) {
    std::string row = shown(v.type, {}, "starts", v.get("starts"));
    row += "  " + one_line(v.get("title"));
    if (!v.get("place").empty()) row += "  @ " + one_line(v.get("place"), 40);
    row += "  " + value_label("status", v.get("status"));
    return row;
}

std::string task_row(core::Node& node, const ObjectView& v) {
    std::string row = one_line(v.get("title")) + "  " + value_label("status", v.get("status"));
    auto count = objects::task_count(v);
    const bool counted = count && (count->entries > 0 || !v.get("count").empty());
    if (counted || !v.get("target").empty()) {
        row += "  " + std::to_string(count ? count->count : 0);
        if (!v.get("target").empty()) row += "/" + std::string(v.get("target"));
    }
    if (auto key = objects::parse_key_hex(v.get("assignee")))
        row += "  → " + one_line(node.display_name_of(*key), 30);
    if (!v.get("due").empty())
        row += "  " + subst(_("due {}"), shown(v.type, {}, "due", v.get("due")));
    return row;
}

void register_event(CLI::App& app) {
    auto& a = args();
    auto* event = app.add_subcommand("event", _("Plan actions, rallies and meetings"));
    event->require_subcommand(1);
    auto* ev_add = with_group(event->add_subcommand("add", _("Announce an event")));
    ev_add->add_option("--title", a.title, _("What it is"))->required();
    ev_add
        ->add_option("--at", a.at,
                     _("When it starts, in your local time: 2026-03-01 18:00, 01.03.2026 18:00, "
                       "or 18:00 for today; or with an offset, 2026-03-01T18:00+03:00"))
        ->required();
    ev_add->add_option("--ends", a.ends, _("When it ends (as --at)"));
    ev_add->add_option("--place", a.place, _("Where"));
    ev_add->add_option("--roles", a.roles, _("Roles needed, e.g. \"2 medics, 1 lawyer\""));
    ev_add->footer(
        _("Example:\n  kolokol event add \"Legal support\" --title \"Court vigil\" --at "
          "\"2026-03-01 09:00\" "
          "--place \"District court\""));
    ev_add->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("event");
        put(e.set, "title", a.title);
        put(e.set, "starts", time_arg(*node, a.at));
        put(e.set, "ends", time_arg(*node, a.ends));
        put(e.set, "place", a.place);
        put(e.set, "roles", a.roles);
        created(_("Event"), change(*node, g, e));
        say_recorded(e.set["starts"]);
    });
    auto* rsvp = with_object(event->add_subcommand("rsvp", _("Answer whether you come")), "EVENT");
    rsvp->add_option("ANSWER", a.answer, _("yes, no or maybe"))
        ->required()
        ->check(CLI::IsMember({"yes", "no", "maybe"}));
    rsvp->add_option("--role", a.role, _("The role you take"));
    rsvp->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("event", object_of(*node, g, "event"));
        e.append = objects::ListAppend{"rsvp", {{"answer", a.answer}}};
        put(e.append->item, "role", a.role);
        change(*node, g, e);
        std::cout << _("Answer recorded.\n");
    });
    auto* ev_show =
        with_object(event->add_subcommand("show", _("Show an event and who comes")), "EVENT");
    ev_show->add_flag("--json", a.json, _("Machine-readable output"));
    ev_show->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto v = must(node->object(g, object_of(*node, g, "event")));
        auto rsvps = must(objects::current_rsvps(v));
        if (args().json) {
            auto j = object_json(*node, v);
            auto r = json::array();
            for (const auto& x : rsvps)
                r.push_back({{"member", node->display_name_of(x.member)},
                             {"answer", x.answer},
                             {"role", x.role}});
            j["rsvps"] = r;
            print_json(j);
            return;
        }
        std::cout << subst(_("Event {}\n"), short_hex(v.id));
        print_fields(*node, v);
        for (const auto& x : rsvps)
            std::cout << "  " << node->display_name_of(x.member) << ": "
                      << value_label("answer", x.answer)
                      << (x.role.empty() ? "" : " (" + x.role + ")") << "\n";
    });
    list_command(event, "event", _("No events.\n"), false, event_row);
    carry_commands(event, "event", "EVENT");
}

void register_task(CLI::App& app) {
    auto& a = args();
    auto* task = app.add_subcommand("task", _("Split work: tasks with an assignee and a count"));
    task->require_subcommand(1);
    auto* t_add = with_group(task->add_subcommand("add", _("Add a task")));
    t_add->add_option("--title", a.title, _("What is to be done"))->required();
    t_add->add_option("--due", a.due, _("By when, in your local time (as event add --at)"));
    t_add->add_option("--assignee", a.assignee, _("A member's name or key prefix"));
    t_add->add_option("--target", a.target, _("A count to reach, e.g. 1000 signatures"));
    t_add->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("task");
        put(e.set, "title", a.title);
        put(e.set, "due", time_arg(*node, a.due));
        if (!a.assignee.empty()) e.set["assignee"] = member_hex(*node, g, a.assignee);
        if (a.target >= 0) e.set["target"] = std::to_string(a.target);
        created(_("Task"), change(*node, g, e));
        if (!a.due.empty()) say_recorded(e.set["due"]);
    });
    auto* assign =
        with_object(task->add_subcommand("assign", _("Give a task to a member")), "TASK");
    assign->add_option("MEMBER", a.member, _("A member's name or key prefix"))->required();
    assign->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("task", object_of(*node, g, "task"));
        e.set["assignee"] = member_hex(*node, g, args().member);
        change(*node, g, e);
        std::cout << _("Assigned.\n");
    });
    auto* done = with_object(task->add_subcommand("done", _("Mark a task done")), "TASK");
    done->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("task", object_of(*node, g, "task"));
        e.set["status"] = "done";
        change(*node, g, e);
        std::cout << _("Done.\n");
    });
    auto* progress =
        with_object(task->add_subcommand("progress", _("Add to a task's count")), "TASK");
    progress->add_option("COUNT", a.count, _("How many more (negative to correct)"))->required();
    progress->add_option("--note", a.note, _("A note"));
    progress->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto id = object_of(*node, g, "task");
        auto e = edit_of("task", id);
        // Only the increment is written: the count is the sum of every member's increments
        // (objects::task_count), so two members counting at once both count.
        e.append = objects::ListAppend{"progress", {{"count", std::to_string(a.count)}}};
        put(e.append->item, "note", a.note);
        change(*node, g, e);
        auto v = must(node->object(g, id));
        auto total = must(objects::task_count(v));
        std::cout << subst(
            _("Count now {}{}.\n"), total.count,
            v.get("target").empty() ? std::string() : " / " + std::string(v.get("target")));
    });
    list_command(task, "task", _("No open tasks.\n"), true, task_row);
    carry_commands(task, "task", "TASK");
}

}  // namespace

void register_object_commands(CLI::App& app) {
    auto& a = args();
    register_event(app);
    register_task(app);
    register_case(app);
    register_directory(app);

    // ---- redact -----------------------------------------------------------------------
    auto* redact =
        app.add_subcommand("redact", _("Remove a record's content here and at every peer"));
    redact->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    redact->add_option("RECORD", a.object, _("The first 4 or more hex digits of the record's id"))
        ->required();
    redact->add_option("--reason", a.reason, _("Why (shown to members)"));
    redact->footer(
        _("Only the record's author or an admin may redact it. Ids are in the --json output "
          "of\nread, case history and the other lists."));
    redact->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto id = must(node->resolve_record(g, args().object));
        must(node->redact(g, id, args().reason));
        std::cout << _("Redacted. Peers remove it when they next sync.\n");
    });

    // ---- attachment -------------------------------------------------------------------
    auto* att = app.add_subcommand("attachment", _("List attachments and save them to files"));
    att->require_subcommand(1);
    auto* get = with_object(att->add_subcommand("get", _("Save an attachment to a file")), "ID");
    get->add_option("-o,--output", a.out, _("Where to write it"))->required();
    get->add_flag("--force", a.force, _("Overwrite the file if it exists"));
    get->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto info = must(node->resolve_attachment(g, args().object));
        if (!info.complete())
            throw CommandError(Exit::not_found,
                               subst(P_("{} of {} chunk of \"{}\" is not here yet: sync first",
                                        "{} of {} chunks of \"{}\" are not here yet: sync first",
                                        info.chunk_count),
                                     info.missing.size(), info.chunk_count, info.name));
        must(node->export_attachment(g, info.manifest_id, args().out, args().force));
        std::cout << subst(_("Saved {} ({}), SHA-256 verified.\n"), args().out,
                           size_text(info.size));
    });
    auto* alist = with_group(att->add_subcommand("list", _("List the group's attachments")));
    alist->add_flag("--json", a.json, _("Machine-readable output"));
    alist->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto list = must(node->attachments(g));
        if (args().json) {
            auto j = json::array();
            for (const auto& x : list) j.push_back(attachment_json(x));
            print_json(j);
            return;
        }
        if (list.empty()) std::cout << _("No attachments.\n");
        print_attachments(list);
    });

    // ---- group retention --------------------------------------------------------------
    CLI::App* group = nullptr;
    try {
        group = app.get_subcommand("group");
    } catch (const CLI::OptionNotFound&) {
        group = nullptr;  // registered before this function in main.cpp; nothing to extend
    }
    if (group) {
        auto* ret = group->add_subcommand(
            "retention", _("Delete records older than a period, everywhere (admins)"));
        ret->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
        ret->add_option("DURATION", a.duration, _("e.g. 30d, 12h, 2w; \"off\" keeps everything"));
        ret->footer(
            _("Without DURATION, shows the current period.\nExample:\n  kolokol group retention "
              "\"Legal support\" 30d"));
        ret->callback([] {
            auto node = open_node();
            auto g = group_of(*node);
            if (args().duration.empty()) {
                const auto r = node->retention_in_force(g);
                const auto s = r.set_seconds;
                if (s == 0)
                    std::cout << _("Records are kept until someone redacts them.\n");
                else if (s % 86400 == 0)
                    std::cout << subst(
                        P_("Records are deleted {} day after they were written.\n",
                           "Records are deleted {} days after they were written.\n", s / 86400),
                        s / 86400);
                else
                    std::cout << subst(
                        P_("Records are deleted {} minute after they were written.\n",
                           "Records are deleted {} minutes after they were written.\n", s / 60),
                        s / 60);
                if (r.from_ms != 0)
                    std::cout << subst(_("This shorter period starts deleting here at {}; until "
                                         "then: {}.\n"),
                                       proposal_time_text(r.from_ms),
                                       retention_text(r.deleting_seconds));
                return;
            }
            const auto seconds = duration_arg(args().duration);
            must(node->set_retention(g, seconds));
            // Shorter than the period deleting here (none counts as endless): it waits a day.
            const auto after = node->retention_in_force(g);
            if (seconds != 0 && after.from_ms != 0)
                std::cout << subst(
                    _("Retention set. A shorter period starts deleting only a day after a member "
                      "receives it (here at {}), so a setting written by a seized device can be "
                      "voided by a burn notice before it deletes anything. Until then: {}.\n"),
                    proposal_time_text(after.from_ms), retention_text(after.deleting_seconds));
            else
                std::cout << _(
                    "Retention set. Every member applies it when they next sync or open their "
                    "store.\n");
        });
    }
}

}  // namespace kolokol::cli
