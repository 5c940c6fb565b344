#pragma once
// Where transport's log lines go. Transport logs only what it cannot return as a value: an
// exception that escaped a coroutine, a handler's bug, a failing accept loop. The owner of a
// server or session (the relay, `serve`, a test) chooses the sink; none set means stderr.

#include <exception>
#include <functional>
#include <string_view>

namespace kolokol::transport {

enum class LogLevel { debug, info, warning, error };

// Receives one line without its newline, prefixed by where it comes from ("server: accept loop:
// …"). Called from whichever thread runs the io_context, possibly from several at once: it must
// be thread-safe and must not throw.
using LogSink = std::function<void(LogLevel level, std::string_view line)>;

// Hands `line` to `sink`, or writes "kolokol: LINE\n" to stderr when `sink` is empty.
void log_line(const LogSink& sink, LogLevel level, std::string_view line);

// For co_spawn completion handlers: logs what escaped as "WHERE: WHAT" at error level; nothing
// when `e` is null.
void log_exception(const LogSink& sink, std::string_view where, std::exception_ptr e);

}  // namespace kolokol::transport
