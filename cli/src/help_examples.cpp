// Examples for the --help of commands whose registration gives none. Applied after every
// command is registered: CLI11 copies a parent's footer into the subcommands created after it,
// so a parent's example set earlier would show on its children too.
#include <string>
#include <string_view>
#include <vector>

#include "app.hpp"
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

struct Example {
    const char* path;  // the command as typed after `kolokol`, "" for kolokol itself
    const char* text;  // N_() marked; translated when applied
};

// "Legal support" (the README's group) and 3fa9 stand for a group name and an id prefix, as in
// the commands' own examples.
constexpr Example kExamples[] = {
    {"", N_("Examples:\n  kolokol init --name Anna\n  kolokol group create \"Legal support\"\n  "
            "kolokol chat \"Legal support\"\n\nEvery command shows an example with --help; the "
            "manual is `man kolokol` once installed (sudo cmake --install build), or `man "
            "./docs/man/kolokol.1` in the source tree.")},
    {"group", N_("Examples:\n  kolokol group create \"Legal support\"\n  kolokol group add \"Legal "
                 "support\" kolokol-card:CiQI…\n  kolokol group list")},
    {"age",
     N_("Examples:\n  kolokol age keygen -o key.txt\n  kolokol age encrypt -r age1… -o "
        "notes.txt.age notes.txt\n  kolokol age decrypt -i key.txt -o notes.txt notes.txt.age")},
    {"bundle",
     N_("Examples:\n  kolokol bundle export 3fa9 -r age1… -o case.age\n  kolokol bundle verify "
        "case.age -i key.txt")},
    {"event", N_("Examples:\n  kolokol event add \"Legal support\" --title \"Court vigil\" --at "
                 "2026-03-01T09:00\n  "
                 "kolokol event list \"Legal support\"\n  kolokol event rsvp \"Legal support\" "
                 "3fa9 yes --role medic")},
    {"event rsvp", N_("Example:\n  kolokol event rsvp \"Legal support\" 3fa9 yes --role medic")},
    {"event show", N_("Example:\n  kolokol event show \"Legal support\" 3fa9")},
    {"event list", N_("Example:\n  kolokol event list \"Legal support\" --json")},
    {"task", N_("Examples:\n  kolokol task add \"Legal support\" --title \"Collect signatures\" "
                "--target 1000\n  "
                "kolokol task list \"Legal support\"")},
    {"task add",
     N_("Example:\n  kolokol task add \"Legal support\" --title \"Collect signatures\" --due "
        "2026-03-10T18:00 --target 1000")},
    {"task assign", N_("Example:\n  kolokol task assign \"Legal support\" 3fa9 Boris")},
    {"task done", N_("Example:\n  kolokol task done \"Legal support\" 3fa9")},
    {"task progress",
     N_("Example:\n  kolokol task progress \"Legal support\" 3fa9 150 --note \"Market square\"")},
    {"task list", N_("Example:\n  kolokol task list \"Legal support\" --all")},
    {"case", N_("Examples:\n  kolokol case open \"Legal support\" --person \"Ivan P.\" --where "
                "\"Precinct 5\"\n  "
                "kolokol case list \"Legal support\"\n  kolokol case show \"Legal support\" 3fa9")},
    {"case set", N_("Example:\n  kolokol case set \"Legal support\" 3fa9 status=charged "
                    "lawyer=\"M. Sokolova\"")},
    {"case note",
     N_("Example:\n  kolokol case note \"Legal support\" 3fa9 \"Moved to the detention centre\"")},
    {"case pay", N_("Example:\n  kolokol case pay \"Legal support\" 3fa9 150 EUR --direction paid "
                    "--purpose fine")},
    {"case attach",
     N_("Example:\n  kolokol case attach \"Legal support\" 3fa9 protocol.jpg --type image/jpeg")},
    {"case show", N_("Example:\n  kolokol case show \"Legal support\" 3fa9")},
    {"case list", N_("Example:\n  kolokol case list \"Legal support\"")},
    {"case history", N_("Example:\n  kolokol case history \"Legal support\" 3fa9")},
    {"contact", N_("Examples:\n  kolokol contact add \"Legal support\" --name \"M. Sokolova\" "
                   "--role lawyer --reach "
                   "\"+7 900 000-00-00\"\n  kolokol contact list \"Legal support\"")},
    {"contact add", N_("Example:\n  kolokol contact add \"Legal support\" --name \"M. Sokolova\" "
                       "--role lawyer --reach "
                       "\"+7 900 000-00-00\"")},
    {"contact list", N_("Example:\n  kolokol contact list \"Legal support\"")},
    {"alert list", N_("Example:\n  kolokol alert list \"Legal support\" --all")},
    {"alert resolve", N_("Example:\n  kolokol alert resolve \"Legal support\" 3fa9")},
    {"report",
     N_("Examples:\n  kolokol report add \"Legal support\" --place \"Polling station 1234\" --at "
        "2026-03-01T10:00 --category \"ballot stuffing\"\n  kolokol report list \"Legal "
        "support\"")},
    {"report add",
     N_("Example:\n  kolokol report add \"Legal support\" --place \"Polling station 1234\" --at "
        "2026-03-01T10:00 --attach video.mp4")},
    {"report list", N_("Example:\n  kolokol report list \"Legal support\"")},
    {"redact",
     N_("Example:\n  kolokol redact \"Legal support\" 3fa9 --reason \"posted by mistake\"")},
    {"attachment", N_("Examples:\n  kolokol attachment list \"Legal support\"\n  kolokol "
                      "attachment get \"Legal support\" 3fa9 -o "
                      "protocol.jpg")},
    {"attachment get",
     N_("Example:\n  kolokol attachment get \"Legal support\" 3fa9 -o protocol.jpg")},
    {"attachment list", N_("Example:\n  kolokol attachment list \"Legal support\"")},
};

CLI::App* find(CLI::App& app, std::string_view path) {
    CLI::App* at = &app;
    while (!path.empty()) {
        const auto space = path.find(' ');
        const std::string name(path.substr(0, space));
        path = space == std::string_view::npos ? std::string_view{} : path.substr(space + 1);
        try {
            at = at->get_subcommand(name);
        } catch (const CLI::OptionNotFound&) {
            return nullptr;  // a command another build does not have
        }
    }
    return at;
}

}  // namespace

void add_missing_examples(CLI::App& app) {
    for (const auto& example : kExamples) {
        CLI::App* cmd = find(app, example.path);
        if (!cmd) continue;
        const std::string own = cmd->get_footer();
        // A footer that already shows a command line is the command's own example.
        if (own.find("  kolokol ") != std::string::npos) continue;
        cmd->footer(own.empty() ? std::string(_(example.text))
                                : std::string(_(example.text)) + "\n\n" + own);
    }
}

}  // namespace kolokol::cli
