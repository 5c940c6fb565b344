#pragma once
// The ncurses screen of `kolokol chat`: draws what chat::render() produces and maps keys to the
// line editor and the controller. Everything it shows is decided in the pure functions of
// chat/ui and in ChatController; this layer only talks to the terminal.

#include <atomic>

#include "chat/controller.hpp"

namespace kolokol::cli::chat {

// Runs until /quit, Ctrl-C, Ctrl-D on an empty line, SIGTERM or SIGHUP. `dirty` is set by other
// threads when the store changed; the screen also refreshes from the store every second (for
// writes by other processes). Restores the terminal before returning, also on exceptions.
void run_screen(ChatController& controller, std::atomic<bool>& dirty);

}  // namespace kolokol::cli::chat
