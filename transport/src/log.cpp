#include "kolokol/transport/log.hpp"

#include <iostream>
#include <string>

namespace kolokol::transport {

void log_line(const LogSink& sink, LogLevel level, std::string_view line) {
    if (sink) {
        sink(level, line);
        return;
    }
    std::cerr << "kolokol: " << line << "\n";
}

void log_exception(const LogSink& sink, std::string_view where, std::exception_ptr e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        log_line(sink, LogLevel::error, std::string(where) + ": " + x.what());
    } catch (...) {
        log_line(sink, LogLevel::error, std::string(where) + ": unknown exception");
    }
}

}  // namespace kolokol::transport
