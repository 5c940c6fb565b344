#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app.hpp"
#include "i18n.hpp"
#include "kolokol/crypto/init.hpp"

namespace kolokol::cli {

GlobalOptions& globals() {
    static GlobalOptions options;
    return options;
}

std::string home_dir() {
    if (!globals().home.empty()) return globals().home;
    if (const char* env = std::getenv("KOLOKOL_HOME"); env && *env) return env;
    const char* user_home = std::getenv("HOME");
    return std::string(user_home ? user_home : ".") + "/.kolokol";
}

}  // namespace kolokol::cli

int main(int argc, char** argv) {
    using namespace kolokol::cli;
    init_i18n();
    kolokol::crypto::init();
    kolokol::crypto::harden_process();
    // A command stopped from its terminal (Ctrl-Z, or reading or writing it from the background)
    // could not end when a panic or the duress passphrase in another process erases its store:
    // it would keep the keys and the open database until continued. No command can be stopped
    // that way; SIGSTOP, which needs the user's own rights, still can.
    for (int sig : {SIGTSTP, SIGTTIN, SIGTTOU}) ::signal(sig, SIG_IGN);
    // Chunk and batch buffers of tens of KiB come and go by the thousand. Keep up to 32 MiB of
    // freed heap for reuse rather than returning it to the kernel and faulting it back in on
    // the next allocation (bundle export of 256 MiB: 4.7 s before, 3.1 s after).
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_TOP_PAD, 4 << 20);

    CLI::App app{_("kolokol — encrypted, offline-first messaging and coordination")};
    app.require_subcommand(0, 1);
    // The global options also after the command (`kolokol read G --home X`): a subcommand hands
    // what it does not know to its parent. Subcommands inherit this when they are made.
    app.fallthrough();
    app.add_option("--home", globals().home,
                   _("Home directory (default ~/.kolokol, env KOLOKOL_HOME)"));
    app.add_option("--passphrase-file", globals().passphrase_file,
                   _("Read the passphrase from this file (env KOLOKOL_PASSPHRASE_FILE)"));

    register_store_commands(app);
    register_identity_commands(app);
    register_group_commands(app);
    register_object_commands(app);
    register_message_commands(app);
    register_sync_commands(app);
    register_age_commands(app);
    register_bundle_commands(app);
    register_relay_commands(app);
    register_chat_commands(app);
    register_backup_commands(app);
    register_doctor_commands(app);
    register_settings_commands(app);
    register_agent_commands(app);
    register_rekey_commands(app);

    add_missing_examples(app);
    translate_cli_help(app);

    try {
        app.parse(argc, argv);
        if (app.get_subcommands().empty()) {
            std::cout << _(
                "Kolokol keeps your group's messages encrypted on this device and in "
                "transit.\n"
                "Next step: `kolokol init` to create your identity, then "
                "`kolokol --help` to see what you can do.\n");
        }
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : static_cast<int>(Exit::usage);
    } catch (const CommandError& e) {
        std::fprintf(stderr, "kolokol: %s\n", e.what());
        return static_cast<int>(e.exit);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kolokol: %s\n", e.what());
        return static_cast<int>(Exit::failure);
    }
    return 0;
}
