#include "object_cli.hpp"

#include <iostream>

#include "chat/ui/text.hpp"
#include "i18n.hpp"
#include "kolokol/objects/builtin_types.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/time_text.hpp"
#include "kolokol/objects/values.hpp"
#include "kolokol/storage/error.hpp"
#include "object_labels.hpp"
#include "terminal.hpp"

namespace kolokol::cli::objcli {

namespace fs = std::filesystem;
using core::ObjectView;

Args& args() {
    static Args a;
    return a;
}

[[noreturn]] void raise_any(const Error& e) {
    throw CommandError(exit_for(e), translated(e));
}

[[noreturn]] void bad(const std::string& why) {
    throw CommandError(Exit::bad_input, why);
}

std::string time_arg(const core::Node& node, const std::string& text) {
    if (text.empty()) return text;
    const auto now = objects::seconds_of_ms(node.now_ms());
    auto stored = objects::time_text_to_field(text, now, objects::local_zone());
    if (stored) return *stored;
    switch (stored.error()) {
        case objects::TimeProblem::not_a_time:
            break;
        case objects::TimeProblem::no_such_date:
            bad(subst(_("\"{}\" is not a real date or time"), text));
        case objects::TimeProblem::out_of_range:
            bad(subst(_("\"{}\" lies outside the years 1900 to 2200"), text));
        case objects::TimeProblem::skipped:
            bad(subst(_("\"{}\" never happened in your time zone (the clocks jumped forward "
                        "then): give the time with its offset, e.g. 2026-03-29T03:30+02:00"),
                      text));
        case objects::TimeProblem::ambiguous:
            bad(subst(_("\"{}\" happened twice in your time zone (the clocks went back then): "
                        "give the time with its offset, e.g. 2026-10-25T02:30+02:00"),
                      text));
    }
    bad(subst(_("\"{}\" is not a time: write e.g. 2026-03-01 18:30, 01.03.2026 18:30, 18:30 "
                "(today) or 2026-03-01T18:30+03:00; without an offset it is your local time"),
              text));
}

void say_recorded(std::string_view stored) {
    auto t = objects::parse_datetime(stored);
    if (!t) return;
    std::cout << subst(_("Recorded as {} (UTC{}).\n"),
                       objects::format_local(*t, objects::local_zone()),
                       objects::format_offset(*t, objects::local_zone()));
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

core::RecordId change(core::Node& node, const core::GroupId& g, const core::ObjectEdit& edit) {
    return must(node.object_change(g, edit));
}

core::ObjectEdit edit_of(std::string type, std::optional<core::RecordId> obj) {
    core::ObjectEdit e;
    e.type = std::move(type);
    e.object = obj;
    return e;
}

void created(const char* what, const core::RecordId& id) {
    std::cout << subst(_("{} {} created.\n"), what, short_hex(id));
}

core::ObjectWithFiles change_with_files(core::Node& node, const core::GroupId& g,
                                        const core::ObjectEdit& edit,
                                        const std::vector<std::string>& files) {
    std::vector<core::FileToAttach> list;
    std::uint64_t total = 0;
    for (const auto& f : files) {
        std::error_code ec;
        if (!fs::is_regular_file(f, ec))
            throw CommandError(Exit::not_found, subst(_("no such file: {}"), f));
        total += fs::file_size(f, ec);
        list.push_back({f, {}, {}});
    }
    Progress progress(_("Attaching"), total);
    auto r = node.object_change_with_files(
        g, edit, list, [&](std::uint64_t done, std::uint64_t) { progress.update(done); });
    progress.finish();
    if (r) return std::move(*r);
    // The object and its files are one transaction: whatever failed, none of it is stored, and
    // that is what people need to know before they try again.
    const auto& e = r.error();
    const std::string what = edit.object ? std::string(_("the change and its files were not saved"))
                                         : std::string(_("it and its files were not created"));
    if (e.code == storage::StorageErrc::full)
        throw CommandError(exit_for(e),
                           subst(_("Nothing was saved: the disk is full ({}). Free some space, "
                                   "then run the same command again."),
                                 what));
    throw CommandError(exit_for(e), subst(_("Nothing was saved: {} ({})."), translated(e), what));
}

// ---- output -------------------------------------------------------------------------------

namespace {

const objects::FieldSpec* spec_of(std::string_view type, std::string_view list,
                                  std::string_view field) {
    const auto* t = objects::builtin_types().find(type);
    if (!t) return nullptr;
    if (list.empty()) return t->field(field);
    const auto* l = t->list(list);
    return l ? l->field(field) : nullptr;
}

bool is_time(std::string_view type, std::string_view list, std::string_view field) {
    const auto* f = spec_of(type, list, field);
    return f && f->kind == objects::FieldKind::datetime;
}

// For --json: datetimes as RFC 3339 in the reader's zone with its offset.
std::string json_value(std::string_view type, std::string_view list, std::string_view field,
                       std::string_view value) {
    if (is_time(type, list, field))
        if (auto t = objects::field_time_in(value, objects::local_zone(), true)) return *t;
    return std::string(value);
}

}  // namespace

std::string shown(std::string_view type, std::string_view list, std::string_view field,
                  std::string_view value) {
    if (is_time(type, list, field))
        if (auto t = objects::field_time_in(value, objects::local_zone())) return *t;
    return value_label(field, value);
}

std::string one_line(std::string_view text, std::size_t max) {
    std::u32string out;
    bool space = false;
    for (char32_t c : chat::sanitize(chat::decode_utf8(text), true)) {
        if (c == U'\n') {
            out += U" \u23ce ";
            space = true;
            continue;
        }
        if (c == U' ' && space) continue;
        space = c == U' ';
        out += c;
    }
    while (!out.empty() && out.back() == U' ') out.pop_back();
    if (out.size() > max) {
        out.resize(max > 0 ? max - 1 : 0);
        out += U'\u2026';
    }
    return chat::encode_utf8(out);
}

std::string local_ms(std::int64_t ms) {
    return objects::format_local(objects::seconds_of_ms(ms), objects::local_zone());
}

std::string rfc3339_ms(std::int64_t ms) {
    return objects::format_rfc3339(objects::seconds_of_ms(ms), objects::local_zone());
}

json item_json(core::Node& node, const ObjectView& v, std::string_view list,
               const core::ListItem& i) {
    json f = json::object();
    for (const auto& [k, val] : i.fields) f[k] = json_value(v.type, list, k, val);
    return {{"id", hex(i.record_id)},      {"author", node.display_name_of(i.author)},
            {"author_key", hex(i.author)}, {"time", rfc3339_ms(i.wall_clock_ms)},
            {"time_ms", i.wall_clock_ms},  {"lamport", i.lamport},
            {"redacted", i.redacted},      {"fields", f}};
}

json object_json(core::Node& node, const ObjectView& v) {
    json fields = json::object(), meta = json::object(), lists = json::object();
    for (const auto& [k, f] : v.fields) {
        fields[k] = json_value(v.type, {}, k, f.value);
        meta[k] = {{"author", node.display_name_of(f.author)},
                   {"time", rfc3339_ms(f.wall_clock_ms)},
                   {"time_ms", f.wall_clock_ms},
                   {"record", hex(f.record_id)}};
    }
    for (const auto& [name, items] : v.lists) {
        auto arr = json::array();
        for (const auto& i : items) arr.push_back(item_json(node, v, name, i));
        lists[name] = arr;
    }
    json j = {{"id", hex(v.id)},
              {"type", v.type},
              {"created_by", node.display_name_of(v.created_by)},
              {"created_by_key", hex(v.created_by)},
              {"created", rfc3339_ms(v.created_wall_clock_ms)},
              {"created_ms", v.created_wall_clock_ms},
              {"active", objects::is_active(v)},
              {"carried", v.carried},
              {"carried_copy", v.carried_copy},
              {"fields", fields},
              {"set_by", meta},
              {"lists", lists}};
    // A task's count is derived from its progress records (objects::task_count); it stands
    // where the register stood, so scripts reading fields.count see the same figure as people.
    if (v.type == objects::kTask)
        if (auto c = objects::task_count(v)) {
            j["count"] = c->count;
            j["fields"]["count"] = std::to_string(c->count);
        }
    return j;
}

json attachment_json(const core::AttachmentInfo& a) {
    return {{"id", hex(a.manifest_id)},
            {"attachment_id", hex(a.attachment_id)},
            {"name", a.name},
            {"media_type", a.media_type},
            {"size", a.size},
            {"sha256", hex(a.sha256)},
            {"chunks", a.chunk_count},
            {"missing_chunks", a.missing.size()},
            {"complete", a.complete()},
            {"object", a.object ? hex(*a.object) : std::string()},
            {"time", rfc3339_ms(a.wall_ms)},
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
    for (const auto& [k, f] : v.fields) {
        std::string value = shown(v.type, {}, k, f.value);
        if (const auto* spec = spec_of(v.type, {}, k);
            spec && spec->kind == objects::FieldKind::member)
            if (auto key = objects::parse_key_hex(f.value)) value = node.display_name_of(*key);
        std::cout << "  " << field_label(k) << ": " << value << "   ("
                  << node.display_name_of(f.author) << ", " << local_ms(f.wall_clock_ms) << ")\n";
    }
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

std::string history_line(core::Node& node, const ObjectView& v, const core::HistoryEntry& h) {
    std::string who = node.display_name_of(h.author);
    std::string line = local_ms(h.wall_clock_ms) + "  " + who + "  ";
    switch (h.kind) {
        case core::HistoryEntry::Kind::created:
            return line + _("created it");
        case core::HistoryEntry::Kind::field_set:
            if (h.redacted) return line + subst(_("set {} (redacted)"), field_label(h.name));
            return line + subst(_("set {}: \"{}\" → \"{}\""), field_label(h.name),
                                shown(v.type, {}, h.name, h.old_value.value_or("")),
                                shown(v.type, {}, h.name, h.new_value.value_or("")));
        case core::HistoryEntry::Kind::list_append: {
            if (h.redacted) return line + subst(_("added to {} (redacted)"), field_label(h.name));
            std::string item;
            for (const auto& [k, val] : h.item)
                item += (item.empty() ? "" : ", ") + field_label(k) + "=" +
                        shown(v.type, h.name, k, val);
            return line + subst(_("added to {}: {}"), field_label(h.name), item);
        }
    }
    return line;
}

void list_command(CLI::App* parent, const char* type, const char* empty, bool hides_inactive,
                  std::function<std::string(core::Node&, const ObjectView&)> row) {
    auto& a = args();
    auto* list = parent->add_subcommand("list", subst(_("List the group's {}s"), type));
    list->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    list->add_flag("--json", a.json, _("Machine-readable output"));
    if (hides_inactive) list->add_flag("--all", a.all, _("Also those done, resolved or removed"));
    list->callback([type, empty, hides_inactive, row] {
        auto node = open_node();
        auto g = group_of(*node);
        std::vector<ObjectView> objs;
        if (std::string_view(type) == objects::kAlert)
            objs = must(node->alerts(g, true));
        else
            objs = must(node->objects(g, type));
        std::size_t hidden = 0;
        if (hides_inactive && !args().all)
            hidden =
                std::erase_if(objs, [](const ObjectView& v) { return !objects::is_active(v); });
        if (args().json) {
            auto j = json::array();
            for (const auto& v : objs) j.push_back(object_json(*node, v));
            print_json(j);
            return;
        }
        if (objs.empty()) std::cout << empty;
        for (const auto& v : objs) {
            std::cout << short_hex(v.id) << "  " << row(*node, v);
            if (v.carried) std::cout << "  " << _("[carried to new members]");
            std::cout << "\n";
        }
        if (hidden > 0)
            std::cout << subst(
                P_("({} more done, resolved or removed: --all shows it)\n",
                   "({} more done, resolved or removed: --all shows them)\n", hidden),
                hidden);
    });
}

void carry_commands(CLI::App* parent, const char* type, const char* what) {
    auto set_carry = [type](bool carry) {
        auto node = open_node();
        auto g = group_of(*node);
        auto e = edit_of(type, object_of(*node, g, type));
        e.carry = carry;
        change(*node, g, e);
    };
    auto* carry = with_object(
        parent->add_subcommand("carry", _("Give it to members added without history (admins)")),
        what);
    carry->footer(
        std::string(_("Members added without --with-history cannot read what came before; when an "
                      "admin adds one, the current state of every carried object is copied into "
                      "their first epoch, under the same id. Others see nothing change.")) +
        "\n" + subst(_("Example:\n  kolokol {} carry \"Legal support\" 3fa9"), type));
    carry->callback([set_carry] {
        set_carry(true);
        std::cout << _("Carried to members added from now on.\n");
    });
    auto* uncarry = with_object(
        parent->add_subcommand("uncarry", _("Stop giving it to new members (admins)")), what);
    uncarry->footer(subst(_("Example:\n  kolokol {} uncarry \"Legal support\" 3fa9"), type));
    uncarry->callback([set_carry] {
        set_carry(false);
        std::cout << _("No longer carried to new members.\n");
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

}  // namespace kolokol::cli::objcli
