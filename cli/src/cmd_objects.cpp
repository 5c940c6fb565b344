// kolokol event · task · case · contact · report · alert · redact · attachment ·
// group retention — coordination objects (DESIGN §6) from the command line.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "i18n.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/values.hpp"
#include "node_session.hpp"
#include "object_labels.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {

namespace fs = std::filesystem;
using core::ObjectView;
using nlohmann::json;

// Everything the object commands take; CLI11 binds options to these.
struct Args {
    std::string group, object, text, member, answer, role, value, file, out, reason, duration;
    std::string title, at, ends, place, roles, due, assignee, status, person, alias, where, charges,
        lawyer, name, reach, vetted_by, category, urgency, note, purpose, media_type;
    std::string amount, currency, direction = "paid";
    std::vector<std::string> fields, attach;
    std::int64_t count = 0, target = -1;
    bool json = false, all = false, force = false;
};
Args& args() {
    static Args a;
    return a;
}

// Attachment problems get their own exit codes: missing → not_found, damaged → verify_failed.
[[noreturn]] void raise_any(const Error& e) {
    if (e.code.category() == objects::ObjectErrc_category()) {
        auto c = static_cast<objects::ObjectErrc>(e.code.value());
        if (c == objects::ObjectErrc::chunk_missing) throw CommandError(Exit::not_found, e.what());
        if (c == objects::ObjectErrc::chunk_corrupt || c == objects::ObjectErrc::hash_mismatch)
            throw CommandError(Exit::verify_failed, e.what());
        throw CommandError(Exit::bad_input, e.what());
    }
    raise(e);
}
template <class T>
T must(Result<T> r) {
    if (!r) raise_any(r.error());
    return std::move(*r);
}
void must(const Status& s) {
    if (!s) raise_any(s.error());
}

[[noreturn]] void bad(const std::string& why) {
    throw CommandError(Exit::bad_input, why);
}

// Accepts "2026-03-01T10:00:00Z" and the friendlier "2026-03-01 10:00", "2026-03-01T10:00",
// "2026-03-01"; the result is checked by the object types (a real date, years 1900–2200).
std::string datetime_arg(const std::string& s) {
    if (s.empty()) return s;
    std::string t = s;
    if (t.size() == 10)
        t += "T00:00:00Z";
    else if (t.size() == 16)
        t += ":00Z";
    if (t.size() >= 11 && t[10] == ' ') t[10] = 'T';
    if (!objects::parse_datetime(t))
        bad(subst(_("\"{}\" is not a date: write it as 2026-03-01 or 2026-03-01T10:00 (UTC)"), s));
    return t;
}

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

core::GroupId group_of(core::Node& node) {
    return value_or_raise(node.resolve_group(args().group));
}

core::RecordId object_of(core::Node& node, const core::GroupId& g, std::string_view type) {
    return must(node.resolve_object(g, args().object, type));
}

std::string member_hex(core::Node& node, const core::GroupId& g, const std::string& who) {
    return objects::key_hex(value_or_raise(node.resolve_member(g, who)));
}

void put(std::map<std::string, std::string>& m, const char* k, const std::string& v) {
    if (!v.empty()) m[k] = v;
}

core::RecordId change(core::Node& node, const core::GroupId& g, core::ObjectEdit edit) {
    return must(node.object_change(g, edit));
}

core::ObjectEdit edit_of(std::string type, std::optional<core::RecordId> obj = std::nullopt) {
    core::ObjectEdit e;
    e.type = std::move(type);
    e.object = obj;
    return e;
}

void created(const char* what, const core::RecordId& id) {
    std::cout << subst(_("{} {} created.\n"), what, short_hex(id));
}

// ---- output ---------------------------------------------------------------------------

json item_json(core::Node& node, const core::ListItem& i) {
    json f = json::object();
    for (const auto& [k, v] : i.fields) f[k] = v;
    return {{"id", hex(i.record_id)},
            {"author", node.display_name_of(i.author)},
            {"author_key", hex(i.author)},
            {"time_ms", i.wall_clock_ms},
            {"lamport", i.lamport},
            {"redacted", i.redacted},
            {"fields", f}};
}

