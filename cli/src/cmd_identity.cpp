// kolokol whoami · verify
#include <qrencode.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "i18n.hpp"
#include "node_session.hpp"
#include "output_file.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {
// Draws a QR code with half-block characters: two modules per character cell, with the quiet
// zone the standard asks for, dark modules drawn dark whatever the terminal's colours.
void print_qr(const std::string& text) {
    QRcode* qr = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (qr == nullptr) throw CommandError(Exit::failure, _("cannot draw the QR code"));
    const int quiet = 2;
    const int size = qr->width + 2 * quiet;
    auto dark = [&](int x, int y) {
        x -= quiet;
        y -= quiet;
        if (x < 0 || y < 0 || x >= qr->width || y >= qr->width) return false;
        return (qr->data[y * qr->width + x] & 1) != 0;
    };
    for (int y = 0; y < size; y += 2) {
        std::string line;
        for (int x = 0; x < size; ++x) {
            bool top = dark(x, y), bottom = dark(x, y + 1);
            // Light modules are drawn as full blocks so the code reads on dark terminals.
            if (!top && !bottom)
                line += "\u2588";
            else if (!top)
                line += "\u2580";
            else if (!bottom)
                line += "\u2584";
            else
                line += " ";
        }
        std::cout << line << "\n";
    }
    QRcode_free(qr);
}
}  // namespace

void register_identity_commands(CLI::App& app) {
    static bool qr = false, no_qr = false, json = false, force = false;
    static std::string output;
    auto* whoami =
        app.add_subcommand("whoami", _("Show your card: the text to share, and a QR code"));
    whoami->add_flag("--qr", qr, _("Always draw the QR code"));
    whoami->add_flag("--no-qr", no_qr, _("Never draw the QR code"));
    whoami->add_flag("--json", json, _("Machine-readable output"));
    whoami->add_option("-o,--output", output,
                       _("Write only the card to this file (to hand it to an admin)"));
    whoami->add_flag("--force", force, _("With -o: replace the file if it exists"));
    whoami->footer(_("Examples:\n  kolokol whoami --no-qr\n  kolokol whoami -o boris.card"));
    whoami->callback([] {
        auto node = open_node();
        const auto& card = node->card();
        auto text = core::card_to_text(card);
        if (!output.empty()) {
            write_output_file(output, text + "\n", force);
            std::cerr << subst(_("Wrote the card of {} to {}. It is not secret.\n"),
                               card.display_name, output);
            return;
        }
        if (json) {
            nlohmann::json j{
                {"name", card.display_name}, {"key", hex(card.sign_key)}, {"card", text}};
            std::cout << j.dump(2) << "\n";
            return;
        }
        std::cout << card.display_name << " (" << short_hex(card.sign_key) << ")\n" << text << "\n";
        if (!no_qr && (qr || stdout_is_tty())) print_qr(text);
    });

    static std::string card_text;
    static bool confirm = false;
    auto* verify = app.add_subcommand(
        "verify",
        _("Show the safety number you share with the owner of a card, to compare in person"));
    verify
        ->add_option("CARD", card_text,
                     _("Their card (kolokol-card:…), or - to read it from stdin"))
        ->required();
    verify->add_flag("--confirm", confirm, _("Mark them verified after you compared the numbers"));
    verify->add_flag("--json", json, _("Machine-readable output"));
    verify->footer(
        _("Examples:\n  kolokol verify kolokol-card:CiQI…\n  kolokol verify - < anna.card\n\nRead "
          "the 60 digits aloud together; if every group matches, run again with --confirm."));
    verify->callback([] {
        auto card =
            core::card_from_text(pasted_argument(card_text, _("their card (kolokol-card:…)")));
        if (!card) raise(card.error());
        auto node = open_node();
        auto number = core::safety_number(node->card().sign_key, card->sign_key);
        if (confirm) check(node->mark_verified(card->sign_key));
        if (json) {
            nlohmann::json j{{"name", card->display_name},
                             {"key", hex(card->sign_key)},
                             {"safety_number", number},
                             {"verified", confirm || node->is_verified(card->sign_key)}};
            std::cout << j.dump(2) << "\n";
            return;
        }
        std::cout << subst(_("Safety number with {} ({}):\n"), card->display_name,
                           short_hex(card->sign_key))
                  << "  " << number.substr(0, 35) << "\n  " << number.substr(36) << "\n";
        if (confirm)
            std::cout << subst(_("{} is now marked verified.\n"), card->display_name);
        else
            std::cout << _("Compare it in person; if it matches, run this again with --confirm.\n");
    });
}

}  // namespace kolokol::cli
