// kolokol case — detention cases: fields, a timeline in time order, a ledger with totals,
// attachments and history (DESIGN §13).
#include <algorithm>
#include <iostream>

#include "i18n.hpp"
#include "kolokol/objects/time_text.hpp"
#include "kolokol/objects/values.hpp"
#include "kolokol/storage/error.hpp"
#include "object_cli.hpp"
#include "object_labels.hpp"
#include "terminal.hpp"

namespace kolokol::cli::objcli {

namespace {

using core::ObjectView;

// Text over several lines, indented under its first line.
std::string indented(std::string_view text, std::size_t indent) {
    std::string out;
    for (char c : text) {
        out += c;
        if (c == '\n') out.append(indent, ' ');
    }
    return out;
}

void print_case(core::Node& node, const core::CaseView& cv) {
    const auto& v = cv.object;
    std::cout << subst(_("Case {}\n"), short_hex(v.id));
    print_fields(node, v);
    auto timeline = must(objects::timeline_in_time_order(v));
    std::erase_if(timeline, [](const objects::TimelineEntry& e) { return e.item.redacted; });
    if (!timeline.empty()) std::cout << _("Timeline:\n");
    for (const auto& e : timeline) {
        std::string head = "  " + objects::format_local(e.at, objects::local_zone()) + "  " +
                           node.display_name_of(e.item.author) + ": ";
        std::cout << head << indented(e.item.fields.at("text"), 4) << "\n";
    }
    if (!v.list("ledger").empty()) std::cout << _("Ledger:\n");
    for (const auto& i : v.list("ledger")) {
        if (i.redacted) continue;
        std::cout << "  " << local_ms(i.wall_clock_ms) << "  " << node.display_name_of(i.author)
                  << ": " << value_label("direction", i.fields.at("direction")) << " "
                  << i.fields.at("amount") << " " << i.fields.at("currency");
        if (i.fields.contains("purpose")) std::cout << " — " << i.fields.at("purpose");
        std::cout << "\n";
    }
    for (const auto& t : cv.totals)
        std::cout << subst(
            P_("Total {}: {}{} {} ({} entry)\n", "Total {}: {}{} {} ({} entries)\n", t.entries),
            value_label("direction", t.direction), t.saturated ? "> " : "",
            objects::format_cents(t.cents), t.currency, t.entries);
    if (!cv.attachments.empty()) std::cout << _("Attachments:\n");
    print_attachments(cv.attachments);
}

std::string case_row(core::Node&, const ObjectView& v) {
    std::string row = one_line(v.get("person"), 40) + "  " + value_label("status", v.get("status"));
    if (!v.get("detained_where").empty()) row += "  " + one_line(v.get("detained_where"), 40);
    if (!v.get("detained_at").empty())
        row += "  " + shown(v.type, {}, "detained_at", v.get("detained_at"));
    return row;
}

}  // namespace

void register_case(CLI::App& app) {
    auto& a = args();
    auto* kase = app.add_subcommand("case", _("Detention cases: timeline, ledger, evidence"));
    kase->require_subcommand(1);
    auto* open = with_group(kase->add_subcommand("open", _("Open a case for a detained person")));
    open->add_option("--person", a.person, _("Name of the person"))->required();
    open->add_option("--alias", a.alias, _("An alias to use instead of the name"));
    open->add_option("--detained-at", a.at,
                     _("When, in your local time: 2026-03-01 18:30, 01.03.2026 18:30, or 18:30 "
                       "for today"));
    open->add_option("--where", a.where, _("Where they were detained / are held"));
    open->add_option("--charges", a.charges, _("Charges"));
    open->add_option("--lawyer", a.lawyer, _("Lawyer"));
    open->add_option("--status", a.status,
                     _("detained, charged, in_court, sentenced, released, closed"));
    open->add_option("--attach", a.attach,
                     _("A file to attach (repeatable); the case and its files are saved "
                       "together or not at all"));
    open->footer(
        _("Example:\n  kolokol case open \"Legal support\" --person \"Ivan P.\" --detained-at "
          "\"2026-03-01 "
          "18:30\" --where \"Precinct 5\""));
    open->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("case");
        put(e.set, "person", a.person);
        put(e.set, "alias", a.alias);
        put(e.set, "detained_at", time_arg(*node, a.at));
        put(e.set, "detained_where", a.where);
        put(e.set, "charges", a.charges);
        put(e.set, "lawyer", a.lawyer);
        put(e.set, "status", a.status);
        auto done = change_with_files(*node, g, e, a.attach);
        for (const auto& info : done.attachments)
            std::cout << subst(_("Attached {} ({}).\n"), info.name, size_text(info.size));
        created(_("Case"), done.change);
        if (!a.at.empty()) say_recorded(e.set["detained_at"]);
    });
    auto* set = with_object(kase->add_subcommand("set", _("Change a case's fields")), "CASE");
    set->add_option("FIELD=VALUE", a.fields, _("e.g. status=charged lawyer=\"M. Sokolova\""))
        ->required();
    set->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("case", object_of(*node, g, "case"));
        for (const auto& f : args().fields) {
            auto eq = f.find('=');
            if (eq == std::string::npos || eq == 0) bad(subst(_("\"{}\" is not FIELD=VALUE"), f));
            auto key = f.substr(0, eq);
            auto val = f.substr(eq + 1);
            if (key == "detained_at") val = time_arg(*node, val);
            e.set[key] = val;
        }
        change(*node, g, e);
        std::cout << _("Case updated.\n");
    });
    auto* note = with_object(kase->add_subcommand("note", _("Add to a case's timeline")), "CASE");
    note->add_option("TEXT", a.text, _("What happened (\"-\" reads stdin)"))->required();
    note->add_option("--at", a.at,
                     _("When it happened, in your local time (as --detained-at); the timeline "
                       "is shown in this order"));
    note->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("case", object_of(*node, g, "case"));
        auto text = argument_or_stdin(a.text);
        while (!text.empty() && text.back() == '\n') text.pop_back();
        e.append = objects::ListAppend{"timeline", {{"text", text}}};
        put(e.append->item, "at", time_arg(*node, a.at));
        change(*node, g, e);
        std::cout << _("Note added.\n");
        if (!a.at.empty()) say_recorded(e.append->item["at"]);
    });
    auto* pay = with_object(
        kase->add_subcommand("pay", _("Record money pledged, received or paid")), "CASE");
    pay->add_option("AMOUNT", a.amount, _("e.g. 150 or 150.50"))->required();
    pay->add_option("CURRENCY", a.currency, _("Three letters, e.g. EUR"))->required();
    pay->add_option("--direction", a.direction, _("pledged, received or paid (default paid)"))
        ->check(CLI::IsMember({"pledged", "received", "paid"}));
    pay->add_option("--purpose", a.purpose, _("What for, e.g. \"fine\", \"parcel\""));
    pay->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("case", object_of(*node, g, "case"));
        std::string cur = a.currency;
        std::transform(cur.begin(), cur.end(), cur.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        e.append = objects::ListAppend{
            "ledger", {{"amount", a.amount}, {"currency", cur}, {"direction", a.direction}}};
        put(e.append->item, "purpose", a.purpose);
        change(*node, g, e);
        std::cout << _("Ledger entry added.\n");
    });
    auto* cattach =
        with_object(kase->add_subcommand("attach", _("Attach a file to a case")), "CASE");
    cattach->add_option("FILE", a.file, _("The file (any size up to 4 GiB)"))->required();
    cattach->add_option("--name", a.name, _("Name to show (default: the file's name)"));
    cattach->add_option("--type", a.media_type, _("Media type, e.g. image/jpeg"));
    cattach->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto id = object_of(*node, g, "case");
        std::error_code ec;
        if (!std::filesystem::is_regular_file(a.file, ec))
            throw CommandError(Exit::not_found, subst(_("no such file: {}"), a.file));
        Progress progress(_("Attaching"), std::filesystem::file_size(a.file, ec));
        core::AttachOptions o;
        o.object = id;
        o.name = a.name;
        o.media_type = a.media_type;
        o.progress = [&](std::uint64_t done, std::uint64_t) { progress.update(done); };
        auto info = node->attach_file(g, a.file, o);
        progress.finish();
        if (!info) {
            if (info.error().code == storage::StorageErrc::full)
                throw CommandError(exit_for(info.error()),
                                   _("Nothing was saved: the disk is full (the file was not "
                                     "attached). Free some space, then run the same command "
                                     "again."));
            raise_any(info.error());
        }
        std::cout << subst(_("Attached {} ({}) as {}.\n"), info->name, size_text(info->size),
                           short_hex(info->manifest_id));
    });
    auto* show = with_object(kase->add_subcommand("show", _("Show a case")), "CASE");
    show->add_flag("--json", a.json, _("Machine-readable output"));
    show->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto cv = must(node->case_view(g, object_of(*node, g, "case")));
        if (args().json) {
            auto j = object_json(*node, cv.object);
            auto totals = json::array();
            for (const auto& t : cv.totals)
                totals.push_back({{"currency", t.currency},
                                  {"direction", t.direction},
                                  {"amount", objects::format_cents(t.cents)},
                                  {"entries", t.entries},
                                  {"saturated", t.saturated}});
            j["totals"] = totals;
            auto att = json::array();
            for (const auto& x : cv.attachments) att.push_back(attachment_json(x));
            j["attachments"] = att;
            // The timeline in time order: each item with the time it is shown at.
            auto order = json::array();
            for (const auto& e : must(objects::timeline_in_time_order(cv.object))) {
                auto item = item_json(*node, cv.object, "timeline", e.item);
                item["at"] = objects::format_rfc3339(e.at, objects::local_zone());
                item["at_stated"] = e.stated;
                order.push_back(std::move(item));
            }
            j["timeline"] = order;
            print_json(j);
            return;
        }
        print_case(*node, cv);
    });
    list_command(kase, "case", _("No cases.\n"), false, case_row);
    carry_commands(kase, "case", "CASE");
    auto* history =
        with_object(kase->add_subcommand("history", _("Who changed what, and when")), "CASE");
    history->add_flag("--json", a.json, _("Machine-readable output"));
    history->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto id = object_of(*node, g, "case");
        auto v = must(node->object(g, id));
        auto h = must(node->object_history(g, id));
        if (args().json) {
            auto j = json::array();
            for (const auto& e : h) {
                static const char* kinds[] = {"created", "field_set", "list_append"};
                json x = {{"kind", kinds[static_cast<int>(e.kind)]},
                          {"record", hex(e.record_id)},
                          {"author", node->display_name_of(e.author)},
                          {"author_key", hex(e.author)},
                          {"time", rfc3339_ms(e.wall_clock_ms)},
                          {"time_ms", e.wall_clock_ms},
                          {"lamport", e.lamport},
                          {"name", e.name},
                          {"redacted", e.redacted}};
                if (e.old_value) x["old"] = *e.old_value;
                if (e.new_value) x["new"] = *e.new_value;
                if (!e.item.empty()) x["item"] = e.item;
                j.push_back(x);
            }
            print_json(j);
            return;
        }
        for (const auto& e : h) std::cout << history_line(*node, v, e) << "\n";
    });
}

}  // namespace kolokol::cli::objcli
