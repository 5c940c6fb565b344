#include "kolokol/bundle/node_export.hpp"

#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/encoding.hpp"

namespace kolokol::bundle {

namespace {

using nlohmann::ordered_json;

ordered_json who(core::Node& node, const core::MemberKey& key) {
    return {{"name", node.display_name_of(key)}, {"key", crypto::hex_encode(key)}};
}

std::string cents_text(std::int64_t cents) {
    const bool negative = cents < 0;
    const auto magnitude =
        negative ? -static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
    auto frac = std::to_string(magnitude % 100);
    if (frac.size() < 2) frac.insert(0, "0");
    return (negative ? "-" : "") + std::to_string(magnitude / 100) + "." + frac;
}

ordered_json list_json(core::Node& node, const std::vector<core::ListItem>& items) {
    auto out = ordered_json::array();
    for (const auto& item : items) {
        ordered_json j;
        j["record"] = crypto::hex_encode(item.record_id);
        j["by"] = who(node, item.author);
        j["written_at"] = rfc3339_utc(item.wall_clock_ms);
        j["lamport"] = item.lamport;
        if (item.redacted) j["redacted"] = true;
        for (const auto& [k, v] : item.fields) j["item"][k] = v;
        out.push_back(std::move(j));
    }
    return out;
}

const char* kind_name(core::HistoryEntry::Kind kind) {
    switch (kind) {
        case core::HistoryEntry::Kind::created:
            return "created";
        case core::HistoryEntry::Kind::field_set:
            return "field_set";
        case core::HistoryEntry::Kind::list_append:
            return "list_append";
    }
    return "unknown";
}

}  // namespace

Result<CaseExport> case_export(core::Node& node, const core::GroupId& group,
                               const core::RecordId& case_id) {
    auto view = node.case_view(group, case_id);
    if (!view) return std::unexpected(view.error());
    auto history = node.object_history(group, case_id);
    if (!history) return std::unexpected(history.error());
    const auto& obj = view->object;

    CaseExport out;
    out.id = crypto::hex_encode(case_id);
    ordered_json& r = out.record;
    r = ordered_json::object();
    r["type"] = obj.type;
    r["group"] = crypto::hex_encode(group);
    r["opened_by"] = who(node, obj.created_by);
    r["opened_at"] = rfc3339_utc(obj.created_wall_clock_ms);
    r["fields"] = ordered_json::object();
    r["field_details"] = ordered_json::object();
    for (const auto& [name, value] : obj.fields) {
        r["fields"][name] = value.value;
        r["field_details"][name] = {{"value", value.value},
                                    {"set_by", who(node, value.author)},
                                    {"set_at", rfc3339_utc(value.wall_clock_ms)},
                                    {"record", crypto::hex_encode(value.record_id)}};
    }
    r["timeline"] = list_json(node, obj.list("timeline"));
    r["ledger"] = list_json(node, obj.list("ledger"));
    r["ledger_totals"] = ordered_json::array();
    for (const auto& t : view->totals)
        r["ledger_totals"].push_back({{"currency", t.currency},
                                      {"direction", t.direction},
                                      {"amount", cents_text(t.cents)},
                                      {"entries", t.entries},
                                      {"saturated", t.saturated}});
    r["history"] = ordered_json::array();
    for (const auto& h : *history) {
        ordered_json j;
        j["change"] = kind_name(h.kind);
        if (!h.name.empty()) j["name"] = h.name;
        if (h.kind == core::HistoryEntry::Kind::field_set) {
            j["old"] = h.old_value ? ordered_json(*h.old_value) : ordered_json(nullptr);
            j["new"] = h.new_value ? ordered_json(*h.new_value) : ordered_json(nullptr);
        }
        if (h.kind == core::HistoryEntry::Kind::list_append)
            for (const auto& [k, v] : h.item) j["item"][k] = v;
        if (h.redacted) j["redacted"] = true;
        j["by"] = who(node, h.author);
        j["written_at"] = rfc3339_utc(h.wall_clock_ms);
        j["lamport"] = h.lamport;
        j["record"] = crypto::hex_encode(h.record_id);
        r["history"].push_back(std::move(j));
    }
    r["times_note"] =
        "written_at, set_at and opened_at are the authors' own clocks when they recorded it "
        "(not checked by anyone); the bundle's exported_at is the exporter's clock.";

    for (const auto& a : view->attachments) {
        if (!a.complete())
            return fail(BundleErrc::bad_input,
                        "attachment \"{}\" of case {} is missing {} of its chunks here: sync first",
                        a.name, out.id.substr(0, 8), a.missing.size());
        AttachmentExport e;
        e.id = crypto::hex_encode(a.manifest_id);
        e.name = a.name;
        e.media_type = a.media_type;
        e.size = a.size;
        e.sha256 = a.sha256;
        e.info = {{"attached_by", who(node, a.author)},
                  {"captured_at", rfc3339_utc(a.wall_ms)},
                  {"manifest_record", e.id},
                  {"attachment_id", crypto::hex_encode(a.attachment_id)}};
        const auto manifest_id = a.manifest_id;
        e.read = [&node, group, manifest_id](const std::function<Status(ByteView)>& sink) {
            return node.read_attachment(group, manifest_id, sink);
        };
        e.read_checks_sha256 = true;  // read_attachment checks the manifest's SHA-256
        out.attachments.push_back(std::move(e));
    }
    return out;
}

Signer node_signer(core::Node& node) {
    return {core::card_to_text(node.card()), [&node](std::string_view domain, ByteView message) {
                auto sig = node.sign_bundle(domain, message);
                // Only bundle domains reach here; a refusal is a programming error, and an
                // all-zero signature then fails the writer's own check of it.
                return sig ? *sig : crypto::Signature{};
            }};
}

}  // namespace kolokol::bundle
