#include "chat/tui.hpp"

#include <curses.h>
#include <signal.h>

#include <chrono>
#include <csignal>

#include "chat/ui/line_editor.hpp"
#include "chat/ui/screen.hpp"
#include "terminal.hpp"

namespace kolokol::cli::chat {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int) {
    g_stop_signal = 1;
}

enum Pair : short { kTitle = 1, kSelected, kUnread, kAlert, kMuted, kMine, kError, kVerified };

attr_t attribute_of(Style style, bool colour) {
    auto pair = [&](short p) { return colour ? COLOR_PAIR(p) : attr_t{0}; };
    switch (style) {
        case Style::normal:
            return A_NORMAL;
        case Style::title:
            return A_BOLD | pair(kTitle);
        case Style::selected:
            return A_REVERSE;
        case Style::unread:
            return A_BOLD | pair(kUnread);
        case Style::alert:
            return A_BOLD | pair(kAlert);
        case Style::muted:
            return colour ? pair(kMuted) : A_DIM;
        case Style::mine:
            return A_BOLD | pair(kMine);
        case Style::error:
            return A_BOLD | pair(kError);
        case Style::verified:
            return A_BOLD | pair(kVerified);
    }
    return A_NORMAL;
}

// Puts the terminal back however the loop ends.
struct CursesSession {
    bool colour = false;
    CursesSession() {
        initscr();
        raw();
        noecho();
        nonl();
        keypad(stdscr, TRUE);
        set_escdelay(25);
        wtimeout(stdscr, 200);
        // NO_COLOR and non-terminals: the same check as the rest of the CLI.
        colour = has_colors() && colour_enabled();
        if (colour) {
            start_color();
            use_default_colors();
            init_pair(kTitle, COLOR_CYAN, -1);
            init_pair(kSelected, COLOR_BLACK, COLOR_CYAN);
            init_pair(kUnread, COLOR_YELLOW, -1);
            init_pair(kAlert, COLOR_RED, -1);
            init_pair(kMuted, COLOR_BLUE, -1);
            init_pair(kMine, COLOR_GREEN, -1);
            init_pair(kError, COLOR_RED, -1);
            init_pair(kVerified, COLOR_GREEN, -1);
        }
    }
    ~CursesSession() { endwin(); }
    CursesSession(const CursesSession&) = delete;
    CursesSession& operator=(const CursesSession&) = delete;
};

void draw(const Screen& screen, bool colour) {
    for (std::size_t r = 0; r < screen.rows.size(); ++r) {
        move(static_cast<int>(r), 0);
        for (const auto& span : screen.rows[r]) {
            attrset(attribute_of(span.style, colour));
            // wchar_t holds UTF-32 on Linux: the code points go through unchanged.
            std::wstring w(span.text.begin(), span.text.end());
            // The bottom-right cell makes addnwstr report ERR after drawing it; that is fine.
            (void)addnwstr(w.c_str(), static_cast<int>(w.size()));
        }
    }
    attrset(A_NORMAL);
    move(screen.cursor_row, screen.cursor_col);
    refresh();
}

}  // namespace

// SIGTERM and SIGHUP end the loop (and so restore the terminal) instead of the process.
struct StopSignals {
    struct sigaction old_term {
    }, old_hup{};
    StopSignals() {
        g_stop_signal = 0;
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);
    }
    ~StopSignals() {
        sigaction(SIGTERM, &old_term, nullptr);
        sigaction(SIGHUP, &old_hup, nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
};

void run_screen(ChatController& controller, std::atomic<bool>& dirty) {
    StopSignals signals;
    CursesSession curses;
    LineEditor input;
    auto last_refresh = std::chrono::steady_clock::now();
    while (!controller.quit_requested() && !g_stop_signal) {
        const auto now = std::chrono::steady_clock::now();
        if (dirty.exchange(false) || now - last_refresh > std::chrono::seconds(1)) {
            controller.refresh();
            last_refresh = now;
        }
        draw(render(controller.view(input), COLS, LINES), curses.colour);
        wint_t key = 0;
        const int kind = get_wch(&key);
        if (kind == ERR) continue;  // the 200 ms timeout: look at the store again
        if (kind == KEY_CODE_YES) {
            switch (key) {
                case KEY_LEFT:
                    input.left();
                    break;
                case KEY_RIGHT:
                    input.right();
                    break;
                case KEY_HOME:
                    input.home();
                    break;
                case KEY_END:
                    input.end();
                    break;
                case KEY_BACKSPACE:
                    input.backspace();
                    break;
                case KEY_DC:
                    input.erase_forward();
                    break;
                case KEY_UP:
                    input.history_up();
                    break;
                case KEY_DOWN:
                    input.history_down();
                    break;
                case KEY_PPAGE:
                    controller.scroll_by(LINES / 2);
                    break;
                case KEY_NPAGE:
                    controller.scroll_by(-(LINES / 2));
                    break;
                case KEY_BTAB:
                    controller.cycle(-1);
                    break;
                case KEY_ENTER:
                    controller.submit(input.take());
                    break;
                case KEY_RESIZE:
                    clearok(curscr, TRUE);
                    break;
                default:
                    break;
            }
            continue;
        }
        switch (key) {
            case L'\r':
            case L'\n':
                controller.submit(input.take());
                break;
            case 3:
                return;  // Ctrl-C
            case 4:      // Ctrl-D: quits on an empty line
                if (input.text().empty()) return;
                input.erase_forward();
                break;
            case 1:
                input.home();
                break;  // Ctrl-A
            case 5:
                input.end();
                break;  // Ctrl-E
            case 2:
                input.left();
                break;  // Ctrl-B
            case 6:
                input.right();
                break;  // Ctrl-F
            case 21:
                input.kill_to_start();
                break;  // Ctrl-U
            case 8:
            case 127:
                input.backspace();
                break;
            case L'\t':
            case 14:
                controller.cycle(1);
                break;  // Tab, Ctrl-N
            case 16:
                controller.cycle(-1);
                break;  // Ctrl-P
            case 12:
                clearok(curscr, TRUE);
                break;  // Ctrl-L
            case 27:
                break;  // a lone Escape, or an unknown sequence
            default:
                input.insert(static_cast<char32_t>(key));
                break;
        }
    }
}

}  // namespace kolokol::cli::chat
