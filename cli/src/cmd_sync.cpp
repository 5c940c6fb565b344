// kolokol sync --to-file · --from-file  (the network forms join later in this file)
#include <iostream>
#include <nlohmann/json.hpp>

#include "node_session.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

void register_sync_commands(CLI::App& app) {
    static std::string to_file, from_file;
    static std::vector<std::string> groups;
    static bool json = false;
    auto* sync =
        app.add_subcommand("sync", "Exchange records with the group: by file, peer or relay");
    sync->add_option("--to-file", to_file,
                     "Write a sync file (sneakernet) for the given groups (all when none)");
    sync->add_option("--from-file", from_file, "Read a sync file and take in what is new");
    sync->add_option("GROUP", groups, "Groups to include with --to-file");
    sync->add_flag("--json", json, "Machine-readable summary");
    sync->footer(
        "Examples:\n  kolokol sync --to-file /media/usb/kolokol.sync\n  kolokol sync --from-file "
        "/media/usb/kolokol.sync\n\nA sync file is encrypted: only members of a group can read its "
        "part.");
    sync->callback([] {
        if (to_file.empty() == from_file.empty())
            throw CommandError(Exit::usage,
                               "give exactly one of --to-file FILE or --from-file FILE");
        auto node = open_node();
        if (!to_file.empty()) {
            std::vector<core::GroupId> ids;
            for (const auto& g : groups) ids.push_back(value_or_raise(node->resolve_group(g)));
            auto n = value_or_raise(node->write_sync_file(to_file, ids));
            if (json)
                std::cout << nlohmann::json{{"written", n}}.dump() << "\n";
            else
                std::cout << "Wrote " << n << " records to " << to_file << ".\n";
            return;
        }
        auto r = value_or_raise(node->read_sync_file(from_file));
        auto done = value_or_raise(node->maintain());
        if (json) {
            std::cout << nlohmann::json{{"received", r.received},
                                        {"new", r.added},
                                        {"duplicate", r.duplicate},
                                        {"pending", r.pending},
                                        {"unreadable", r.unreadable},
                                        {"rejected", r.rejected},
                                        {"foreign_chunks", r.foreign_chunks}}
                             .dump()
                      << "\n";
        } else {
            std::cout << "Read " << r.received << " records: " << r.added << " new, " << r.duplicate
                      << " duplicate, " << r.pending << " waiting for earlier records, "
                      << r.unreadable << " not readable by you, " << r.rejected << " rejected.\n";
        }
        for (const auto& line : done) std::cerr << line << "\n";
    });
}

}  // namespace kolokol::cli
