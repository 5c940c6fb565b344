// kolokol backup · restore
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "node_session.hpp"
#include "terminal.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {
struct BackupArgs {
    std::string output;
    std::string input;
    std::string passphrase_file;
    std::string kdf = "tuned";
    bool history = false;
    bool force = false;
    bool json = false;
};
BackupArgs& args() {
    static BackupArgs a;
    return a;
}

// The first line of `path` (at most 1024 bytes, a trailing CR dropped), in secure memory.
crypto::SecretBytes first_line_of(const std::string& path) {
    auto line = passphrase_file_line(path, 0);
    if (line.empty())
        throw CommandError(Exit::usage, subst(_("passphrase file {} is empty"), path));
    return line;
}

// The backup passphrase: --backup-passphrase-file, else line 2 of the store's passphrase file,
// else the terminal (twice when it is new).
crypto::SecretBytes backup_passphrase(bool is_new) {
    if (!args().passphrase_file.empty()) return first_line_of(args().passphrase_file);
    return is_new ? read_new_passphrase(_("Backup passphrase"), 1)
                  : read_passphrase(_("Backup passphrase"), 1);
}

void run_backup() {
    auto& a = args();
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!a.force && fs::exists(a.output, ec))
        throw CommandError(Exit::exists,
                           subst(_("{} exists; give --force to replace it"), a.output));
    auto node = open_node();
    auto pass = backup_passphrase(true);
    auto summary = value_or_raise(node->write_backup(a.output, pass.view(), a.history));
    if (a.json) {
        std::cout << nlohmann::json{{"file", a.output},
                                    {"groups", summary.groups},
                                    {"epochs", summary.epochs},
                                    {"control_only", summary.control_only},
                                    {"envelopes", summary.envelopes},
                                    {"bytes", summary.bytes}}
                         .dump()
                  << "\n";
        return;
    }
    std::cout << subst(_("Wrote the backup to {}: {}, {} ({} more for control records only), {}, "
                         "{}."),
                       a.output, subst(P_("{} group", "{} groups", summary.groups), summary.groups),
                       subst(P_("{} epoch key", "{} epoch keys", summary.epochs), summary.epochs),
                       summary.control_only,
                       subst(P_("{} stored message or record", "{} stored messages and records",
                                summary.envelopes),
                             summary.envelopes),
                       subst(P_("{} byte", "{} bytes", summary.bytes), summary.bytes))
              << "\n"
              << _("It holds your identity's secret keys: keep it, and its passphrase, away from "
                   "this device. `kolokol restore FILE` brings it back on a new one.")
              << "\n";
}

void run_restore() {
    auto& a = args();
    if (core::Node::exists(home_dir()))
        throw CommandError(Exit::exists,
                           subst(_("a store already exists in {}; restore only into an empty "
                                   "home (--home DIR)"),
                                 home_dir()));
    auto backup_pass = backup_passphrase(false);
    // The backup's passphrase is checked before the new one is asked: a mistyped one is named
    // at once, not after choosing and repeating a new passphrase.
    check(core::Node::check_backup_passphrase(a.input, backup_pass.view()));
    auto store_pass = read_new_passphrase(_("New passphrase for this device's store"), 0);
    core::RestoreOptions options;
    options.backup_passphrase = backup_pass.view();
    options.store_passphrase = store_pass.view();
    options.kdf = a.kdf == "fast" ? core::KdfProfile::fast : core::KdfProfile::tuned;
    options.clock = node_clock();
    auto report = value_or_raise(core::Node::restore_backup(home_dir(), a.input, options));
    if (a.json) {
        std::cout << nlohmann::json{{"home", home_dir()},
                                    {"groups", report.groups},
                                    {"epochs", report.epochs},
                                    {"control_only", report.control_only},
                                    {"envelopes", report.envelopes},
                                    {"new", report.ingest.added},
                                    {"pending", report.ingest.pending},
                                    {"rejected", report.ingest.rejected}}
                         .dump()
                  << "\n";
        return;
    }
    std::cout << subst(_("Restored into {}: {}, {} ({} more for control records only), {}."),
                       home_dir(), subst(P_("{} group", "{} groups", report.groups), report.groups),
                       subst(P_("{} epoch key", "{} epoch keys", report.epochs), report.epochs),
                       report.control_only,
                       subst(P_("{} stored message or record", "{} stored messages and records",
                                report.envelopes),
                             report.envelopes))
              << "\n"
              << _("Next: `kolokol sync` fetches everything else from your groups' relays. Sync "
                   "before you post, so your new messages follow your old ones.")
              << "\n";
}
}  // namespace

void register_backup_commands(CLI::App& app) {
    auto& a = args();
    auto* backup = app.add_subcommand(
        "backup", _("Save your identity, groups and keys in a passphrase-protected file"));
    backup->add_option("-o,--output", a.output, _("The backup file to write"))->required();
    backup->add_flag("--history", a.history,
                     _("Also include every stored message and record (encrypted as they are)"));
    backup->add_option("--backup-passphrase-file", a.passphrase_file,
                       _("Read the backup's passphrase from the first line of this file"));
    backup->add_flag("--force", a.force, _("Replace the file if it exists"));
    backup->add_flag("--json", a.json, _("Machine-readable summary"));
    backup->footer(
        _("Example:\n  kolokol backup -o /media/usb/kolokol-backup.age\n\nThe backup is an age "
          "file (age -d opens it) protected by its own passphrase, asked twice; it may differ "
          "from the store's. With --passphrase-file, line 1 unlocks the store and line 2 is the "
          "backup passphrase. It never holds a key you no longer hold."));
    backup->callback(run_backup);

    auto* restore = app.add_subcommand(
        "restore", _("Create a store on this device from a backup and rejoin your groups"));
    restore->add_option("FILE", a.input, _("The backup file"))->required();
    restore->add_option("--backup-passphrase-file", a.passphrase_file,
                        _("Read the backup's passphrase from the first line of this file"));
    restore
        ->add_option("--kdf", a.kdf,
                     _("Passphrase hardening of the new store: tuned (default) or fast"))
        ->check(CLI::IsMember({"tuned", "fast"}));
    restore->add_flag("--json", a.json, _("Machine-readable summary"));
    restore->footer(
        _("Example:\n  kolokol restore /media/usb/kolokol-backup.age\n  kolokol sync\n\nAsks for "
          "the backup's passphrase, then a new passphrase for this device's store. Refuses to "
          "write over an existing store. With --passphrase-file, line 1 is the new store "
          "passphrase and line 2 the backup passphrase."));
    restore->callback(run_restore);
}

}  // namespace kolokol::cli