json object_json(core::Node& node, const ObjectView& v) {
    json fields = json::object(), meta = json::object(), lists = json::object();
    for (const auto& [k, f] : v.fields) {
        fields[k] = f.value;
        meta[k] = {{"author", node.display_name_of(f.author)},
                   {"time_ms", f.wall_clock_ms},
                   {"record", hex(f.record_id)}};
    }
    for (const auto& [name, items] : v.lists) {
        auto arr = json::array();
        for (const auto& i : items) arr.push_back(item_json(node, i));
        lists[name] = arr;
    }
    return {{"id", hex(v.id)},
            {"type", v.type},
            {"created_by", node.display_name_of(v.created_by)},
            {"created_by_key", hex(v.created_by)},
            {"created_ms", v.created_wall_clock_ms},
            {"fields", fields},
            {"set_by", meta},
            {"lists", lists}};
}

json attachment_json(const core::AttachmentInfo& a) {
    return {{"id", hex(a.manifest_id)}, {"attachment_id", hex(a.attachment_id)},
            {"name", a.name},           {"media_type", a.media_type},
            {"size", a.size},           {"sha256", hex(a.sha256)},
            {"chunks", a.chunk_count},  {"missing_chunks", a.missing.size()},
            {"complete", a.complete()}, {"object", a.object ? hex(*a.object) : std::string()},
            {"time_ms", a.wall_ms}};
}

void print_json(const json& j) {
    std::cout << j.dump(2) << "\n";
}

