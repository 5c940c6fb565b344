#pragma once
// The CLI's shared plumbing: global options, stable exit codes, and how a command reports
// failure. Each cmd_*.cpp file registers its subcommands with one register_* function.

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>

namespace kolokol::cli {

// Exit codes are part of the interface: scripts depend on them. Documented in docs/exit-codes.md.
enum class Exit : int {
    ok = 0,
    failure = 1,           // anything not listed below
    usage = 2,             // bad arguments
    wrong_passphrase = 3,  // the store did not unlock
    no_store = 4,          // no store at --home: run `kolokol init`
    corrupt_store = 5,     // key file or database damaged
    bad_input = 6,         // a card, token, file or field that does not parse or verify
    not_found = 7,         // no such group, member, case or file
    not_permitted = 8,     // e.g. not an admin
    network = 9,           // could not reach or talk to a peer or relay
    verify_failed = 10,    // a signature, hash or MAC did not verify
    exists = 11,           // already initialised / would overwrite
    proxy_required = 12,   // a "Tor only" group, and no proxy is set
    conflict = 13,         // a token or key contradicts the store (replayed or forged token)
    quota_full = 14,       // envelopes were refused: the store's unverified quota is full
    store_gone = 15,       // the store was destroyed or erased while this command ran
    interrupted = 16,      // stopped by Ctrl-C (SIGINT) or SIGTERM; what it had stored is kept
    agent_running = 17,    // an agent of the store could not be locked: nothing was unlocked
};

struct CommandError : std::runtime_error {
    CommandError(Exit code, const std::string& message) : std::runtime_error(message), exit(code) {}
    Exit exit;
};

struct GlobalOptions {
    std::string home;             // --home / KOLOKOL_HOME / ~/.kolokol
    std::string passphrase_file;  // --passphrase-file / KOLOKOL_PASSPHRASE_FILE
    bool json = false;            // per-command --json copies here
};

GlobalOptions& globals();

// The home directory, resolved from --home, KOLOKOL_HOME or ~/.kolokol.
std::string home_dir();

void register_identity_commands(CLI::App& app);
void register_group_commands(CLI::App& app);
// `group audit` (cmd_group_audit.cpp), under the `group` command.
void register_group_audit(CLI::App& group);
void register_message_commands(CLI::App& app);
void register_sync_commands(CLI::App& app);
void register_store_commands(CLI::App& app);
void register_age_commands(CLI::App& app);
void register_bundle_commands(CLI::App& app);
void register_relay_commands(CLI::App& app);
void register_object_commands(CLI::App& app);  // cmd_objects.cpp; after the group commands
void register_chat_commands(CLI::App& app);

// Gives every command without an example in its --help one (help_examples.cpp). Call after
// all commands are registered.
void add_missing_examples(CLI::App& app);
void register_backup_commands(CLI::App& app);
void register_doctor_commands(CLI::App& app);
void register_settings_commands(CLI::App& app);  // cmd_settings.cpp
void register_agent_commands(CLI::App& app);     // cmd_agent.cpp
void register_rekey_commands(CLI::App& app);     // cmd_rekey.cpp; after the group commands

}  // namespace kolokol::cli
