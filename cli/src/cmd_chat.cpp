// kolokol chat — the everyday full-screen view
#include <langinfo.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <clocale>
#include <cstring>
#include <optional>

#include "chat/controller.hpp"
#include "chat/tui.hpp"
#include "kolokol/transport/relay.hpp"
#include "network.hpp"
#include "node_session.hpp"
#include "store_gone.hpp"
#include "terminal.hpp"
// i18n.hpp last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

// ncursesw draws Cyrillic and wide characters only under a UTF-8 LC_CTYPE; a terminal started
// with LANG=C still takes UTF-8 from us.
void ensure_utf8_ctype() {
    const char* codeset = nl_langinfo(CODESET);
    if (codeset && std::strcmp(codeset, "UTF-8") == 0) return;
    if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "en_US.UTF-8");
}

// The terminal as it was before the chat took it: given back if the store goes from under the
// chat (store_gone.hpp), which then ends without running ncurses' own cleanup.
termios g_terminal{};
bool g_have_terminal = false;

void give_terminal_back() {
    if (g_have_terminal) (void)::tcsetattr(STDIN_FILENO, TCSANOW, &g_terminal);
    // Leave the alternate screen, show the cursor, plain attributes, a fresh line.
    static const char reset[] = "\033[?1049l\033[?25h\033[0m\r\n";
    (void)!::write(STDOUT_FILENO, reset, sizeof reset - 1);
}

}  // namespace

void register_chat_commands(CLI::App& app) {
    static std::string group, listen;
    static bool offline = false;
    auto* chat = app.add_subcommand(
        "chat", _("The everyday screen: groups, messages, alerts and tasks, live through relays, "
                  "peers and the local network"));
    chat->add_option("GROUP", group, _("Group to open (name or id prefix; default: the first)"));
    chat->add_flag("--offline", offline,
                   _("Do not connect to the groups' relays and peers, nor listen"));
    chat->add_option("--listen", listen,
                     _("Also let other members connect to you here (HOST:PORT, e.g. "
                       "0.0.0.0:7000; port 0 picks a free one): what you write reaches them at "
                       "once. The chat shows the address to give them"));
    add_lan_options(chat);
    chat->footer(
        _("Examples:\n  kolokol chat \"Legal support\"\n  kolokol chat --listen 0.0.0.0:7000\n"
          "  kolokol chat --lan\n\nLive updates come from every relay and peer the group lists "
          "(`kolokol group relay add`), from members connected to --listen, and with --lan from "
          "members found on the local network.\n\nKeys: Enter sends, Tab switches groups, "
          "Up/Down recall what you typed, PgUp/PgDn scroll, Ctrl-C quits.\n"
          "Type /help inside for /members, /verify, /sync, /peers and the rest."));
    chat->callback([chat] {
        const bool lan = lan_requested();
        const bool listening = lan || chat->count("--listen") > 0;
        if (offline && listening)
            throw CommandError(Exit::usage,
                               _("--offline cannot be combined with --listen or --lan"));
        // With --lan and no --listen, listen where LAN members can reach us.
        std::optional<asio::ip::tcp::endpoint> endpoint;
        if (listening) {
            auto parsed = transport::parse_listen_address(
                lan && chat->count("--listen") == 0 ? std::string("0.0.0.0:0") : listen);
            if (!parsed) raise(parsed.error());
            endpoint = *parsed;
        }
        // The options first: their mistakes are worth naming even where no terminal is.
        if (!stdin_is_tty() || !stdout_is_tty())
            throw CommandError(Exit::usage,
                               _("kolokol chat needs a terminal; in scripts use `kolokol read "
                                 "--follow` and `kolokol post`"));
        g_have_terminal = ::tcgetattr(STDIN_FILENO, &g_terminal) == 0;
        on_store_gone(give_terminal_back);
        auto node = open_node();
        ensure_utf8_ctype();
        std::atomic<bool> dirty{false};
        std::atomic<chat::ChatController*> screen{nullptr};
        // The service's events become status lines; each refreshes the screen.
        class Events final : public core::SyncObserver {
        public:
            Events(std::atomic<bool>& dirty, std::atomic<chat::ChatController*>& screen)
                : m_dirty(dirty), m_screen(screen) {}
            void on_event(const core::SyncEvent& event) override {
                bool error = false;
                auto text = sync_event_text(event, &error);
                if (auto* s = m_screen.load()) s->notify_status(std::move(text), error);
                m_dirty = true;
            }
            void on_arrived() override { m_dirty = true; }

        private:
            std::atomic<bool>& m_dirty;
            std::atomic<chat::ChatController*>& m_screen;
        } events(dirty, screen);
        core::SyncServiceOptions options;
        options.route = sync_route();
        core::SyncService sync(*node, &events, std::move(options));
        chat::ChatController controller(*node, sync, !offline);
        screen = &controller;
        // The sessions end before the screen they report to.
        struct StopFirst {
            core::SyncService& sync;
            std::atomic<chat::ChatController*>& screen;
            ~StopFirst() {
                sync.stop();
                screen = nullptr;
            }
        } stop_first{sync, screen};
        check(controller.open(group.empty() ? std::nullopt : std::optional(group)));
        if (!offline && endpoint) {
            core::ListenOptions listen_options;
            listen_options.endpoint = *endpoint;
            // A member's screen, not a relay: a few sessions are plenty.
            listen_options.server.max_sessions = 64;
            listen_options.server.max_sessions_per_address = 8;
            listen_options.lan = lan;
            if (lan) listen_options.discovery = lan_discovery_options();
            auto address = sync.listen(listen_options);
            if (!address)
                throw CommandError(listen_exit(address.error()), translated(address.error()));
            controller.note(subst(_("Others can connect to you at {}"), *address));
        }
        if (!offline) sync.update();
        chat::run_screen(controller, dirty);
    });
}

}  // namespace kolokol::cli