std::string size_text(std::uint64_t n) {
    char buf[32];
    if (n >= (1u << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
    else if (n >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
    else
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
    return buf;
}

void print_fields(core::Node& node, const ObjectView& v) {
    for (const auto& [k, f] : v.fields)
        std::cout << "  " << field_label(k) << ": " << value_label(k, f.value) << "   ("
                  << node.display_name_of(f.author) << ", " << format_time(f.wall_clock_ms)
                  << ")\n";
}

void print_attachments(const std::vector<core::AttachmentInfo>& list) {
    for (const auto& a : list) {
        std::cout << "  " << short_hex(a.manifest_id) << "  " << a.name << "  "
                  << size_text(a.size);
        if (a.complete())
            std::cout << "  " << _("complete");
        else
            std::cout << "  "
                      << subst(P_("{} of {} chunk still to fetch", "{} of {} chunks still to fetch",
                                  a.chunk_count),
                               a.missing.size(), a.chunk_count);
        std::cout << "\n";
    }
}

std::string history_line(core::Node& node, const core::HistoryEntry& h) {
    std::string who = node.display_name_of(h.author);
    std::string line = format_time(h.wall_clock_ms) + "  " + who + "  ";
    switch (h.kind) {
        case core::HistoryEntry::Kind::created:
            return line + _("created it");
        case core::HistoryEntry::Kind::field_set:
            if (h.redacted) return line + subst(_("set {} (redacted)"), field_label(h.name));
            return line + subst(_("set {}: \"{}\" → \"{}\""), field_label(h.name),
                                value_label(h.name, h.old_value.value_or("")),
                                value_label(h.name, h.new_value.value_or("")));
        case core::HistoryEntry::Kind::list_append: {
            if (h.redacted) return line + subst(_("added to {} (redacted)"), field_label(h.name));
            std::string item;
            for (const auto& [k, v] : h.item)
                item += (item.empty() ? "" : ", ") + field_label(k) + "=" + value_label(k, v);
            return line + subst(_("added to {}: {}"), field_label(h.name), item);
        }
    }
    return line;
}

void list_command(CLI::App* parent, const char* type, std::initializer_list<const char*> columns,
                  const char* empty) {
    auto& a = args();
    auto* list = parent->add_subcommand("list", subst(_("List the group's {}s"), type));
    list->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    list->add_flag("--json", a.json, _("Machine-readable output"));
    std::vector<const char*> cols(columns);
    list->callback([type, cols, empty] {
        auto node = open_node();
        auto g = group_of(*node);
        std::vector<ObjectView> objs;
        if (std::string_view(type) == "task" && !args().all)
            objs = must(node->open_tasks(g));
        else if (std::string_view(type) == "alert")
            objs = must(node->alerts(g));
        else
            objs = must(node->objects(g, type));
        if (args().json) {
            auto j = json::array();
            for (const auto& v : objs) j.push_back(object_json(*node, v));
            print_json(j);
            return;
        }
        if (objs.empty()) {
            std::cout << empty;
            return;
        }
        for (const auto& v : objs) {
            std::cout << short_hex(v.id);
            for (const char* c : cols)
                if (auto val = v.get(c); !val.empty()) std::cout << "  " << value_label(c, val);
            std::cout << "\n";
        }
    });
}

CLI::App* with_group(CLI::App* cmd) {
    cmd->add_option("GROUP", args().group, _("Group name or id prefix"))->required();
    return cmd;
}
CLI::App* with_object(CLI::App* cmd, const char* what) {
    with_group(cmd);
    cmd->add_option(what, args().object, _("The first 4 or more hex digits of its id"))->required();
    return cmd;
}

}  // namespace

void register_object_commands(CLI::App& app) {
    auto& a = args();

    // ---- event ------------------------------------------------------------------------
    auto* event = app.add_subcommand("event", _("Plan actions, rallies and meetings"));
    event->require_subcommand(1);
    auto* ev_add = with_group(event->add_subcommand("add", _("Announce an event")));
    ev_add->add_option("--title", a.title, _("What it is"))->required();
    ev_add->add_option("--at", a.at, _("When it starts (UTC): 2026-03-01T18:00"))->required();
    ev_add->add_option("--ends", a.ends, _("When it ends (UTC)"));
    ev_add->add_option("--place", a.place, _("Where"));
    ev_add->add_option("--roles", a.roles, _("Roles needed, e.g. \"2 medics, 1 lawyer\""));
    ev_add->footer(
        _("Example:\n  kolokol event add \"Legal support\" --title \"Court vigil\" --at "
          "2026-03-01T09:00 "
          "--place \"District court\""));
    ev_add->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("event");
        put(e.set, "title", a.title);
        put(e.set, "starts", datetime_arg(a.at));
        put(e.set, "ends", datetime_arg(a.ends));
        put(e.set, "place", a.place);
        put(e.set, "roles", a.roles);
        e.set["status"] = "planned";
        created(_("Event"), change(*node, g, e));
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
    list_command(event, "event", {"starts", "title", "place", "status"}, _("No events.\n"));

    // ---- task -------------------------------------------------------------------------
    auto* task = app.add_subcommand("task", _("Split work: tasks with an assignee and a count"));
    task->require_subcommand(1);
    auto* t_add = with_group(task->add_subcommand("add", _("Add a task")));
    t_add->add_option("--title", a.title, _("What is to be done"))->required();
    t_add->add_option("--due", a.due, _("By when (UTC)"));
    t_add->add_option("--assignee", a.assignee, _("A member's name or key prefix"));
    t_add->add_option("--target", a.target, _("A count to reach, e.g. 1000 signatures"));
    t_add->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("task");
        put(e.set, "title", a.title);
        put(e.set, "due", datetime_arg(a.due));
        if (!a.assignee.empty()) e.set["assignee"] = member_hex(*node, g, a.assignee);
        if (a.target >= 0) {
            e.set["target"] = std::to_string(a.target);
            e.set["count"] = "0";
        }
        e.set["status"] = "open";
        created(_("Task"), change(*node, g, e));
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
        auto v = must(node->object(g, id));
        auto current = objects::parse_integer(v.get("count")).value_or(0);
        auto e = edit_of("task", id);
        e.append = objects::ListAppend{"progress", {{"count", std::to_string(a.count)}}};
        put(e.append->item, "note", a.note);
        // The running total is a register too, so every replica shows the latest total written.
        e.set["count"] = std::to_string(current + a.count);
        change(*node, g, e);
        std::cout << subst(
            _("Count now {}{}.\n"), current + a.count,
            v.get("target").empty() ? std::string() : " / " + std::string(v.get("target")));
    });
    list_command(task, "task", {"title", "status", "count", "target"}, _("No open tasks.\n"));
    task->get_subcommand("list")->add_flag("--all", a.all, _("Include tasks that are done"));

    // ---- case -------------------------------------------------------------------------
    auto* kase = app.add_subcommand("case", _("Detention cases: timeline, ledger, evidence"));
    kase->require_subcommand(1);
    auto* open = with_group(kase->add_subcommand("open", _("Open a case for a detained person")));
    open->add_option("--person", a.person, _("Name of the person"))->required();
    open->add_option("--alias", a.alias, _("An alias to use instead of the name"));
    open->add_option("--detained-at", a.at, _("When (UTC)"));
    open->add_option("--where", a.where, _("Where they were detained / are held"));
    open->add_option("--charges", a.charges, _("Charges"));
    open->add_option("--lawyer", a.lawyer, _("Lawyer"));
    open->add_option("--status", a.status,
                     _("detained, charged, in_court, sentenced, released, closed"));
    open->footer(
        _("Example:\n  kolokol case open \"Legal support\" --person \"Ivan P.\" --detained-at "
          "2026-03-01T18:30 "
          "--where \"Precinct 5\""));
    open->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("case");
        put(e.set, "person", a.person);
        put(e.set, "alias", a.alias);
        put(e.set, "detained_at", datetime_arg(a.at));
        put(e.set, "detained_where", a.where);
        put(e.set, "charges", a.charges);
        put(e.set, "lawyer", a.lawyer);
        e.set["status"] = a.status.empty() ? "detained" : a.status;
        created(_("Case"), change(*node, g, e));
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
            if (key == "detained_at") val = datetime_arg(val);
            e.set[key] = val;
        }
        change(*node, g, e);
        std::cout << _("Case updated.\n");
    });
    auto* note = with_object(kase->add_subcommand("note", _("Add to a case's timeline")), "CASE");
    note->add_option("TEXT", a.text, _("What happened (\"-\" reads stdin)"))->required();
    note->add_option("--at", a.at, _("When it happened (UTC)"));
    note->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of("case", object_of(*node, g, "case"));
        auto text = argument_or_stdin(a.text);
        while (!text.empty() && text.back() == '\n') text.pop_back();
        e.append = objects::ListAppend{"timeline", {{"text", text}}};
        put(e.append->item, "at", datetime_arg(a.at));
        change(*node, g, e);
        std::cout << _("Note added.\n");
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
        core::AttachOptions o;
        o.object = object_of(*node, g, "case");
        o.name = a.name;
        o.media_type = a.media_type;
        auto info = must(node->attach_file(g, a.file, o));
        std::cout << subst(_("Attached {} ({}) as {}.\n"), info.name, size_text(info.size),
                           short_hex(info.manifest_id));
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
            print_json(j);
            return;
        }
        const auto& v = cv.object;
        std::cout << subst(_("Case {}\n"), short_hex(v.id));
        print_fields(*node, v);
        if (!v.list("timeline").empty()) std::cout << _("Timeline:\n");
        for (const auto& i : v.list("timeline")) {
            if (i.redacted) continue;
            auto at = i.fields.contains("at") ? i.fields.at("at") : format_time(i.wall_clock_ms);
            std::cout << "  " << at << "  " << node->display_name_of(i.author) << ": "
                      << i.fields.at("text") << "\n";
        }
        if (!v.list("ledger").empty()) std::cout << _("Ledger:\n");
        for (const auto& i : v.list("ledger")) {
            if (i.redacted) continue;
            std::cout << "  " << format_time(i.wall_clock_ms) << "  "
                      << node->display_name_of(i.author) << ": "
                      << value_label("direction", i.fields.at("direction")) << " "
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
    });
    list_command(kase, "case", {"person", "status", "detained_where"}, _("No cases.\n"));
    auto* history =
        with_object(kase->add_subcommand("history", _("Who changed what, and when")), "CASE");
    history->add_flag("--json", a.json, _("Machine-readable output"));
    history->callback([] {
        auto node = open_node();
        auto g = group_of(*node);
        auto h = must(node->object_history(g, object_of(*node, g, "case")));
        if (args().json) {
            auto j = json::array();
            for (const auto& e : h) {
                static const char* kinds[] = {"created", "field_set", "list_append"};
                json x = {{"kind", kinds[static_cast<int>(e.kind)]},
                          {"record", hex(e.record_id)},
                          {"author", node->display_name_of(e.author)},
                          {"author_key", hex(e.author)},
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
        for (const auto& e : h) std::cout << history_line(*node, e) << "\n";
    });

    // ---- contact ----------------------------------------------------------------------
    auto* contact =
        app.add_subcommand("contact", _("A vetted directory: lawyers, journalists, medics"));
    contact->require_subcommand(1);
    auto* c_add = with_group(contact->add_subcommand("add", _("Add a contact")));
    c_add->add_option("--name", a.name, _("Name"))->required();
    c_add->add_option("--role", a.role, _("lawyer, journalist, medic or other"))->required();
    c_add->add_option("--reach", a.reach, _("How to reach them"));
    c_add->add_option("--vetted-by", a.vetted_by, _("The member who vouches (default: you)"));
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
        created(_("Contact"), change(*node, g, e));
    });
    list_command(contact, "contact", {"name", "role", "reach"}, _("No contacts.\n"));

    // ---- report -----------------------------------------------------------------------
    auto* report =
        app.add_subcommand("report", _("Document violations: place, time, what happened"));
    report->require_subcommand(1);
    auto* r_add = with_group(report->add_subcommand("add", _("File a report")));
    r_add->add_option("--place", a.place, _("Where, e.g. polling station 1234"))->required();
    r_add->add_option("--at", a.at, _("When (UTC)"))->required();
    r_add->add_option("--category", a.category, _("e.g. ballot stuffing, detention"));
    r_add->add_option("--text", a.text, _("What happened (\"-\" reads stdin)"));
    r_add->add_option("--attach", a.attach, _("A file to attach (repeatable)"));
    r_add->callback([] {
        auto& a = args();
        auto node = open_node();
        auto g = group_of(*node);
        for (const auto& f : a.attach)
            if (!fs::is_regular_file(f))
                throw CommandError(Exit::not_found, subst(_("no such file: {}"), f));
        auto e = edit_of("report");
        put(e.set, "place", a.place);
        put(e.set, "at", datetime_arg(a.at));
        put(e.set, "category", a.category);
        if (!a.text.empty()) {
            auto text = argument_or_stdin(a.text);
            while (!text.empty() && text.back() == '\n') text.pop_back();
            put(e.set, "text", text);
        }
        auto id = change(*node, g, e);
        for (const auto& f : a.attach) {
            core::AttachOptions o;
            o.object = id;
            auto info = must(node->attach_file(g, f, o));
            std::cout << subst(_("Attached {} ({}).\n"), info.name, size_text(info.size));
        }
        created(_("Report"), id);
    });
    list_command(report, "report", {"at", "place", "category", "text"}, _("No reports.\n"));

    // ---- alert ------------------------------------------------------------------------
    auto* alert = app.add_subcommand("alert", _("Send an urgent alert, or list them"));
    alert->require_subcommand(0, 1);
    alert->add_option("GROUP", a.group, _("Group name or id prefix"));
    alert->add_option("TEXT", a.text, _("e.g. \"Detained at station X — lawyer needed now\""));
    alert->add_option("--urgency", a.urgency, _("normal, urgent or critical (default urgent)"))
        ->check(CLI::IsMember({"normal", "urgent", "critical"}));
    alert->footer(
        _("Examples:\n  kolokol alert \"Legal support\" \"Detained at station X — lawyer needed "
          "now\"\n  "
          "kolokol alert list \"Legal support\""));
    list_command(alert, "alert", {"urgency", "text"}, _("No alerts.\n"));
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
        e.set["urgency"] = a.urgency.empty() ? "urgent" : a.urgency;
        created(_("Alert"), change(*node, g, e));
    });

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
                auto s = node->retention(g);
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
                return;
            }
            must(node->set_retention(g, duration_arg(args().duration)));
            std::cout << _(
                "Retention set. Every member applies it when they next sync or open their "
                "store.\n");
        });
    }
}

}  // namespace kolokol::cli
