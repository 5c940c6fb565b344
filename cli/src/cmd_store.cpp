// kolokol init · passwd · panic
#include <iostream>

#include "clock.hpp"
#include "i18n.hpp"
#include "node_session.hpp"
#include "terminal.hpp"
#include "tty_input.hpp"
#include "unlock_agent_client.hpp"

namespace kolokol::cli {

void register_store_commands(CLI::App& app) {
    static std::string name;
    static bool duress = false;
    static std::string kdf = "tuned";
    auto* init = app.add_subcommand("init", _("Create your identity and an encrypted store"));
    init->add_option("--name", name, _("The name others will see (1–64 characters)"))->required();
    init->add_flag("--duress", duress,
                   _("Also set a duress passphrase: typing it erases the store and looks like a "
                     "wrong passphrase"));
    init->add_option("--kdf", kdf, _("Passphrase hardening: tuned (default, ~1 s) or fast (tests)"))
        ->check(CLI::IsMember({"tuned", "fast"}));
    init->footer(_(
        "Example:\n  kolokol init --name Anna\n\nThe passphrase is asked on the terminal (or read "
        "from --passphrase-file; with --duress its second line is the duress passphrase)."));
    init->callback([] {
        if (core::Node::exists(home_dir()))
            throw CommandError(Exit::exists, subst(_("a store already exists in {}"), home_dir()));
        auto pass = read_new_passphrase(_("New passphrase"), 0);
        std::optional<crypto::SecretBytes> duress_pass;
        // Checked as soon as it is typed, before it is asked again.
        if (duress)
            duress_pass = read_new_passphrase(_("Duress passphrase"), 1, [&pass](ByteView typed) {
                if (crypto::equal_ct(typed, pass.view()))
                    throw CommandError(Exit::usage,
                                       _("the duress passphrase must differ from your passphrase: "
                                         "typing it erases the store"));
            });
        core::InitOptions options;
        options.display_name = name;
        options.passphrase = pass.view();
        if (duress_pass) options.duress_passphrase = duress_pass->view();
        options.kdf = kdf == "fast" ? core::KdfProfile::fast : core::KdfProfile::tuned;
        options.clock = node_clock();
        check(core::Node::init(home_dir(), options));
        auto node = value_or_raise(core::Node::open(home_dir(), pass.view(), node_clock()));
        std::cout << subst(_("Created the identity of {} in {}.\n"), name, home_dir())
                  << _("Your card (give it to the admin of a group):\n")
                  << core::card_to_text(node->card()) << "\n"
                  << _("Next: `kolokol whoami` shows it as a QR code; `kolokol group create NAME` "
                       "starts a group.\n");
    });

    auto* passwd = app.add_subcommand("passwd", _("Change the passphrase of the store"));
    passwd->footer(
        _("Example:\n  kolokol passwd\n\nWith --passphrase-file, line 1 is the current passphrase "
          "and line 2 the new one."));
    passwd->callback([] {
        auto old_pass = read_passphrase(_("Current passphrase"), 0);
        auto new_pass = read_new_passphrase(_("New passphrase"), 1);
        // The agent holds a key the old passphrase unlocked: it ends first.
        end_agent_before_unlock(home_dir());
        check(core::Node::change_passphrase(home_dir(), old_pass.view(), new_pass.view()));
        std::cout << _("Passphrase changed.\n");
    });

    static bool yes = false;
    auto* panic = app.add_subcommand(
        "panic", _("Destroy the store now: the key file first, then the database. No undo."));
    panic->add_flag("--yes,-y", yes, _("Do not ask for confirmation"));
    panic->footer(_("Example:\n  kolokol panic --yes"));
    panic->callback([] {
        if (!yes) {
            // Asked on the terminal even when standard input is not one; in Russian, "да".
            auto answer = read_terminal_line(
                subst(_("Destroy everything in {}? Type yes: "), home_dir()), Echo::on, 64);
            if (!answer)
                throw CommandError(Exit::usage, _("refusing to destroy the store without --yes"));
            if (!confirms(answer->text.view()))
                throw CommandError(Exit::usage, _("nothing destroyed"));
        }
        // The store goes first, whatever the agent does: a stopped or busy agent must not hold
        // up an emergency. Its StoreGuard ends it as the key file goes; the lock request (its
        // wait bounded) is for an agent that could not watch.
        auto destroyed = core::Node::panic(home_dir());
        lock_agent(home_dir());
        check(destroyed);
        std::cout << _("The store is destroyed.\n");
    });
}

}  // namespace kolokol::cli
