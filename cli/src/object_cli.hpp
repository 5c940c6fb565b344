#pragma once
// What the object commands (cmd_objects.cpp, cmd_case.cpp, cmd_directory.cpp) share: the
// options they bind, library errors as exit codes, times typed and shown in the user's zone,
// and the lines, tables and JSON they print. Times: typed ones are read by the library's one
// parser (objects/time_text.hpp) in the local zone (TZ) with the store's clock for "today";
// shown ones are local ("2026-12-05 10:05"), and RFC 3339 with the offset in --json.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "node_session.hpp"

namespace kolokol::cli::objcli {

using nlohmann::json;

// Everything the object commands take; CLI11 binds options to these.
struct Args {
    std::string group, object, text, member, answer, role, value, file, out, reason, duration;
    std::string title, at, ends, place, roles, due, assignee, status, person, alias, where, charges,
        lawyer, name, reach, vetted_by, category, urgency, note, purpose, media_type;
    std::string amount, currency, direction = "paid";
    std::vector<std::string> fields, attach;
    std::int64_t count = 0, target = -1;
    bool json = false, all = false, force = false, carry = false;
    bool no_send = false;  // --no-send (delivery.hpp)
};
Args& args();

// Object and attachment errors get their exit codes (missing chunks → not_found, damaged →
// verify_failed, the rest of the module's → bad_input); everything else as raise() maps it.
[[noreturn]] void raise_any(const Error& e);
template <class T>
T must(Result<T> r) {
    if (!r) raise_any(r.error());
    return std::move(*r);
}
inline void must(const Status& s) {
    if (!s) raise_any(s.error());
}
[[noreturn]] void bad(const std::string& why);

// A time typed by the user, as a datetime field stores it ("" stays ""). Throws
// CommandError(bad_input) saying why in the user's language.
std::string time_arg(const core::Node& node, const std::string& text);
// "Recorded as 2026-12-05 10:05 (UTC+03:00)." for a stored time: what a command took it as.
void say_recorded(std::string_view stored);

core::GroupId group_of(core::Node& node);
core::RecordId object_of(core::Node& node, const core::GroupId& g, std::string_view type);
std::string member_hex(core::Node& node, const core::GroupId& g, const std::string& who);
void put(std::map<std::string, std::string>& m, const char* k, const std::string& v);
core::RecordId change(core::Node& node, const core::GroupId& g, const core::ObjectEdit& edit);
core::ObjectEdit edit_of(std::string type, std::optional<core::RecordId> obj = std::nullopt);
void created(const char* what, const core::RecordId& id);
// Writes `edit` with `files` attached, all or nothing; a failure says that nothing was saved.
core::ObjectWithFiles change_with_files(core::Node& node, const core::GroupId& g,
                                        const core::ObjectEdit& edit,
                                        const std::vector<std::string>& files);

// ---- output -------------------------------------------------------------------------------
// A stored field value as shown: datetimes in local time, the rest as they are. `list` names
// the list for an item's field, empty for the object's own.
std::string shown(std::string_view type, std::string_view list, std::string_view field,
                  std::string_view value);
// Text fit for one cell of a table: line breaks and tabs become " ⏎ " and spaces, and past
// `max` characters it is cut with "…".
std::string one_line(std::string_view text, std::size_t max = 60);
// Local time of a record's wall clock (ms), and the same as RFC 3339 with the offset.
std::string local_ms(std::int64_t ms);
std::string rfc3339_ms(std::int64_t ms);

json item_json(core::Node& node, const core::ObjectView& v, std::string_view list,
               const core::ListItem& i);
json object_json(core::Node& node, const core::ObjectView& v);
json attachment_json(const core::AttachmentInfo& a);
void print_json(const json& j);
std::string size_text(std::uint64_t n);
void print_fields(core::Node& node, const core::ObjectView& v);
void print_attachments(const std::vector<core::AttachmentInfo>& list);
std::string history_line(core::Node& node, const core::ObjectView& v, const core::HistoryEntry& h);

// A `list` subcommand: `row` prints one object's line (without the id, which comes first);
// `--all` adds objects no longer in play (done, resolved, removed) when `hides_inactive`.
void list_command(CLI::App* parent, const char* type, const char* empty, bool hides_inactive,
                  std::function<std::string(core::Node&, const core::ObjectView&)> row);

// `carry` and `uncarry` subcommands: an admin marks an object of `type` (named by the `what`
// argument) as carried to members added without history, or not.
void carry_commands(CLI::App* parent, const char* type, const char* what);

CLI::App* with_group(CLI::App* cmd);
CLI::App* with_object(CLI::App* cmd, const char* what);

// Registration of each command family (cmd_objects.cpp calls these).
void register_case(CLI::App& app);
void register_directory(CLI::App& app);  // contact, report, alert

}  // namespace kolokol::cli::objcli
