// kolokol settings — the store's own settings (kept in the encrypted store).
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "node_session.hpp"
#include "settings.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {
struct SettingsArgs {
    std::string action = "show";
    std::string name;
    std::string value;
    bool json = false;
};
SettingsArgs& args() {
    static SettingsArgs a;
    return a;
}

constexpr std::string_view kUnverifiedQuota = "unverified-quota";

void show(core::Node& node) {
    const auto u = node.unverified_usage();
    if (args().json) {
        std::cout << nlohmann::json{{std::string(kUnverifiedQuota),
                                     {{"quota", u.quota}, {"bytes", u.bytes}, {"count", u.count}}}}
                         .dump()
                  << "\n";
        return;
    }
    std::cout << kUnverifiedQuota << " " << format_size(u.quota) << "\n  "
              << subst(_("Envelopes this store keeps without being able to check them (ones "
                         "you cannot open, and records by non-members waiting for earlier "
                         "ones) take at most this much; more are refused. In use: {} in {} "
                         "envelopes."),
                       format_size(u.bytes), u.count)
              << "\n";
}
}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits > 15) return std::nullopt;
    std::uint64_t value = std::stoull(std::string(text.substr(0, digits)));
    auto unit = text.substr(digits);
    if (unit.starts_with(' ')) unit.remove_prefix(1);
    int shift = 0;
    if (unit.empty() || unit == "B")
        shift = 0;
    else if (unit == "K" || unit == "KiB" || unit == "k")
        shift = 10;
    else if (unit == "M" || unit == "MiB")
        shift = 20;
    else if (unit == "G" || unit == "GiB")
        shift = 30;
    else if (unit == "T" || unit == "TiB")
        shift = 40;
    else
        return std::nullopt;
    if (value > (std::uint64_t{1} << (50 - shift))) return std::nullopt;
    return value << shift;
}

std::string format_size(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    std::uint64_t whole = bytes;
    // Whole units only when exact, else one decimal: "64 MiB", "1.5 MiB".
    while (unit < 4 && whole >= 1024) {
        whole /= 1024;
        ++unit;
    }
    const std::uint64_t scale = std::uint64_t{1} << (10 * unit);
    if (bytes % scale == 0) return std::to_string(whole) + " " + kUnits[unit];
    const auto tenths = (bytes * 10 + scale / 2) / scale;
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " " + kUnits[unit];
}

void register_settings_commands(CLI::App& app) {
    auto& a = args();
    auto* settings = app.add_subcommand("settings", _("Show or change this store's settings"));
    settings->add_option("ACTION", a.action, _("show (the default) or set"))
        ->check(CLI::IsMember({"show", "set"}));
    settings->add_option("NAME", a.name, _("The setting to change (for set): unverified-quota"));
    settings->add_option("VALUE", a.value, _("Its new value, e.g. 64MiB, 1GiB or 0"));
    settings->add_flag("--json", a.json, _("Machine-readable output"));
    settings->footer(
        _("Examples:\n  kolokol settings\n  kolokol settings set unverified-quota 256MiB\n\n"
          "Settings are kept in the encrypted store, on this device only."));
    settings->callback([] {
        auto& a = args();
        if (a.action == "set") {
            if (a.name != kUnverifiedQuota)
                throw CommandError(Exit::usage, subst(_("no setting \"{}\": the settings are: {}"),
                                                      a.name, std::string(kUnverifiedQuota)));
            auto bytes = parse_size(a.value);
            if (!bytes)
                throw CommandError(
                    Exit::usage,
                    subst(_("not a size: \"{}\" (give e.g. 64MiB, 1GiB or 0)"), a.value));
            auto node = open_node();
            check(node->set_unverified_quota(*bytes));
            std::cout << subst(_("{} is now {}."), std::string(kUnverifiedQuota),
                               format_size(*bytes))
                      << "\n";
            return;
        }
        if (!a.name.empty())
            throw CommandError(Exit::usage, _("`settings show` takes no other arguments"));
        auto node = open_node();
        show(*node);
    });
}

}  // namespace kolokol::cli
