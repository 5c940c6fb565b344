// kolokol chat — the everyday full-screen view
#include <langinfo.h>

#include <atomic>
#include <clocale>
#include <cstring>
#include <mutex>
#include <optional>

#include "chat/controller.hpp"
#include "chat/live_sync.hpp"
#include "chat/tui.hpp"
#include "i18n.hpp"
#include "node_session.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {

// ncursesw draws Cyrillic and wide characters only under a UTF-8 LC_CTYPE; a terminal started
// with LANG=C still takes UTF-8 from us.
void ensure_utf8_ctype() {
    const char* codeset = nl_langinfo(CODESET);
    if (codeset && std::strcmp(codeset, "UTF-8") == 0) return;
    if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "en_US.UTF-8");
}

}  // namespace

void register_chat_commands(CLI::App& app) {
    static std::string group;
    static bool offline = false;
    auto* chat = app.add_subcommand(
        "chat", _("The everyday screen: groups, messages, alerts and tasks, live through relays"));
    chat->add_option("GROUP", group, _("Group to open (name or id prefix; default: the first)"));
    chat->add_flag("--offline", offline, _("Do not connect to the groups' relays"));
    chat->footer(
        _("Example:\n  kolokol chat \"Legal support\"\n\nKeys: Enter sends, Tab switches "
          "groups, Up/Down recall what you typed, PgUp/PgDn scroll, Ctrl-C quits.\n"
          "Type /help inside for /members, /verify, /sync and the rest."));
    chat->callback([] {
        if (!stdin_is_tty() || !stdout_is_tty())
            throw CommandError(Exit::usage,
                               _("kolokol chat needs a terminal; in scripts use `kolokol read "
                                 "--follow` and `kolokol post`"));
        auto node = open_node();
        ensure_utf8_ctype();
        std::mutex node_mutex;
        std::atomic<bool> dirty{false};
        chat::ChatController* screen = nullptr;
        std::optional<chat::LiveSync> live;
        if (!offline)
            live.emplace(
                *node, node_mutex, [&dirty] { dirty = true; },
                [&dirty, &screen](std::string text, bool error) {
                    if (screen) screen->notify_status(std::move(text), error);
                    dirty = true;
                });
        chat::ChatController controller(*node, node_mutex, live ? &*live : nullptr);
        screen = &controller;
        check(controller.open(group.empty() ? std::nullopt : std::optional(group)));
        if (live) live->update();
        chat::run_screen(controller, dirty);
        if (live) live->stop();
    });
}

}  // namespace kolokol::cli
