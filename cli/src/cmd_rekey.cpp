// kolokol rekey · group rekey-interval — key updates (docs/design.md §5.13), and the warning
// about key updates made with this member's signing key on another device.
#include <iostream>

#include "i18n.hpp"
#include "node_session.hpp"
#include "rekey_warning.hpp"

namespace kolokol::cli {

namespace {
struct RekeyArgs {
    std::string group, interval;
};
RekeyArgs& args() {
    static RekeyArgs a;
    return a;
}

// "off", or a number with s, m, h, d or w; the result in seconds.
std::uint64_t interval_arg(const std::string& s) {
    if (s == "off" || s == "0" || s == "never") return 0;
    auto not_one = [&] {
        return CommandError(
            Exit::usage, subst(_("\"{}\" is not a duration: write e.g. 12h, 30d, 2w or off"), s));
    };
    if (s.size() < 2) throw not_one();
    const char unit = s.back();
    const std::uint64_t mul = unit == 's'   ? 1
                              : unit == 'm' ? 60
                              : unit == 'h' ? 3600
                              : unit == 'd' ? 86400
                              : unit == 'w' ? 604800
                                            : 0;
    const auto digits = s.substr(0, s.size() - 1);
    if (mul == 0 || digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
        throw not_one();
    return std::stoull(digits) * mul;
}

std::string interval_text(std::uint64_t s) {
    if (s == 0) return _("Members write a key update only when they run `kolokol rekey`.\n");
    if (s % 86400 == 0)
        return subst(P_("Members write a key update every {} day (when they sync).\n",
                        "Members write a key update every {} days (when they sync).\n", s / 86400),
                     s / 86400);
    return subst(P_("Members write a key update every {} hour (when they sync).\n",
                    "Members write a key update every {} hours (when they sync).\n", s / 3600),
                 s / 3600);
}
}  // namespace

std::vector<std::string> foreign_key_update_warnings(core::Node& node) {
    std::vector<std::string> out;
    auto found = node.foreign_key_updates();
    if (!found) return out;
    for (const auto& f : *found) {
        const auto name = f.group_name.empty() ? short_hex(f.group) : f.group_name;
        out.push_back(subst(
            _("WARNING: a key update signed with your key that this device did not make is in "
              "\"{}\" (record {}, dated {}){}. Another device holds your signing key: a copy of "
              "your store is in other hands. Ask an admin for a burn notice "
              "(`kolokol group compromised`), then join again with a new identity."),
            name, short_hex(f.record), format_time(f.wall_ms),
            f.current ? _("; the group's next keys are sealed to its key, not to yours") : ""));
    }
    return out;
}

void register_rekey_commands(CLI::App& app) {
    auto& a = args();
    auto* rekey = app.add_subcommand(
        "rekey", _("Replace your encryption key in a group (all your groups when none is given)"));
    rekey->add_option("GROUP", a.group, _("Group name or id prefix"));
    rekey->footer(
        _("Example:\n  kolokol rekey \"Legal support\"\n\nWrites a key update signed by you: the "
          "group's next key rotation is sealed to the new key, and your old one is erased once "
          "that rotation's key is yours. A copy of your store taken before then reads nothing "
          "written after that rotation. Sync to tell the others; an admin's next sync rotates."));
    rekey->callback([] {
        auto node = open_node();
        std::vector<core::GroupId> groups;
        if (!args().group.empty()) {
            groups.push_back(value_or_raise(node->resolve_group(args().group)));
        } else {
            for (const auto& g : node->groups())
                if (g.member) groups.push_back(g.id);
            if (groups.empty()) std::cout << _("You are a member of no group.\n");
        }
        for (const auto& gid : groups) {
            std::string name;
            for (const auto& g : node->groups())
                if (g.id == gid) name = g.name.empty() ? short_hex(gid) : g.name;
            auto id = value_or_raise(node->rekey(gid));
            std::cout << subst(_("Wrote a key update in \"{}\" (record {}): the group's next key "
                                 "rotation is sealed to your new key.\n"),
                               name, short_hex(id));
        }
        if (!groups.empty())
            std::cout << _("Sync to send it; an admin's next sync rotates the key.\n");
    });

    CLI::App* group = nullptr;
    try {
        group = app.get_subcommand("group");
    } catch (const CLI::OptionNotFound&) {
        group = nullptr;
    }
    if (!group) return;
    auto* interval = group->add_subcommand(
        "rekey-interval", _("Show or set how often members replace their key (admins set it)"));
    interval->add_option("GROUP", a.group, _("Group name or id prefix"))->required();
    interval->add_option("DURATION", a.interval, _("e.g. 30d, 12h, 2w; \"off\" for never"));
    interval->footer(
        _("Without DURATION, shows the current interval.\nExample:\n  kolokol group "
          "rekey-interval \"Legal support\" 30d"));
    interval->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(args().group));
        if (args().interval.empty()) {
            std::cout << interval_text(node->rekey_interval(gid));
            return;
        }
        check(node->set_rekey_interval(gid, interval_arg(args().interval)));
        std::cout << interval_text(node->rekey_interval(gid)) << _("Sync to tell the others.\n");
    });
}

}  // namespace kolokol::cli
