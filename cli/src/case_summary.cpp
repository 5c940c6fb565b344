#include "case_summary.hpp"

#include <map>
#include <set>

#include "i18n.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/objects/time_text.hpp"
#include "kolokol/objects/values.hpp"
#include "object_cli.hpp"

namespace kolokol::cli {

namespace {

using objcli::must;

std::string local(std::int64_t seconds) {
    return objects::format_local(seconds, objects::local_zone());
}

// Text that may run over several lines, indented under its first line.
std::string indented(std::string_view text, std::size_t indent) {
    std::string out;
    for (char c : text) {
        out += c;
        if (c == '\n') out.append(indent, ' ');
    }
    return out;
}

std::string heading(const std::string& title) {
    // Underlined to the title's length in characters, not bytes (Cyrillic is two bytes each).
    std::size_t chars = 0;
    for (unsigned char c : title)
        if ((c & 0xc0) != 0x80) ++chars;
    return title + "\n" + std::string(chars, '-') + "\n";
}

const char* status_text(std::string_view status) {
    if (status == "detained") return _("detained");
    if (status == "charged") return _("charged");
    if (status == "in_court") return _("in court");
    if (status == "sentenced") return _("sentenced");
    if (status == "released") return _("released");
    if (status == "closed") return _("closed");
    return "";
}

const char* direction_text(std::string_view direction) {
    if (direction == "pledged") return _("pledged");
    if (direction == "received") return _("received");
    if (direction == "paid") return _("paid");
    return "";
}

std::string one_case(core::Node& node, const core::GroupId& group, const core::RecordId& id) {
    auto cv = must(node.case_view(group, id));
    const auto& v = cv.object;
    std::string t;
    const std::string person = std::string(v.get("person"));
    t += heading(subst(_("Case {}: {}"), crypto::hex_encode(ByteView(id).first(6)),
                       person.empty() ? std::string(_("(no name)")) : person));
    auto line = [&](const char* label, const std::string& value) {
        if (!value.empty()) t += "  " + std::string(label) + " " + indented(value, 4) + "\n";
    };
    line(_("Person:"), person);
    line(_("Alias:"), std::string(v.get("alias")));
    line(_("Status:"), status_text(v.get("status")));
    std::string detained = objcli::shown(v.type, {}, "detained_at", v.get("detained_at"));
    if (!v.get("detained_where").empty())
        detained += (detained.empty() ? "" : ", ") + std::string(v.get("detained_where"));
    line(_("Detained:"), detained);
    line(_("Charges:"), std::string(v.get("charges")));
    line(_("Lawyer:"), std::string(v.get("lawyer")));
    line(_("Opened by:"), subst(_("{} on {}"), node.display_name_of(v.created_by),
                                local(objects::seconds_of_ms(v.created_wall_clock_ms))));
    t += "\n";

    auto timeline = must(objects::timeline_in_time_order(v));
    std::erase_if(timeline, [](const objects::TimelineEntry& e) { return e.item.redacted; });
    t += heading(_("Timeline, in the order things happened"));
    if (timeline.empty()) t += std::string(_("(nothing recorded)")) + "\n";
    for (const auto& e : timeline) {
        std::string when = local(e.at);
        std::string note = e.stated ? "" : " " + std::string(_("(when written)"));
        t += "  " + when + "  " + indented(e.item.fields.at("text"), 20) + "\n";
        t += "                    " +
             subst(_("— recorded by {}{}"), node.display_name_of(e.item.author), note) + "\n";
    }
    t += "\n";

    t += heading(_("Ledger"));
    if (v.list("ledger").empty()) t += std::string(_("(no entries)")) + "\n";
    for (const auto& i : v.list("ledger")) {
        if (i.redacted) continue;
        const auto& amount = i.fields.at("amount");
        auto cents = objects::parse_amount_cents(amount);
        t += "  " + local(objects::seconds_of_ms(i.wall_clock_ms)) + "  " +
             direction_text(i.fields.at("direction")) + " " +
             (cents ? objects::format_cents(*cents) : amount) + " " + i.fields.at("currency");
        if (auto p = i.fields.find("purpose"); p != i.fields.end()) t += " — " + p->second;
        t += "  (" + node.display_name_of(i.author) + ")\n";
    }
    for (const auto& total : cv.totals)
        t += "  " +
             subst(P_("Total {}: {}{} {} ({} entry)", "Total {}: {}{} {} ({} entries)",
                      total.entries),
                   direction_text(total.direction), total.saturated ? "> " : "",
                   objects::format_cents(total.cents), total.currency, total.entries) +
             "\n";
    t += "\n";

    // Everyone who wrote to the case, with how many changes (records) each.
    auto history = must(node.object_history(group, id));
    std::map<std::string, std::set<core::RecordId>> changes;
    for (const auto& h : history) changes[node.display_name_of(h.author)].insert(h.record_id);
    std::map<std::string, std::size_t> writers;
    for (const auto& [name, ids] : changes) writers[name] = ids.size();
    t += heading(_("People"));
    line(_("Detained person:"), person);
    line(_("Lawyer:"), std::string(v.get("lawyer")));
    for (const auto& [name, n] : writers)
        t += "  " + subst(P_("{} recorded {} change", "{} recorded {} changes", n), name, n) + "\n";
    t += "\n";

    if (!cv.attachments.empty()) {
        t += heading(_("Files"));
        const auto case_hex = crypto::hex_encode(id);
        for (const auto& a : cv.attachments)
            t += "  " +
                 bundle::attachment_path(case_hex, crypto::hex_encode(a.manifest_id), a.name) +
                 "  (" + objcli::size_text(a.size) + ", " +
                 subst(_("added by {} on {}"), node.display_name_of(a.author),
                       local(objects::seconds_of_ms(a.wall_ms))) +
                 ")\n";
        t += "\n";
    }
    return t;
}

}  // namespace

bundle::Summary case_summary(core::Node& node,
                             std::span<const std::pair<core::GroupId, core::RecordId>> cases,
                             std::int64_t now_ms) {
    const auto now = objects::seconds_of_ms(now_ms);
    std::string t;
    t += heading(_("CASE SUMMARY"));
    t += subst(_("Exported by {} on {}. All times are in the exporter's time zone, UTC{}."),
               node.display_name_of(node.me()), local(now),
               objects::format_offset(now, objects::local_zone())) +
         "\n";
    t += std::string(_("Times are as the members' devices recorded them; manifest.json holds "
                       "every record with its author and its exact time.")) +
         "\n\n";
    for (const auto& [group, id] : cases) t += one_case(node, group, id);
    // TRANSLATORS: the two-letter code (ISO 639-1) of this language, written into case bundles.
    return {t, _("en")};
}

}  // namespace kolokol::cli
